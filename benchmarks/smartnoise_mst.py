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

``--dataset sparcs`` runs the wide health benchmark instead (NY SPARCS 2020, 28 columns;
data, split and scores from ``health_wide.py``); see ``sparcs_transformer`` for the domain
smartnoise is given:

    /work/bench-sn-venv/bin/python benchmarks/smartnoise_mst.py --dataset sparcs --seeds 2 \\
        --delta 1e-9 --out benchmarks/results/health_wide_eps1_smartnoise.json
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from metrics import discretize, mean_marginal_tvd, print_table, summarize, trtr_auc, tstr_auc
from sklearn.model_selection import train_test_split
from snsynth import Synthesizer
from snsynth.transform.bin import BinTransformer
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
    parser.add_argument(
        "--dataset",
        choices=["adult", "sparcs"],
        default="adult",
        help="sparcs: the wide health benchmark of health_wide.py (--data is then ignored)",
    )
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
    if args.dataset == "sparcs":
        sparcs_main(args)
        return
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


# --- the wide health benchmark (--dataset sparcs) --------------------------------------


def sparcs_columns(train: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """What smartnoise is told about each column, from the public schema of the privsynth
    rows (benchmarks/sparcs_wide_schema.yaml), the way its users declare a table.

    smartnoise has no DP category discovery: a categorical column needs its category list
    before the fit. Columns with a public list in the schema get it; for the others
    (facility id, CCSR and APR-DRG codes and labels, dispositions) the list is read from the
    private training rows *without* DP, which is what smartnoise's own transformer does when
    it is fitted on the data. This favours smartnoise (privsynth pays for those lists from
    its budget). Continuous columns get the schema's public bounds and bin counts (unit bins
    for length of stay, as privsynth); smartnoise then spends no budget on preprocessing.
    """
    import yaml
    from health_wide import MISSING, SCHEMA

    declared = yaml.safe_load(SCHEMA.read_text())["columns"]
    columns: dict[str, dict[str, Any]] = {}
    for name in train.columns:
        spec = declared[name]
        nullable = bool(spec.get("nullable", False))
        if spec["kind"] == "numeric":
            low, high, bins = float(spec["min"]), float(spec["max"]), spec.get("bins", 32)
            if spec.get("integer") and "bins" not in spec and high - low + 1 <= 128:
                low, high, bins = low - 0.5, high + 0.5, int(high - low + 1)
            columns[name] = {"kind": "continuous", "lower": low, "upper": high, "bins": bins}
            continue
        public = spec.get("categories")
        private = sorted(set(train[name]) - set(MISSING))
        categories = [str(c) for c in public] if public else private
        columns[name] = {"kind": "categorical", "categories": categories, "public": bool(public)}
        columns[name]["nullable"] = nullable
    return columns


def sparcs_input(frame: pd.DataFrame, columns: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The string cells as smartnoise takes them: missing markers as None, numbers as floats.
    A value outside a public list would make smartnoise fail; the check says so."""
    from health_wide import MISSING

    out = pd.DataFrame(index=frame.index)
    for name, column in columns.items():
        values = frame[name].where(~frame[name].isin(MISSING), None)
        if column["kind"] == "continuous":
            out[name] = pd.to_numeric(values, errors="coerce").astype(float)
            continue
        unknown = set(values.dropna()) - set(column["categories"])
        if unknown or (values.isna().any() and not column["nullable"]):
            raise ValueError(f"{name}: values outside the declared domain: {sorted(unknown)[:5]}")
        out[name] = values.astype(object)
    return out


def sparcs_transformer(columns: dict[str, dict[str, Any]]) -> TableTransformer:
    """Label transformers fitted on the declared category lists, bin transformers with the
    public bounds (fitted on a frame of those lists, not on the rows)."""
    longest = max(len(c.get("categories", ())) for c in columns.values())
    public, transformers = {}, []
    for name, column in columns.items():
        if column["kind"] == "continuous":
            transformers.append(
                BinTransformer(lower=column["lower"], upper=column["upper"], bins=column["bins"])
            )
            public[name] = np.full(longest, column["lower"])
            continue
        transformers.append(LabelTransformer(nullable=column["nullable"]))
        listed = column["categories"]
        public[name] = [listed[min(i, len(listed) - 1)] for i in range(longest)]
    transformer = TableTransformer(transformers)
    transformer.fit(pd.DataFrame(public))
    return transformer


def sparcs_synthesize(train: pd.DataFrame, epsilon: float, delta: float, seed: int) -> dict:
    """One smartnoise MST run on the SPARCS training rows (in a fresh process)."""
    from health_wide import load_average

    np.random.seed(seed)  # smartnoise and mbi use numpy's global RNG
    columns = sparcs_columns(train)
    data = sparcs_input(train, columns)
    synth = Synthesizer.create("mst", epsilon=epsilon, delta=delta)
    load = load_average()
    start, cpu_start = time.perf_counter(), time.process_time()
    synth.fit(data, transformer=sparcs_transformer(columns))
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    sample = pd.DataFrame(synth.sample(len(train)), columns=train.columns)
    end = time.perf_counter()
    return {
        "seed": seed,
        "delta": synth.delta,
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "sample_s": end - start - fit_s,
        "total_s": end - start,
        "load_avg_start": load,
        "load_avg_end": load_average(),
        "private_category_lists": [n for n, c in columns.items() if c.get("public") is False],
        "synthetic": sample,
    }


def sparcs_main(args: argparse.Namespace) -> None:
    """The wide health benchmark: smartnoise's side, scored by health_wide.py."""
    from health_wide import METRICS as SPARCS_METRICS
    from health_wide import git_state, in_fresh_process, real_reference
    from health_wide import load_split as load_sparcs
    from health_wide import score as score_sparcs

    train, test = load_sparcs()
    delta = 1e-9 if args.delta is None else args.delta
    runs = []
    for seed in range(args.seeds):
        run = in_fresh_process(sparcs_synthesize, train, args.epsilon, delta, seed)
        synth = run.pop("synthetic")
        runs.append(run | score_sparcs(train, test, synth))
        print(f"seed {seed}: fit {run['fit_s']:.1f}s, peak {run['peak_rss_mb']:.0f} MB", flush=True)
    summary = summarize(runs, SPARCS_METRICS)
    print_table(runs, summary, SPARCS_METRICS)
    results = {
        "synthesizer": "smartnoise-synth MST",
        "version": importlib.metadata.version("smartnoise-synth"),
        "dataset": "NY SPARCS 2020 musculoskeletal (28 columns)",
        "epsilon": args.epsilon,
        "delta": runs[0]["delta"],
        "n_train": len(train),
        "n_test": len(test),
        "cpu_count": os.cpu_count(),
        **git_state(),
        "real_reference": real_reference(train, test),
        "runs": runs,
        "summary": summary,
    }
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
