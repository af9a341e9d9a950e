"""Cross-check: privsynth's singling-out, linkability and inference attacks vs anonymeter.

Same inputs for both: UCI Adult with its raw values (adult_train.csv + adult_test.csv,
48,842 rows), split 80/20 stratified on income with random_state 0; the 80% trains
privsynth's MST at epsilon 1 and is the attacks' training table (anonymeter's ``ori``),
the 20% is the holdout (anonymeter's ``control``); the same number of attacks, the same
seeds. anonymeter 1.1.0 pins numpy<1.27, so it runs in its own venv (made by
``anonymeter_env.sh``) and never becomes a dependency; this script runs once per
implementation and a third time to combine the two JSON files:

    bash benchmarks/anonymeter_env.sh /work/bench-anon-venv
    P=/work/devenv/bin/python A=/work/bench-anon-venv/bin/python
    $P benchmarks/anonymeter_crosscheck.py synthesize --out /tmp/adult_mst_eps1.csv
    $P benchmarks/anonymeter_crosscheck.py run --impl privsynth \\
        --synthetic /tmp/adult_mst_eps1.csv --out /tmp/xcheck_privsynth.json
    $A benchmarks/anonymeter_crosscheck.py run --impl anonymeter \\
        --synthetic /tmp/adult_mst_eps1.csv --out /tmp/xcheck_anonymeter.json
    $P benchmarks/anonymeter_crosscheck.py combine /tmp/xcheck_privsynth.json \\
        /tmp/xcheck_anonymeter.json --out benchmarks/results/anonymeter_crosscheck_adult.json

Run the two ``run`` steps one after the other (never at once) so the timings share a
quiet machine. The combined table also compares singling out without the control-size
correction (the attack itself), anonymeter's risk refitted with privsynth's fit of the
same size model, and privsynth's equal-size (``size_matching="subsample"``) variant. A
diagnostic run of anonymeter with its size-fit counting patched (``--patch-size-fit``,
anonymeter 1.1.0 fits ``len`` of the per-query counts, a constant) is:

    $A benchmarks/anonymeter_crosscheck.py run --impl anonymeter --patch-size-fit \
        --synthetic /tmp/adult_mst_eps1.csv --seeds 0 \
        --attacks singling_out_univariate singling_out_multivariate \
        --out benchmarks/results/anonymeter_run_anonymeter_patched.json

Columns keep their names (``marital-status`` and the other dashed names
work in anonymeter 1.1, whose singling-out queries are polars expressions; nothing is
renamed). anonymeter's linkability and inference draw their targets from numpy's global
random state (seeded here) and its linkability baseline from an unseeded generator.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
RAW = Path("/work/shared/data/adult_raw")
SCHEMA = ROOT / "examples" / "adult_schema.yaml"
TARGET = "income"
SECRET = "income"  # the inference attack's secret; every other column is known
ATTACKS = ("singling_out_univariate", "singling_out_multivariate", "linkability", "inference")


# ------------------------------------------------------------------------------ inputs


def load_split(raw: Path = RAW) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 80% training table and the 20% holdout, stratified on income."""
    frames = [pd.read_csv(raw / name) for name in ("adult_train.csv", "adult_test.csv")]
    data = pd.concat(frames, ignore_index=True)
    train, holdout = train_test_split(data, test_size=0.2, random_state=0, stratify=data[TARGET])
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def fingerprint(frame: pd.DataFrame) -> str:
    """A digest of a table's values, to prove both venvs attacked the same rows."""
    text = frame.astype(str).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def aux_halves(columns: list[str]) -> tuple[list[str], list[str]]:
    """privsynth's default linkability split without quasi-identifiers: the first half
    of the columns against the second."""
    half = len(columns) // 2
    return columns[:half], columns[half:]


def anonymeter_risk(
    n_main: float, n_main_total: int, n_control: float, n_control_total: int, confidence: float
) -> tuple[float, tuple[float, float]]:
    """anonymeter's formula: Wilson centres, first-order error propagation, clipped."""
    z = float(norm.ppf(0.5 * (1 + confidence)))

    def wilson(k: float, n: int) -> tuple[float, float]:
        k = min(k, n)
        var = k * (n - k) / n if n else 0.0
        return (k + z * z / 2) / (n + z * z), z / (n + z * z) * math.sqrt(var + z * z / 4)

    (m, dm), (c, dc) = wilson(n_main, n_main_total), wilson(n_control, n_control_total)
    risk = (m - c) / (1 - c)
    err = math.hypot(dm / (1 - c), dc * (m - 1) / (1 - c) ** 2)
    low, high = (min(max(v, 0.0), 1.0) for v in (risk - err, risk + err))
    return min(max(risk, 0.0), 1.0), (low, high)


