"""Run many ``privsynth`` commands without paying the CLI's start-up for each one.

Starting the CLI and a synthesis imports JAX, pandas, mbi, spaCy and presidio (several
CPU-seconds per process), so tests that run dozens of commands do not each start a fresh
interpreter: one driver process imports ``privsynth.cli.main`` once (and, warmed, the
pipeline and the PII detector's models) and forks a child per command. Each child points
fds 1 and 2 at files, sets ``sys.argv`` and calls ``run()``, the console script's entry
point; its exit status is the command's. The driver never initialises JAX (importing it
starts no backend, so forking stays safe); every child compiles its own.

Commands are grouped in jobs: a job's commands run in order (each may depend on what the
previous one wrote), jobs run in parallel on up to ``workers`` processes, and a job
starts only when the jobs it ``needs`` have finished.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_DRIVER = r"""
import json, os, shutil, sqlite3, sys, traceback

spec = json.loads(open(sys.argv[1]).read())
import privsynth.cli.main as cli

if spec["warm"]:
    import privsynth.synthesis
    from jax._src import xla_bridge
    from privsynth.pii.engine import PIIDetector

    PIIDetector().analyze("warm up on 2020-01-01")
    assert not xla_bridge._backends, "the driver must not initialise JAX before forking"


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


def backup(source, target):
    # sqlite's backup API: a consistent copy of a WAL database, even mid-checkpoint
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def run_job(job):
    if job["copy"]:
        source, target = job["copy"]
        shutil.copyfile(source, target)
        if os.path.exists(source + ".key"):  # a ledger travels with its fingerprint key
            shutil.copyfile(source + ".key", target + ".key")
    codes = []
    for index, step in enumerate(job["steps"]):
        if job["snapshot"] and index == len(job["steps"]) - 1:
            backup(*job["snapshot"])
        codes.append(invoke(step))
    with open(job["result"], "w") as handle:
        json.dump(codes, handle)


pending, running, done, failed = list(spec["jobs"]), {}, set(), []
while pending or running:
    ready = [job for job in pending if set(job["needs"]) <= done]
    if ready and len(running) < spec["workers"]:
        job = ready[0]
        pending.remove(job)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                run_job(job)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        running[pid] = job["id"]
        continue
    if not running:
        sys.exit(f"jobs wait for jobs that never run: {[job['id'] for job in pending]}")
    pid, status = os.wait()
    name = running.pop(pid)
    if os.waitstatus_to_exitcode(status) != 0:
        failed.append(name)
    done.add(name)
if failed:
    sys.exit(f"the driver failed to run jobs {failed}")
"""


@dataclass(frozen=True)
class Outcome:
    """What one command did: its exit status and everything it printed."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Job:
    """Commands (argument lists, without ``privsynth``) run in order in ``folder``'s
    name space: command ``i`` prints to ``folder/i.out`` and ``folder/i.err``."""

    id: str
    folder: Path
    commands: Sequence[Sequence[str]]
    #: (source, target): a file copied before the first command (e.g. a ledger)
    copy: tuple[Path, Path] | None = None
    #: (ledger, copy): the ledger as it was just before the last command
    snapshot: tuple[Path, Path] | None = None
    #: jobs that must have finished before this one starts
    needs: Sequence[str] = ()


def cli_env(work: Path) -> dict[str, str]:
    """The environment without any ``PRIVSYNTH_`` setting, with a private data home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVSYNTH_")}
    env["XDG_DATA_HOME"] = str(work / "xdg")  # never touch the user's own ledger
    env["COLUMNS"] = "250"  # wide tables, so run ids are not truncated
    return env


def console_script() -> list[str]:
    """The installed ``privsynth`` executable (or ``python -m`` if there is none)."""
    script = Path(sys.executable).with_name("privsynth")
    return [str(script)] if script.exists() else [sys.executable, "-m", "privsynth.cli.main"]


def run_installed(
    args: Sequence[str], folder: Path, index: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start the installed console script (in the background), printing to
    ``folder/index.out`` and ``folder/index.err`` as a job's command would."""
    with (folder / f"{index}.out").open("w") as out, (folder / f"{index}.err").open("w") as err:
        return subprocess.Popen(
            [*console_script(), *args], cwd=folder, env=env, stdout=out, stderr=err
        )


def read_outcomes(folder: Path, codes: Sequence[int]) -> list[Outcome]:
    """The outcomes of the commands that printed into ``folder``, in order."""
    return [
        Outcome(
            code,
            (folder / f"{i}.out").read_text("utf-8"),
            (folder / f"{i}.err").read_text("utf-8"),
        )
        for i, code in enumerate(codes)
    ]


def run_jobs(
    jobs: Sequence[Job],
    work: Path,
    env: dict[str, str],
    *,
    workers: int = 1,
    warm: bool = False,
    timeout: float = 580.0,
) -> dict[str, list[Outcome]]:
    """Run every job through one driver process; their outcomes by job id.

    ``warm`` imports the pipeline and loads the PII detector's models in the driver, so
    children of synthesis commands start at once (worth it for more than a few)."""
    specs = []
    for job in jobs:
        job.folder.mkdir(parents=True, exist_ok=True)
        steps = [
            {
                "args": [str(a) for a in args],
                "stdout": str(job.folder / f"{i}.out"),
                "stderr": str(job.folder / f"{i}.err"),
            }
            for i, args in enumerate(job.commands)
        ]
        specs.append(
            {
                "id": job.id,
                "steps": steps,
                "copy": [str(p) for p in job.copy] if job.copy else None,
                "snapshot": [str(p) for p in job.snapshot] if job.snapshot else None,
                "needs": list(job.needs),
                "result": str(job.folder / "codes.json"),
            }
        )
    spec_path = work / "driver-spec.json"
    spec_path.write_text(json.dumps({"jobs": specs, "workers": workers, "warm": warm}))
    driver = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(spec_path)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert driver.returncode == 0, driver.stderr
    return {
        job.id: read_outcomes(job.folder, json.loads((job.folder / "codes.json").read_text()))
        for job in jobs
    }
