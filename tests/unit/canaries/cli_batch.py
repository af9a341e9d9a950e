"""Run several ``privsynth`` commands in one interpreter (the imports paid once), each
as the console script runs it: ``python cli_batch.py COMMANDS.json FOLDER``.

Command ``i`` prints into ``FOLDER/i.out`` and ``FOLDER/i.err`` (file descriptors 1 and
2, so output written by C code is caught too) and its exit status goes to
``FOLDER/i.code``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _point(fd: int, path: Path) -> None:
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(target, fd)
    os.close(target)


def run_batch(commands: list[list[str]], folder: Path) -> None:
    from privsynth.cli.main import run

    for index, argv in enumerate(commands):
        sys.stdout.flush()
        sys.stderr.flush()
        _point(1, folder / f"{index}.out")
        _point(2, folder / f"{index}.err")
        sys.argv = ["privsynth", *argv]
        try:
            run()
            status = 0
        except SystemExit as stop:
            status = _exit_status(stop.code)
        sys.stdout.flush()
        sys.stderr.flush()
        (folder / f"{index}.code").write_text(str(status), encoding="utf-8")


if __name__ == "__main__":
    batch, out = Path(sys.argv[1]), Path(sys.argv[2])
    run_batch(json.loads(batch.read_text("utf-8")), out)
