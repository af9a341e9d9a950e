"""Baseline: smartnoise-synth's MST on UCI Adult, scored with the shared metrics.

smartnoise-synth 1.0.8 pins opacus<0.15 and mbi<2, so it cannot share the project's
environment; this script runs in the separate venv made by `smartnoise_env.sh`:

    bash benchmarks/smartnoise_env.sh /work/bench-sn-venv
    /work/bench-sn-venv/bin/python benchmarks/smartnoise_mst.py --seeds 3 --out sn.json

Every column is declared categorical with the public domain of adult-domain.json
(codes 0..size-1), so smartnoise learns nothing about the domain from the private rows and
the privacy budget goes entirely to MST. smartnoise draws its Gaussian noise from OpenDP's
unseedable sampler: a seed fixes numpy's global RNG (exponential mechanism, sampling)
only, so repeated seeds are repetitions rather than exact replays.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from metrics import discretize, mean_marginal_tvd, print_table, summarize, trtr_auc, tstr_auc
from sklearn.model_selection import train_test_split
from snsynth import Synthesizer
from snsynth.transform.label import LabelTransformer
from snsynth.transform.table import TableTransformer

DEFAULT_DATA = Path("/work/shared/data/adult_pgm/adult.csv")
TARGET = "income>50K"
POSITIVE = 1
WAYS = (1, 2, 3)
METRICS = ("fit_s", "fit_cpu_s", "sample_s", "tstr_auc", "tvd_1way", "tvd_2way", "tvd_3way")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; defaults reproduce the reference run (epsilon 1, 3 seeds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="adult.csv path")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument(
        "--delta", type=float, default=None, help="default: smartnoise's own default"
    )
    parser.add_argument("--seeds", type=int, default=3, help="number of repetitions")
    parser.add_argument("--out", type=Path, default=None, help="write results as JSON")
    return parser.parse_args(argv)


def load_split(data: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """80/20 split stratified on the target, plus the public domain sizes beside the CSV."""
    df = pd.read_csv(data)
    domain = json.loads((data.parent / "adult-domain.json").read_text())
    train, test = train_test_split(df, test_size=0.2, random_state=0, stratify=df[TARGET])
    return train.reset_index(drop=True), test.reset_index(drop=True), domain


def public_transformer(columns: list[str], domain: dict[str, int]) -> TableTransformer:
    """Label transformer fitted on the public domain, not on the private rows.

    Fitting on a frame that lists every code 0..size-1 makes the cardinalities the public
    domain sizes, so smartnoise neither leaks which codes occur nor drops unseen ones.
    """
    longest = max(domain[c] for c in columns)
    codes = np.arange(longest)
    public = pd.DataFrame({c: np.minimum(codes, domain[c] - 1) for c in columns})
    transformer = TableTransformer([LabelTransformer(nullable=False) for _ in columns])
    transformer.fit(public)
    return transformer


def run_seed(
    seed: int,
    train: pd.DataFrame,
    test: pd.DataFrame,
    domain: dict[str, int],
    args: argparse.Namespace,
) -> dict[str, float]:
    """Fit, sample and score one smartnoise MST run; fit and sample are timed apart.

    Process CPU time and the load average are recorded too: on a shared 2-core machine
    wall-clock time also measures the neighbours, CPU time much less so.
    """
    np.random.seed(seed)  # smartnoise and mbi use numpy's global RNG
    options = {} if args.delta is None else {"delta": args.delta}
    synth = Synthesizer.create("mst", epsilon=args.epsilon, **options)
    transformer = public_transformer(list(train.columns), domain)
    start, cpu_start = time.perf_counter(), time.process_time()
    synth.fit(train, transformer=transformer)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    start = time.perf_counter()
    sample = pd.DataFrame(synth.sample(len(train)), columns=train.columns)
    sample_s = time.perf_counter() - start
    timings = {"seed": seed, "delta": synth.delta, "fit_s": fit_s, "sample_s": sample_s}
    timings |= {"fit_cpu_s": fit_cpu_s, "load_avg_1m": os.getloadavg()[0]}
    return timings | score(train, test, sample)


def score(train: pd.DataFrame, test: pd.DataFrame, synth: pd.DataFrame) -> dict[str, float]:
    """TSTR AUC on the test split and marginal TVDs against the training split."""
    real, fake = discretize(train, {}), discretize(synth, {})
    result = {"tstr_auc": tstr_auc(fake, discretize(test, {}), TARGET, POSITIVE)}
    for way in WAYS:
        result[f"tvd_{way}way"] = mean_marginal_tvd(real, fake, way)
    return result


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark for each seed, print the table and optionally save JSON."""
    args = parse_args(argv)
    train, test, domain = load_split(args.data)
    reference = trtr_auc(discretize(train, {}), discretize(test, {}), TARGET, POSITIVE)
    runs = [run_seed(seed, train, test, domain, args) for seed in range(args.seeds)]
    summary = summarize(runs, METRICS)
    print_table(runs, summary, METRICS)
    print(f"TRTR AUC (real train -> real test): {reference:.4f}; delta: {runs[0]['delta']:g}")
    results = {
        "synthesizer": "smartnoise-synth MST",
        "version": importlib.metadata.version("smartnoise-synth"),
        "epsilon": args.epsilon,
        "delta": runs[0]["delta"],
        "n_train": len(train),
        "n_test": len(test),
        "cpu_count": os.cpu_count(),
        "trtr_auc": reference,
        "runs": runs,
        "summary": summary,
    }
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
