"""The same guarantees as :mod:`test_fault_disk` with no mount at all, so they are checked
where user namespaces are not allowed: the command runs under ``RLIMIT_FSIZE``
(``resource.setrlimit`` in the child), so a write past 1 MiB fails with EFBIG ("File too
large"), as a full disk fails with ENOSPC; and a ledger folder made read-only with
``chmod`` (for a user that permissions stop: not root).
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fault_tools import (
    ADULT_SCHEMA,
    DOCUMENTED_ERRORS,
    ROOT,
    environment,
    integrity,
    one_error_line,
    small_adult,
)

from privsynth.dp.ledger import Ledger

pytestmark = pytest.mark.slow

BATCH = ROOT / "tests" / "unit" / "canaries" / "cli_batch.py"
LIMIT = 1 << 20  # a 20,000-row Adult table is about 2 MiB
EARLIER = b"age,workclass\n41,Private\n"
SYNTH = ["-e", "1", "--schema", str(ADULT_SCHEMA), "--generator", "independent", "-q"]


@dataclass(frozen=True)
class Ran:
    code: int
    stderr: str


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _batch(work: Path, commands: list[list[str]], limited: bool) -> list[Ran]:
    printed = work / ("printed-limited" if limited else "printed")
    printed.mkdir()
    (printed / "batch.json").write_text(json.dumps(commands), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(BATCH), str(printed / "batch.json"), str(printed)],
        env=environment(work), cwd=work, capture_output=True, timeout=280, check=False,
        preexec_fn=_limited if limited else None,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return [
        Ran(int((printed / f"{i}.code").read_text()), (printed / f"{i}.err").read_text("utf-8"))
        for i in range(len(commands))
    ]


@dataclass(frozen=True)
class World:
    work: Path
    ran: dict[str, Ran]
    ledger_runs: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    work = tmp_path_factory.mktemp("file-limit")
    adult, ledger, out = small_adult(work / "adult.csv", 300), work / "ledger.db", work / "out"
    out.mkdir()
    for name in ("out.csv", "sampled.csv"):
        (out / name).write_bytes(EARLIER)
    common = [*SYNTH, "--ledger", str(ledger)]
    prepared = _batch(work, [["fit", str(adult), *common, "-o", str(work / "m.privsynth")]], False)
    assert prepared[0].code == 0, prepared[0].stderr
    runs_before = len(Ledger(ledger).runs())
    commands = {
        "synthesize": ["synthesize", str(adult), *common, "-n", "20000", "-o",
                       str(out / "out.csv")],
        "sample": ["sample", str(work / "m.privsynth"), "-n", "20000", "-o",
                   str(out / "sampled.csv"), "--ledger", str(ledger), "-q"],
    }  # fmt: skip
    ran = _batch(work, list(commands.values()), True)
    return World(work, dict(zip(commands, ran, strict=True)), runs_before)


@pytest.mark.parametrize("command", ["synthesize", "sample"])
def test_a_file_too_large_leaves_the_earlier_output_and_no_temporary_file(
    world: World, command: str
) -> None:
    ran = world.ran[command]
    assert ran.code != 0, ran.stderr
    assert "Traceback" not in ran.stderr
    out = world.work / "out"
    assert sorted(p.name for p in out.iterdir()) == ["out.csv", "sampled.csv"]
    assert {p.read_bytes() for p in out.iterdir()} == {EARLIER}


def test_the_ledger_is_sound_and_holds_the_paid_run(world: World) -> None:
    ledger = world.work / "ledger.db"
    assert integrity(ledger) == (["ok"], [])
    runs = Ledger(ledger).runs()
    # the synthesize run was fitted and paid before its output failed; sample pays nothing
    assert len(runs) == world.ledger_runs + 1
    assert {r["status"] for r in runs} == {"committed"}


@pytest.mark.parametrize("command", ["synthesize", "sample"])
def test_a_file_too_large_is_one_clear_line(world: World, command: str) -> None:
    ran = world.ran[command]
    line = one_error_line(ran.stderr)
    assert ran.code in DOCUMENTED_ERRORS, (ran.code, line)
    assert "File too large" in line, line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a chmod 555 folder anyway")
def test_a_read_only_ledger_folder_refuses_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "ledger"
    folder.mkdir()
    Ledger(folder / "ledger.db").set_budget("adult", 5.0, 1e-6)
    before = (folder / "ledger.db").read_bytes()
    adult = small_adult(tmp_path / "adult.csv", 300)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        command = ["synthesize", str(adult), *SYNTH, "--ledger", str(folder / "ledger.db")]
        (ran,) = _batch(tmp_path, [[*command, "-o", str(tmp_path / "out.csv")]], False)
    finally:
        folder.chmod(stat.S_IRWXU)
    line = one_error_line(ran.stderr)
    assert ran.code == 4 and "ledger" in line and "read-only" in line, (ran.code, line)
    assert (folder / "ledger.db").read_bytes() == before
    assert not (tmp_path / "out.csv").exists()
