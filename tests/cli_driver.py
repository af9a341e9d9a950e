"""Run the installed ``privsynth`` executable, for tests about the process itself.

Most tests run commands in the test process (:mod:`cli_inprocess`); these helpers start
the real console script instead, with an environment of the test's own, printing into
files of a folder: command ``i`` prints to ``folder/i.out`` and ``folder/i.err``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cli_inprocess import Outcome


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
    ``folder/index.out`` and ``folder/index.err``."""
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
