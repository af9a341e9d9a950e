"""Canaries through real ``privsynth`` processes whose temporary files, caches, home and
data folders are all the test's own (``TMPDIR``, ``HOME``, ``XDG_CACHE_HOME``,
``XDG_DATA_HOME``), so that everything a run leaves anywhere can be searched: synthetic
tables, saved models (their ZIP members), the ledger, audit and evaluation reports,
caches, temporary files, and what every command printed.

A table (with an audit report, a drafted schema and a scrub) and free text (the DP
text generator, tiny) each get their own process (:mod:`cli_batch`: several commands in
one interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from canary_inputs import (
    NAME,
    RARE_CATEGORY,
    leaks,
    notes_with_canaries,
    scan_tree,
    table_with_canaries,
    texts_of,
)

pytestmark = pytest.mark.slow

BATCH = Path(__file__).with_name("cli_batch.py")
TINY = "model_options={dim: 32, layers: 1, heads: 2, context: 40, vocabulary_size: 2000}"
TEXT = ["--text-option", TINY, "--text-option", "epochs=1", "--text-option", "sample_rate=0.5"]
#: files that hold the input's identifiers replaced, not dropped: the scrubber's output
#: keeps the rare category and number (scrubbing is not DP), and a drafted schema is the
#: custodian's draft of what the data holds (its min and max are marked data_derived)
IDENTIFIERS_ONLY = ("scrubbed.csv", "draft.yaml")


@dataclass(frozen=True)
class Batch:
    work: Path
    codes: list[int]
    inputs: frozenset[Path]


def _folders(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVSYNTH_")}
    for name, folder in (("TMPDIR", "tmp"), ("HOME", "home"), ("XDG_CACHE_HOME", "cache"),
                         ("XDG_DATA_HOME", "data")):  # fmt: skip
        (work / folder).mkdir()
        env[name] = str(work / folder)
    env["PRIVSYNTH_LEDGER"] = str(work / "data" / "ledger.db")
    env["COLUMNS"] = "200"
    return env


def _run(work: Path, commands: list[list[str]], inputs: list[Path]) -> Batch:
    (work / "printed").mkdir()
    (work / "batch.json").write_text(json.dumps(commands), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(BATCH), str(work / "batch.json"), str(work / "printed")],
        env=_folders(work), cwd=work / "out", capture_output=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert not leaks(done.stdout + done.stderr, "the process's own output")
    codes = [int((work / "printed" / f"{i}.code").read_text()) for i in range(len(commands))]
    return Batch(work, codes, frozenset(p.resolve() for p in inputs))


@pytest.fixture(scope="module")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    work = tmp_path_factory.mktemp("canary-table")
    (work / "out").mkdir()
    table = work / "people.csv"
    table_with_canaries(1500).to_csv(table, index=False)
    out = work / "out"
    commands = [
        ["synthesize", str(table), "-e", "3", "--generator", "independent", "-n", "400", "-q",
         "-o", str(out / "synthetic.csv"), "--audit", "gdpr-anonymisation"],
        ["schema", "infer", str(table), "-o", str(out / "draft.yaml")],
        ["scrub", str(table), "-o", str(out / "scrubbed.csv")],
        ["budget", "show", "--spends"],
        ["evaluate", "--real", str(table), "--synthetic", str(out / "synthetic.csv"),
         "-o", str(out / "evaluation.json")],
        ["lineage", str(table)],
    ]  # fmt: skip
    return _run(work, commands, [table])


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    work = tmp_path_factory.mktemp("canary-text")
    (work / "out").mkdir()
    notes = work / "notes.csv"
    notes_with_canaries(rows=16, length=160).to_csv(notes, index=False)
    out = work / "out"
    commands = [
        ["fit", str(notes), "-e", "4", "--text-column", "transcription", "--condition-on",
         "medical_specialty", "--generator", "independent", "-o", str(out / "notes.privsynth"),
         "-q", *TEXT],
        ["sample", str(out / "notes.privsynth"), "-n", "8", "-o", str(out / "notes.parquet"),
         "-q"],
    ]  # fmt: skip
    return _run(work, commands, [notes])


def _leaks_outside_exceptions(batch: Batch) -> list[str]:
    """Every canary anywhere, but only identifiers in the files allowed to keep the rest."""
    found = scan_tree(batch.work, batch.inputs | {(batch.work / "batch.json").resolve()})
    return [
        line
        for line in found
        if not any(f"/{name}" in line for name in IDENTIFIERS_ONLY)
        or line.startswith(("name", "ssn", "mrn"))
    ]


def test_table_commands_succeed(table_run: Batch) -> None:
    # the audit fails its policy (exit 5: the attacks need a holdout): it still reports
    assert table_run.codes == [5, 0, 0, 0, 0, 0]
    assert (table_run.work / "out" / "evaluation.json").is_file()
    assert (table_run.work / "out" / "synthetic.csv.report" / "report.html").is_file()


def test_no_table_canary_anywhere(table_run: Batch) -> None:
    assert not _leaks_outside_exceptions(table_run)


def test_the_scan_sees_what_scrubbing_keeps(table_run: Batch) -> None:
    """The scan works on these files: the scrubbed table keeps the rare category (not
    personal data to a scrubber) and the input holds every canary."""
    found = scan_tree(table_run.work)
    assert any(line.startswith("rare category") and "scrubbed.csv" in line for line in found)
    assert {line.split(" (")[0] for line in found if "people.csv" in line} == {
        "name", "ssn", "mrn", "rare category", "rare number"
    }  # fmt: skip


def test_the_draft_schema_leaves_the_rare_category_out(table_run: Batch) -> None:
    (_, draft), *_ = texts_of(table_run.work / "out" / "draft.yaml")
    assert RARE_CATEGORY.encode() not in draft
    assert b"workclass" in draft and b"Private" in draft  # the frequent ones are there


def test_text_commands_succeed(text_run: Batch) -> None:
    assert text_run.codes == [0, 0]
    assert NAME.encode() in (text_run.work / "notes.csv").read_bytes()  # the canary input


def test_no_text_canary_anywhere(text_run: Batch) -> None:
    assert not _leaks_outside_exceptions(text_run)
