"""The ``privsynth`` command fails closed on everything it can decide before reading the
data: one ``error:`` line on stderr, a non-zero exit code, the ledger and any previous
output untouched.

Only the command line, the schema file, the CSV header (metadata) and the ledger decide
these failures; nothing is read before the ledger admits a run, and from then on a run
never fails on one record's content (that is tested with neighbouring datasets in
``test_neighbours.py``). The commands run in the test process, through the console
script's entry point (:mod:`cli_inprocess`); one bad input also runs through the
installed ``privsynth`` executable, in the background meanwhile (:mod:`cli_driver`).
"""

from __future__ import annotations

import csv
import inspect
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_driver import cli_env, read_outcomes, run_installed
from cli_inprocess import Job, Outcome, cli_environment, run_jobs, warm_up

from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.ledger import Budget, Ledger
from privsynth.synthesis import SEEDED_RUN

COLUMNS = ["age", "sex", "race", "income"]
DATASET = "adult4"
PREVIOUS_OUTPUT = b"age,sex,race,income\n40,Male,White,<=50K\n"
FAST = "--option iterations=100"  # fewer MST estimation iterations


@dataclass(frozen=True)
class Case:
    """A bad command (a template), its exit code, and text its message must (not) hold."""

    id: str
    command: str
    contains: tuple[str, ...]
    code: int = 2
    excludes: tuple[str, ...] = ()
    before: str = ""  # a setup command run first, on the same ledger
    bug: str | None = None  # a known bug: the test is expected to fail


def _synth(
    source: str,
    extra: str = "",
    schema: str = "{s4}",
    out: str = "{out}",
    dataset: str = DATASET,
    generator: str = "mst",
) -> str:
    schema_option = f"--schema {schema}" if schema else ""
    return (
        f"synthesize {source} -e 1 --generator {generator} {extra} {schema_option} "
        f"--ledger {{ledger}} -o {out} --dataset {dataset} -q"
    )


CASES = [
    Case("missing_input", _synth("{work}/absent.csv"), ("does not exist",)),
    Case("empty_input", _synth("{work}/empty.csv"), ("is empty",)),
    Case(
        "header_not_utf8",
        _synth("{work}/latin1_header.csv", schema=""),
        ("header", "UTF-8"),
        excludes=("s\udce9x", "séx"),
    ),
    Case("unsupported_extension", _synth("{work}/adult4.xlsx"), ("unsupported extension",)),
    Case("epsilon_zero", _synth("{t4}", "-e 0"), ("epsilon",)),
    Case("epsilon_negative", _synth("{t4}", "-e -1"), ("epsilon",)),
    Case("epsilon_nan", _synth("{t4}", "-e nan"), ("epsilon",)),
    Case("delta_zero", _synth("{t4}", "--delta 0"), ("delta",)),
    Case("delta_above_one", _synth("{t4}", "--delta 1.5"), ("delta",)),
    Case("unknown_generator", _synth("{t4}", generator="nosuchgen"), ("nosuchgen",)),
    Case("unknown_generator_option", _synth("{t4}", "--option nosuch=1"), ("nosuch",)),
    Case("seed_without_unsafe_seed", _synth("{t4}", "--seed 7"), ("--seed", "--unsafe-seed")),
    Case("schema_extra_column", _synth("{t4}", schema="{work}/extra.yaml"), ("zipcode",)),
    Case("schema_lacks_column", _synth("{t4}", schema="{work}/lacks.yaml"), ("income",)),
    Case("schema_bad_yaml", _synth("{t4}", schema="{work}/bad.yaml"), ("YAML",)),
    Case("schema_unknown_kind", _synth("{t4}", schema="{work}/kind.yaml"), ("'sex'", "kind")),
    Case("schema_min_above_max", _synth("{t4}", schema="{work}/minmax.yaml"), ("'age'", "min")),
    Case(
        "privacy_unit_not_in_header",
        _synth("{t4}", "--privacy-unit patient_id"),
        ("'patient_id'", "not in the input"),
    ),
    Case(
        "strict_data_derived",
        _synth("{t4}", "--strict", schema="{work}/derived.yaml"),
        ("--strict", "sex.categories"),
    ),
    Case(
        "budget_exhausted",
        _synth("{t4}"),
        ("refused", "spent", "remaining"),
        code=3,
        before=f"budget set {DATASET} --epsilon 0.5 --ledger {{ledger}}",
    ),
    Case(
        "privacy_unit_contradicts_dataset",
        _synth("{t4}", dataset="visits"),
        ("refused", "'visits'", "per patient_id", "--privacy-unit patient_id"),
        code=3,
        before="budget set visits -e 5 --privacy-unit patient_id --ledger {ledger}",
    ),
    Case(
        "unregistered_dataset",
        _synth("{t4}"),
        ("refused", f"'{DATASET}'", "no budget", f"privsynth budget set {DATASET} --epsilon E"),
        code=3,
        before="budget settings --require-registered --ledger {ledger}",
    ),
    Case(
        "same_content_as_another_dataset",  # the baseline run registered it as adult4
        _synth("{t4}", dataset="another_name"),
        ("refused", f"same content as dataset '{DATASET}'", f"--dataset {DATASET}"),
        code=3,
    ),
    Case("budget_set_negative", f"budget set {DATASET} -e -1 --ledger {{ledger}}", ("epsilon",)),
    Case(
        "output_is_a_directory",
        _synth("{t4}", out="{work}/a_directory.csv"),
        ("a_directory.csv",),
    ),
    Case(
        "output_below_a_file",
        _synth("{t4}", out="{t4}/out.csv"),
        ("is a file",),
    ),
]
BASELINE = _synth("{t4}", FAST, out="{job}/synthetic.csv")
DISCOVERY = (  # no schema: the headline use; seeded, so its ledger is its own
    f"synthesize {{work}}/adult4_2k.csv -e 1 --generator mst --seed 5 --unsafe-seed {FAST} "
    "--ledger {ledger} -o {job}/synthetic.csv -q"
)
SHOW = f"budget show {DATASET} --ledger {{ledger}}"
SCRIPT_CASE = _synth("{t4}", schema="{work}/extra.yaml")


