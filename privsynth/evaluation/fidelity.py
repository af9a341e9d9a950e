"""Fidelity: how closely the synthetic table's distributions follow the real one's.

Four views, from one column at a time to pairwise structure: 1-way distances
(``column_distance``), 2- and 3-way marginals of the discretised tables
(``marginal_tvd_2way``/``marginal_tvd_3way``), the association matrix
(``correlation_difference``), and whether the synthetic data reaches every category
and the whole range of the real data (``coverage``). Every number is a distance or
a share in [0, 1]; details hold per-column (or per-pair) figures keyed by column name
and never a record value.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from privsynth.errors import ConfigurationError
from privsynth.evaluation.base import METRICS, Metric, MetricResult
from privsynth.evaluation.data import EvaluationData, FloatMatrix, quantiles_of

IntArray = npt.NDArray[np.int64]
#: combined marginal codes above this many cells are counted with np.unique, not bincount
_DENSE_CELLS = 2_000_000


# ---------------------------------------------------------------- 1-way distances


def total_variation(real: pd.Series, synthetic: pd.Series) -> float:
    """Half the L1 distance between the two columns' category frequencies."""
    p = real.value_counts(normalize=True)
    q = synthetic.value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(0.5 * np.abs(p - q).sum())


def ks_statistic(real: pd.Series, synthetic: pd.Series) -> float:
    """Kolmogorov-Smirnov statistic with missing values as a point mass below every
    number, so a generator that drops (or invents) missingness is penalised too; with
    no missing values this is the ordinary two-sample KS statistic."""
    a = np.sort(np.nan_to_num(real.to_numpy(np.float64), nan=-np.inf))
    b = np.sort(np.nan_to_num(synthetic.to_numpy(np.float64), nan=-np.inf))
    if not a.size or not b.size:
        return float(a.size != b.size)
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def scaled_wasserstein(real: pd.Series, synthetic: pd.Series) -> float | None:
    """Earth mover's distance of the present values in units of the real column's
    interquartile range (its full range when the IQR is 0, as for mostly-zero capital
    gains), so columns on different scales compare; None when a side has no values."""
    a = real.dropna().to_numpy(np.float64)
    b = synthetic.dropna().to_numpy(np.float64)
    if not a.size or not b.size:
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # values near the float limit
        q1, q3 = quantiles_of(a, [0.25, 0.75])
        scale = q3 - q1 if q3 > q1 else a.max() - a.min()
        distance = float(stats.wasserstein_distance(a, b) / (scale if scale > 0 else 1.0))
    return distance if math.isfinite(distance) else None


@METRICS.register("column_distance")
class ColumnDistance(Metric):
    """Mean 1-way distance: TVD for categorical columns, KS for numeric ones (both in
    [0, 1], 0 = identical distributions)."""

    name = "column_distance"
    goal = "minimize"
    section = "fidelity"

    def compute(self, data: EvaluationData) -> MetricResult:
        columns: dict[str, dict[str, Any]] = {}
        for column, kind in data.kinds.items():
            real, synthetic = data.real[column], data.synthetic[column]
            if kind == "categorical":
                columns[column] = {"statistic": "tvd", "value": total_variation(real, synthetic)}
            else:
                columns[column] = {
                    "statistic": "ks",
                    "value": ks_statistic(real, synthetic),
                    "wasserstein": scaled_wasserstein(real, synthetic),
                }
        value = float(np.mean([c["value"] for c in columns.values()]))
        return self.result(value, columns=columns)


# ---------------------------------------------------------------- k-way marginals


def category_codes(
    real: pd.DataFrame, synthetic: pd.DataFrame
) -> tuple[IntArray, IntArray, IntArray]:
    """Both discretised tables as integer codes over the union of their labels, with
    each column's number of labels (the strides of a combined marginal code)."""
    real_codes, synthetic_codes, sizes = [], [], []
    for column in real.columns:
        codes, labels = pd.factorize(pd.concat([real[column], synthetic[column]]), sort=True)
        real_codes.append(codes[: len(real)])
        synthetic_codes.append(codes[len(real) :])
        sizes.append(max(len(labels), 1))
    stack = np.column_stack
    return (
        stack(real_codes).astype(np.int64),
        stack(synthetic_codes).astype(np.int64),
        np.array(sizes, dtype=np.int64),
    )


