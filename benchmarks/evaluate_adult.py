"""Time the whole `evaluate` on Adult (39k training rows) with MST synthetic data.

    PRIVSYNTH_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/evaluate_adult.py \
        --out benchmarks/results/evaluate_adult.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from privsynth import SynthesisConfig, run_synthesis
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.runner import evaluate
from privsynth.schema import load_schema

SHARED = Path(os.environ.get("PRIVSYNTH_SHARED_DATA", "../shared/data"))
ROOT = Path(__file__).resolve().parent.parent
QIS = ["age", "sex", "race", "marital-status", "native-country", "education"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    folder = SHARED / "adult_raw"
    frames = [pd.read_csv(folder / f, dtype=str, keep_default_na=False)
              for f in ("adult_train.csv", "adult_test.csv")]  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    train, holdout = train_test_split(
        frame, test_size=0.2, random_state=0, stratify=frame["income"]
    )
    schema = load_schema(ROOT / "examples" / "adult_schema.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        config = SynthesisConfig(
            epsilon=1.0,
            generator="mst",
            residual_scan=False,
            rows=len(train),
            dataset="adult-train",
        )
        synthetic = run_synthesis(train, config, schema=schema, ledger=Path(tmp) / "l.db").data
    started = time.perf_counter()
    data = EvaluationData.build(
        train, synthetic.astype(str), holdout, schema=schema, target="income",
        quasi_identifiers=QIS, sensitive=["income"], seed=0,
    )  # fmt: skip
    document = evaluate(data)
    seconds = time.perf_counter() - started
    summary = {
        "seconds_total": round(seconds, 1),
        "rows": {"train": len(train), "synthetic": len(synthetic), "holdout": len(holdout)},
        "cpu_count": os.cpu_count(),
        "seconds": document["seconds"],
        "skipped": document["skipped"],
        "headline": {
            "tvd_2way": document["fidelity"]["marginal_tvd_2way"]["value"],
            "tstr_auc": document["utility"]["tstr"]["value"],
            "detection_auc": document["detection"]["detection_auc"]["value"],
            "mia_auc": document["privacy"]["membership_inference"]["auc"],
            "singling_out": document["privacy"]["singling_out"]["risk"],
            "linkability": document["privacy"]["linkability"]["risk"],
            "attribute_inference": document["privacy"]["attribute_inference"]["risk"],
        },
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()  # as the privsynth command does (the timings in docs/benchmarks.md)
    main()
