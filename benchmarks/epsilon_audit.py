"""Empirical ε audit of every DP generator: the canary membership attack's lower bound
on ε against the claimed ε (issue 16).

Each generator is trained ``--runs`` times on a public stand-in table (UCI Adult, four
columns, the first ``--rows`` rows of the bundled sample) and ``--runs`` times on the
same table plus a canary record it does not contain; the attacker sees only the
synthetic output. A lower bound above the claim would be a bug in the implementation
(an unaccounted spend, a preprocessing step that reads the data); a bound far below is
expected of a black-box attack on synthetic data and says nothing more.

Two claims per generator: the real one (ε = 1) and, to show the attack has power where
it should, the same audit with ``--copies`` copies of the canary (group privacy: the
claim grows as k²ρ in zCDP) — there the bound rises, and must still stay below the
group claim.

    .venv/bin/python benchmarks/epsilon_audit.py --runs 40 \\
        --out benchmarks/results/epsilon_audit.json

Audit runs bypass the ledger (every run spends the whole ε): they must use public data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from privsynth.domain.codecs import Codes  # noqa: E402
from privsynth.domain.table import EncodedTable  # noqa: E402
from privsynth.dp.mechanisms import Mechanisms  # noqa: E402
from privsynth.evaluation.canary_audit import audit_generator  # noqa: E402
from privsynth.generators import GENERATORS, Generator  # noqa: E402
from privsynth.generators.base import ProgressCallback, no_progress  # noqa: E402
from privsynth.schema import Schema, load_schema  # noqa: E402

COPY = "benchmark-copy"


@GENERATORS.register(COPY)
class CopyRows(Generator):
    """The control: resamples its training rows (no DP). The audit must find a large ε
    for it, or a 0 for the real generators would only say the attack is blind."""

    name = COPY

    def __init__(self) -> None:
        self._codes: dict[str, Codes] = {}

    def fit(self, table: EncodedTable, mechanisms: Mechanisms, rho: float,
            progress: ProgressCallback = no_progress) -> None:  # fmt: skip
        self._codes = {name: np.asarray(codes) for name, codes in table.codes.items()}

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        picks = rng.integers(0, self.estimated_rows, rows)
        return {name: codes[picks] for name, codes in self._codes.items()}

    @property
    def estimated_rows(self) -> int:
        return len(next(iter(self._codes.values())))


COLUMNS = ["age", "sex", "race", "income"]
#: options that keep one training run to seconds on 2 cores (the privacy accounting
#: does not depend on them: every run spends the full ε it is given)
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "independent": {},
    "mst": {"iterations": 100},
    "aim": {"iterations": 100, "round_iterations": 20, "scoring_rows": 2000, "max_rounds": 3},
    "dpsgd": {"epochs": 2.0, "sample_rate": 0.05, "hidden": [64]},
    COPY: {},
}


def stand_in() -> tuple[pd.DataFrame, Schema]:
    """The public stand-in table and its complete public schema."""
    frame = pd.read_csv(ROOT / "examples" / "adult_sample.csv", dtype=str)
    full = load_schema(ROOT / "examples" / "adult_schema.yaml")
    return frame[COLUMNS], Schema({c: full[c] for c in COLUMNS})


def audit_one(generator: str, frame: pd.DataFrame, schema: Schema, args: argparse.Namespace,
              copies: int) -> dict[str, Any]:  # fmt: skip
    started = time.monotonic()
    result = audit_generator(
        frame, schema, generator=generator, epsilon=args.epsilon, delta=args.delta,
        runs=args.runs, canary_copies=copies, generator_options=FAST_OPTIONS[generator],
        synthetic_rows=args.synthetic_rows,
    )  # fmt: skip
    row = {
        "generator": generator, "epsilon": args.epsilon, "delta": args.delta,
        "canary_copies": copies, "runs": args.runs, "rows": len(frame),
        "claimed_epsilon": result.claimed_epsilon, "eps_lower": result.eps_lower,
        "violation": result.violation, "tpr": result.tpr, "fpr": result.fpr,
        "accounted_epsilon": result.accounted_epsilon,
        "seconds": round(time.monotonic() - started, 1), "warnings": result.warnings,
    }  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generators", default=f"{COPY},independent,mst,aim,dpsgd")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--synthetic-rows", type=int, default=20000)
    parser.add_argument("--copies", type=int, default=8, help="canary copies (0: skip)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/epsilon_audit.json")
    args = parser.parse_args()
    frame, schema = stand_in()
    frame = frame.iloc[: args.rows].reset_index(drop=True)
    rows = []
    for generator in args.generators.split(","):
        # the group claim (k² ρ) holds for the zCDP generators only, not for DP-SGD
        group = args.copies > 1 and generator not in ("dpsgd", COPY)
        for copies in (1, args.copies) if group else (1,):
            rows.append(audit_one(generator, frame, schema, args, copies))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(rows, indent=1))
    print("| generator | copies | claimed ε | ε lower bound | TPR / FPR | violation | s |")
    for r in rows:
        print(f"| {r['generator']} | {r['canary_copies']} | {r['claimed_epsilon']:.2f} | "
              f"{r['eps_lower']:.2f} | {r['tpr']:.2f} / {r['fpr']:.2f} | {r['violation']} | "
              f"{r['seconds']} |")  # fmt: skip


if __name__ == "__main__":
    main()
