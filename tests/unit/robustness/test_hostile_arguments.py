"""Every command, given hostile arguments, a malformed schema, policy, model or ledger,
or a schema that contradicts the data's header, fails closed before any row is read.

A documented exit status and one ``error:`` line, no traceback; the ledger and the
earlier output at the command's output path stay byte-identical (nothing was read,
so nothing is charged). The Python calls behind the commands raise the typed
:class:`~privsynth.errors.PrivsynthError` for the same inputs.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_inprocess import Cli, cli_environment, invoke
from corpus import VALID_SCHEMA, _plain
from harness import PREVIOUS, assert_handled, files_under, ledger_files

from privsynth.dp.ledger import Ledger
from privsynth.errors import PrivsynthError

DATASET = "good"


@dataclass(frozen=True)
class Bad:
    """A bad command: its arguments (a template) and the path it would write."""

    id: str
    args: str
    output: str
    #: text the message must hold (it names the problem)
    names: tuple[str, ...] = ()
    #: a known bug outside this suite's files: the test is expected to fail
    bug: str | None = None


RUN = "-e 5 --generator independent --ledger {ledger} --dataset good -q"
SYN = f"synthesize {{good}} {RUN} -o {{out}}/out.csv"
FIT = f"fit {{good}} {RUN} -o {{out}}/model.privsynth"


def _both(id: str, extra: str, names: tuple[str, ...] = ()) -> list[Bad]:
    return [
        Bad(f"{id}-synthesize", f"{SYN} {extra}", "out.csv", names),
        Bad(f"{id}-fit", f"{FIT} {extra}", "model.privsynth", names),
    ]


PRIVATE_RUNS = [
    *_both("epsilon_zero", "-e 0", ("epsilon",)),
    *_both("epsilon_negative", "-e -1", ("epsilon",)),
    *_both("epsilon_nan", "-e nan", ("epsilon",)),
    *_both("epsilon_inf", "-e inf", ("epsilon",)),
    *_both("epsilon_huge", "-e 1e308"),
    *_both("delta_zero", "--delta 0", ("delta",)),
    *_both("delta_negative", "--delta -1e-6", ("delta",)),
    *_both("delta_nan", "--delta nan", ("delta",)),
    *_both("delta_one", "--delta 1", ("delta",)),
    *_both("delta_huge", "--delta 1e308", ("delta",)),
    *_both("unknown_generator", "--generator nosuchgen", ("nosuchgen",)),
    *_both("unknown_generator_option", "--option nosuch=1", ("nosuch",)),
    *_both("option_not_key_value", "--option justaword", ("justaword",)),
    *_both("discovery_share_above_one", "--discovery-share 2", ("discovery-share",)),
    *_both("discovery_share_nan", "--discovery-share nan", ("discovery-share",)),
    *_both("unknown_suppressed", "--suppressed nosuch", ("nosuch",)),
    *_both("privacy_unit_not_in_header", "--privacy-unit patient", ("patient",)),
    *_both("rows_negative", "--rows -5", ("rows",)),
    *_both("schema_missing", "--schema {work}/absent.yaml", ("absent.yaml",)),
    *_both("schema_bad_yaml", "--schema {work}/bad.yaml", ("YAML",)),
    *_both("schema_not_utf8", "--schema {work}/latin1.yaml", ("UTF-8",)),
    *_both("schema_empty", "--schema {work}/empty.yaml", ("columns",)),
    *_both("schema_a_list", "--schema {work}/list.yaml", ("columns",)),
    *_both("schema_extra_column", "--schema {work}/extra.yaml", ("zipcode",)),
    *_both("schema_lacks_column", "--schema {work}/lacks.yaml", ("colour",)),
    *_both("schema_unknown_kind", "--schema {work}/kind.yaml", ("kind",)),
    *_both("schema_min_above_max", "--schema {work}/minmax.yaml", ("min",)),
    *_both("schema_infinite_bound", "--schema {work}/infinite.yaml", ("finite",)),
    *_both("schema_bad_date", "--schema {work}/baddate.yaml", ("colour",)),
    *_both("schema_unknown_top_key", "--schema {work}/topkey.yaml", ("colours",)),
    *_both("schema_bad_constraint", "--schema {work}/constraint.yaml", ("constraint",)),
    *_both("ledger_not_sqlite", "--ledger {work}/garbage.db", ("garbage.db",)),
    Bad("unknown_audit_policy", f"{SYN} --audit nosuchpolicy", "out.csv", ("nosuchpolicy",)),
    Bad("audit_policy_bad_yaml", f"{SYN} --audit {{work}}/badpolicy.yaml", "out.csv", ("YAML",)),
    Bad("audit_policy_a_list", f"{SYN} --audit {{work}}/listpolicy.yaml", "out.csv", ("criteria",)),
    Bad("synthesize_output_xlsx", f"{SYN} -o {{out}}/out.xlsx", "out.csv", (".xlsx",)),
    Bad("fit_output_not_a_model", f"{FIT} -o {{out}}/model.csv", "model.privsynth", ("model",)),
]
SAMPLE = "sample {model} --ledger {ledger} -q -o {out}/drawn.csv"
SCRUB = "scrub {good} -o {out}/s.csv"
EVALUATE = "evaluate --real {good} --synthetic {good} -o {out}/e.json"
AUDIT = "audit --real {good} --synthetic {good} -o {out}/report"
BUDGET = "budget set good --ledger {ledger}"
OTHERS = [
    Bad("model_missing", SAMPLE.replace("{model}", "{work}/absent.privsynth"), "drawn.csv"),
    Bad("model_empty", SAMPLE.replace("{model}", "{work}/empty.privsynth"), "drawn.csv"),
    Bad("model_garbage", SAMPLE.replace("{model}", "{work}/garbage.privsynth"), "drawn.csv"),
    Bad("model_truncated", SAMPLE.replace("{model}", "{work}/truncated.privsynth"), "drawn.csv"),
    Bad("model_is_a_csv", SAMPLE.replace("{model}", "{good}"), "drawn.csv"),
    Bad("sample_rows_negative", f"{SAMPLE} --rows -3", "drawn.csv", ("rows",)),
    Bad("sample_output_xlsx", f"{SAMPLE} -o {{out}}/drawn.xlsx", "drawn.csv", (".xlsx",)),
    Bad("budget_epsilon_zero", f"{BUDGET} -e 0", "", ("epsilon",)),
    Bad("budget_epsilon_nan", f"{BUDGET} -e nan", "", ("epsilon",)),
    Bad("budget_epsilon_inf", f"{BUDGET} -e inf", "", ("epsilon",)),
    Bad("budget_delta_zero", f"{BUDGET} -e 1 --delta 0", "", ("delta",)),
    Bad("budget_delta_nan", f"{BUDGET} -e 1 --delta nan", "", ("delta",)),
    Bad("budget_delta_huge", f"{BUDGET} -e 1 --delta 1e308", "", ("delta",)),
    Bad(
        "budget_show_garbage_ledger", "budget show --ledger {work}/garbage.db", "", ("garbage.db",)
    ),
    Bad("scrub_unknown_policy", f"{SCRUB} --policy nosuch", "s.csv", ("nosuch",)),
    Bad("scrub_unknown_operator", f"{SCRUB} --operator nosuch", "s.csv", ("nosuch",)),
    Bad("scrub_unknown_date_mode", f"{SCRUB} --date-mode nosuch", "s.csv", ("date mode",)),
    Bad("scrub_unknown_mode", f"{SCRUB} --mode nosuch", "s.csv", ("nosuch",)),
    Bad("scrub_schema_bad_yaml", f"{SCRUB} --schema {{work}}/bad.yaml", "s.csv", ("YAML",)),
    Bad("scrub_config_bad_yaml", f"{SCRUB} --config {{work}}/bad.yaml", "s.csv", ("bad.yaml",)),
    Bad("scrub_output_a_directory", f"{SCRUB} -o {{work}}/folder.csv", "s.csv", ("folder.csv",)),
    Bad("sample_output_a_directory", f"{SAMPLE} -o {{work}}/folder.csv", "drawn.csv", ("folder",)),
    Bad(
        "evaluate_output_a_directory", f"{EVALUATE} -o {{work}}/folder.json", "e.json", ("folder",)
    ),
    Bad("scrub_output_xlsx", "scrub {good} -o {out}/s.xlsx", "s.csv", (".xlsx",)),
    Bad("evaluate_schema_bad_yaml", f"{EVALUATE} --schema {{work}}/bad.yaml", "e.json", ("YAML",)),
    Bad(
        "evaluate_schema_contradicts",
        f"{EVALUATE} --schema {{work}}/extra.yaml",
        "e.json",
        ("zipcode",),
    ),
    Bad(
        "evaluate_output_not_json",
        "evaluate --real {good} --synthetic {good} -o {out}/e.txt",
        "e.json",
        ("JSON",),
    ),
    Bad("evaluate_target_not_a_column", f"{EVALUATE} --target nosuch", "e.json", ("nosuch",)),
    Bad("audit_unknown_policy", f"{AUDIT} --policy nosuch", "report", ("nosuch",)),
    Bad("audit_policy_bad_yaml", f"{AUDIT} --policy {{work}}/badpolicy.yaml", "report", ("YAML",)),
    Bad(
        "audit_schema_bad_yaml",
        f"{AUDIT} --policy gdpr-anonymisation --schema {{work}}/bad.yaml",
        "report",
        ("YAML",),
    ),
    Bad(
        "infer_min_count_negative",
        "schema infer {good} -o {out}/s.yaml --min-count -1",
        "s.yaml",
        ("min",),
    ),
    Bad(
        "infer_output_is_a_directory",
        "schema infer {good} -o {work}/folder.yaml",
        "s.yaml",
        ("folder.yaml",),
    ),
]


def _write_inputs(work: Path) -> None:
    (work / "good.csv").write_text(_plain(), encoding="utf-8")
    columns = VALID_SCHEMA["columns"]

    def schema(name: str, document: Any) -> None:
        (work / name).write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    def with_columns(name: str, changed: dict[str, Any], **top: Any) -> None:
        schema(name, {"version": 1, "columns": changed, **top})

    with_columns("public.yaml", columns)
    with_columns("extra.yaml", {**columns, "zipcode": {"kind": "categorical", "categories": ["1"]}})
    with_columns("lacks.yaml", {"age": columns["age"]})
    with_columns("kind.yaml", {**columns, "colour": {"kind": "colourful"}})
    with_columns("minmax.yaml", {**columns, "age": {"kind": "numeric", "min": 9, "max": 1}})
    with_columns("baddate.yaml", {**columns, "colour": {"kind": "datetime", "min": "2020-13-45"}})
    with_columns("topkey.yaml", columns, colours=["red"])
    with_columns("constraint.yaml", columns, constraints=[{"nonsense": True}])
    (work / "infinite.yaml").write_text(
        "version: 1\ncolumns:\n  age: {kind: numeric, min: -.inf, max: .inf}\n"
        "  colour: {kind: categorical, categories: [red, green, blue]}\n",
        encoding="utf-8",
    )
    (work / "bad.yaml").write_text("version: 1\ncolumns:\n  age: {kind: numeric, min: 1\n")
    (work / "latin1.yaml").write_bytes(b"version: 1\ncolumns:\n  \xe2ge: {kind: numeric}\n")
    (work / "empty.yaml").write_bytes(b"")
    (work / "list.yaml").write_text("- age\n- colour\n", encoding="utf-8")
    (work / "badpolicy.yaml").write_text("name: p\ncriteria: [\n", encoding="utf-8")
    (work / "listpolicy.yaml").write_text("- one\n- two\n", encoding="utf-8")
    (work / "garbage.db").write_bytes(b"this is not an SQLite database\n" * 64)
    (work / "empty.privsynth").write_bytes(b"")
    (work / "garbage.privsynth").write_bytes(bytes(range(256)) * 16)
    for folder in ("folder.yaml", "folder.csv", "folder.json"):
        (work / folder).mkdir()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Inputs, and a real model (fitted once) with a truncated copy of it."""
    work = tmp_path_factory.mktemp("arguments")
    _write_inputs(work)
    with pytest.MonkeyPatch.context() as patch:
        cli_environment(patch, work)
        fitted = invoke(
            ["fit", work / "good.csv", "-e", "5", "--generator", "independent", "--schema",
             work / "public.yaml", "--ledger", work / "fit.db", "-q", "-o", work / "m.privsynth"]
        )  # fmt: skip
    assert fitted.code == 0, fitted.stderr
    model = (work / "m.privsynth").read_bytes()
    (work / "truncated.privsynth").write_bytes(model[: len(model) // 2])
    yield work


def _params(cases: list[Bad]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
        )
        for case in cases
    ]


@pytest.mark.parametrize("case", _params(PRIVATE_RUNS + OTHERS))
def test_bad_arguments_fail_closed(cli: Cli, world: Path, tmp_path: Path, case: Bad) -> None:
    shutil.copyfile(world / "fit.db", tmp_path / "ledger.db")  # holds the model's run
    Ledger(tmp_path / "ledger.db").set_budget(DATASET, 100.0, 1e-5)
    output = tmp_path / case.output if case.output else None
    if output is not None and output.suffix:
        output.write_bytes(PREVIOUS)
    elif output is not None:
        output.mkdir()
        (output / "report.json").write_bytes(PREVIOUS)
    fill = {
        "good": str(world / "good.csv"),
        "work": str(world),
        "ledger": str(tmp_path / "ledger.db"),
        "out": str(tmp_path),
        "model": str(world / "m.privsynth"),
    }
    ledgers = {**ledger_files(tmp_path), **ledger_files(world, "garbage.db")}
    before = files_under(output) if output is not None else {}

    outcome = cli(*(token.format(**fill) for token in case.args.split()), cwd=tmp_path)

    message = assert_handled(outcome, audit=case.args.startswith("audit"))
    assert message is not None, f"{case.id} was accepted"
    for fragment in case.names:
        assert fragment.lower() in message.lower(), message
    assert {**ledger_files(tmp_path), **ledger_files(world, "garbage.db")} == ledgers
    if output is not None:
        assert files_under(output) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary left"


# ------------------------------------------------------------------ the Python calls


@pytest.mark.parametrize(
    "values",
    [
        {"epsilon": 0.0},
        {"epsilon": -1.0},
        {"epsilon": math.nan},
        {"epsilon": math.inf},
        {"epsilon": 1.0, "delta": 0.0},
        {"epsilon": 1.0, "delta": math.nan},
        {"epsilon": 1.0, "delta": 2.0},
        {"epsilon": 1.0, "generator": "nosuchgen"},
        {"epsilon": 1.0, "discovery_share": math.nan},
    ],
    ids=repr,
)
def test_config_refuses_bad_values(values: dict[str, Any]) -> None:
    from privsynth.synthesis import SynthesisConfig

    with pytest.raises(PrivsynthError) as raised:
        SynthesisConfig(**values).validate()
    assert "\n" not in raised.value.one_line()


@pytest.mark.parametrize(
    "name", ["bad.yaml", "latin1.yaml", "empty.yaml", "list.yaml", "kind.yaml", "minmax.yaml",
             "infinite.yaml", "baddate.yaml", "topkey.yaml", "constraint.yaml", "absent.yaml"],
)  # fmt: skip
def test_load_schema_refuses_malformed_files(world: Path, name: str) -> None:
    from privsynth.errors import SchemaError
    from privsynth.schema import load_schema

    with pytest.raises(SchemaError):
        load_schema(world / name)


@pytest.mark.parametrize("name", ["badpolicy.yaml", "listpolicy.yaml", "nosuchpolicy"])
def test_load_policy_refuses_malformed_policies(world: Path, name: str) -> None:
    from privsynth.compliance.policy import load_policy

    with pytest.raises(PrivsynthError):
        load_policy(world / name if name.endswith(".yaml") else name)


@pytest.mark.parametrize(
    ("epsilon", "delta"), [(0.0, 1e-6), (math.nan, 1e-6), (math.inf, 1e-6), (1.0, 0.0), (1.0, 2.0)]
)
def test_ledger_refuses_bad_budgets(tmp_path: Path, epsilon: float, delta: float) -> None:
    book = Ledger(tmp_path / "ledger.db")
    book.set_budget("kept", 1.0, 1e-6)
    before = ledger_files(tmp_path)
    with pytest.raises(PrivsynthError):
        book.set_budget(DATASET, epsilon, delta)
    assert ledger_files(tmp_path) == before


def test_schema_kinds_that_contradict_the_values_are_charged_not_fatal(
    cli: Cli, world: Path, tmp_path: Path
) -> None:
    """A numeric declaration of a column of words depends on the rows: the run goes on
    (the values are imputed, with a DP count in a warning) and is paid for."""
    schema = tmp_path / "numeric.yaml"
    columns = {**VALID_SCHEMA["columns"], "colour": {"kind": "numeric", "min": 0, "max": 9}}
    schema.write_text(yaml.safe_dump({"version": 1, "columns": columns}), encoding="utf-8")
    ledger = tmp_path / "ledger.db"
    outcome = cli(
        "synthesize", world / "good.csv", "-e", "5", "--generator", "independent",
        "--schema", schema, "--ledger", ledger, "--dataset", DATASET, "-o", tmp_path / "o.csv",
        "-q",
    )  # fmt: skip
    assert assert_handled(outcome) is None
    assert "colour" in outcome.stderr  # the warning names the column
    assert Ledger(ledger).status(DATASET).spent_epsilon > 0
