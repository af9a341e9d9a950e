"""The ``privsynth`` command fails closed: one ``error:`` line on stderr, a non-zero exit
code, the ledger and any previous output untouched.

Starting the CLI imports JAX, pandas and mbi (several CPU-seconds per process), so the
bad-input cases do not each start a fresh interpreter: one driver process imports
``privsynth.cli.main`` once and forks a child per command. Each child points fds 1 and 2
at files, sets ``sys.argv`` and calls ``run()``, the console script's entry point; its exit
status is the command's. The driver itself never initialises JAX. The success path,
``budget show`` and one bad input also run through the installed ``privsynth``
executable, in parallel with the driver.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from privsynth.accounting import costs as cost_of
from privsynth.accounting.accountant import Spend
from privsynth.ledger import Budget, Ledger

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "examples" / "adult_sample.csv"
ADULT_SCHEMA = ROOT / "examples" / "adult_schema.yaml"
COLUMNS = ["age", "sex", "race", "income"]
DATASET = "adult4"
PREVIOUS_OUTPUT = b"age,sex,race,income\n40,Male,White,<=50K\n"
ODD_SEX = "Undisclosed"  # a cell value outside the declared categories

_DRIVER = r"""
import json, os, shutil, sys, traceback

import privsynth.cli.main as cli


def invoke(step):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for fd, name in ((1, step["stdout"]), (2, step["stderr"])):
                handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(handle, fd)
                os.close(handle)
            sys.argv = ["privsynth", *step["args"]]
            try:
                cli.run()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


spec = json.loads(open(sys.argv[1]).read())
results = {}
for job in spec["jobs"]:
    if job["copy"]:
        shutil.copyfile(*job["copy"])
    results[job["id"]] = [invoke(step) for step in job["steps"]]
with open(spec["results"], "w") as handle:
    json.dump(results, handle)
"""


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


def _synth(source: str, extra: str = "", schema: str = "{s4}", out: str = "{out}") -> str:
    schema_option = f"--schema {schema}" if schema else ""
    return (
        f"synthesize {source} -e 1 {extra} {schema_option} "
        f"--ledger {{ledger}} -o {out} --dataset {DATASET} -q"
    )


CASES = [
    Case("missing_input", _synth("{work}/absent.csv"), ("does not exist",)),
    Case("empty_input", _synth("{work}/empty.csv"), ("is empty",)),
    Case("header_only", _synth("{work}/header_only.csv"), ("no rows",)),
    Case("not_utf8", _synth("{work}/latin1.csv", schema=""), ("UTF-8",), excludes=("Jos",)),
    Case("ragged_rows", _synth("{work}/ragged.csv"), ("well-formed CSV",)),
    Case("unsupported_extension", _synth("{work}/adult4.txt"), ("unsupported extension",)),
    Case("epsilon_zero", _synth("{t4}", "-e 0"), ("epsilon",)),
    Case("epsilon_negative", _synth("{t4}", "-e -1"), ("epsilon",)),
    Case("epsilon_nan", _synth("{t4}", "-e nan"), ("epsilon",)),
    Case("delta_zero", _synth("{t4}", "--delta 0"), ("delta",)),
    Case("delta_above_one", _synth("{t4}", "--delta 1.5"), ("delta",)),
    Case("unknown_generator", _synth("{t4}", "--generator nosuchgen"), ("nosuchgen",)),
    Case("schema_extra_column", _synth("{t4}", schema="{work}/extra.yaml"), ("zipcode",)),
    Case("schema_lacks_column", _synth("{t4}", schema="{work}/lacks.yaml"), ("income",)),
    Case("schema_bad_yaml", _synth("{t4}", schema="{work}/bad.yaml"), ("YAML",)),
    Case("schema_unknown_kind", _synth("{t4}", schema="{work}/kind.yaml"), ("'sex'", "kind")),
    Case("schema_min_above_max", _synth("{t4}", schema="{work}/minmax.yaml"), ("'age'", "min")),
    Case("numeric_cell_not_a_number", _synth("{work}/age_text.csv"), ("'age'",), excludes=("abc",)),
    Case("category_not_declared", _synth("{work}/sex_other.csv"), ("'sex'",), excludes=(ODD_SEX,)),
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
BASELINE = (
    "synthesize {t4} -e 1 --schema {s4} --seed 7 "
    + f"--dataset {DATASET} "
    + ("--ledger {ledger} -o {work}/baseline/synthetic.csv -q")
)
DISCOVERY = (  # no schema: the headline use
    "synthesize {work}/adult4_2k.csv -e 1 --seed 5 --ledger {ledger} "
    "-o {work}/discovery/synthetic.csv -q"
)
SUCCESS = (
    "synthesize {t4} -e 1 --schema {s4} --seed 11 "
    + f"--dataset {DATASET} "
    + ("--ledger {ledger} -o {work}/success/synthetic.csv -q")
)
SHOW = f"budget show {DATASET} --ledger {{ledger}}"
SCRIPT_CASE = _synth("{work}/age_text.csv")


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class World:
    """The work folder and every command's outcome, built once per module."""

    work: Path
    outcomes: dict[str, list[Outcome]]  # per job: one per command, in order

    def ledger(self, job: str) -> Path:
        return self.work / job / "ledger.db"

    def output(self, job: str) -> Path:
        return self.work / job / "previous.csv"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _make_inputs(work: Path) -> None:
    with ADULT.open(newline="", encoding="utf-8") as handle:
        rows = [[record[c] for c in COLUMNS] for record in csv.DictReader(handle)]
    _write_csv(work / "adult4.csv", COLUMNS, rows)
    _write_csv(work / "adult4_2k.csv", COLUMNS, rows[:2000])
    shutil.copyfile(work / "adult4.csv", work / "adult4.txt")
    (work / "empty.csv").write_bytes(b"")
    (work / "header_only.csv").write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    (work / "latin1.csv").write_bytes(b"name\nJos\xe9\n")
    ragged = [list(r) for r in rows[:40]]
    ragged[20] += ["extra", "fields"]
    _write_csv(work / "ragged.csv", COLUMNS, ragged)
    age_text = [list(r) for r in rows]
    age_text[10][0] = "abc"
    _write_csv(work / "age_text.csv", COLUMNS, age_text)
    sex_other = [list(r) for r in rows]
    sex_other[10][1] = ODD_SEX
    _write_csv(work / "sex_other.csv", COLUMNS, sex_other)
    (work / "a_directory.csv").mkdir()

    public = yaml.safe_load(ADULT_SCHEMA.read_text(encoding="utf-8"))["columns"]
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


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVSYNTH_")}
    env["XDG_DATA_HOME"] = str(work / "xdg")  # never touch the user's own ledger
    env["COLUMNS"] = "250"  # wide tables, so run ids are not truncated
    return env


