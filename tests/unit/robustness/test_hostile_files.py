"""Every command, given a hostile or awkward input file, ends in a documented way.

(hostile file) x (command): ``synthesize``, ``fit``, ``scrub``, ``evaluate``, ``audit``
and ``schema infer`` run in this process (:mod:`cli_inprocess`) on each file of
:mod:`corpus`. A command either succeeds or exits with a documented status and one
``error:`` line, never a traceback; an earlier output at its output path stays
byte-identical when it fails. A file refused on its structure (before any row is read)
leaves the ledger byte-identical; a failure that depended on the rows is charged.
Awkward but valid files (BOM, CRLF, quoted newlines, a declared tab separator) work,
and their column names come through unchanged.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_inprocess import Cli, Outcome
from corpus import HOSTILE, VALID, VALID_COLUMNS, VALID_SCHEMA, Hostile
from harness import PREVIOUS, assert_handled, assert_succeeded, files_under, ledger_files

from privsynth.dp.ledger import Ledger

DATASET = "hostile"
COMMANDS = ("synthesize", "fit", "scrub", "evaluate", "audit", "schema-infer")
#: known bugs in files outside this suite's reach: (case, command) -> where
KNOWN_BUGS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Run:
    """One command's arguments, the path it writes, and whether it keeps a ledger."""

    args: list[str]
    output: Path
    uses_ledger: bool = False


def _output_suffix(source: Path) -> str:
    return source.suffix if source.suffix in (".parquet", ".tsv") else ".csv"


def _run(command: str, source: Path, work: Path, schema: Path | None) -> Run:
    """The command's arguments on ``source``, writing into ``work``."""
    ledger = ["--ledger", str(work / "ledger.db"), "--dataset", DATASET, "-q"]
    declared = ["--schema", str(schema)] if schema else []
    private = ["-e", "5", "--generator", "independent", *declared, *ledger]
    twin = work / f"twin{source.suffix}"
    if source.exists():
        shutil.copyfile(source, twin)
    builders: dict[str, Callable[[], Run]] = {
        "synthesize": lambda: Run(
            ["synthesize", str(source), *private, "-o", str(work / "out.csv")],
            work / "out.csv",
            uses_ledger=True,
        ),
        "fit": lambda: Run(
            ["fit", str(source), *private, "-o", str(work / "model.privsynth")],
            work / "model.privsynth",
            uses_ledger=True,
        ),
        "scrub": lambda: Run(
            ["scrub", str(source), "-o", str(work / f"scrubbed{_output_suffix(source)}")],
            work / f"scrubbed{_output_suffix(source)}",
        ),
        "evaluate": lambda: Run(
            [
                "evaluate",
                "--real",
                str(source),
                "--synthetic",
                str(twin),
                "-o",
                str(work / "e.json"),
            ],
            work / "e.json",
        ),
        "audit": lambda: Run(
            [
                "audit",
                "--real",
                str(source),
                "--synthetic",
                str(twin),
                "-o",
                str(work / "report"),
                "--policy",
                "gdpr-anonymisation",
            ],
            work / "report",
        ),
        "schema-infer": lambda: Run(
            ["schema", "infer", str(source), "-o", str(work / "schema.yaml")],
            work / "schema.yaml",
        ),
    }
    return builders[command]()


def _prepare(run: Run, work: Path) -> None:
    """An earlier output at the output path, and a ledger with a budget for the dataset."""
    if run.output.suffix:
        run.output.write_bytes(PREVIOUS)
    else:
        run.output.mkdir()
        (run.output / "report.json").write_bytes(PREVIOUS)
    Ledger(work / "ledger.db").set_budget(DATASET, 100.0, 1e-5)


#: accepted files audited in the fast set (an audit of an accepted file takes 1-3 s; the
#: others are audited in the slow set): one per family of awkward content
FAST_AUDITS = {"one_row", "unicode_names", "huge_tiny_numbers", "parquet_nested_binary"}
FAST_AUDITS |= {"utf8_bom", "tab_separated"}
#: evaluating 10^4 columns or 10^6 rows ran for over 10 minutes: left out until the
#: evaluation scales (privsynth/evaluation/, outside this suite's files)
TOO_SLOW = {"evaluate", "audit"}


def _marks(case: Hostile, command: str) -> list[Any]:
    slow = case.slow or (command == "audit" and not case.pre_row and case.id not in FAST_AUDITS)
    marks: list[Any] = [pytest.mark.slow] if slow else []
    if case.slow and command in TOO_SLOW:
        marks.append(pytest.mark.skip(reason="evaluation does not scale to this input yet"))
    return marks


def _params(cases: tuple[Hostile, ...]) -> list[Any]:
    params = []
    for case in cases:
        for command in COMMANDS:
            marks = _marks(case, command)
            if (case.id, command) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case.id, command]))
            params.append(pytest.param(case, command, id=f"{case.id}-{command}", marks=marks))
    return params


def _execute(
    cli: Cli, case: Hostile, command: str, work: Path, schema: Path | None = None
) -> tuple[Run, Outcome, dict[str, bytes], dict[str, bytes]]:
    source = case.make(work)
    run = _run(command, source, work, schema)
    _prepare(run, work)
    ledger_before = ledger_files(work)
    output_before = files_under(run.output)
    return run, cli(*run.args, cwd=work), ledger_before, output_before


@pytest.mark.parametrize(("case", "command"), _params(HOSTILE))
def test_hostile_file_fails_closed_or_works(
    cli: Cli, tmp_path: Path, case: Hostile, command: str
) -> None:
    run, outcome, ledger_before, output_before = _execute(cli, case, command, tmp_path)
    message = assert_handled(outcome, audit=command == "audit")
    if case.pre_row:
        assert message is not None, f"{case.id} was accepted by {command}"
    if message is None:
        return
    assert files_under(run.output) == output_before, "a failed run changed an earlier output"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary left"
    if not run.uses_ledger:
        return
    if case.pre_row:
        assert ledger_files(tmp_path) == ledger_before, "a pre-row failure touched the ledger"
    else:  # it depended on the rows: charged, whatever went wrong
        assert Ledger(tmp_path / "ledger.db").status(DATASET).spent_epsilon > 0, message


@pytest.mark.parametrize(("case", "command"), _params(VALID))
def test_awkward_valid_file_just_works(
    cli: Cli, tmp_path: Path, case: Hostile, command: str
) -> None:
    schema = tmp_path / "public.yaml"
    schema.write_text(yaml.safe_dump(VALID_SCHEMA, allow_unicode=True), encoding="utf-8")
    run, outcome, _, _ = _execute(cli, case, command, tmp_path, schema)
    assert_succeeded(outcome, audit=command == "audit")
    if command in ("synthesize", "scrub"):
        assert _header(run.output) == VALID_COLUMNS
    if command == "schema-infer":
        drafted = yaml.safe_load(run.output.read_text(encoding="utf-8"))
        assert list(drafted["columns"]) == VALID_COLUMNS


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        delimiter = "\t" if path.suffix == ".tsv" else ","
        return next(csv.reader(handle, delimiter=delimiter))
