"""Time `privsynth evaluate` and `privsynth audit` on a 100,000 x 50 hospital table.

    .venv/bin/python benchmarks/evaluation_scale.py --out benchmarks/results/evaluation_scale.json

The table is built from the real SPARCS 2020 musculoskeletal discharges
(``/work/shared/data/health_quasi_id/sparcs2020_musculoskeletal.csv.gz``, 36,631 rows x
28 columns, NY State open data; evaluation only, see SOURCE.md there):

* tiled: rows ``i = 0..99,999`` are SPARCS row ``i mod 36,631``; in every copy after the
  first, ``Total.Charges`` and ``Total.Costs`` are multiplied by ``exp(N(0, 0.05))``
  (rounded to cents), so copies are near, not exact, duplicates;
* widened by 22 seeded columns (:data:`EXTRA`) of the kinds a hospital extract has:
  ratios of the real charges, costs and stay, dates parts, counts, vitals and labs with
  missing values, and a 600-category attending-physician code;
* ``NA`` cells become empty (missing); the 100,000 rows are shuffled (seed 0) and the
  first 80,000 are the training table, the other 20,000 the holdout;
* the synthetic table (80,000 rows) is, by default, the training table with every
  column permuted independently (seed 1): real marginals, no joint structure, and no
  row copied, which is enough to time the evaluation. ``--synthetic mst`` runs
  ``privsynth synthesize --epsilon 1`` instead.

Each command runs under ``/usr/bin/time -v`` (wall seconds and maximum resident set
size); ``--commands`` picks which. To time another version of privsynth (such as the
code before issue 12), put its checkout first on ``PYTHONPATH``; the summary records it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SPARCS = (
    Path(os.environ.get("PRIVSYNTH_SHARED_DATA", "/work/shared/data"))
    / "health_quasi_id"
    / "sparcs2020_musculoskeletal.csv.gz"
)
ROOT = Path(__file__).resolve().parent.parent
ROWS, TRAIN_ROWS = 100_000, 80_000
TARGET = "death"
QIS = ["age", "Gender", "Race", "Ethnicity", "Hospital.County", "zip3"]
SENSITIVE = ["death", "CCSR.Diagnosis.Code"]
EXTRA = (
    "charges_per_day", "costs_per_day", "cost_to_charge", "admit_month", "admit_weekday",
    "admission_type", "ed_admission", "zip3", "birth_year", "marital_status", "language",
    "n_diagnoses", "n_procedures", "icu_days", "readmission_30d", "drg_weight", "bmi",
    "systolic_bp", "creatinine", "attending_code", "severity_score", "payer_count",
)  # fmt: skip


def tiled(source: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """``ROWS`` rows cycling through ``source``; charges and costs jittered after the
    first copy."""
    positions = np.arange(ROWS) % len(source)
    frame = source.iloc[positions].reset_index(drop=True)
    later = np.arange(ROWS) >= len(source)
    for column in ("Total.Charges", "Total.Costs"):
        values = frame[column].astype(float)
        factor = np.where(later, np.exp(rng.normal(0.0, 0.05, ROWS)), 1.0)
        frame[column] = (values * factor).round(2)
    return frame


def widened(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The 22 :data:`EXTRA` columns, from the real ones where a relation is natural."""
    n = len(frame)
    charges, costs = frame["Total.Charges"].astype(float), frame["Total.Costs"].astype(float)
    los = frame["los"].astype(float)
    age_low = frame["age"].str.slice(0, 2).astype(int)

    def missing(values: np.ndarray, share: float) -> np.ndarray:
        out = values.astype(object)
        out[rng.random(n) < share] = ""
        return out

    extra = {
        "charges_per_day": (charges / los).round(2),
        "costs_per_day": (costs / los).round(2),
        "cost_to_charge": (costs / charges).round(4),
        "admit_month": rng.integers(1, 13, n),
        "admit_weekday": rng.choice(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], n),
        "admission_type": rng.choice(
            ["Elective", "Emergency", "Urgent", "Trauma"], n, p=[0.45, 0.4, 0.12, 0.03]
        ),
        "ed_admission": rng.choice(["Y", "N"], n),
        "zip3": (100 + frame["Hospital.County"].factorize()[0] * 7 + rng.integers(0, 7, n)),
        "birth_year": 2020 - age_low - rng.integers(0, 20, n),
        "marital_status": rng.choice(["Married", "Single", "Divorced", "Widowed", "Unknown"], n),
        "language": rng.choice(
            [f"lang{i:02d}" for i in range(12)], n, p=np.r_[0.78, np.full(11, 0.02)]
        ),
        "n_diagnoses": rng.poisson(6, n),
        "n_procedures": rng.poisson(1.5, n),
        "icu_days": np.where(rng.random(n) < 0.1, rng.integers(1, 10, n), 0),
        "readmission_30d": (rng.random(n) < 0.08).astype(int),
        "drg_weight": rng.gamma(2.0, 0.6, n).round(4),
        "bmi": missing(rng.normal(29, 6, n).round(1), 0.15),
        "systolic_bp": missing(rng.normal(128, 18, n).round(0).astype(int), 0.05),
        "creatinine": missing(rng.lognormal(0.0, 0.35, n).round(2), 0.25),
        "attending_code": rng.choice([f"MD{i:04d}" for i in range(600)], n),
        "severity_score": rng.normal(0, 1, n).round(3),
        "payer_count": 1 + frame[["Payment.Typology.2", "Payment.Typology.3"]].ne("NA").sum(1),
    }
    return pd.concat([frame, pd.DataFrame(extra)], axis=1)


