"""One harness for the tabular generators: privsynth's and smartnoise-synth's, same splits,
same public domains, same scores.

    .venv/bin/python benchmarks/tabular.py --tables adult,pums,nltcs,sparcs \\
        --epsilons 0.5,1,2,4 --methods mst,aim,dpsgd,smartnoise:mst,smartnoise:aim --seeds 3 \\
        --out benchmarks/results/tabular.json --plot docs/img/tabular_utility.png --resume

Tables (data read in place from ``PRIVSYNTH_SHARED_DATA``, default ``/work/shared/data``):

* ``adult``  raw UCI Adult (train + test files, 48,842 rows), target ``income`` > 50K; public
  schema ``examples/adult_schema.yaml``;
* ``pums``   the 10,000-row California PUMS sample, target ``married`` (a 0/1 column of the
  table, 56 % positive, predicted from age, sex, education, race and income); public schema
  ``benchmarks/schemas/pums.yaml``;
* ``nltcs``  NLTCS, 21,574 rows of 16 binary disability indicators, target ``bathing`` (44 %
  positive, the column SOURCE.md suggests); schema ``benchmarks/schemas/nltcs.yaml``;
* ``sparcs`` NY SPARCS 2020 musculoskeletal discharges (36,631 rows, 28 columns), target a long
  stay (``los`` > 4 days, the median; ``los``, ``lnhlos``, ``invhlos`` left out of the features),
  as ``health_wide.py``; schema ``benchmarks/sparcs_wide_schema.yaml`` with the 10 code and
  label lists it lacks filled from the training rows (not DP, marked ``data_derived``): the
  domain ``smartnoise_mst.py --dataset sparcs`` gives smartnoise, given to both here.

Protocol per (table, seed): an 80/20 split stratified on the target (``random_state=seed``),
written once as CSV into ``--work-dir``, with the public domain for both systems (privsynth
schema YAML, smartnoise column spec JSON derived from it). Every method fits the same training
rows in its own child process (privsynth: this script with ``--child``; ``smartnoise:NAME``:
``smartnoise_tabular.py`` in the smartnoise venv), samples as many rows and writes them as CSV;
a crash or a timeout is recorded and the grid goes on. Scores (``metrics.py``): TSTR AUC
(gradient boosting trained on the synthetic rows, tested on the real 20 %), TRTR AUC as the
reference, mean TVD of up to 300 seeded 1-, 2- and 3-way marginals against the real training
rows (numeric columns binned into deciles of the real training rows, same bins for both), fit
and sample seconds (reported by the child), peak RSS of the child (``wait4`` rusage).

Each finished run is written to ``--out`` at once; ``--resume`` skips the runs already there.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from metrics import discretize, mean_marginal_tvd, tstr_auc
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
SHARED = Path(os.environ.get("PRIVSYNTH_SHARED_DATA", "/work/shared/data"))
SN_PYTHON = Path(os.environ.get("SMARTNOISE_PYTHON", "/work/bench-sn-venv/bin/python"))
DEFAULT_WORK = Path(tempfile.gettempdir()) / "privsynth-tabular"
SMARTNOISE = "smartnoise:"
MISSING = ("", "NA")
TEST_SHARE = 0.2
MAX_SUBSETS = 300
LONG_STAY_DAYS = 4
TVDS = tuple(f"tvd{kind}_{way}way" for kind in ("", "_public") for way in (1, 2, 3))
METRICS = ("fit_s", "sample_s", "peak_rss_mb", "tstr_auc", *TVDS)
Label = Callable[[pd.DataFrame], pd.Series]


# --- tables ---------------------------------------------------------------------------


def read_cells(path: Path) -> pd.DataFrame:
    """Every cell as the string written in the file (missing markers kept as text)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def load_adult() -> pd.DataFrame:
    folder = SHARED / "adult_raw"
    parts = [read_cells(folder / f) for f in ("adult_train.csv", "adult_test.csv")]
    return pd.concat(parts, ignore_index=True)


