"""Wide health benchmark: privsynth's MST on a real 28-column table (NY SPARCS 2020).

Data: ``health_quasi_id/sparcs2020_musculoskeletal.csv.gz`` in the shared data folder
(``PRIVSYNTH_SHARED_DATA``, default ``/work/shared/data``): 36,631 real discharges, read in
place. Protocol (the one of the Adult MST benchmark): 80/20 split stratified on ``death``
(``random_state=0``), fit on the 80 %, sample as many rows, score against the real rows.

Modes:

* ``noschema``        nothing declared: kinds, categories and bounds discovered with DP
* ``schema``          the public schema ``benchmarks/sparcs_wide_schema.yaml``
* ``schema-resample`` the same, with rows holding ``<other>`` drawn again
  (``SynthesisConfig(suppressed="resample")``)
* ``schema-datalists`` the public schema with the missing category lists read from the
  training rows (NOT private: the domain smartnoise is given; a reference only)

Scores (all computed by this module, also for the smartnoise baseline in
``smartnoise_mst.py --dataset sparcs``):

* TSTR AUC (gradient boosting, ``random_state=0``, trained on synthetic rows, tested on
  the real 20 %) for two tasks: in-hospital death (``death``; the columns that encode the
  discharge status, ``Patient.Disposition``, ``disposition``, ``disposition2``, are left
  out of the features) and a long stay (``los`` > 4 days, the median; ``los``, ``lnhlos``,
  ``invhlos`` left out);
* mean TVD of every 1-way and 2-way marginal and of 300 sampled 3-way marginals, the five
  continuous columns binned into deciles of the real training rows (evaluation only);
* pair validity: the share of synthetic rows whose value pair, for pairs that are
  functions in the real data (code -> description, facility -> county, county -> service
  area, disposition -> death), occurs in the real training rows;
* fit seconds (reading the data to the fitted model), peak resident memory of the process
  that ran the synthesis (``ru_maxrss``; each run is a fresh process).

Runs are seeded (``seed=..., unsafe_seed=True``) so that they can be replayed.

    .venv/bin/python benchmarks/health_wide.py --mode schema --seeds 3 \\
        --out benchmarks/results/health_wide_eps1_schema.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from metrics import discretize, mean_marginal_tvd, print_table, summarize, tstr_auc
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PRIVSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data"))
DATA = SHARED / "health_quasi_id" / "sparcs2020_musculoskeletal.csv.gz"
SCHEMA = ROOT / "benchmarks" / "sparcs_wide_schema.yaml"
CONTINUOUS = ("Total.Charges", "Total.Costs", "los", "lnhlos", "invhlos")
#: cells read as missing when scoring (the file was written by R: NA)
MISSING = ("", "NA")
STRATIFY = "death"
LONG_STAY_DAYS = 4
#: task name -> (target column, positive label, columns left out of the features)
TASKS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "death": ("death", "1", ("Patient.Disposition", "disposition", "disposition2")),
    "long_stay": ("long_stay", "1", ("los", "lnhlos", "invhlos")),
}
#: column pairs where the second is a function of the first in the real data
PAIRS = (
    ("CCSR.Diagnosis.Code", "CCSR.Diagnosis.Description"),
    ("CCSR.Procedure.Code", "CCSR.Procedure.Description"),
    ("APR.DRG.Code", "APR.DRG.Description"),
    ("Permanent.Facility.Id", "Hospital.County"),
    ("Hospital.County", "Hospital.Service.Area"),
    ("Patient.Disposition", "death"),
)
METRICS = (
    "fit_s",
    "total_s",
    "peak_rss_mb",
    "auc_death",
    "auc_long_stay",
    "tvd_1way",
    "tvd_2way",
    "tvd_3way",
    "pair_validity",
)
#: mode -> (schema: none, the public one, or it with the rows' category lists; suppressed)
MODES = {
    "noschema": (None, "keep"),
    "schema": ("public", "keep"),
    "schema-resample": ("public", "resample"),
    "schema-datalists": ("datalists", "keep"),
}


# --- data and scoring (shared with smartnoise_mst.py; no privsynth import here) -----------


def load_split(path: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw cells as strings, split 80/20 stratified on ``death``."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame[STRATIFY])
    return train.reset_index(drop=True), test.reset_index(drop=True)


def evaluation_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Continuous columns as numbers, every other column as strings with missing values
    as NA and whole numbers written without a decimal part (``1169.0`` -> ``1169``), so
    that real and synthetic tables are compared on the same cells whatever types a
    synthesizer returns."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column in CONTINUOUS:
            out[column] = pd.to_numeric(values, errors="coerce").astype(float)
            continue
        text = values.astype("string").str.strip()
        text = text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
        out[column] = text.mask(text.isin(MISSING))
    return out


def decile_bins(train_view: pd.DataFrame) -> dict[str, np.ndarray]:
    """Decile edges of the real training rows for the continuous columns."""
    return {
        column: np.unique(np.quantile(train_view[column].dropna(), np.linspace(0, 1, 11)))
        for column in CONTINUOUS
    }


def task_frame(view: pd.DataFrame, task: str) -> pd.DataFrame:
    """Features and binary target of one prediction task."""
    target, _, dropped = TASKS[task]
    frame = view.drop(columns=list(dropped))
    if task == "long_stay":
        frame[target] = (view["los"] > LONG_STAY_DAYS).astype(int).astype(str)
    return frame


def pair_validity(reference: pd.DataFrame, candidate: pd.DataFrame) -> dict[str, float]:
    """Share of ``candidate`` rows whose pair occurs in ``reference``, per pair."""
    scores = {}
    for first, second in PAIRS:
        known = set(_pairs(reference, first, second))
        found = [pair in known for pair in _pairs(candidate, first, second)]
        scores[f"{first}|{second}"] = float(np.mean(found))
    return scores


def _pairs(frame: pd.DataFrame, first: str, second: str) -> list[tuple[str, str]]:
    return list(zip(frame[first].fillna("<NA>"), frame[second].fillna("<NA>"), strict=True))


def fidelity(real: pd.DataFrame, other: pd.DataFrame) -> dict[str, Any]:
    """Marginal TVDs and pair validity of ``other`` against ``real`` (evaluation views)."""
    if list(other.columns) != list(real.columns):
        raise ValueError("the synthetic table must have the real table's columns")
    bins = decile_bins(real)
    binned_real, binned_other = discretize(real, bins), discretize(other, bins)
    result: dict[str, Any] = {}
    for way in (1, 2, 3):
        limit = 400 if way < 3 else 300  # all 28 / 378 one- and two-way marginals
        result[f"tvd_{way}way"] = mean_marginal_tvd(binned_real, binned_other, way, limit)
    pairs = pair_validity(real, other)
    result["pair_validity"] = float(np.mean(list(pairs.values())))
    result["pair_validity_by_pair"] = pairs
    return result


def utility(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    """AUC on the real ``test`` view of a classifier trained on ``train`` (a view), per task."""
    return {
        f"auc_{task}": tstr_auc(task_frame(train, task), task_frame(test, task), target, positive)
        for task, (target, positive, _) in TASKS.items()
    }


def score(train: pd.DataFrame, test: pd.DataFrame, synth: pd.DataFrame) -> dict[str, Any]:
    """Every score of one synthetic table (``synth``) against the real split."""
    real, fake = evaluation_view(train), evaluation_view(synth)
    return utility(fake, evaluation_view(test)) | fidelity(real, fake)


def real_reference(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """Train-real-test-real AUCs; real train vs real test TVDs and pair validity."""
    real, held_out = evaluation_view(train), evaluation_view(test)
    trtr = {f"trtr_{key}": value for key, value in utility(real, held_out).items()}
    return trtr | fidelity(real, held_out)


def in_fresh_process(work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``work(*args)`` in a fresh (spawned) process and add its peak resident memory,
    so that each run's ``ru_maxrss`` is its own and not an earlier run's."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measured, (work, *args))


def _measured(work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = work(*args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return result | {"rss_before_mb": before, "peak_rss_mb": peak}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def git_state() -> dict[str, Any]:
    """The commit and the number of changed paths of the working tree that ran."""

    def git(*command: str) -> str:
        done = subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    changed = git("status", "--short")
    return {
        "git_head": git("rev-parse", "HEAD"),
        "git_changed_paths": len(changed.splitlines()) if changed else 0,
    }


# --- privsynth side -------------------------------------------------------------------


def synthesize(
    train: pd.DataFrame, mode: str, epsilon: float, delta: float, seed: int
) -> dict[str, Any]:
    """One seeded privsynth run through the Python API (in a fresh process)."""
    import privsynth

    schema_kind, suppressed = MODES[mode]
    marks: list[tuple[str, float]] = []
    config = privsynth.SynthesisConfig(
        epsilon=epsilon,
        generator="mst",
        delta=delta,
        rows=len(train),
        dataset=f"sparcs-{seed}",
        seed=seed,
        unsafe_seed=True,
        suppressed=suppressed,
    )
    load = load_average()
    with tempfile.TemporaryDirectory() as folder:
        cpu, start = time.process_time(), time.perf_counter()
        result = privsynth.run_synthesis(
            train,
            config,
            schema=run_schema(schema_kind, train),
            ledger=privsynth.Ledger(Path(folder) / "ledger.db"),
            progress=lambda step: marks.append((step, time.perf_counter())),
        )
        end, cpu = time.perf_counter(), time.process_time() - cpu
    starts = dict(marks)
    sampling = next(t for step, t in marks if step.startswith("sampling"))
    report = result.suppressed
    other_rows = report.rows_with_other if report else 0
    return {
        "seed": seed,
        "fit_s": sampling - starts["reading data"],
        "sample_s": end - sampling,
        "total_s": end - start,
        "cpu_s": cpu,
        "load_avg_start": load,
        "load_avg_end": load_average(),
        "discovery_epsilon": result.discovery_epsilon,
        "unmodelled": result.unmodelled(),
        "n_unmodelled": len(result.unmodelled()),
        "other_rows": other_rows,
        "other_share": other_rows / len(result.data),
        "other_by_column": other_by_column(result.data),
        "rows_redrawn": report.rows_redrawn if report else 0,
        "cells_redrawn": report.cells_redrawn if report else 0,
        "domain": describe_domain(result.schema),
        "discovered_kinds": result.discovery.kinds,
        "warnings": result.warnings,
        "synthetic": result.data,
    }


def run_schema(kind: str | None, train: pd.DataFrame) -> Any:
    """None, the public schema, or (``datalists``, the domain smartnoise is given) the public
    schema with each missing category list read from the training rows: NOT private, marked
    ``data_derived``; it isolates the synthesizer from DP category discovery."""
    if kind is None:
        return None
    from dataclasses import replace

    from privsynth.schema import CategoricalSpec, load_schema

    schema = load_schema(SCHEMA)
    if kind == "public":
        return schema
    columns = dict(schema.columns)
    for name, spec in columns.items():
        if isinstance(spec, CategoricalSpec) and spec.categories is None:
            values = sorted(set(train[name]) - set(MISSING))
            columns[name] = replace(
                spec, categories=tuple(values), data_derived=frozenset({"categories"})
            )
    return replace(schema, columns=columns)


def other_by_column(data: pd.DataFrame) -> dict[str, float]:
    """Share of output rows holding ``<other>``, per column that has any (after any
    re-drawing)."""
    shares = {str(c): float((data[c].astype(str) == "<other>").mean()) for c in data.columns}
    return {column: share for column, share in shares.items() if share > 0}


def describe_domain(schema: Any) -> dict[str, str]:
    """Each column's kind and domain size in the schema the run used (after discovery)."""
    out = {}
    for name, spec in schema.columns.items():
        categories = getattr(spec, "categories", None)
        if categories is not None:
            out[name] = f"{spec.kind}: {len(categories)} categories"
        elif getattr(spec, "min", None) is not None:
            out[name] = f"{spec.kind}: [{spec.min:g}, {spec.max:g}]"
        else:
            out[name] = spec.kind
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=list(MODES), default="schema")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--delta", type=float, default=1e-9, help="smartnoise's default")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--save-sample", type=Path, default=None, help="seed 0's rows (CSV)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    train, test = load_split()
    runs = []
    for seed in range(args.seeds):
        run = in_fresh_process(synthesize, train, args.mode, args.epsilon, args.delta, seed)
        synth = run.pop("synthetic")
        if seed == 0 and args.save_sample is not None:
            synth.to_csv(args.save_sample, index=False)
        runs.append(run | score(train, test, synth))
        print(
            f"seed {seed}: fit {run['fit_s']:.1f}s, peak {run['peak_rss_mb']:.0f} MB, "
            f"unmodelled {run['n_unmodelled']}, <other> rows {run['other_share']:.3f}, "
            f"load {run['load_avg_start']}",
            flush=True,
        )
    summary = summarize(runs, (*METRICS, "other_share", "n_unmodelled"))
    print_table(runs, summary, METRICS)
    reference = real_reference(train, test)
    print(
        f"real: TRTR AUC death {reference['trtr_auc_death']:.4f}, long stay "
        f"{reference['trtr_auc_long_stay']:.4f}; train vs test TVD "
        f"{reference['tvd_1way']:.4f} / {reference['tvd_2way']:.4f}; mode {args.mode}, "
        f"epsilon {args.epsilon}, delta {args.delta}"
    )
    if args.out is not None:
        import privsynth

        results = {
            "synthesizer": f"privsynth MST {privsynth.__version__}",
            "dataset": "NY SPARCS 2020 musculoskeletal (28 columns)",
            "mode": args.mode,
            "schema": str(SCHEMA.relative_to(ROOT)) if MODES[args.mode][0] else None,
            "epsilon": args.epsilon,
            "delta": args.delta,
            "n_train": len(train),
            "n_test": len(test),
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
            **git_state(),
            "real_reference": reference,
            "runs": runs,
            "summary": summary,
        }
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()  # as the privsynth command does (the timings in docs/benchmarks.md)
    main()