@dataclass(frozen=True)
class World:
    """The work folder and every command's outcome, built once per module."""

    work: Path
    outcomes: dict[str, list[Outcome]]  # per job: one per command, in order

    def ledger(self, job: str) -> Path:
        return self.work / job / "ledger.db"

    def ledger_before_last(self, job: str) -> Path:
        """The job's ledger as it was just before its last command."""
        return self.work / job / "ledger-before-last.db"

    def output(self, job: str) -> Path:
        return self.work / job / "previous.csv"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _make_inputs(work: Path, adult: Path, adult_schema: Path) -> None:
    with adult.open(newline="", encoding="utf-8") as handle:
        rows = [[record[c] for c in COLUMNS] for record in csv.DictReader(handle)]
    _write_csv(work / "adult4.csv", COLUMNS, rows)
    _write_csv(work / "adult4_2k.csv", COLUMNS, rows[:2000])
    shutil.copyfile(work / "adult4.csv", work / "adult4.xlsx")
    (work / "empty.csv").write_bytes(b"")
    (work / "latin1_header.csv").write_bytes(b"age,s\xe9x,race,income\n40,Male,White,<=50K\n")
    (work / "a_directory.csv").mkdir()

    public = yaml.safe_load(adult_schema.read_text(encoding="utf-8"))["columns"]
    four = {c: public[c] for c in COLUMNS}

    def schema(name: str, columns: dict[str, Any]) -> None:
        (work / name).write_text(yaml.safe_dump({"version": 1, "columns": columns}), "utf-8")

    schema("s4.yaml", four)
    schema("extra.yaml", {**four, "zipcode": {"kind": "categorical", "categories": ["1"]}})
    schema("lacks.yaml", {c: four[c] for c in COLUMNS if c != "income"})
    schema("kind.yaml", {**four, "sex": {"kind": "boolean"}})
    schema("minmax.yaml", {**four, "age": {**four["age"], "min": 90, "max": 17}})
    schema("derived.yaml", {**four, "sex": {**four["sex"], "data_derived": ["categories"]}})
    (work / "bad.yaml").write_text("version: 1\ncolumns:\n  age: {kind: numeric, min: 17\n")