def marginal_tvd(real: IntArray, synthetic: IntArray, sizes: IntArray) -> float:
    """TVD between the two tables' joint distributions of the given coded columns:
    one cell number per row, then counts per cell with a single bincount."""
    real_cells, synthetic_cells, cells = _cell_numbers(real, synthetic, sizes)
    p = np.bincount(real_cells, minlength=cells) / max(len(real_cells), 1)
    q = np.bincount(synthetic_cells, minlength=cells) / max(len(synthetic_cells), 1)
    return float(0.5 * np.abs(p - q).sum())


def _cell_numbers(
    real: IntArray, synthetic: IntArray, sizes: IntArray
) -> tuple[IntArray, IntArray, int]:
    """Mixed-radix cell numbers when the full table of cells is small; otherwise only
    the cells that occur are numbered (np.unique over rows), which cannot overflow."""
    cells = float(np.prod(sizes.astype(np.float64)))
    if cells <= _DENSE_CELLS:
        strides = np.cumprod(np.concatenate([[1], sizes[:-1]])).astype(np.int64)
        return real @ strides, synthetic @ strides, int(cells)
    _, inverse = np.unique(np.concatenate([real, synthetic]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    return inverse[: len(real)], inverse[len(real) :], int(inverse.max()) + 1


def choose_marginals(
    n_columns: int, width: int, limit: int, seed: int
) -> tuple[list[tuple[int, ...]], int]:
    """Every ``width``-subset of the columns, or ``limit`` of them drawn with a seeded
    RNG when there are more (enumerated when few, rejection-sampled when the count is
    too large to list); also returns how many there are in all."""
    total = math.comb(n_columns, width)
    if total <= limit:
        return list(itertools.combinations(range(n_columns), width)), total
    rng = np.random.default_rng(seed)
    if total <= 50 * limit:
        every = list(itertools.combinations(range(n_columns), width))
        picks = rng.choice(len(every), size=limit, replace=False)
        return [every[i] for i in sorted(picks)], total
    chosen: set[tuple[int, ...]] = set()
    while len(chosen) < limit:
        chosen.add(tuple(sorted(int(i) for i in rng.choice(n_columns, width, replace=False))))
    return sorted(chosen), total


def _require_columns(data: EvaluationData, count: int) -> None:
    """A table too narrow for the measurement is skipped (the assembler lists it),
    rather than scored 0, which would read as a perfect match."""
    if len(data.columns) < count:
        raise ConfigurationError(
            f"this measurement needs at least {count} shared columns, got {len(data.columns)}",
            hint="compare tables with more columns or leave this metric out",
        )


class _MarginalTVD(Metric):
    """Mean TVD over the ``width``-way marginals of the discretised tables (numeric
    columns in real-data quantile bins): what 1-way distances miss, how columns vary
    together. Sampled with ``data.seed`` beyond ``max_marginals`` marginals."""

    goal = "minimize"
    section = "fidelity"
    width: int

    def __init__(self, max_marginals: int = 300) -> None:
        self.max_marginals = max_marginals

    def compute(self, data: EvaluationData) -> MetricResult:
        columns = data.columns
        real, synthetic, sizes = category_codes(
            data.discretised(data.real), data.discretised(data.synthetic)
        )
        _require_columns(data, self.width)
        subsets, total = choose_marginals(len(columns), self.width, self.max_marginals, data.seed)
        scores = [
            marginal_tvd(real[:, list(s)], synthetic[:, list(s)], sizes[list(s)]) for s in subsets
        ]
        order = np.argsort(scores)[::-1][:10]
        worst = [{"columns": [columns[i] for i in subsets[k]], "tvd": scores[k]} for k in order]
        return self.result(
            float(np.mean(scores)),
            n_marginals=len(subsets),
            n_possible=total,
            sampled=len(subsets) < total,
            worst=worst,
        )


@METRICS.register("marginal_tvd_2way")
class MarginalTVD2(_MarginalTVD):
    """Mean TVD over pairs of columns."""

    name = "marginal_tvd_2way"
    width = 2


@METRICS.register("marginal_tvd_3way")
class MarginalTVD3(_MarginalTVD):
    """Mean TVD over triples of columns."""

    name = "marginal_tvd_3way"
    width = 3


# ---------------------------------------------------------------- associations

MEASURES = {
    "numeric-numeric": "pearson",
    "categorical-categorical": "cramers_v",
    "numeric-categorical": "correlation_ratio",
}


def _unit_scaled(values: FloatMatrix) -> FloatMatrix:
    """``values`` times the power of two that brings their largest magnitude to at most
    1: exact, so scale-free measures keep every bit, and sums of squares cannot
    overflow on values near the float limit (``1e308`` in a hostile table)."""
    top = float(np.nanmax(np.abs(values), initial=0.0))
    if top == 0.0 or not np.isfinite(top):
        return values
    scaled: FloatMatrix = np.ldexp(values, -int(np.frexp(top)[1]))
    return scaled


def cramers_v(x: pd.Series, y: pd.Series) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013): plain V overstates association in
    small samples and for many categories, which would make noise look like structure."""
    return _cramers_v(_Coded.of(x), _Coded.of(y))


@dataclass(frozen=True)
class _Coded:
    """A categorical column factorised once (codes and how many labels), so that the
    pairwise associations of a wide table do not factorise a column per pair."""

    codes: IntArray
    labels: int

    @classmethod
    def of(cls, values: pd.Series) -> _Coded:
        codes, labels = pd.factorize(values)
        return cls(np.asarray(codes, dtype=np.int64), len(labels))


def _cramers_v(x: _Coded, y: _Coded) -> float:
    rows, cols, n = x.labels, y.labels, len(x.codes)
    if n <= 1 or rows < 2 or cols < 2:
        return 0.0
    table = np.bincount(x.codes * cols + y.codes, minlength=rows * cols).reshape(rows, cols)
    expected = np.outer(table.sum(1), table.sum(0)) / n
    phi2 = float(((table - expected) ** 2 / expected).sum() / n)
    phi2 = max(0.0, phi2 - (rows - 1) * (cols - 1) / (n - 1))
    rows_c = rows - (rows - 1) ** 2 / (n - 1)
    cols_c = cols - (cols - 1) ** 2 / (n - 1)
    denominator = min(rows_c - 1, cols_c - 1)
    return float(np.sqrt(min(phi2 / denominator, 1.0))) if denominator > 0 else 0.0


def correlation_ratio(categories: pd.Series, values: pd.Series) -> float:
    """Eta: the share of the numeric column's spread explained by the categorical
    column's groups (square-rooted); 0 when the numeric column is constant."""
    return _correlation_ratio(_Coded.of(categories), values.to_numpy(np.float64))


def _correlation_ratio(categories: _Coded, values: FloatMatrix) -> float:
    present = ~np.isnan(values)
    v = _unit_scaled(values[present])
    if v.size < 2:
        return 0.0
    groups = categories.codes[present]
    deviation = v - v.mean()
    total = float((deviation**2).sum())
    if total <= 0:
        return 0.0
    size = np.bincount(groups)
    group_deviation = np.bincount(groups, weights=deviation)[size > 0] / size[size > 0]
    between = float((size[size > 0] * group_deviation**2).sum())
    return float(np.sqrt(min(between / total, 1.0)))


def pearson(x: pd.Series, y: pd.Series) -> float:
    """Pearson's r on rows where both are present; 0 when either is constant."""
    x = pd.Series(_unit_scaled(x.to_numpy(np.float64)), index=x.index)
    y = pd.Series(_unit_scaled(y.to_numpy(np.float64)), index=y.index)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant column: NaN, then 0
        value = x.corr(y)
    return 0.0 if value is None or not np.isfinite(value) else float(value)


def association(frame: pd.DataFrame, kinds: dict[str, str], a: str, b: str) -> float:
    """The association measure that fits the two columns' kinds."""
    kind_a, kind_b = kinds[a], kinds[b]
    if kind_a == kind_b == "numeric":
        return pearson(frame[a], frame[b])
    if kind_a == kind_b == "categorical":
        return cramers_v(frame[a], frame[b])
    categorical, numeric = (a, b) if kind_a == "categorical" else (b, a)
    return correlation_ratio(frame[categorical], frame[numeric])


def association_matrix(data: EvaluationData, frame: pd.DataFrame) -> FloatMatrix:
    """Symmetric matrix of pairwise associations (diagonal 1), as :func:`association`
    gives them, with each categorical column factorised once."""
    columns = data.columns
    coded = {c: _Coded.of(frame[c]) for c in data.categorical_columns}
    values = {c: frame[c].to_numpy(np.float64) for c in data.numeric_columns}
    matrix = np.eye(len(columns))
    for i, j in itertools.combinations(range(len(columns)), 2):
        a, b = columns[i], columns[j]
        if a in values and b in values:
            value = pearson(frame[a], frame[b])
        elif a in coded and b in coded:
            value = _cramers_v(coded[a], coded[b])
        else:
            categorical, numeric = (a, b) if a in coded else (b, a)
            value = _correlation_ratio(coded[categorical], values[numeric])
        matrix[i, j] = matrix[j, i] = value
    return matrix


def _nested(columns: list[str], matrix: FloatMatrix) -> dict[str, dict[str, float]]:
    return {
        a: {b: float(matrix[i, j]) for j, b in enumerate(columns)} for i, a in enumerate(columns)
    }


@METRICS.register("correlation_difference")
class CorrelationDifference(Metric):
    """Mean absolute difference between the real and synthetic association matrices
    over column pairs: Pearson r (numeric-numeric), bias-corrected Cramér's V
    (categorical-categorical), correlation ratio eta (numeric-categorical). Each
    pair's difference is capped at 1 (only a sign flip of a strong Pearson r can
    exceed it), so the mean lies in [0, 1]."""

    name = "correlation_difference"
    goal = "minimize"
    section = "fidelity"

    def compute(self, data: EvaluationData) -> MetricResult:
        _require_columns(data, 2)
        columns = data.columns
        real = association_matrix(data, data.real)
        synthetic = association_matrix(data, data.synthetic)
        difference = np.minimum(np.abs(real - synthetic), 1.0)
        upper = np.triu_indices(len(columns), k=1)
        value = float(difference[upper].mean())
        return self.result(
            value,
            measures=MEASURES,
            real=_nested(columns, real),
            synthetic=_nested(columns, synthetic),
            difference=_nested(columns, difference),
        )


# ---------------------------------------------------------------- coverage


def category_coverage(real: pd.Series, synthetic: pd.Series) -> dict[str, Any]:
    """Share of the distinct real categories (``<missing>`` included) that appear at
    least once in the synthetic column, each category counting once however rare; the
    row-weighted share (of real rows whose category appears) is reported alongside."""
    counts = real.value_counts()
    present = counts.index.isin(pd.unique(synthetic))
    return {
        "statistic": "categories",
        "value": float(present.mean()) if len(counts) else 1.0,
        "weighted": float(counts[present].sum() / counts.sum()) if len(counts) else 1.0,
        "missing_categories": int((~present).sum()),
    }


def range_coverage(real: pd.Series, synthetic: pd.Series) -> dict[str, Any]:
    """Share of the real column's [1st, 99th] percentile interval lying inside the
    synthetic values' [min, max]; percentiles so that a few extreme real values do not
    decide it. A degenerate interval counts as covered when the synthetic range holds it."""
    a, b = real.dropna().to_numpy(np.float64), synthetic.dropna().to_numpy(np.float64)
    if not a.size:
        return {"statistic": "range", "value": 1.0}
    if not b.size:
        return {"statistic": "range", "value": 0.0}
    low, high = (float(q) for q in quantiles_of(a, [0.01, 0.99]))
    lo, hi = float(b.min()), float(b.max())
    if high <= low:
        value = float(lo <= low <= hi)
    else:
        value = max(0.0, min(high, hi) - max(low, lo)) / (high - low)
    return {"statistic": "range", "value": value}


@METRICS.register("coverage")
class Coverage(Metric):
    """Mean over columns of category coverage (categorical, unweighted share of real
    categories) and range coverage (numeric): 1 when the synthetic data reaches
    everything the real data holds; mode collapse lowers it."""

    name = "coverage"
    goal = "maximize"
    section = "fidelity"

    def compute(self, data: EvaluationData) -> MetricResult:
        columns = {
            column: (category_coverage if kind == "categorical" else range_coverage)(
                data.real[column], data.synthetic[column]
            )
            for column, kind in data.kinds.items()
        }
        value = float(np.mean([c["value"] for c in columns.values()]))
        return self.result(value, columns=columns)
