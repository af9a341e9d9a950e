"""A full disk and a read-only ledger folder: every command fails with one clear line and a
documented exit status, and loses nothing (earlier outputs byte-identical, no temporary
file left beside them, the ledger unchanged and sound).

The disks are real: tmpfs file systems of 256 KiB, filled to the last byte, and a
read-only bind mount, all in a private mount namespace (``unshare``; see
:mod:`fault_tools`). Every command runs once, in one interpreter, as the console script
runs it (:mod:`cli_batch`); the tests below judge what each did.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fault_tools import (
    ADULT,
    ADULT_SCHEMA,
    DOCUMENTED_ERRORS,
    ROOT,
    environment,
    fill_disk,
    in_namespace,
    integrity,
    namespace_available,
    one_error_line,
    run_in_namespace,
    small_adult,
)

from privsynth.dp.accounting import costs
from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.ledger import Ledger

pytestmark = pytest.mark.slow

BATCH = ROOT / "tests" / "unit" / "canaries" / "cli_batch.py"
#: an earlier output of every command: one page of the full disk, so that a writer that
#: truncates it in place frees one page and runs out of space in the second
EARLIER = b"age,workclass\n41,Private\n"
#: the message of a full disk (ENOSPC) and of a file too large (EFBIG)
NO_SPACE = ("No space left on device", "File too large", "disk is full")


@dataclass(frozen=True)
class Case:
    """A command writing ``target`` (an earlier version of it is on the full disk)."""

    id: str
    args: tuple[str, ...]
    target: str


def _args(text: str) -> tuple[str, ...]:
    """Command arguments from one line (paths are filled in later: no spaces here)."""
    return tuple(text.split())


#: a run on the adult table; `{work}`, `{full}`... are filled in by the fixture
SYNTH = _args(
    f"{{work}}/adult.csv -e 1 --schema {ADULT_SCHEMA} --generator independent "
    "--ledger {work}/ledger.db -q"
)
CASES = [
    Case("synthesize csv", ("synthesize", *SYNTH, *_args("-n 3000 -o {full}/out.csv")), "out.csv"),
    Case(
        "synthesize parquet",
        ("synthesize", *SYNTH, *_args("-n 3000 -o {full}/out.parquet")),
        "out.parquet",
    ),
    Case("fit", ("fit", *SYNTH, *_args("-o {full}/model.privsynth")), "model.privsynth"),
    Case(
        "sample",
        _args(
            "sample {work}/model.privsynth -n 3000 -o {full}/sampled.csv "
            "--ledger {work}/ledger.db -q"
        ),
        "sampled.csv",
    ),
    Case("schema infer", _args(f"schema infer {ADULT} -o {{full}}/draft.yaml"), "draft.yaml"),
    Case(
        "scrub report",
        _args("scrub {work}/people.csv -o {work}/scrubbed.csv --report {full}/scrub.report.json"),
        "scrub.report.json",
    ),
]
#: a model made before the disk filled up (what `sample` draws from)
PREPARE = ("fit", *SYNTH, *_args("-o {work}/model.privsynth"))
LEDGER_FULL = (
    "synthesize",
    *_args(f"{{work}}/adult.csv -e 1 --schema {ADULT_SCHEMA} --generator independent -q"),
    *_args("--ledger {fullledger}/ledger.db -o {work}/ledger-full.csv"),
)
LEDGER_READ_ONLY = (
    "synthesize",
    *_args(f"{{work}}/adult.csv -e 1 --schema {ADULT_SCHEMA} --generator independent -q"),
    *_args("--ledger {ro}/ledger.db -o {work}/read-only.csv"),
)
READ_ONLY_SHOW = ("budget", "show", "--ledger", "{ro}/ledger.db")


@dataclass(frozen=True)
class Ran:
    """One command's exit status and what it printed."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class World:
    work: Path
    #: the full disk's files after the commands (copied out of the namespace)
    full_after: dict[str, bytes]
    ran: dict[str, Ran]
    ledger_before: bytes
    ledger_after: bytes
    read_only_before: bytes
    read_only_after: Path


def _earlier_ledger(path: Path) -> None:
    """A ledger with a budget and one finished run, written through the API."""
    book = Ledger(path)
    book.set_budget("adult", 10.0, 1e-6)
    book.reserve("adult", "earlier-run", costs.zcdp(0.05), (1.0, 1e-6), "mst", {})
    book.commit("earlier-run", [Spend("marginal", costs.gaussian(sigma=10.0))])


