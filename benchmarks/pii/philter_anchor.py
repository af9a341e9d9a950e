"""Run philter-lite 0.6.0 once over the real nursing notes and cache its output in /tmp.

philter-lite is an anchor for the clinical benchmark, never a dependency: it lives in its
own virtualenv and runs through the shared driver (``/work/shared/tools/philter``), which
scrubs each note in a worker process with a per-note timeout (some long ALL-CAPS notes send
its regexes into catastrophic backtracking). Set-up, once::

    python3.11 -m venv /tmp/philter-venv && /tmp/philter-venv/bin/pip install philter-lite==0.6.0

Then (about 15-30 minutes; run it in the background)::

    .venv/bin/python benchmarks/pii/philter_anchor.py [--case as-is] [--timeout 60]

Scrubbed notes, per-note timings and a manifest go to ``/tmp/philter-cache/<case>/`` (never
into the repository: they are derived from GPL-2.0 notes); ``clinical_real.py --systems
philter`` reads them from there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clinical_real_data import CASES, NOTES, Case, Note, data_digest, load_notes, recase_all

PHILTER_TOOLS = Path("/work/shared/tools/philter")
PHILTER_PYTHON = Path("/tmp/philter-venv/bin/python")
CACHE_ROOT = Path("/tmp/philter-cache")
PHILTER_VERSION = "0.6.0"


@dataclass(frozen=True)
class PhilterRun:
    """philter's cached output: scrubbed text per note name (None: timed out) and timings."""

    outputs: dict[str, str | None]
    seconds: dict[str, float]
    manifest: dict


def cache_dir(case: Case, root: Path = CACHE_ROOT) -> Path:
    """Where the outputs for one case variant live."""
    return root / case


def _write_notes(notes: Sequence[Note], directory: Path) -> None:
    """One file per note, named by ``Note.name``, UTF-8."""
    for note in notes:
        (directory / note.name).write_text(note.text, encoding="utf-8")


def _installed_version() -> str:
    """philter-lite's version in its venv (fails clearly when the venv is missing)."""
    if not PHILTER_PYTHON.exists():
        raise SystemExit(f"{PHILTER_PYTHON} missing: create the philter venv (see module doc)")
    command = "from importlib.metadata import version; print(version('philter-lite'))"
    return subprocess.check_output([str(PHILTER_PYTHON), "-c", command], text=True).strip()


def _run_driver(notes_dir: Path, out_dir: Path, timeout: float) -> float:
    """Run the shared driver over ``notes_dir``; returns its wall-clock seconds."""
    env = dict(os.environ, NLTK_DATA=str(PHILTER_TOOLS / "nltk_data"), PYTHONUTF8="1")
    command = [
        str(PHILTER_PYTHON),
        str(PHILTER_TOOLS / "philter_driver.py"),
        str(notes_dir),
        str(out_dir),
        str(timeout),
    ]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    return time.perf_counter() - started


def run(case: Case, timeout: float, path: Path = NOTES, root: Path = CACHE_ROOT) -> Path:
    """Scrub every note with philter and (re)write the cache for ``case``."""
    version = _installed_version()
    if version != PHILTER_VERSION:
        raise SystemExit(f"philter-lite {version} installed; the anchor is {PHILTER_VERSION}")
    notes = recase_all(load_notes(path), case)
    target = cache_dir(case, root)
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.iterdir():
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="philter-notes-") as notes_dir:
        _write_notes(notes, Path(notes_dir))
        wall = _run_driver(Path(notes_dir), target, timeout)
    manifest = {
        "data_sha256": data_digest(path),
        "case": case,
        "philter_lite": version,
        "timeout_s": timeout,
        "n_notes": len(notes),
        "wall_seconds": wall,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return target


def _timings(directory: Path) -> dict[str, dict]:
    """The driver's per-note timing records by note name (load events skipped)."""
    lines = (directory / "_timing.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return {record["name"]: record for record in records if "name" in record}


def load_cache(case: Case, digest: str, root: Path = CACHE_ROOT) -> PhilterRun | None:
    """The cached run for ``case`` if complete and made from the same data, else None."""
    directory = cache_dir(case, root)
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("data_sha256") != digest:
        return None
    outputs: dict[str, str | None] = {}
    seconds: dict[str, float] = {}
    for name, record in _timings(directory).items():
        ok = record["status"] == "ok"
        outputs[name] = (directory / f"{name}.txt").read_text(encoding="utf-8") if ok else None
        seconds[name] = record["seconds"]
    return PhilterRun(outputs, seconds, manifest)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Cache philter-lite output on the real notes.")
    parser.add_argument("--case", choices=CASES, default="as-is")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per note")
    parser.add_argument("--data", type=Path, default=NOTES)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run philter and report where the cache is."""
    args = parse_args(argv)
    target = run(args.case, args.timeout, args.data)
    manifest = json.loads((target / "manifest.json").read_text())
    print(f"philter cache: {target} ({manifest['wall_seconds']:.0f} s wall)")


if __name__ == "__main__":
    main()