def build(folder: Path) -> dict[str, Path]:
    """Write train.csv, holdout.csv and shuffled.csv (the default synthetic table)."""
    source = pd.read_csv(SPARCS, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(0)
    frame = widened(tiled(source, rng), rng).replace("NA", "")
    assert frame.shape == (ROWS, 50), frame.shape
    frame = frame.iloc[rng.permutation(ROWS)].reset_index(drop=True)
    train, holdout = frame.iloc[:TRAIN_ROWS], frame.iloc[TRAIN_ROWS:]
    shuffle = np.random.default_rng(1)
    synthetic = pd.DataFrame(
        {c: train[c].to_numpy()[shuffle.permutation(len(train))] for c in train.columns}
    )
    paths = {name: folder / f"{name}.csv" for name in ("train", "holdout", "shuffled")}
    for name, table in (("train", train), ("holdout", holdout), ("shuffled", synthetic)):
        table.to_csv(paths[name], index=False)
    return paths


def synthesize(folder: Path, train: Path) -> Path:
    """MST at epsilon 1 through the CLI (a throw-away ledger in ``folder``)."""
    output = folder / "mst.csv"
    command = [
        str(ROOT / ".venv" / "bin" / "privsynth"), "synthesize", str(train), "--epsilon", "1",
        "--dataset", "sparcs-scale", "--ledger", str(folder / "ledger.db"), "-o", str(output),
        "--rows", str(TRAIN_ROWS), "--generator", "mst", "--quiet",
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return output


def commands(folder: Path, paths: dict[str, Path], synthetic: Path) -> dict[str, list[str]]:
    """The two CLI commands timed, as argument lists."""
    cli = str(ROOT / ".venv" / "bin" / "privsynth")
    shared = [
        "--real", str(paths["train"]), "--synthetic", str(synthetic),
        "--holdout", str(paths["holdout"]), "--target", TARGET,
        "--quasi-identifiers", ",".join(QIS), "--sensitive", ",".join(SENSITIVE),
    ]  # fmt: skip
    return {
        "evaluate": [cli, "evaluate", *shared, "-o", str(folder / "eval.json")],
        "audit": [
            cli,
            "audit",
            *shared,
            "--policy",
            "gdpr-anonymisation",
            "-o",
            str(folder / "audit"),
        ],
    }


def timed(command: list[str]) -> dict[str, object]:
    """Wall seconds, peak resident memory and exit status of one command."""
    run = subprocess.run(
        ["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=False
    )
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", run.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    seconds = None
    if wall:
        hours, minutes, secs = (float(g) if g else 0.0 for g in wall.groups())
        seconds = round(hours * 3600 + minutes * 60 + secs, 1)
    return {
        "exit_status": run.returncode,
        "wall_seconds": seconds,
        "peak_rss_gib": round(int(rss.group(1)) / 2**20, 2) if rss else None,
        "error": run.stderr.split("\tCommand being timed")[0][-600:]
        if run.returncode not in (0, 5)
        else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--dir", type=Path, help="folder for the tables (default: a temp dir)")
    parser.add_argument("--synthetic", choices=("shuffled", "mst"), default="shuffled")
    parser.add_argument("--commands", default="evaluate,audit")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = args.dir or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        paths = build(folder)
        synthetic = (
            synthesize(folder, paths["train"]) if args.synthetic == "mst" else paths["shuffled"]
        )
        if args.build_only:
            print(json.dumps({k: str(v) for k, v in paths.items()}, indent=2))
            return
        todo = commands(folder, paths, synthetic)
        results = {name: timed(todo[name]) for name in args.commands.split(",")}
        for name, result in results.items():
            if name == "evaluate" and result["exit_status"] == 0:
                document = json.loads((folder / "eval.json").read_text())
                result["seconds_per_measurement"] = document["seconds"]
                result["skipped"] = document["skipped"]
    summary = {
        "table": {"rows": ROWS, "train": TRAIN_ROWS, "holdout": ROWS - TRAIN_ROWS, "columns": 50},
        "synthetic": args.synthetic,
        "cpu_count": os.cpu_count(),
        "pythonpath": os.environ.get("PYTHONPATH", ""),
        "load_average": os.getloadavg(),
        "results": results,
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    sys.exit(0 if all(r["exit_status"] in (0, 5) for r in results.values()) else 1)


if __name__ == "__main__":
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()  # as the privsynth command does (the timings in docs/benchmarks.md)
    main()