def _seed_ledger(path: Path) -> None:
    """A ledger with one finished run, written through the API."""
    book = Ledger(path)
    book.reserve(DATASET, "earlier-run", cost_of.zcdp(0.05), (1.0, 1e-6), "mst", {})
    book.commit("earlier-run", [Spend("marginal", cost_of.gaussian(sigma=10.0))])


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, adult_path: Path, adult_schema_path: Path
) -> Iterator[World]:
    work = tmp_path_factory.mktemp("cli")
    _make_inputs(work, adult_path, adult_schema_path)

    def argv(job: str, command: str) -> list[str]:
        fill = {
            "work": str(work),
            "job": str(work / job),
            "t4": str(work / "adult4.csv"),
            "s4": str(work / "s4.yaml"),
            "ledger": str(work / job / "ledger.db"),
            "out": str(work / job / "previous.csv"),
        }
        # split first, then fill: paths may contain spaces
        return [token.format(**fill) for token in command.split()]

    jobs = ["script_case", "baseline", "discovery", *(c.id for c in CASES)]
    for job in jobs:
        (work / job).mkdir()
        (work / job / "previous.csv").write_bytes(PREVIOUS_OUTPUT)
    _seed_ledger(work / "script_case" / "ledger.db")

    # the installed console script, in the background while the others run here
    script = run_installed(argv("script_case", SCRIPT_CASE), work / "script_case", 0, cli_env(work))
    baseline = work / "baseline" / "ledger.db"
    cases = [
        Job(
            case.id,
            work / case.id,
            [argv(case.id, c) for c in (case.before, case.command) if c],
            copy=(baseline, work / case.id / "ledger.db"),
            snapshot=(work / case.id / "ledger.db", work / case.id / "ledger-before-last.db"),
            needs=("baseline",),
        )
        for case in CASES
    ]
    try:
        with pytest.MonkeyPatch.context() as patch:
            cli_environment(patch, work)
            warm_up()
            outcomes = run_jobs(
                [
                    # the run, then `budget show` on its ledger
                    Job(
                        "baseline",
                        work / "baseline",
                        [argv("baseline", c) for c in (BASELINE, SHOW)],
                    ),
                    Job("discovery", work / "discovery", [argv("discovery", DISCOVERY)]),
                    *cases,
                ]
            )
        outcomes["script_case"] = read_outcomes(work / "script_case", [script.wait(timeout=580)])
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    yield World(work, outcomes)


def _snapshot(path: Path) -> tuple[Any, ...]:
    """Everything in a ledger: runs, spends, datasets, their budgets, the settings."""
    book = Ledger(path)
    budgets = {name: book.budget(name) for name in (*book.datasets(), DATASET)}
    return book.runs(), book.spends(), book.datasets(), budgets, book.settings()


def _one_error_line(outcome: Outcome) -> str:
    assert "Traceback" not in outcome.stderr + outcome.stdout
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert lines[0][len("error: ") :].strip()
    return lines[0]


# --------------------------------------------------------------------------- bad input


def test_baseline_run_is_in_the_ledger(world: World) -> None:
    outcome = world.outcomes["baseline"][0]
    assert outcome.code == 0, outcome.stderr
    book = Ledger(world.ledger("baseline"))
    (run,) = book.runs(DATASET)
    assert run["status"] == "committed"
    assert len(book.spends(DATASET)) > 3
    assert 0.9 < book.status(DATASET).spent_epsilon <= 1.0


def _case_params() -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
        )
        for case in CASES
    ]


@pytest.mark.parametrize("case", _case_params())
def test_bad_input_fails_closed(world: World, case: Case) -> None:
    outcomes = world.outcomes[case.id]
    if case.before:
        assert outcomes[0].code == 0, outcomes[0].stderr
    outcome = outcomes[-1]
    assert outcome.code == case.code, outcome.stderr
    message = _one_error_line(outcome)
    for fragment in case.contains:
        assert fragment in message
    for fragment in case.excludes:
        assert fragment not in message
    assert world.output(case.id).read_bytes() == PREVIOUS_OUTPUT
    before = _snapshot(world.ledger_before_last(case.id))
    assert _snapshot(world.ledger(case.id)) == before
    if not case.before:
        assert before == _snapshot(world.ledger("baseline"))
    assert sorted(p.name for p in (world.work / case.id).iterdir() if p.name.startswith(".")) == []


