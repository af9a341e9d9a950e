"""Helpers for the fault tests: real ``privsynth`` processes, a ledger read from outside
(SQLite directly, as a custodian's tool would), and disks that fill up or are read-only.

A full disk is a real one: a tiny tmpfs mounted in a private mount namespace
(``unshare --user --map-root-user --mount``: no root needed where unprivileged user
namespaces are allowed). A read-only ledger folder is ``chmod 555`` for a normal user,
and a read-only bind mount in such a namespace for root (whom permissions do not stop).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
ADULT = EXAMPLES / "adult_sample.csv"
ADULT_SCHEMA = EXAMPLES / "adult_schema.yaml"
#: the exit statuses the README documents for errors (input, budget, ledger, output)
DOCUMENTED_ERRORS = (2, 3, 4, 6)


def privsynth_command() -> list[str]:
    """The installed console script (or ``python -m`` where there is none)."""
    script = Path(sys.executable).with_name("privsynth")
    return [str(script)] if script.exists() else [sys.executable, "-m", "privsynth.cli.main"]


def environment(work: Path) -> dict[str, str]:
    """No ``PRIVSYNTH_`` setting of the developer's; data, cache and temp files of the
    test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVSYNTH_")}
    for name, folder in (("XDG_DATA_HOME", "xdg"), ("TMPDIR", "tmp")):
        (work / folder).mkdir(exist_ok=True)
        env[name] = str(work / folder)
    env["COLUMNS"] = "200"
    return env


def small_adult(path: Path, rows: int) -> Path:
    """The first ``rows`` records of the bundled Adult sample, as CSV."""
    with ADULT.open(encoding="utf-8") as source:
        lines = [next(source) for _ in range(rows + 1)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def adult_header() -> list[str]:
    with ADULT.open(encoding="utf-8") as source:
        return next(csv.reader(source))


def complete_csv_rows(data: bytes, header: Sequence[str]) -> int | None:
    """The number of records of a complete CSV with ``header`` (every record with every
    field, a final newline), or None for anything else (a half-written file)."""
    if not data.endswith(b"\n"):
        return None
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        return None
    if not rows or rows[0] != list(header) or any(len(r) != len(header) for r in rows[1:]):
        return None
    return len(rows) - 1


# the ledger, read from outside ----------------------------------------------------------


@dataclass(frozen=True)
class LedgerRun:
    run_id: str
    status: str
    rows: int | None
    reservation: str


def ledger_runs(path: Path) -> list[LedgerRun]:
    """Every run in a ledger (read-only query; waits for writers)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)
    try:
        found = conn.execute("SELECT run_id, status, params, reservation FROM runs").fetchall()
    finally:
        conn.close()
    return [LedgerRun(r[0], r[1], json.loads(r[2]).get("rows"), r[3]) for r in found]


def integrity(path: Path) -> tuple[list[str], list[tuple[object, ...]]]:
    """``PRAGMA integrity_check`` rows and ``foreign_key_check`` violations."""
    conn = sqlite3.connect(path, timeout=30.0)
    try:
        checked = [str(row[0]) for row in conn.execute("PRAGMA integrity_check").fetchall()]
        foreign = [tuple(row) for row in conn.execute("PRAGMA foreign_key_check").fetchall()]
    finally:
        conn.close()
    return checked, foreign


# namespaces: full disks and read-only folders ------------------------------------------


def namespace_available(folder: Path) -> bool:
    """Whether this user can mount a tmpfs on ``folder`` in a private user and mount
    namespace."""
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    mount = f"mount -t tmpfs -o size=64k tmpfs {shlex.quote(str(folder))}"
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount],
        capture_output=True, check=False,
    )  # fmt: skip
    return probe.returncode == 0


def in_namespace(setup: Sequence[str], command: Sequence[str], after: Sequence[str] = ()) -> str:
    """A shell script for ``unshare``: the ``setup`` lines (mounts), then ``command``,
    whose exit status is kept, then the ``after`` lines (copy results out)."""
    lines = ["set -e", *setup, "set +e", shlex.join(command), "status=$?", *after, "exit $status"]
    return "\n".join(lines)


def run_in_namespace(
    script: str, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def fill_disk(folder: Path) -> str:
    """A shell line that fills the file system of ``folder`` to the last byte."""
    filler = shlex.quote(str(folder / "filler"))
    return f"dd if=/dev/zero of={filler} bs=4096 2>/dev/null || true"


def one_error_line(stderr: str) -> str:
    """The single ``error:`` line a failed command must print (warnings aside)."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith(("error", "internal"))]
    others = [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(("error", "internal", "warning"))
    ]
    assert len(errors) == 1 and not others, stderr
    return errors[0]