def long_stay(view: pd.DataFrame) -> pd.Series:
    """SPARCS task of ``health_wide.py``: a stay longer than the median (4 days)."""
    return (view["los"] > LONG_STAY_DAYS).astype(int).astype(str)


@dataclass(frozen=True)
class Table:
    """A benchmark table: its rows, public schema and prediction task."""

    name: str
    load: Callable[[], pd.DataFrame]
    schema: Path
    target: str
    positive: str
    #: the label from the evaluation view (default: the target column itself)
    label: Label | None = None
    #: columns left out of the classifier's features
    dropped: tuple[str, ...] = ()
    #: fill the schema's missing category lists from the training rows (not DP)
    row_lists: bool = False

    def labels(self, view: pd.DataFrame) -> pd.Series:
        return self.label(view) if self.label else view[self.target]


TABLES = {
    "adult": Table("adult", load_adult, ROOT / "examples" / "adult_schema.yaml", "income", ">50K"),
    "pums": Table(
        "pums",
        lambda: read_cells(SHARED / "pums" / "pums_10000.csv"),
        BENCH / "schemas" / "pums.yaml",
        "married",
        "1",
    ),
    "nltcs": Table(
        "nltcs",
        lambda: read_cells(SHARED / "pgm_benchmarks" / "nltcs.csv"),
        BENCH / "schemas" / "nltcs.yaml",
        "bathing",
        "1",
    ),
    "sparcs": Table(
        "sparcs",
        lambda: read_cells(SHARED / "health_quasi_id" / "sparcs2020_musculoskeletal.csv.gz"),
        BENCH / "sparcs_wide_schema.yaml",
        "long_stay",
        "1",
        label=long_stay,
        dropped=("los", "lnhlos", "invhlos"),
        row_lists=True,
    ),
}


# --- public domains -------------------------------------------------------------------


def numeric_columns(schema: Any) -> list[str]:
    from privsynth.schema.model import NumericSpec

    return [name for name, spec in schema.columns.items() if isinstance(spec, NumericSpec)]


def with_row_lists(schema: Any, train: pd.DataFrame) -> Any:
    """The schema with every missing category list read from the training rows (NOT
    private; marked ``data_derived``): the domain smartnoise is given on SPARCS."""
    from privsynth.schema.model import CategoricalSpec

    columns = dict(schema.columns)
    for name, spec in columns.items():
        if isinstance(spec, CategoricalSpec) and spec.categories is None:
            values = tuple(sorted(set(train[name]) - set(schema.missing_values)))
            columns[name] = replace(spec, categories=values, data_derived=frozenset({"categories"}))
    return replace(schema, columns=columns)


def smartnoise_columns(schema: Any) -> dict[str, dict[str, Any]]:
    """The same public domain as smartnoise transformers take it: category lists, and
    bounds with bins as privsynth makes them (unit bins for small integer ranges)."""
    from privsynth.domain.codecs import DEFAULT_BINS, MAX_UNIT_BINS
    from privsynth.schema.model import CategoricalSpec, NumericSpec

    columns: dict[str, dict[str, Any]] = {}
    for name, spec in schema.columns.items():
        if isinstance(spec, NumericSpec):
            low, high, bins = float(spec.min), float(spec.max), spec.bins or DEFAULT_BINS
            if spec.integer and spec.bins is None and high - low + 1 <= MAX_UNIT_BINS:
                low, high, bins = low - 0.5, high + 0.5, int(high - low + 1)
            columns[name] = {"kind": "continuous", "lower": low, "upper": high, "bins": bins}
        elif isinstance(spec, CategoricalSpec) and spec.categories is not None:
            columns[name] = {
                "kind": "categorical",
                "categories": list(spec.categories),
                "nullable": spec.nullable,
            }
        else:
            raise ValueError(f"{name}: smartnoise needs a category list or numeric bounds")
    return columns