def test_budget_refusal_reports_spent_and_remaining(world: World) -> None:
    message = _one_error_line(world.outcomes["budget_exhausted"][-1])
    book = Ledger(world.ledger("budget_exhausted"))
    assert book.budget(DATASET) == Budget(0.5, 1e-6)
    status = book.status(DATASET)
    assert status.spent_epsilon > 0.9
    assert status.describe() in message  # "spent ε=1 of 0.5 (remaining ε=0, δ=1e-06, ...)"


def test_bad_input_through_the_installed_script(world: World) -> None:
    (outcome,) = world.outcomes["script_case"]
    assert outcome.code == 2
    message = _one_error_line(outcome)
    assert "zipcode" in message
    assert world.output("script_case").read_bytes() == PREVIOUS_OUTPUT
    book = Ledger(world.ledger("script_case"))
    assert [r["run_id"] for r in book.runs()] == ["earlier-run"]
    assert [s["purpose"] for s in book.spends()] == ["marginal"]


# --------------------------------------------------------------------------- success


def test_synthesize_succeeds_and_budget_show_lists_the_run(world: World) -> None:
    synthesize, show = world.outcomes["baseline"]
    assert synthesize.code == 0, synthesize.stderr
    assert "error" not in synthesize.stderr.lower()
    with (world.work / "baseline" / "synthetic.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COLUMNS
    assert len(rows) > 1000
    assert {r[1] for r in rows[1:]} <= {"Female", "Male"}
    assert all(17 <= int(r[0]) <= 90 for r in rows[1:])

    book = Ledger(world.ledger("baseline"))
    (run,) = book.runs(DATASET)
    assert run["status"] == "committed"
    assert 0.9 < book.status(DATASET).spent_epsilon <= 1.0
    assert show.code == 0, show.stderr
    assert run["run_id"][:12] in show.stdout
    assert "committed" in show.stdout


def test_run_without_schema_pays_for_discovery(world: World) -> None:
    (outcome,) = world.outcomes["discovery"]
    assert outcome.code == 0, outcome.stderr
    book = Ledger(world.ledger("discovery"))
    (run,) = book.runs("adult4_2k")
    assert run["status"] == "committed"
    purposes = [s["purpose"] for s in book.spends("adult4_2k")]
    assert any(p.startswith("discover") for p in purposes), purposes
    assert any(not p.startswith("discover") for p in purposes), purposes
    # a seeded run is no protection: recorded as an unbounded spend
    assert purposes.count(SEEDED_RUN) == 1
    assert math.isinf(book.status("adult4_2k").spent_epsilon)
    assert "NOT PRIVATE" in outcome.stdout


def test_cli_constants_match_the_library() -> None:
    """The CLI shows defaults in its help without importing JAX: they are the library's,
    and its default generator is a registered one or ``auto`` (privsynth picks one)."""
    from privsynth.cli import main
    from privsynth.defaults import DEFAULT_GENERATOR
    from privsynth.dp.units import DEFAULT_MAX_ROWS
    from privsynth.generators import GENERATORS
    from privsynth.generators.choice import AUTO
    from privsynth.schema.infer import DEFAULT_MIN_COUNT
    from privsynth.synthesis import DISCOVERY_SHARE, SynthesisConfig, Synthesizer

    assert main.DISCOVERY_SHARE == DISCOVERY_SHARE
    assert main.DEFAULT_MIN_COUNT == DEFAULT_MIN_COUNT
    assert main.DEFAULT_MAX_ROWS == DEFAULT_MAX_ROWS
    assert main.DEFAULT_GENERATOR == DEFAULT_GENERATOR
    assert SynthesisConfig(epsilon=1).generator == DEFAULT_GENERATOR
    assert inspect.signature(Synthesizer).parameters["generator"].default == DEFAULT_GENERATOR
    assert DEFAULT_GENERATOR in {AUTO, *GENERATORS.names()}
