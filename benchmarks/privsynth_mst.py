"""privsynth's MST on UCI Adult, scored with the same metrics as the smartnoise baseline.

Modes (all: 80/20 split stratified on income, random_state=0, synthetic rows = training rows):

* ``pgm``  — the integer-coded Adult of private-pgm (48,842 rows) with every column
  declared categorical over its public domain: the same input smartnoise gets.
* ``raw``  — the raw Adult values (adult.data + adult.test, 48,842 rows, continuous columns
  included) with the public schema in examples/adult_schema.yaml.
* ``auto`` — the raw values with no schema: kinds, categories and bounds are discovered
  with DP out of the same epsilon (the headline ``privsynth synthesize data.csv``).

    .venv/bin/python benchmarks/privsynth_mst.py --mode pgm --seeds 3 --out pgm.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from metrics import discretize, mean_marginal_tvd, print_table, summarize, trtr_auc, tstr_auc
from sklearn.model_selection import train_test_split

import privsynth
from privsynth.schema import CategoricalSpec, Schema, load_schema
from privsynth.synthesis import SynthesisConfig, run_synthesis

SHARED = Path(os.environ.get("PRIVSYNTH_SHARED_DATA", "../shared/data"))
ROOT = Path(__file__).resolve().parent.parent
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
METRICS = ("fit_s", "run_cpu_s", "sample_s", "tstr_auc", "tvd_1way", "tvd_2way", "tvd_3way")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["pgm", "raw", "auto"], default="pgm")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--delta", type=float, default=1e-9, help="smartnoise's default")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


def load_pgm() -> tuple[pd.DataFrame, Schema, str, str]:
    """Integer-coded Adult with its public domain as category lists."""
    folder = SHARED / "adult_pgm"
    frame = pd.read_csv(folder / "adult.csv", dtype=str)
    domain = json.loads((folder / "adult-domain.json").read_text())
    specs = {c: CategoricalSpec(categories=tuple(str(i) for i in range(domain[c]))) for c in frame}
    return frame, Schema(specs), "income>50K", "1"


def load_raw(with_schema: bool) -> tuple[pd.DataFrame, Schema | None, str, str]:
    """Raw Adult (train + test files) and, optionally, the bundled public schema."""
    folder = SHARED / "adult_raw"
    parts = [
        pd.read_csv(folder / f, dtype=str, keep_default_na=False)
        for f in ("adult_train.csv", "adult_test.csv")
    ]
    schema = load_schema(ROOT / "examples" / "adult_schema.yaml") if with_schema else None
    return pd.concat(parts, ignore_index=True), schema, "income", ">50K"


def numeric_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as numbers (for the classifier and for binning)."""
    out = frame.copy()
    for column in NUMERIC:
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce")
    return out


def evaluation_bins(train: pd.DataFrame) -> dict[str, np.ndarray]:
    """Decile edges of the real training data for continuous columns (evaluation only)."""
    bins = {}
    for column in NUMERIC:
        if column in train and pd.api.types.is_numeric_dtype(train[column]):
            edges = np.unique(np.quantile(train[column].dropna(), np.linspace(0, 1, 11)))
            bins[column] = edges
    return bins


def run_seed(
    seed: int, train: pd.DataFrame, schema: Schema | None, args: argparse.Namespace
) -> tuple[dict[str, float], pd.DataFrame]:
    """One synthesis, timed per phase from the pipeline's progress callbacks."""
    marks: list[tuple[str, float]] = []
    config = SynthesisConfig(
        epsilon=args.epsilon,
        generator="mst",
        delta=args.delta,
        rows=len(train),
        dataset=f"bench-{seed}",
        generator_options={"iterations": args.iterations},
    )
    with tempfile.TemporaryDirectory() as folder:
        cpu = time.process_time()
        result = run_synthesis(
            train,
            config,
            schema=schema,
            ledger=Path(folder) / "ledger.db",
            progress=lambda step: marks.append((step, time.perf_counter())),
        )
        end, cpu = time.perf_counter(), time.process_time() - cpu
    starts = dict(marks)
    sampling = next(t for step, t in marks if step.startswith("sampling"))
    timings = {
        "seed": seed,
        "fit_s": sampling - starts["reading data"],
        "run_cpu_s": cpu,
        "sample_s": end - sampling,
        "spent_epsilon": result.spent_epsilon,
    }
    return timings, result.data


def score(
    train: pd.DataFrame,
    test: pd.DataFrame,
    synth: pd.DataFrame,
    target: str,
    positive: str,
    numeric: bool,
) -> dict[str, float]:
    """TSTR AUC and marginal TVDs. Integer-coded data is scored all-categorical, exactly
    as the smartnoise baseline; raw data with its continuous columns as numbers."""
    view = numeric_view if numeric else (lambda frame: frame)
    real, fake = view(train), view(synth)
    bins = evaluation_bins(real) if numeric else {}
    result = {"tstr_auc": tstr_auc(fake, view(test), target, positive)}
    for way in (1, 2, 3):
        result[f"tvd_{way}way"] = mean_marginal_tvd(
            discretize(real, bins), discretize(fake, bins), way
        )
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    frame, schema, target, positive = (
        load_pgm() if args.mode == "pgm" else load_raw(args.mode == "raw")
    )
    train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame[target])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    runs = []
    for seed in range(args.seeds):
        timings, synth = run_seed(seed, train, schema, args)
        numeric = args.mode != "pgm"
        runs.append(timings | score(train, test, synth, target, positive, numeric))
    summary = summarize(runs, METRICS)
    print_table(runs, summary, METRICS)
    view = numeric_view if args.mode != "pgm" else (lambda frame: frame)
    reference = trtr_auc(view(train), view(test), target, positive)
    print(f"TRTR AUC {reference:.4f}; mode {args.mode}; epsilon {args.epsilon}; delta {args.delta}")
    if args.out is not None:
        results = {
            "synthesizer": f"privsynth MST {privsynth.__version__}",
            "mode": args.mode,
            "epsilon": args.epsilon,
            "delta": args.delta,
            "iterations": args.iterations,
            "n_train": len(train),
            "n_test": len(test),
            "cpu_count": os.cpu_count(),
            "trtr_auc": reference,
            "runs": runs,
            "summary": summary,
        }
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()  # as the privsynth command does (the timings in docs/benchmarks.md)
    main()