# --- splits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """One (table, seed) split on disk, read back as both systems read it."""

    table: Table
    seed: int
    folder: Path

    @property
    def train_csv(self) -> Path:
        return self.folder / "train.csv"

    @property
    def schema_yaml(self) -> Path:
        return self.folder / "schema.yaml"

    @property
    def columns_json(self) -> Path:
        return self.folder / "smartnoise_columns.json"

    def train(self) -> pd.DataFrame:
        return read_cells(self.train_csv)

    def test(self) -> pd.DataFrame:
        return read_cells(self.folder / "test.csv")


def prepare_split(table: Table, seed: int, work: Path) -> Split:
    """Write the split and both public domains once; later runs read the same files."""
    from privsynth.schema import load_schema
    from privsynth.schema.io import dump_schema

    split = Split(table, seed, work / table.name / f"seed{seed}")
    if split.columns_json.exists():
        return split
    split.folder.mkdir(parents=True, exist_ok=True)
    frame = table.load()
    schema = load_schema(table.schema)
    labels = table.labels(evaluation_view(frame, numeric_columns(schema), schema.missing_values))
    train, test = train_test_split(frame, test_size=TEST_SHARE, random_state=seed, stratify=labels)
    train.to_csv(split.train_csv, index=False)
    test.to_csv(split.folder / "test.csv", index=False)
    if table.row_lists:
        schema = with_row_lists(schema, split.train())
    dump_schema(schema, split.schema_yaml)
    split.columns_json.write_text(json.dumps(smartnoise_columns(schema), indent=1) + "\n")
    return split


# --- scoring --------------------------------------------------------------------------


def evaluation_view(
    frame: pd.DataFrame, numeric: list[str], missing: tuple[str, ...] = MISSING
) -> pd.DataFrame:
    """Numeric columns as numbers; every other column as stripped strings with whole
    numbers written without ``.0`` and missing markers as NA (``health_wide.py``'s rule),
    so real and synthetic cells compare equal whatever types a synthesizer returns."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column in numeric:
            out[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
            continue
        text = frame[column].astype("string").str.strip()
        text = text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
        out[column] = text.mask(text.isin(set(missing) | set(MISSING)))
    return out


def task_frame(table: Table, view: pd.DataFrame) -> pd.DataFrame:
    """Features and binary label of the table's prediction task."""
    frame = view.drop(columns=list(table.dropped))
    frame[table.target] = table.labels(view)
    return frame


def decile_bins(view: pd.DataFrame, numeric: list[str]) -> dict[str, np.ndarray]:
    """Decile edges of the real training rows (evaluation only), per numeric column."""
    return {c: np.unique(np.quantile(view[c].dropna(), np.linspace(0, 1, 11))) for c in numeric}