def _people(path: Path) -> None:
    """Twenty name columns: a scrub report longer than a page (4 KiB) of the full disk."""
    header = ",".join(f"name {c}" for c in range(20))
    rows = [",".join(f"Person{i} Ordinary{c}" for c in range(20)) for i in range(20)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _earlier_outputs(folder: Path) -> None:
    folder.mkdir()
    for case in CASES:
        (folder / case.target).write_bytes(EARLIER)


def _script(work: Path, commands: list[list[str]]) -> str:
    q = {name: shlex.quote(str(work / name)) for name in ("full", "fullledger", "ro", "stage")}
    setup = [
        f"mount -t tmpfs -o size=256k tmpfs {q['full']}",
        f"cp -a {q['stage']}/earlier/. {q['full']}/",
        f"mount -t tmpfs -o size=256k tmpfs {q['fullledger']}",
        f"cp -a {q['stage']}/ledger/. {q['fullledger']}/",
        f"mount --bind {q['ro']} {q['ro']}",
        f"mount -o remount,ro,bind {q['ro']}",
        fill_disk(work / "full"),
        fill_disk(work / "fullledger"),
    ]
    after = [
        f"rm -f {q['full']}/filler {q['fullledger']}/filler",
        f"cp -a {q['full']}/. {q['stage']}/full-after/",
        f"cp -a {q['fullledger']}/. {q['stage']}/ledger-after/",
    ]
    (work / "batch.json").write_text(json.dumps(commands), encoding="utf-8")
    command = [sys.executable, str(BATCH), str(work / "batch.json"), str(work / "printed")]
    return in_namespace(setup, command, after)


def _fill(args: tuple[str, ...], work: Path) -> list[str]:
    names = ("work", "full", "fullledger", "ro")
    return [a.format(**{n: str(work if n == "work" else work / n) for n in names}) for a in args]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    work = tmp_path_factory.mktemp("faults")
    if not namespace_available(work / "probe"):
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare refused)")
    small_adult(work / "adult.csv", 300)
    _people(work / "people.csv")
    _earlier_ledger(work / "ledger.db")
    for name in ("full", "fullledger", "ro", "printed", "stage/full-after", "stage/ledger-after"):
        (work / name).mkdir(parents=True)
    _earlier_outputs(work / "stage" / "earlier")
    (work / "stage" / "ledger").mkdir()
    _earlier_ledger(work / "stage" / "ledger" / "ledger.db")
    _earlier_ledger(work / "ro" / "ledger.db")
    ledger_before = (work / "stage" / "ledger" / "ledger.db").read_bytes()
    read_only_before = (work / "ro" / "ledger.db").read_bytes()
    batch = [PREPARE, *(c.args for c in CASES), LEDGER_FULL, LEDGER_READ_ONLY, READ_ONLY_SHOW]
    commands = [_fill(args, work) for args in batch]
    done = run_in_namespace(_script(work, commands), environment(work), work, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = work / "printed"
    names = ["prepare", *(c.id for c in CASES), "ledger full", "read-only", "read-only show"]
    ran = {
        name: Ran(
            int((printed / f"{i}.code").read_text()),
            (printed / f"{i}.out").read_text("utf-8"),
            (printed / f"{i}.err").read_text("utf-8"),
        )
        for i, name in enumerate(names)
    }
    full_after = {p.name: p.read_bytes() for p in (work / "stage" / "full-after").iterdir()}
    return World(
        work, full_after, ran, ledger_before,
        (work / "stage" / "ledger-after" / "ledger.db").read_bytes(),
        read_only_before, work / "ro" / "ledger.db",
    )  # fmt: skip


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_model_for_sample_was_made_before_the_disk_filled(world: World) -> None:
    assert world.ran["prepare"].code == 0, world.ran["prepare"].stderr


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_full_disk_leaves_the_earlier_output_as_it_was(world: World, case: Case) -> None:
    ran = world.ran[case.id]
    assert ran.code != 0, ran.stdout
    assert world.full_after[case.target] == EARLIER, f"{case.target} was changed"
    leftovers = sorted(set(world.full_after) - {c.target for c in CASES})
    assert not [name for name in leftovers if case.target in name], leftovers


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_full_disk_is_one_clear_line_with_a_documented_status(world: World, case: Case) -> None:
    ran = world.ran[case.id]
    line = one_error_line(ran.stderr)
    assert ran.code in DOCUMENTED_ERRORS, (ran.code, line)
    assert any(words in line for words in NO_SPACE), line
    assert case.target in line or case.target.split(".")[0] in line, line


def test_a_full_disk_under_the_ledger_refuses_the_run_and_keeps_the_ledger(world: World) -> None:
    ran = world.ran["ledger full"]
    line = one_error_line(ran.stderr)
    assert ran.code == 4, (ran.code, line)
    assert "ledger" in line and "no space left" in line, line
    assert _sha(world.ledger_after) == _sha(world.ledger_before)
    assert not (world.work / "ledger-full.csv").exists()


def test_a_read_only_ledger_folder_refuses_the_run_and_keeps_the_ledger(world: World) -> None:
    ran = world.ran["read-only"]
    line = one_error_line(ran.stderr)
    assert ran.code == 4, (ran.code, line)
    assert "ledger" in line and "ro/ledger.db" in line and "read-only" in line, line
    assert _sha(world.read_only_after.read_bytes()) == _sha(world.read_only_before)
    assert not (world.work / "read-only.csv").exists()
    names = {p.name for p in world.read_only_after.parent.iterdir()}
    assert names <= {"ledger.db", "ledger.db.key"}, names
    assert integrity(world.read_only_after) == (["ok"], [])


def test_reading_a_read_only_ledger_fails_clearly_too(world: World) -> None:
    ran = world.ran["read-only show"]
    if ran.code == 0:  # reading may work without writing: then it must show the run
        assert "adult" in ran.stdout
        return
    line = one_error_line(ran.stderr)
    assert ran.code == 4, (ran.code, line)


def test_runs_whose_output_failed_are_paid_and_the_ledger_is_sound(world: World) -> None:
    """The output is written after the fit is committed: a full disk then costs the run
    (as documented: a run is paid once the data is read), and leaves no open reservation."""
    ledger = world.work / "ledger.db"
    assert integrity(ledger) == (["ok"], [])
    runs = Ledger(ledger).runs("adult")
    # the earlier run, `prepare`, the two synthesize runs and `fit` (its model unwritten)
    assert len(runs) == 5
    assert {r["status"] for r in runs} == {"committed"}
