"""Run ``privsynth`` commands in the test process, as the console script would run them.

A fresh interpreter per command costs several CPU-seconds (JAX, pandas, mbi, spaCy and
Presidio are imported, models loaded and functions compiled again), so tests of what a
command does (its exit status, its one-line errors, what it prints and writes) call the
console script's entry point, :func:`privsynth.cli.main.run`, here: ``sys.argv`` set,
the working directory optionally changed, and everything the command prints captured.
Tests of the process itself (the installed executable, environment variables read at
start-up, concurrency) start one instead (:mod:`cli_driver`).

What a separate process would have shown is kept: output written to the file
descriptors 1 and 2 (by C code, say) as well as through ``sys.stdout``/``sys.stderr``;
Python warnings that reach the top level, shown as an interpreter with its default
filters shows them; log records of level WARNING and above, as Python's last-resort
handler prints them. Changes a command makes to the environment variables end with it.
An exception that is not ``SystemExit`` escapes to the test: the entry point must turn
every failure into an exit status.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Outcome:
    """What one command did: its exit status and everything it printed."""

    code: int
    stdout: str
    stderr: str


#: the ``cli`` fixture: ``cli("budget", "show", ...)`` runs a command, gives its outcome
Cli = Callable[..., Outcome]


def exit_status(code: object) -> int:
    """The exit status of ``sys.exit(code)``, as the interpreter computes it."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


@contextlib.contextmanager
def _fd_captured(fd: int) -> Iterator[Path]:
    """Point file descriptor ``fd`` at a temporary file for the block; its path."""
    with tempfile.TemporaryDirectory(prefix="privsynth-fd-") as folder:
        path = Path(folder) / f"fd{fd}"
        saved = os.dup(fd)
        try:
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.dup2(target, fd)
            finally:
                os.close(target)
            yield path
        finally:
            os.dup2(saved, fd)
            os.close(saved)


class _LastResort(logging.Handler):
    """Log records printed as Python's last-resort handler prints them (the message)."""

    def __init__(self, stream: io.StringIO) -> None:
        super().__init__(logging.WARNING)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")


def _interpreter_default_filters() -> None:
    """The warning filters of ``python`` started without ``-W`` (CPython 3.11)."""
    warnings.resetwarnings()
    for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


def invoke(args: Sequence[str | os.PathLike[str]], cwd: Path | None = None) -> Outcome:
    """Run ``privsynth ARGS`` through the console script's entry point; its outcome."""
    import privsynth.cli.main as cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        fd_out = stack.enter_context(_fd_captured(1))
        fd_err = stack.enter_context(_fd_captured(2))
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(record=True) as caught,
            contextlib.chdir(cwd or Path.cwd()),
            _argv(["privsynth", *map(str, args)]),
            _logged_to(err),
            _environment_restored(),
        ):
            _interpreter_default_filters()
            try:
                cli.run()
                code = 0
            except SystemExit as exc:
                code = exit_status(exc.code)
                if not isinstance(exc.code, int | None):
                    print(exc.code, file=sys.stderr)
        for item in caught:
            err.write(
                warnings.formatwarning(
                    item.message, item.category, item.filename, item.lineno, item.line
                )
            )
        stdout = out.getvalue() + fd_out.read_text("utf-8", "replace")
        stderr = err.getvalue() + fd_err.read_text("utf-8", "replace")
    return Outcome(code, stdout, stderr)


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def _environment_restored() -> Iterator[None]:
    """Changes the command makes to ``os.environ`` end with it, as with its process."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in os.environ.keys() - saved.keys():
            del os.environ[name]
        os.environ.update(saved)


@contextlib.contextmanager
def _logged_to(stream: io.StringIO) -> Iterator[None]:
    handler = _LastResort(stream)
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)


def cli_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No ``PRIVSYNTH_`` setting of the developer's, and a private data home (so a
    default ledger is never the user's own)."""
    for name in [n for n in os.environ if n.startswith("PRIVSYNTH_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))


def warm_up() -> None:
    """What every process does once, whatever the command: import the pipeline, start
    JAX's backend and load the PII detector's models (a driver process did this once
    before forking each command). One-time start-up messages then belong to no command."""
    import jax

    import privsynth.synthesis  # noqa: F401
    from privsynth.pii.engine import PIIDetector

    jax.devices()
    PIIDetector().analyze("warm up on 2020-01-01")


@dataclass(frozen=True)
class Job:
    """Commands (argument lists, without ``privsynth``) run in order in ``folder``."""

    id: str
    folder: Path
    commands: Sequence[Sequence[str]]
    #: (source, target): a file copied before the first command (e.g. a ledger)
    copy: tuple[Path, Path] | None = None
    #: (ledger, copy): the ledger as it was just before the last command
    snapshot: tuple[Path, Path] | None = None
    #: jobs that must have finished before this one starts
    needs: Sequence[str] = ()


def backup(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (sqlite's backup API, WAL included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def run_jobs(jobs: Sequence[Job]) -> dict[str, list[Outcome]]:
    """Run every job's commands in order, a job only after the jobs it needs; their
    outcomes by job id."""
    outcomes: dict[str, list[Outcome]] = {}
    pending = list(jobs)
    while pending:
        ready = [job for job in pending if set(job.needs) <= outcomes.keys()]
        assert ready, f"jobs wait for jobs that never run: {[j.id for j in pending]}"
        job = ready[0]
        pending.remove(job)
        job.folder.mkdir(parents=True, exist_ok=True)
        if job.copy:
            source, target = job.copy
            shutil.copyfile(source, target)
            key = source.with_name(source.name + ".key")
            if key.exists():  # a ledger travels with its fingerprint key
                shutil.copyfile(key, target.with_name(target.name + ".key"))
        results = []
        for index, args in enumerate(job.commands):
            if job.snapshot and index == len(job.commands) - 1:
                backup(*job.snapshot)
            results.append(invoke(args))
        outcomes[job.id] = results
    return outcomes
