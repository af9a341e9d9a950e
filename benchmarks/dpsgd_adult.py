"""privsynth's ``dpsgd`` generator vs MST on raw UCI Adult with the public schema.

The protocol of ``privsynth_mst.py --mode raw`` (adult.data + adult.test, 80/20 split
stratified on income, random_state=0, synthetic rows = training rows, δ = 1e-9), scored
with the same metrics (TSTR AUC, 1/2-way TVD with deciles of the real training data).

    PRIVSYNTH_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/dpsgd_adult.py \\
        --epsilons 1 4 --seeds 2 --out benchmarks/results/dpsgd_adult.json
    # one configuration of dpsgd only, e.g. while tuning:
    ... benchmarks/dpsgd_adult.py --methods dpsgd --option epochs=12 --option lr=0.002
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
from metrics import print_table, summarize
from privsynth_mst import load_raw, score
from sklearn.model_selection import train_test_split

import privsynth.generators.dpsgd  # noqa: F401  (registers "dpsgd" until __init__ does)
from privsynth.synthesis import SynthesisConfig, run_synthesis

METRICS = ("fit_s", "tstr_auc", "tvd_1way", "tvd_2way")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--delta", type=float, default=1e-9)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--methods", nargs="+", default=["dpsgd", "mst"])
    parser.add_argument("--option", action="append", default=[], help="dpsgd NAME=VALUE")
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


def dpsgd_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, value = pair.split("=", 1)
        options[name] = json.loads(value) if value[:1] in "[0123456789." else value
    return options


def run_one(
    method: str, epsilon: float, seed: int, train: pd.DataFrame, options: dict[str, Any], args: Any
) -> tuple[dict[str, Any], pd.DataFrame]:
    marks: list[tuple[str, float]] = []
    config = SynthesisConfig(
        epsilon=epsilon, delta=args.delta, rows=len(train), dataset=f"bench-{seed}",
        generator=method, generator_options=options if method == "dpsgd" else {},
    )  # fmt: skip
    schema = load_raw(True)[1]
    with tempfile.TemporaryDirectory() as folder:
        result = run_synthesis(
            train, config, schema=schema, ledger=Path(folder) / "ledger.db",
            progress=lambda step: marks.append((step, time.perf_counter())),
        )  # fmt: skip
    starts = dict(marks)
    sampling = next(t for step, t in marks if step.startswith("sampling"))
    timing = {
        "method": method, "epsilon": epsilon, "seed": seed,
        "fit_s": sampling - starts["reading data"], "spent_epsilon": result.spent_epsilon,
        "params": result.fit.record.generator_params if method == "dpsgd" else {},
    }  # fmt: skip
    return timing, result.data


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    options = dpsgd_options(args.option)
    frame, _, target, positive = load_raw(True)
    train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame[target])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    runs = []
    for epsilon in args.epsilons:
        for method in args.methods:
            group = []
            for seed in range(args.seeds):
                timing, synth = run_one(method, epsilon, seed, train, options, args)
                group.append(timing | score(train, test, synth, target, positive, True))
            print(f"== {method} epsilon={epsilon} options={options if method == 'dpsgd' else {}}")
            print_table(group, summarize(group, METRICS), METRICS)
            runs += group
    if args.out is not None:
        results = {
            "options": options, "delta": args.delta, "n_train": len(train),
            "cpu_count": os.cpu_count(), "load_avg_start": os.getloadavg(), "runs": runs,
        }  # fmt: skip
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()
    main()