# ---------------------------------------------------------------------- implementations


def run_privsynth(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    seeds: list[int],
    n_attacks: int,
    confidence: float,
) -> list[dict[str, Any]]:
    from privsynth.evaluation.data import EvaluationData
    from privsynth.evaluation.inference import AttributeInference
    from privsynth.evaluation.wp29 import Linkability, SinglingOut
    from privsynth.schema import load_schema

    schema = load_schema(SCHEMA)
    rows = []
    for seed in seeds:
        started = time.perf_counter()
        data = EvaluationData.build(
            train, synthetic, holdout, schema=schema, sensitive=[SECRET], seed=seed
        )
        prepare_s = time.perf_counter() - started
        first, second = aux_halves(data.columns)
        attacks: dict[str, Any] = {
            "singling_out_univariate": SinglingOut(
                "univariate", n_attacks, size_matching="fit", seed=seed
            ),
            "singling_out_multivariate": SinglingOut(
                "multivariate", n_attacks, size_matching="fit", seed=seed
            ),
            "linkability": Linkability(n_attacks, aux_cols=(first, second), seed=seed),
        }
        for mode in ("univariate", "multivariate"):  # diagnostic: no extrapolation
            attacks[f"singling_out_{mode}_subsample"] = SinglingOut(
                mode, n_attacks, size_matching="subsample", seed=seed
            )
        inference = AttributeInference()
        inference.n_attacks = n_attacks
        attacks["inference"] = inference
        for name, attack in attacks.items():
            started = time.perf_counter()
            result = attack.evaluate(data)
            seconds = time.perf_counter() - started
            d = result.details
            row = {
                "impl": "privsynth", "attack": name, "seed": seed, "risk": result.risk,
                "ci": list(result.ci), "main_rate": result.main_rate,
                "control_rate": result.control_rate, "baseline_rate": result.baseline_rate,
                "n_attacks": result.n_attacks, "seconds": seconds, "prepare_seconds": prepare_s,
            }  # fmt: skip
            if name.startswith("singling_out"):
                used = (d["n_success_main_used"], d["n_success_control_used"])
                found = d["n_predicates"]
                row.update(
                    n_predicates=found, n_success_main=d["n_success_main"],
                    n_success_control=d["n_success_control"],
                    n_control_corrected=d["n_success_control_used"],
                    control_size_correction=d["control_size_correction"],
                    n_success_baseline=d["n_success_baseline"],
                    generation_attempts=d["generation_attempts"],
                )  # fmt: skip
                # anonymeter's convention: its formula, rates over the attacks requested
                risk, ci = anonymeter_risk(used[0], n_attacks, used[1], n_attacks, confidence)
                row["anonymeter_formula"] = {"risk": risk, "ci": list(ci)}
            elif name == "linkability":
                risk, ci = anonymeter_risk(
                    d["n_success_main"], d["n_targets_main"], d["n_success_control"],
                    d["n_targets_control"], confidence,
                )  # fmt: skip
                row["anonymeter_formula"] = {"risk": risk, "ci": list(ci)}
            else:
                secret = d["secrets"][SECRET]
                risk, ci = anonymeter_risk(
                    round(secret["main_rate"] * secret["n_main"]), secret["n_main"],
                    round(secret["control_rate"] * secret["n_control"]), secret["n_control"],
                    confidence,
                )  # fmt: skip
                row["anonymeter_formula"] = {"risk": risk, "ci": list(ci)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def run_anonymeter(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    seeds: list[int],
    n_attacks: int,
    confidence: float,
    n_jobs: int,
    attacks: list[str],
    patch_size_fit: bool,
) -> list[dict[str, Any]]:
    import anonymeter.evaluators.singling_out_evaluator as so
    from anonymeter.evaluators import (
        InferenceEvaluator,
        LinkabilityEvaluator,
        SinglingOutEvaluator,
    )

    warnings.filterwarnings("ignore", message="Attack is as good or worse as baseline")
    # record the control-size fit (subsample counts and fitted curve) to diagnose it
    fit: dict[str, Any] = {}
    measure, fit_model = so._measure_queries_success, so._fit_model

    def counting_measure(df: Any, queries: Any, n_repeat: int, n_meas: int) -> Any:
        """anonymeter's subsampling, counting the queries that isolate one row (1.1.0
        takes ``len`` of the per-query counts: always the number of queries)."""
        sizes, successes = [], []
        for n_rows in np.linspace(min(1000, len(df)), len(df), n_meas).astype(int):
            for _ in range(n_repeat):
                counts = so._evaluate_queries(df=df.sample(n_rows), queries=queries)
                successes.append(sum(1 for c in counts if c == 1))
                sizes.append(n_rows)
        return np.array(sizes), np.array(successes)

    if patch_size_fit:
        measure = counting_measure

    def recording_measure(**kwargs: Any) -> Any:
        sizes, successes = measure(**kwargs)
        fit.update(sizes=sizes.tolist(), successes=successes.tolist())
        return sizes, successes

    def recording_fit(**kwargs: Any) -> Any:
        fit["model"] = fit_model(**kwargs)
        return fit["model"]

    so._measure_queries_success, so._fit_model = recording_measure, recording_fit
    columns = list(train.columns)
    first, second = aux_halves(columns)
    rows = []
    for seed in seeds:
        for name in attacks:
            np.random.seed(seed)  # linkability and inference sample targets from it
            started = time.perf_counter()
            extra: dict[str, Any] = {}
            if name.startswith("singling_out"):
                mode = name.rsplit("_", 1)[1]
                evaluator: Any = SinglingOutEvaluator(
                    ori=train, syn=synthetic, control=holdout, n_attacks=n_attacks, n_cols=3,
                    seed=seed,
                )  # fmt: skip
                fit.clear()
                evaluator.evaluate(mode=mode)
                n_ori, n_control = len(evaluator._ori), len(evaluator._control)
                correction = fit["model"](n_ori) / fit["model"](n_control) if fit else 1.0
                extra = {
                    "n_success_main": evaluator._n_success,
                    "n_control_corrected": float(evaluator._n_control),
                    "control_size_correction": float(correction),
                    "n_success_control": float(evaluator._n_control) / correction,
                    "n_success_baseline": evaluator._n_baseline,
                    "rows_deduplicated": [n_ori, n_control],
                    "correction_fit": {k: fit.get(k) for k in ("sizes", "successes")},
                }  # fmt: skip
            elif name == "linkability":
                evaluator = LinkabilityEvaluator(
                    ori=train, syn=synthetic, control=holdout, aux_cols=(first, second),
                    n_attacks=n_attacks, n_neighbors=1,
                )  # fmt: skip
                evaluator.evaluate(n_jobs=n_jobs)
            else:
                evaluator = InferenceEvaluator(
                    ori=train, syn=synthetic, control=holdout, secret=SECRET,
                    aux_cols=[c for c in columns if c != SECRET], n_attacks=n_attacks,
                )  # fmt: skip
                evaluator.evaluate(n_jobs=n_jobs)
            seconds = time.perf_counter() - started
            results = evaluator.results(confidence_level=confidence)
            risk = results.risk()
            row = {
                "impl": "anonymeter", "attack": name, "seed": seed, "risk": risk.value,
                "ci": list(risk.ci), "main_rate": results.attack_rate.value,
                "control_rate": results.control_rate.value,
                "baseline_rate": results.baseline_rate.value, "n_attacks": n_attacks,
                "seconds": seconds, "n_jobs": n_jobs, **extra,
            }  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


# ----------------------------------------------------------------------------- combine


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def combine(files: list[Path]) -> dict[str, Any]:
    """Side-by-side table: per attack and seed both risks with their intervals, whether
    the intervals overlap, and the summed wall-clock times."""
    runs = [json.loads(f.read_text()) for f in files]
    by_impl = {run["impl"]: run for run in runs}
    ours, theirs = by_impl["privsynth"], by_impl["anonymeter"]
    if ours["inputs"] != theirs["inputs"]:
        raise SystemExit("the two runs attacked different inputs")
    table, summary = [], {}
    for attack in ATTACKS:
        mine = {r["seed"]: r for r in ours["rows"] if r["attack"] == attack}
        other = {r["seed"]: r for r in theirs["rows"] if r["attack"] == attack}
        seeds = sorted(set(mine) & set(other))
        for seed in seeds:
            a, b = mine[seed], other[seed]
            extra: dict[str, Any] = {}
            if attack.startswith("singling_out"):
                level = theirs["inputs"]["confidence"]
                b["anonymeter_refit"] = _refit(b, level)
                raw_a = anonymeter_risk(
                    a["n_success_main"], a["n_predicates"], a["n_success_control"],
                    a["n_predicates"], level,
                )  # fmt: skip
                raw_b = anonymeter_risk(
                    b["n_success_main"], b["n_attacks"], b["n_success_control"], b["n_attacks"],
                    level,
                )  # fmt: skip
                extra["no_size_correction"] = {
                    "privsynth": {"risk": raw_a[0], "ci": list(raw_a[1]),
                                  "main": a["n_success_main"], "control": a["n_success_control"]},
                    "anonymeter": {"risk": raw_b[0], "ci": list(raw_b[1]),
                                   "main": b["n_success_main"], "control": b["n_success_control"]},
                    "agree": overlap(list(raw_a[1]), list(raw_b[1])),
                }  # fmt: skip
            table.append({
                "attack": attack, "seed": seed,
                "privsynth": {"risk": a["risk"], "ci": a["ci"], "seconds": a["seconds"]},
                "privsynth_anonymeter_formula": a["anonymeter_formula"],
                "anonymeter": {"risk": b["risk"], "ci": b["ci"], "seconds": b["seconds"]},
                "agree": overlap(a["ci"], b["ci"]),
                "agree_same_formula": overlap(a["anonymeter_formula"]["ci"], b["ci"]),
                **({"anonymeter_refit": b["anonymeter_refit"],
                    "agree_refit": overlap(a["anonymeter_formula"]["ci"],
                                           b["anonymeter_refit"]["ci"]),
                    "control_size_correction": {"privsynth": a["control_size_correction"],
                                                "anonymeter": b["control_size_correction"]}}
                   if "anonymeter_refit" in b else {}),
                **extra,
            })  # fmt: skip
        if not seeds:
            continue
        ours_s = sum(mine[s]["seconds"] for s in seeds)
        prepare = sum(mine[s]["prepare_seconds"] for s in seeds)
        theirs_s = sum(other[s]["seconds"] for s in seeds)
        summary[attack] = {
            "seeds": seeds,
            "privsynth_mean_risk": float(np.mean([mine[s]["risk"] for s in seeds])),
            "anonymeter_mean_risk": float(np.mean([other[s]["risk"] for s in seeds])),
            "agree_all_seeds": all(overlap(mine[s]["ci"], other[s]["ci"]) for s in seeds),
            "privsynth_seconds": ours_s,
            "privsynth_seconds_with_preparation": ours_s + prepare,
            "anonymeter_seconds": theirs_s,
            "speedup": theirs_s / ours_s if ours_s else None,
            "speedup_with_preparation": theirs_s / (ours_s + prepare),
        }
    diagnostics = {}
    for attack in sorted({r["attack"] for r in ours["rows"]} - set(ATTACKS)):
        rows = [r for r in ours["rows"] if r["attack"] == attack]
        diagnostics[attack] = [
            {"seed": r["seed"], "risk": r["risk"], "ci": r["ci"], "seconds": r["seconds"]}
            for r in rows
        ]
    return {
        "inputs": ours["inputs"],
        "environments": {r["impl"]: r["environment"] for r in runs},
        "summary": summary,
        "table": table,
        "privsynth_equal_size_diagnostics": diagnostics,
    }


def _refit(row: dict[str, Any], confidence: float) -> dict[str, Any]:
    """anonymeter's singling-out risk with its control count rescaled by privsynth's
    global least-squares fit of the same model on anonymeter's own subsample counts."""
    from privsynth.evaluation.wp29.curve import fit_weight, singling_out_integral

    fit = row["correction_fit"]
    if not fit.get("sizes"):
        return {"risk": row["risk"], "ci": row["ci"], "control_size_correction": 1.0}
    weight = fit_weight(
        np.array(fit["sizes"], dtype=float), np.array(fit["successes"], dtype=float)
    )
    n_ori, n_control = row["rows_deduplicated"]
    curve = singling_out_integral(np.array([n_ori, n_control], dtype=float), weight)
    correction = float(curve[0] / curve[1])
    n_control_refit = row["n_success_control"] * correction
    risk, ci = anonymeter_risk(
        row["n_success_main"], row["n_attacks"], n_control_refit, row["n_attacks"], confidence
    )
    return {"risk": risk, "ci": list(ci), "control_size_correction": correction}


def print_table(document: dict[str, Any]) -> None:
    print(f"{'attack':27} {'seed':>4} {'privsynth risk [ci]':>27} {'anonymeter risk [ci]':>27}"
          f" {'agree':>5} {'ps s':>7} {'an s':>8}")  # fmt: skip
    for row in document["table"]:
        a, b = row["privsynth"], row["anonymeter"]
        print(
            f"{row['attack']:27} {row['seed']:>4} "
            f"{a['risk']:.4f} [{a['ci'][0]:.4f}, {a['ci'][1]:.4f}] "
            f"{b['risk']:.4f} [{b['ci'][0]:.4f}, {b['ci'][1]:.4f}] "
            f"{row['agree']!s:>5} {a['seconds']:7.2f} {b['seconds']:8.2f}"
        )
        if "no_size_correction" in row:
            raw = row["no_size_correction"]
            x, y = raw["privsynth"], raw["anonymeter"]
            print(
                f"{'  without size correction':32} {x['risk']:.4f} [{x['ci'][0]:.4f}, "
                f"{x['ci'][1]:.4f}] {y['risk']:.4f} [{y['ci'][0]:.4f}, {y['ci'][1]:.4f}] "
                f"{raw['agree']!s:>5}"
            )
    for attack, s in document["summary"].items():
        print(f"{attack:27} speedup x{s['speedup']:.1f} (x{s['speedup_with_preparation']:.1f} "
              f"counting privsynth's table preparation), agree on all seeds: "
              f"{s['agree_all_seeds']}")  # fmt: skip


# -------------------------------------------------------------------------------- main


def synthesize(out: Path, epsilon: float, seed: int) -> None:
    import privsynth

    train, _ = load_split()
    config = privsynth.SynthesisConfig(
        epsilon=epsilon,
        generator="mst",
        dataset="adult-xcheck",
        residual_scan=False,
        seed=seed,
        unsafe_seed=True,
    )
    ledger = Path(os.environ.get("TMPDIR", "/tmp")) / f"anonymeter_xcheck_{os.getpid()}.db"
    result = privsynth.run_synthesis(train, config, schema=SCHEMA, ledger=ledger)
    result.data.to_csv(out, index=False)
    ledger.unlink(missing_ok=True)
    print(f"wrote {len(result.data)} synthetic rows to {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("synthesize", help="MST synthetic table (project venv)")
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--epsilon", type=float, default=1.0)
    make.add_argument("--seed", type=int, default=0)
    run = sub.add_parser("run", help="attack with one implementation, write JSON")
    run.add_argument("--impl", choices=("privsynth", "anonymeter"), required=True)
    run.add_argument("--synthetic", type=Path, required=True)
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    run.add_argument("--n-attacks", type=int, default=2000)
    run.add_argument("--confidence", type=float, default=0.95)
    run.add_argument("--n-jobs", type=int, default=-2, help="anonymeter's (its default)")
    run.add_argument("--attacks", nargs="+", choices=ATTACKS, default=list(ATTACKS))
    run.add_argument(
        "--patch-size-fit",
        action="store_true",
        help="anonymeter only: count isolating queries in its control-size fit (diagnostic)",
    )
    run.add_argument("--out", type=Path, required=True)
    both = sub.add_parser("combine", help="side-by-side table from two run files")
    both.add_argument("files", type=Path, nargs=2)
    both.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "synthesize":
        synthesize(args.out, args.epsilon, args.seed)
        return
    if args.command == "combine":
        document = combine(args.files)
        args.out.write_text(json.dumps(document, indent=2) + "\n")
        print_table(document)
        return
    train, holdout = load_split()
    synthetic = pd.read_csv(args.synthetic)
    inputs = {
        "train": fingerprint(train), "holdout": fingerprint(holdout),
        "synthetic": fingerprint(synthetic), "rows": [len(train), len(holdout), len(synthetic)],
        "n_attacks": args.n_attacks, "seeds": args.seeds, "confidence": args.confidence,
    }  # fmt: skip
    if args.impl == "privsynth":
        rows = run_privsynth(train, holdout, synthetic, args.seeds, args.n_attacks, args.confidence)
        version = "privsynth (working tree)"
    else:
        from importlib.metadata import version as installed

        rows = run_anonymeter(
            train, holdout, synthetic, args.seeds, args.n_attacks, args.confidence,
            args.n_jobs, args.attacks, args.patch_size_fit,
        )  # fmt: skip
        version = f"anonymeter {installed('anonymeter')}"
        if args.patch_size_fit:
            version += " (control-size fit patched to count isolating queries)"
    environment = {
        "implementation": version, "python": sys.version.split()[0],
        "numpy": np.__version__, "pandas": pd.__version__, "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }  # fmt: skip
    document = {"impl": args.impl, "inputs": inputs, "environment": environment, "rows": rows}
    args.out.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()  # as the privsynth command does (the timings in docs/benchmarks.md)
    main()