def _console_script() -> list[str]:
    script = Path(sys.executable).with_name("privsynth")
    return [str(script)] if script.exists() else [sys.executable, "-m", "privsynth.cli.main"]


def _seed_ledger(path: Path) -> None:
    """A ledger with one finished run, written through the API."""
    book = Ledger(path)
    book.reserve(DATASET, "earlier-run", cost_of.zcdp(0.05), (1.0, 1e-6), "mst", {})
    book.commit("earlier-run", [Spend("marginal", cost_of.gaussian(sigma=10.0))])


def _run_real(
    script: list[str], args: list[str], folder: Path, index: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    with (folder / f"{index}.out").open("w") as out, (folder / f"{index}.err").open("w") as err:
        return subprocess.Popen([*script, *args], cwd=folder, env=env, stdout=out, stderr=err)


def _read(folder: Path, codes: list[int]) -> list[Outcome]:
    return [
        Outcome(code, (folder / f"{i}.out").read_text("utf-8"), (folder / f"{i}.err").read_text())
        for i, code in enumerate(codes)
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    work = tmp_path_factory.mktemp("cli")
    _make_inputs(work)
    env, script = _env(work), _console_script()

    def argv(job: str, command: str) -> list[str]:
        fill = {
            "work": str(work),
            "t4": str(work / "adult4.csv"),
            "s4": str(work / "s4.yaml"),
            "ledger": str(work / job / "ledger.db"),
            "out": str(work / job / "previous.csv"),
        }
        # split first, then fill: paths may contain spaces
        return [token.format(**fill) for token in command.split()]

    jobs = ["success", "script_case", "baseline", "discovery", *(c.id for c in CASES)]
    for job in jobs:
        (work / job).mkdir()
        (work / job / "previous.csv").write_bytes(PREVIOUS_OUTPUT)
    _seed_ledger(work / "script_case" / "ledger.db")

    # the installed console script, in parallel with the driver
    real = {
        "success": _run_real(script, argv("success", SUCCESS), work / "success", 0, env),
        "script_case": _run_real(
            script, argv("script_case", SCRIPT_CASE), work / "script_case", 0, env
        ),
    }

    def job_spec(job: str, commands: list[str], copy: bool) -> dict[str, Any]:
        source, target = work / "baseline" / "ledger.db", work / job / "ledger.db"
        steps = [
            {
                "args": argv(job, command),
                "stdout": str(work / job / f"{i}.out"),
                "stderr": str(work / job / f"{i}.err"),
            }
            for i, command in enumerate(commands)
        ]
        return {"id": job, "copy": [str(source), str(target)] if copy else None, "steps": steps}

    cases = [
        job_spec(c.id, [c.before, c.command] if c.before else [c.command], True) for c in CASES
    ]
    spec = {
        "jobs": [
            job_spec("baseline", [BASELINE], False),
            job_spec("discovery", [DISCOVERY], False),
            *cases,
        ],
        "results": str(work / "results.json"),
    }
    (work / "spec.json").write_text(json.dumps(spec))
    driver = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(work / "spec.json")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    assert driver.returncode == 0, driver.stderr
    codes: dict[str, list[int]] = json.loads((work / "results.json").read_text())

    for job, process in real.items():
        codes[job] = [process.wait(timeout=580)]
    show = _run_real(script, argv("success", SHOW), work / "success", 1, env)
    codes["success"].append(show.wait(timeout=300))
    return World(work, {job: _read(work / job, codes[job]) for job in jobs})


def _snapshot(path: Path) -> tuple[Any, ...]:
    book = Ledger(path)
    return book.runs(), book.spends(), book.datasets()


def _one_error_line(outcome: Outcome) -> str:
    assert "Traceback" not in outcome.stderr + outcome.stdout
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert lines[0][len("error: ") :].strip()
    return lines[0]


# --- bad input --------------------------------------------------------------------------


def test_baseline_run_is_in_the_ledger(world: World) -> None:
    (outcome,) = world.outcomes["baseline"]
    assert outcome.code == 0, outcome.stderr
    book = Ledger(world.ledger("baseline"))
    (run,) = book.runs(DATASET)
    assert run["status"] == "committed"
    assert len(book.spends(DATASET)) > 3


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
    assert _snapshot(world.ledger(case.id)) == _snapshot(world.ledger("baseline"))
    budget = Budget(0.5, 1e-6) if case.before else Budget(10.0, 1e-6, is_default=True)
    assert Ledger(world.ledger(case.id)).budget(DATASET) == budget
    assert sorted(p.name for p in (world.work / case.id).iterdir() if p.name.startswith(".")) == []


def test_budget_refusal_reports_spent_and_remaining(world: World) -> None:
    message = _one_error_line(world.outcomes["budget_exhausted"][-1])
    status = Ledger(world.ledger("budget_exhausted")).status(DATASET)
    assert status.spent_epsilon > 0.9
    assert status.describe() in message  # "spent ε=1 of 0.5 (remaining ε=0, δ=1e-06)"


def test_bad_input_through_the_installed_script(world: World) -> None:
    (outcome,) = world.outcomes["script_case"]
    assert outcome.code == 2
    message = _one_error_line(outcome)
    assert "'age'" in message
    assert "abc" not in message
    assert world.output("script_case").read_bytes() == PREVIOUS_OUTPUT
    book = Ledger(world.ledger("script_case"))
    assert [r["run_id"] for r in book.runs()] == ["earlier-run"]
    assert [s["purpose"] for s in book.spends()] == ["marginal"]


# --- success ----------------------------------------------------------------------------


def test_synthesize_succeeds_and_budget_show_lists_the_run(world: World) -> None:
    synthesize, show = world.outcomes["success"]
    assert synthesize.code == 0, synthesize.stderr
    assert "error" not in synthesize.stderr.lower()
    with (world.work / "success" / "synthetic.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COLUMNS
    assert len(rows) > 1000
    assert {r[1] for r in rows[1:]} <= {"Female", "Male"}
    assert all(17 <= int(r[0]) <= 90 for r in rows[1:])

    book = Ledger(world.ledger("success"))
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
    assert 0 < book.status("adult4_2k").spent_epsilon <= 1.0


def test_cli_constants_match_the_library() -> None:
    """The CLI avoids importing JAX at start-up, so it repeats a few defaults."""
    from privsynth.cli import main
    from privsynth.generators import GENERATORS
    from privsynth.pipeline import DISCOVERY_SHARE
    from privsynth.schema.infer import DEFAULT_MIN_COUNT

    assert main.DISCOVERY_SHARE == DISCOVERY_SHARE
    assert main.DEFAULT_MIN_COUNT == DEFAULT_MIN_COUNT
    assert ", ".join(GENERATORS.names()) == main.GENERATOR_NAMES