def public_bins(columns: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Equal-width edges of the public domain (the synthesis bins smartnoise is given)."""
    return {
        name: np.linspace(c["lower"], c["upper"], c["bins"] + 1)
        for name, c in columns.items()
        if c["kind"] == "continuous"
    }


class Scorer:
    """Scores synthetic tables of one split against its real rows."""

    def __init__(self, split: Split) -> None:
        from privsynth.schema import load_schema

        self.table = split.table
        self.schema = load_schema(split.schema_yaml)
        self.numeric = numeric_columns(self.schema)
        self.real = self.view(split.train())
        self.test = self.view(split.test())
        self.bins = decile_bins(self.real, self.numeric)
        self.binned_real = discretize(self.real, self.bins)
        self.public_bins = public_bins(json.loads(split.columns_json.read_text()))
        self.public_real = discretize(self.real, self.public_bins)

    def view(self, frame: pd.DataFrame) -> pd.DataFrame:
        return evaluation_view(frame, self.numeric, self.schema.missing_values)

    def auc(self, train_view: pd.DataFrame) -> float:
        table = self.table
        train, test = task_frame(table, train_view), task_frame(table, self.test)
        return tstr_auc(train, test, table.target, table.positive)

    def reference(self) -> dict[str, Any]:
        return {
            "trtr_auc": self.auc(self.real),
            "n_train": len(self.real),
            "n_test": len(self.test),
        }

    def score(self, synthetic: pd.DataFrame) -> dict[str, float]:
        if list(synthetic.columns) != list(self.real.columns):
            raise ValueError(f"synthetic columns differ: {list(synthetic.columns)[:5]}...")
        fake = self.view(synthetic)
        result = {"tstr_auc": self.auc(fake)}
        binned, public = discretize(fake, self.bins), discretize(fake, self.public_bins)
        for way in (1, 2, 3):
            tvd = mean_marginal_tvd(self.binned_real, binned, way, MAX_SUBSETS, seed=0)
            result[f"tvd_{way}way"] = tvd
            tvd = mean_marginal_tvd(self.public_real, public, way, MAX_SUBSETS, seed=0)
            result[f"tvd_public_{way}way"] = tvd
        return result


# --- running one fit in a child process -----------------------------------------------


@dataclass(frozen=True)
class Run:
    """One cell of the grid."""

    table: str
    method: str
    epsilon: float
    seed: int
    options: dict[str, Any]

    @property
    def key(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.table}|{self.method}|{self.epsilon:g}|{self.seed}|{opts}"

    @property
    def stem(self) -> str:
        name = self.method.replace(":", "-")
        digest = hashlib.sha1(self.key.encode()).hexdigest()[:8]
        return f"{name}_eps{self.epsilon:g}" + (f"_opts{digest}" if self.options else "")


def child_command(run: Run, job_path: Path) -> list[str]:
    if run.method.startswith(SMARTNOISE):
        return [str(SN_PYTHON), str(BENCH / "smartnoise_tabular.py"), str(job_path)]
    return [sys.executable, str(Path(__file__).resolve()), "--child", str(job_path)]


def write_job(run: Run, split: Split, delta: float) -> tuple[Path, dict[str, Any]]:
    stem = split.folder / run.stem
    smartnoise = run.method.startswith(SMARTNOISE)
    job = {
        "table": run.table,
        "generator": run.method.removeprefix(SMARTNOISE),
        "epsilon": run.epsilon,
        "delta": delta,
        "seed": run.seed,
        "options": run.options,
        "train": str(split.train_csv),
        "synthetic": f"{stem}.csv",
        "timing": f"{stem}.timing.json",
    }
    if smartnoise:
        job["columns"] = json.loads(split.columns_json.read_text())
    else:
        job["schema"] = str(split.schema_yaml)
    for output in (job["synthetic"], job["timing"]):
        Path(output).unlink(missing_ok=True)
    Path(f"{stem}.job.json").write_text(json.dumps(job, indent=1) + "\n")
    return Path(f"{stem}.job.json"), job


def wait_child(pid: int, timeout: float) -> tuple[int, Any, bool]:
    """Wait for the child (its own rusage, so peak RSS is its own); kill its process
    group after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, False
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return status, usage, True
        time.sleep(0.2)


def run_child(run: Run, split: Split, delta: float, timeout: float) -> dict[str, Any]:
    """Fit and sample in a child process; its timings, peak RSS and outcome."""
    job_path, job = write_job(run, split, delta)
    log_path = job_path.with_suffix(".log")
    start = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(
            child_command(run, job_path),
            cwd=BENCH,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        status, usage, timed_out = wait_child(child.pid, timeout)
    child.returncode = os.waitstatus_to_exitcode(status)
    record: dict[str, Any] = {
        "wall_s": time.perf_counter() - start,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kB on Linux
        "child_cpu_s": usage.ru_utime + usage.ru_stime,
        "log": str(log_path),
    }
    if timed_out:
        return record | {"status": "timeout", "error": f"killed after {timeout:g} s"}
    if child.returncode != 0 or not Path(job["timing"]).exists():
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        return record | {"status": "error", "error": " | ".join(tail)[-500:]}
    timing = json.loads(Path(job["timing"]).read_text())
    return record | timing | {"status": "ok", "synthetic": job["synthetic"]}


# --- the privsynth child --------------------------------------------------------------


def privsynth_child(job_path: Path) -> None:
    """One privsynth fit and sample (this process is the child the parent measures)."""
    import privsynth

    job = json.loads(job_path.read_text())
    import_generator(job["generator"])
    train = read_cells(Path(job["train"]))
    with tempfile.TemporaryDirectory() as folder:
        synthesizer = privsynth.Synthesizer(
            job["generator"],
            epsilon=job["epsilon"],
            delta=job["delta"],
            dataset=f"tabular-{job['table']}-{job['seed']}",
            ledger=Path(folder) / "ledger.db",
            schema=job["schema"],
            seed=job["seed"],
            unsafe_seed=True,
            **job["options"],
        )
        start, cpu = time.perf_counter(), time.process_time()
        synthesizer.fit(train)
        fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        start = time.perf_counter()
        synthetic = synthesizer.sample(len(train))
        sample_s = time.perf_counter() - start
    synthetic.to_csv(job["synthetic"], index=False)
    assert synthesizer.record is not None
    timing = {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "sample_s": sample_s,
        "delta": job["delta"],
        "spent_epsilon": synthesizer.record.spent_epsilon,
        "version": f"privsynth {privsynth.__version__}",
    }
    Path(job["timing"]).write_text(json.dumps(timing, indent=2) + "\n")


# --- the grid -------------------------------------------------------------------------


def registered_generators() -> list[str]:
    from privsynth.generators import GENERATORS

    return GENERATORS.names()


def import_generator(name: str) -> None:
    """Import ``privsynth.generators.NAME`` if the package does not import it yet (a
    generator being written registers itself there before the package lists it)."""
    if name not in registered_generators():
        with contextlib.suppress(ImportError):
            importlib.import_module(f"privsynth.generators.{name}")


def available(method: str, registered: list[str]) -> bool:
    """smartnoise methods need the venv; privsynth ones a registered generator (a module
    ``privsynth.generators.NAME`` not yet imported by the package is tried first)."""
    if method.startswith(SMARTNOISE):
        if SN_PYTHON.exists():
            return True
        print(f"note: {method} skipped: no smartnoise venv at {SN_PYTHON}")
        return False
    if method not in registered:
        import_generator(method)
        registered[:] = registered_generators()
    if method in registered:
        return True
    print(f"note: privsynth generator {method!r} is not registered (have: {registered}); skipped")
    return False


def parse_options(text: str) -> dict[str, dict[str, Any]]:
    """``mst:iterations=500,smartnoise:aim:rounds=20`` -> per-method option dicts."""
    options: dict[str, dict[str, Any]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        left, _, value = item.partition("=")
        method, _, key = left.rpartition(":")
        if not method or not key or not value:
            raise SystemExit(f"--options: expected METHOD:KEY=VALUE, got {item!r}")
        try:
            parsed: Any = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        options.setdefault(method, {})[key] = parsed
    return options


class Results:
    """The results JSON, rewritten after every run so an interrupted grid keeps its rows."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.data: dict[str, Any] = {"invocations": [], "references": {}, "runs": []}
        if path.exists():
            old = json.loads(path.read_text())
            for key in self.data:
                self.data[key] = old.get(key, self.data[key])
        self.data["invocations"].append(meta)

    def done(self, run: Run) -> bool:
        return any(r["key"] == run.key and r["status"] != "error" for r in self.data["runs"])

    def add_reference(self, split: Split, reference: dict[str, Any]) -> None:
        self.data["references"][f"{split.table.name}|{split.seed}"] = reference
        self.save()

    def add(self, row: dict[str, Any]) -> None:
        self.data["runs"] = [r for r in self.data["runs"] if r["key"] != row["key"]] + [row]
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=1) + "\n")
        temporary.replace(self.path)


def measure(run: Run, split: Split, scorer: Scorer, args: argparse.Namespace) -> dict[str, Any]:
    load = round(os.getloadavg()[0], 2)
    outcome = run_child(run, split, args.delta, args.timeout)
    row = {"key": run.key, **run.__dict__, "load_avg_start": load} | outcome
    if outcome["status"] == "ok":
        try:
            row |= scorer.score(read_cells(Path(outcome["synthetic"])))
        except Exception as error:  # a malformed synthetic table is that method's failure
            row |= {"status": "error", "error": f"scoring: {error!r}"[:500]}
    return row


def report_line(row: dict[str, Any]) -> str:
    head = f"{row['table']} {row['method']} eps={row['epsilon']:g} seed={row['seed']}"
    if row["status"] != "ok":
        return f"{head}: {row['status']} ({row.get('error', '')})"
    return (
        f"{head}: fit {row['fit_s']:.1f}s, sample {row['sample_s']:.1f}s, peak "
        f"{row['peak_rss_mb']:.0f} MB, AUC {row['tstr_auc']:.3f}, TVD {row['tvd_1way']:.3f}/"
        f"{row['tvd_2way']:.3f}/{row['tvd_3way']:.3f}"
    )


def grid(args: argparse.Namespace, results: Results) -> Iterator[tuple[Run, Split, Scorer]]:
    registered = registered_generators()
    methods = [m for m in args.methods if available(m, registered)]
    for name in args.tables:
        for seed in range(args.seeds):
            split = prepare_split(TABLES[name], seed, args.work_dir)
            scorer = Scorer(split)
            if f"{name}|{seed}" not in results.data["references"]:
                results.add_reference(split, scorer.reference())
            for epsilon in args.epsilons:
                for method in methods:
                    options = args.options.get(method, {})
                    yield Run(name, method, epsilon, seed, options), split, scorer


def run_grid(args: argparse.Namespace, results: Results) -> None:
    for run, split, scorer in grid(args, results):
        if args.resume and results.done(run):
            print(f"resume: {run.key} already recorded")
            continue
        row = measure(run, split, scorer, args)
        results.add(row)
        print(report_line(row), flush=True)


# --- summary and plot -----------------------------------------------------------------


def summarize_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and sd (ddof=1) per (table, method, ε, options) over the finished seeds."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in runs:
        opts = json.dumps(row["options"], sort_keys=True)
        groups.setdefault((row["table"], row["method"], row["epsilon"], opts), []).append(row)
    summary = []
    for (table, method, epsilon, opts), rows in sorted(groups.items()):
        ok = [r for r in rows if r["status"] == "ok"]
        cell: dict[str, Any] = {"table": table, "method": method, "epsilon": epsilon}
        cell |= {"options": json.loads(opts), "runs": len(ok)}
        cell["failed"] = sorted({r["status"] for r in rows if r["status"] != "ok"})
        for key in METRICS:
            values = np.array([r[key] for r in ok], dtype=float)
            sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
            cell[key] = {"mean": float(values.mean()), "sd": sd} if values.size else None
        summary.append(cell)
    return summary


def fmt(stat: dict[str, float] | None, digits: int) -> str:
    if stat is None:
        return "–"
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f}"


def markdown(summary: list[dict[str, Any]], references: dict[str, Any]) -> str:
    """The summary as a markdown table (docs/benchmarks.md) plus the TRTR references."""
    lines = [
        "| table | method | ε | runs | fit s | sample s | peak RSS MB | TSTR AUC "
        "| TVD 1-way | TVD 2-way | TVD 3-way | TVD 2-way, public bins |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in summary:
        method = c["method"] + (f" ({c['options']})" if c["options"] else "")
        runs = str(c["runs"]) + "".join(f", {s}" for s in c["failed"])
        stats = [fmt(c["fit_s"], 1), fmt(c["sample_s"], 1), fmt(c["peak_rss_mb"], 0)]
        stats += [fmt(c["tstr_auc"], 3)] + [fmt(c[f"tvd_{w}way"], 3) for w in (1, 2, 3)]
        stats.append(fmt(c["tvd_public_2way"], 3))
        lines.append(
            f"| {c['table']} | {method} | {c['epsilon']:g} | {runs} | " + " | ".join(stats) + " |"
        )
    lines += ["", "| table | seeds | train / test rows | TRTR AUC |", "|---|---|---|---|"]
    for table, refs in reference_groups(references).items():
        auc = np.array([r["trtr_auc"] for r in refs])
        sd = auc.std(ddof=1) if auc.size > 1 else 0.0
        rows = f"{refs[0]['n_train']:,} / {refs[0]['n_test']:,}"
        lines.append(f"| {table} | {len(refs)} | {rows} | {auc.mean():.3f} ± {sd:.3f} |")
    return "\n".join(lines)


def reference_groups(references: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for key, reference in sorted(references.items()):
        groups.setdefault(key.split("|")[0], []).append(reference)
    return groups


def plot(summary: list[dict[str, Any]], references: dict[str, Any], path: Path) -> None:
    """TSTR AUC against ε per method, one panel per table, error bars = sd over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = sorted({c["table"] for c in summary})
    fig, axes = plt.subplots(1, len(tables), figsize=(4.2 * len(tables), 3.6), squeeze=False)
    trtr = reference_groups(references)
    methods = sorted({c["method"] for c in summary})
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    for ax, table in zip(axes[0], tables, strict=True):
        cells = [c for c in summary if c["table"] == table and c["tstr_auc"]]
        for method in sorted({c["method"] for c in cells}):
            mine = sorted((c for c in cells if c["method"] == method), key=lambda c: c["epsilon"])
            eps = [c["epsilon"] for c in mine]
            ax.errorbar(eps, [c["tstr_auc"]["mean"] for c in mine],
                        yerr=[c["tstr_auc"]["sd"] for c in mine], marker="o", capsize=3,
                        label=method, color=colours[method])  # fmt: skip
        if table in trtr:
            real = np.mean([r["trtr_auc"] for r in trtr[table]])
            ax.axhline(real, color="grey", linestyle="--", label="real data (TRTR)")
        ax.set_xscale("log", base=2)
        ax.set_title(table)
        ax.set_xlabel("ε")
        ax.set_ylabel("TSTR AUC")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


# --- command line ---------------------------------------------------------------------


def csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=csv_list, default=list(TABLES))
    parser.add_argument("--epsilons", type=lambda t: [float(x) for x in csv_list(t)], default=[1.0])
    parser.add_argument("--methods", type=csv_list, default=["mst", "smartnoise:mst"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--delta", type=float, default=1e-9, help="smartnoise's default")
    parser.add_argument("--options", type=parse_options, default={}, help="mst:iterations=500,...")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per fit")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "tabular.json")
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--resume", action="store_true", help="skip runs already in --out")
    parser.add_argument("--summary-only", action="store_true", help="only print and plot --out")
    args = parser.parse_args(argv)
    unknown = set(args.tables) - set(TABLES)
    if unknown:
        parser.error(f"unknown tables {sorted(unknown)}; choose from {list(TABLES)}")
    return args


def metadata(args: argparse.Namespace) -> dict[str, Any]:
    from health_wide import git_state

    return {
        "command": " ".join(sys.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "delta": args.delta,
        "timeout_s": args.timeout,
        "test_share": TEST_SHARE,
        **git_state(),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = Results(args.out, metadata(args))
    if not args.summary_only:
        run_grid(args, results)
    summary = summarize_rows(results.data["runs"])
    results.data["summary"] = summary
    results.save()
    print(markdown(summary, results.data["references"]))
    if args.plot is not None:
        plot(summary, results.data["references"], args.plot)


if __name__ == "__main__":
    from privsynth.xla import prefer_fast_compilation

    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        prefer_fast_compilation()  # as the privsynth command does
        privsynth_child(Path(sys.argv[2]))
    else:
        main()
