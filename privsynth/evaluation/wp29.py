"""The Article 29 Working Party criteria: singling out and linkability risks.

Opinion 05/2014 of the Article 29 Working Party (WP216) asks of an anonymised dataset
that no one can *single out* an individual, *link* records of one individual, or *infer*
their attributes. Giomi et al. ("A Unified Framework for Quantifying Privacy Risk in
Synthetic Data", PoPETs 2023, the anonymeter paper) turn the first two into attacks that
use only the synthetic table, scored on training records (main) against holdout records
the generator never saw (control) and a random-guess baseline:
``risk = (main - control) / (1 - control)`` with its interval from the Wilson intervals
of both rates (:func:`privsynth.evaluation.stats.risk_from_rates`, shared by every
attack).

This module follows that methodology (the facts of anonymeter 1.1, not its code):

* singling out: predicates (conjunctions of per-column conditions) that isolate exactly
  one synthetic record are tried on the training and holdout tables; success is a
  predicate that isolates exactly one record there too. The predicates never become
  query strings, so column names may hold spaces, dashes or keywords; each condition is
  evaluated once per table as a packed bitset and a predicate is an AND of bitsets.
* linkability: each target's columns are split into two disjoint sets; the attacker
  finds the nearest synthetic records with each set (Gower distance) and links the two
  halves when the same synthetic record is among both neighbour lists.

Results carry counts and settings, never record values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import minimize_scalar

from privsynth.errors import ConfigurationError
from privsynth.evaluation.base import ATTACKS, Attack, RiskResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import MatchCounter
from privsynth.evaluation.stats import risk_from_rates

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
WordArray = npt.NDArray[np.uint64]
Mode = Literal["univariate", "multivariate"]
SizeMatching = Literal["fit", "subsample"]

DEFAULT_ATTACKS = 2_000
#: conditions of a predicate, as in anonymeter: eq/ne/gt/lt/ge/le and null tests
OPERATORS = ("eq", "ne", "gt", "lt", "ge", "le", "is_null", "not_null")
EQ, NE, GT, LT, GE, LE, IS_NULL, NOT_NULL = range(8)
#: booleans evaluated at once when bitsets are built (bounds memory)
_CELLS_PER_BLOCK = 1 << 23
#: prefix bitsets kept per column of a table (bounds memory)
_MAX_BOUNDARIES = 256
#: words (64 rows each) of the shuffled synthetic table used to reject candidates early
_SCREEN_WORDS = 32
#: predicates ANDed at once (bounds memory to this many rows of bitset words)
_PREDICATES_PER_BLOCK = 4096
#: pairwise distances computed at once in the neighbour search
_DISTANCES_PER_BLOCK = 1 << 22
#: the pruned neighbour search measures at most this share of the pairs (else all)
_PRUNED_SHARE = 0.1
#: rows with fewest category mismatches measured to bound the nearest distance
_SEEDS = 32
#: subsample sizes and repeats for the control-size correction (anonymeter's values)
_CORRECTION_SIZES, _CORRECTION_REPEATS, _CORRECTION_MIN_ROWS = 10, 5, 1000
#: random subsets averaged when the larger table is subsampled to the smaller's size
_SUBSAMPLE_REPEATS = 10
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
_BITWISE_COUNT = getattr(np, "bitwise_count", None)  # numpy >= 2.0


# ---------------------------------------------------------------- tables as float codes


@dataclass(frozen=True)
class _Tables:
    """The deduplicated tables as float matrices: numeric values (NaN = missing) and
    categorical codes over the union of the three tables' categories."""

    synthetic: FloatArray
    real: FloatArray
    holdout: FloatArray
    numeric: BoolArray

    @classmethod
    def build(cls, data: EvaluationData, holdout: pd.DataFrame) -> _Tables:
        columns = data.columns
        frames = [
            f.drop_duplicates(ignore_index=True) for f in (data.synthetic, data.real, holdout)
        ]
        categories = {
            c: sorted(set().union(*(set(f[c]) for f in frames))) for c in data.categorical_columns
        }
        matrices = []
        for frame in frames:
            blocks = []
            for column in columns:
                if data.kinds[column] == "numeric":
                    blocks.append(frame[column].to_numpy(dtype=np.float64))
                else:
                    codes = pd.Categorical(frame[column], categories=categories[column]).codes
                    blocks.append(codes.astype(np.float64))
            matrices.append(np.column_stack(blocks))
        numeric = np.array([data.kinds[c] == "numeric" for c in columns], dtype=np.bool_)
        return cls(matrices[0], matrices[1], matrices[2], numeric)


# ------------------------------------------------------------------------------ bitsets


def _pack(rows: BoolArray) -> WordArray:
    """Boolean rows as bitsets: row ``p`` of the table is bit ``p % 64`` of word ``p // 64``."""
    n_words = max(1, -(-rows.shape[1] // 64))
    packed = np.zeros((rows.shape[0], n_words * 8), dtype=np.uint8)
    packed[:, : -(-rows.shape[1] // 8)] = np.packbits(rows, axis=1, bitorder="little")
    return packed.view(np.dtype("<u8")).astype(np.uint64, copy=False)


def _popcount(words: WordArray) -> IntArray:
    """Set bits per row."""
    if _BITWISE_COUNT is not None:
        counted: IntArray = _BITWISE_COUNT(words).sum(axis=1, dtype=np.int64)
        return counted
    as_bytes = words.view(np.uint8).reshape(len(words), -1)
    looked_up: IntArray = _POPCOUNT8[as_bytes].sum(axis=1)
    return looked_up


def _value_bounds(op: IntArray, value: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``[lo, hi]`` of each condition's values (``ne`` gives its ``eq`` interval)."""
    inf = np.inf
    with np.errstate(invalid="ignore"):
        below, above = np.full_like(value, -inf), np.full_like(value, inf)
        lo = np.select(
            [op == GT, (op == LT) | (op == LE)], [np.nextafter(value, inf), below], value
        )
        hi = np.select(
            [op == LT, (op == GT) | (op == GE)], [np.nextafter(value, -inf), above], value
        )
    return lo, hi


def _boundaries(values: FloatArray) -> IntArray:
    """Rank positions (in the sorted present values) where prefix bitsets are kept: every
    start of a distinct value, thinned to at most ``_MAX_BOUNDARIES`` evenly spread
    ones, always with 0 and the number of present values."""
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate([[0], starts, [len(values)]]).astype(np.int64)
    if len(bounds) > _MAX_BOUNDARIES:
        wanted = np.linspace(0, len(values), _MAX_BOUNDARIES)
        bounds = np.unique(bounds[np.minimum(np.searchsorted(bounds, wanted), len(bounds) - 1)])
    return np.unique(np.concatenate([[0], bounds, [len(values)]])).astype(np.int64)


class _BitIndex:
    """One table's prefix bitsets, from which most conditions are two gathers.

    Per column, the present values are sorted and a bitset is kept for each boundary
    ``b`` (rows whose rank is below ``b``), plus a bitset of the missing rows. A condition
    whose rank interval starts and ends on boundaries is ``prefix[hi] & ~prefix[lo]``
    exactly; otherwise that expression is a subset of its rows (used to reject
    predicates early) and the exact bitset is computed by comparing values."""

    def __init__(self, table: FloatArray) -> None:
        self.table = table
        n_rows, n_columns = table.shape
        self.n_words = max(1, -(-n_rows // 64))
        self.sorted: list[FloatArray] = []
        self.bounds: list[IntArray] = []
        offsets, stacks = [], []
        position = 0
        for column in range(n_columns):
            x = table[:, column]
            missing = np.isnan(x)
            order = np.argsort(x, kind="stable")  # missing values last
            values = x[order[: n_rows - int(missing.sum())]]
            rank = np.empty(n_rows, dtype=np.int64)
            rank[order] = np.arange(n_rows)
            bounds = _boundaries(values)
            step = max(1, _CELLS_PER_BLOCK // max(n_rows, 1))
            prefixes = [
                _pack(rank[None, :] < bounds[start : start + step, None])
                for start in range(0, len(bounds), step)
            ]
            stacks.extend([*prefixes, _pack(missing[None, :])])
            self.sorted.append(values)
            self.bounds.append(bounds)
            offsets.append(position)
            position += len(bounds) + 1
        stacks.append(np.zeros((1, self.n_words), dtype=np.uint64))
        self.prefixes: WordArray = np.concatenate(stacks)
        self.offsets = np.array(offsets, dtype=np.int64)
        self.zero = position

    def valid(self, column: IntArray) -> IntArray:
        """Index of each column's bitset of present values."""
        ends = np.array([len(b) - 1 for b in self.bounds], dtype=np.int64)
        result: IntArray = self.offsets[column] + ends[column]
        return result

    def pairs(
        self, column: IntArray, op: IntArray, value: FloatArray
    ) -> tuple[IntArray, IntArray, BoolArray]:
        """``(plus, minus, exact)`` per condition: its rows include (equal, where exact)
        ``prefixes[plus] & ~prefixes[minus]``. ``ne`` is given its ``eq`` pair."""
        shape = column.shape
        column, op, value = column.ravel(), op.ravel(), value.ravel()
        plus = np.full(column.shape, self.zero, dtype=np.int64)
        minus = np.full(column.shape, self.zero, dtype=np.int64)
        exact = np.ones(column.shape, dtype=np.bool_)
        for j in np.unique(column):
            where = np.flatnonzero((column == j) & (op != IS_NULL) & (op != NOT_NULL))
            values, bounds, o, v = self.sorted[j], self.bounds[j], op[where], value[where]
            left = np.searchsorted(values, v, side="left")
            right = np.searchsorted(values, v, side="right")
            start, end = np.zeros_like(left), np.full_like(left, len(values))
            lo = np.select([o == GT, (o == LT) | (o == LE)], [right, start], left)
            hi = np.select([o == LT, (o == GT) | (o == GE)], [left, end], right)
            t_lo = np.searchsorted(bounds, lo, side="left")
            t_hi = np.searchsorted(bounds, hi, side="right") - 1
            spans = t_hi > t_lo
            plus[where] = np.where(spans, self.offsets[j] + t_hi, self.zero)
            minus[where] = np.where(spans, self.offsets[j] + t_lo, self.zero)
            exact[where] = (hi <= lo) | ((bounds[np.minimum(t_lo, len(bounds) - 1)] == lo)
                                         & (bounds[t_hi] == hi))  # fmt: skip
        nulls = op == IS_NULL
        sizes = np.array([len(b) for b in self.bounds], dtype=np.int64)
        plus[nulls] = self.offsets[column[nulls]] + sizes[column[nulls]]
        not_nulls = op == NOT_NULL
        plus[not_nulls] = self.valid(column[not_nulls])
        return plus.reshape(shape), minus.reshape(shape), exact.reshape(shape)

    def exact(self, column: IntArray, op: IntArray, value: FloatArray) -> WordArray:
        """Exact match bitsets of the given conditions (one row each)."""
        plus, minus, exact = self.pairs(column, op, value)
        bits = self.prefixes[plus] & ~self.prefixes[minus]
        lo, hi = _value_bounds(op, value)
        rows = np.flatnonzero(~exact)
        step = max(1, _CELLS_PER_BLOCK // max(self.table.shape[0], 1))
        for start in range(0, len(rows), step):
            chosen = rows[start : start + step]
            x = self.table[:, column[chosen]].T
            bits[chosen] = _pack((x >= lo[chosen, None]) & (x <= hi[chosen, None]))
        ne = np.flatnonzero(op == NE)
        bits[ne] = self.prefixes[self.valid(column[ne])] & ~bits[ne]
        return bits


# ------------------------------------------------------------------------------ predicates


@dataclass(frozen=True)
class _Predicates:
    """Conjunctions of conditions ``column op value``, one predicate per row."""

    column: IntArray
    op: IntArray
    value: FloatArray

    def __len__(self) -> int:
        return len(self.column)

    @property
    def width(self) -> int:
        return int(self.column.shape[1])

    def take(self, rows: IntArray) -> _Predicates:
        return _Predicates(self.column[rows], self.op[rows], self.value[rows])

    def key(self, row: int) -> tuple[tuple[int, int, float], ...]:
        """A predicate's identity: its conditions, in column order."""
        values = np.nan_to_num(self.value[row]).tolist()
        return tuple(
            sorted(zip(self.column[row].tolist(), self.op[row].tolist(), values, strict=True))
        )


def _unique_conditions(
    column: IntArray, op: IntArray, value: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """Distinct conditions among flat arrays and, per input, the index of its own."""
    clean = np.where((op == IS_NULL) | (op == NOT_NULL), 0.0, value) + 0.0
    order = np.lexsort((clean.view(np.int64), op, column))
    c, o, v = column[order], op[order], clean[order]
    new = np.concatenate([[True], (c[1:] != c[:-1]) | (o[1:] != o[:-1]) | (v[1:] != v[:-1])])
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    first = order[new]
    return column[first], op[first], clean[first], inverse


def _and_pairs(prefixes: WordArray, plus: IntArray, minus: IntArray) -> WordArray:
    acc = np.take(prefixes, plus[:, 0], axis=0) & ~np.take(prefixes, minus[:, 0], axis=0)
    for slot in range(1, plus.shape[1]):
        acc &= np.take(prefixes, plus[:, slot], axis=0)
        acc &= ~np.take(prefixes, minus[:, slot], axis=0)
    return acc


def _exact_matches(index: _BitIndex, predicates: _Predicates) -> WordArray:
    """Bitsets of the rows each predicate matches."""
    if not len(predicates):
        return np.zeros((0, index.n_words), dtype=np.uint64)
    column, op, value, inverse = _unique_conditions(
        predicates.column.ravel(), predicates.op.ravel(), predicates.value.ravel()
    )
    bits = index.exact(column, op, value)
    local = inverse.reshape(predicates.column.shape)
    acc = bits[local[:, 0]]
    for slot in range(1, predicates.width):
        acc &= bits[local[:, slot]]
    return acc


def _match_counts(index: _BitIndex, predicates: _Predicates) -> IntArray:
    """How many rows each predicate matches."""
    counts = [np.zeros(0, dtype=np.int64)]
    for start in range(0, len(predicates), _PREDICATES_PER_BLOCK):
        chunk = np.arange(start, min(start + _PREDICATES_PER_BLOCK, len(predicates)))
        counts.append(_popcount(_exact_matches(index, predicates.take(chunk))))
    return np.concatenate(counts)


def _isolates(index: _BitIndex, predicates: _Predicates) -> BoolArray:
    """Whether each predicate matches exactly one row, rejecting most candidates on a
    subsample (the first rows; the caller shuffles them) with subset bitsets first."""
    plus, minus, exact = index.pairs(predicates.column, predicates.op, predicates.value)
    ne = predicates.op == NE  # its pair is the eq one: use the empty set, a subset
    plus[ne], minus[ne], exact[ne] = index.zero, index.zero, False
    alive = np.arange(len(predicates))
    screen = min(_SCREEN_WORDS, index.n_words)
    if screen < index.n_words:
        counts = _popcount(_and_pairs(index.prefixes[:, :screen], plus, minus))
        alive = alive[counts <= 1]
    counts = np.concatenate(
        [np.zeros(0, dtype=np.int64)]
        + [
            _popcount(_and_pairs(index.prefixes, plus[chunk], minus[chunk]))
            for chunk in np.array_split(alive, max(1, -(-len(alive) // _PREDICATES_PER_BLOCK)))
        ]
    )
    alive, counts = alive[counts <= 1], counts[counts <= 1]
    settled = exact[alive].all(axis=1)
    result = np.zeros(len(predicates), dtype=np.bool_)
    result[alive[settled]] = counts[settled] == 1
    unsure = alive[~settled]
    if len(unsure):
        result[unsure] = _match_counts(index, predicates.take(unsure)) == 1
    return result


# ------------------------------------------------------------------ predicate generation


def _univariate_predicates(
    syn: FloatArray, numeric: BoolArray, n: int, rng: np.random.Generator
) -> _Predicates:
    """anonymeter's rare-attribute predicates that isolate one synthetic record: a value
    held by one record, a numeric column's minimum (``<=``) or maximum (``>=``) when one
    record holds it, ``is null`` when one record lacks the value; shuffled, first ``n``."""
    cols: list[IntArray] = []
    ops: list[IntArray] = []
    values: list[FloatArray] = []

    def add(column: int, op: int, chosen: FloatArray) -> None:
        cols.append(np.full(len(chosen), column, dtype=np.int64))
        ops.append(np.full(len(chosen), op, dtype=np.int64))
        values.append(chosen.astype(np.float64))

    for column in range(syn.shape[1]):
        x = syn[:, column]
        missing = np.isnan(x)
        if int(missing.sum()) == 1:
            add(column, IS_NULL, np.array([np.nan]))
        distinct, counts = np.unique(x[~missing], return_counts=True)
        if numeric[column] and len(distinct):
            if counts[0] == 1:
                add(column, LE, distinct[:1])
            if counts[-1] == 1:
                add(column, GE, distinct[-1:])
        add(column, EQ, distinct[counts == 1])
    order = rng.permutation(sum(len(c) for c in cols))[:n]
    return _Predicates(
        np.concatenate(cols)[order, None],
        np.concatenate(ops)[order, None],
        np.concatenate(values)[order, None],
    )


def _record_predicates(
    syn: FloatArray,
    numeric: BoolArray,
    medians: FloatArray,
    n: int,
    n_cols: int,
    rng: np.random.Generator,
) -> _Predicates:
    """anonymeter's multivariate candidates: a random synthetic record and ``n_cols`` of
    its columns at random; equality on categories, ``>=`` the value on numbers above the
    column's synthetic median and ``<=`` otherwise, ``is null`` on missing values."""
    rows = rng.integers(0, syn.shape[0], n)
    cols = np.argsort(rng.random((n, syn.shape[1])), axis=1)[:, :n_cols].astype(np.int64)
    values = syn[rows[:, None], cols]
    with np.errstate(invalid="ignore"):
        op = np.where(numeric[cols], np.where(values > medians[cols], GE, LE), EQ)
    op = np.where(np.isnan(values), IS_NULL, op).astype(np.int64)
    return _Predicates(cols, op, values)


def _multivariate_predicates(
    index: _BitIndex,
    numeric: BoolArray,
    n: int,
    n_cols: int,
    max_attempts: int,
    rng: np.random.Generator,
) -> tuple[_Predicates, int]:
    """Distinct record predicates that match exactly one synthetic record, generated in
    batches until ``n`` are found or ``max_attempts`` candidates were tried."""
    syn = index.table
    with np.errstate(all="ignore"):
        medians = np.array(
            [np.nanmedian(syn[:, c]) if numeric[c] and (~np.isnan(syn[:, c])).any() else np.nan
             for c in range(syn.shape[1])],
            dtype=np.float64,
        )  # fmt: skip
    found: list[_Predicates] = []
    seen: set[tuple[tuple[int, int, float], ...]] = set()
    attempts, batch = 0, max(1_000, n)
    while len(seen) < n and attempts < max_attempts:
        size = min(batch, max_attempts - attempts)
        candidates = _record_predicates(syn, numeric, medians, size, n_cols, rng)
        hits = np.flatnonzero(_isolates(index, candidates))
        attempts += size
        kept = []
        for row in hits.tolist():
            key = candidates.key(row)
            if key not in seen:
                seen.add(key)
                kept.append(row)
                if len(seen) == n:
                    break
        found.append(candidates.take(np.array(kept, dtype=np.int64)))
        rate = max(len(hits) / size, 1e-3)
        batch = int(min(max((n - len(seen)) / rate * 1.2, 1_000), 50_000))
    predicates = _Predicates(
        np.concatenate([p.column for p in found]).reshape(-1, n_cols),
        np.concatenate([p.op for p in found]).reshape(-1, n_cols),
        np.concatenate([p.value for p in found]).reshape(-1, n_cols),
    )
    return predicates, attempts


def _random_predicates(
    syn: FloatArray, numeric: BoolArray, n: int, n_cols: int, rng: np.random.Generator
) -> _Predicates:
    """The baseline: ``n_cols`` random columns, each with a value drawn uniformly from
    the column's distinct synthetic values (its domain, no record) and a random
    operator: ``==``/``!=`` on categories, ``==, !=, >, <, >=, <=`` on numbers, ``is
    null``/``is not null`` when the drawn value is the missing one."""
    domains = []
    for column in range(syn.shape[1]):
        x = syn[:, column]
        distinct = np.unique(x[~np.isnan(x)])
        domains.append(np.append(distinct, np.nan) if np.isnan(x).any() else distinct)
    sizes = np.array([len(d) for d in domains], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.concatenate(domains)
    cols = np.argsort(rng.random((n, syn.shape[1])), axis=1)[:, :n_cols].astype(np.int64)
    pick = np.minimum((rng.random(cols.shape) * sizes[cols]).astype(np.int64), sizes[cols] - 1)
    values = flat[offsets[cols] + pick]
    op = np.where(numeric[cols], rng.integers(0, 6, cols.shape), rng.integers(0, 2, cols.shape))
    op = np.where(np.isnan(values), np.where(op == EQ, IS_NULL, NOT_NULL), op)
    return _Predicates(cols, op.astype(np.int64), values)


# ----------------------------------------------------------- control-size correction


def _singling_out_integral(n: FloatArray, w_max: FloatArray | float) -> FloatArray:
    """Integral over weights in [0, w_max] of P(w, n) = n w (1 - w)^(n - 1), the chance
    that a predicate of weight w isolates one of n records (Cohen and Nissim 2020):
    ``(1 - (n w + 1)(1 - w)^n) / (n + 1)``, written to stay accurate for small n w."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_keep = n * np.log1p(-np.minimum(w_max, 1.0))
        value = (-np.expm1(log_keep) - n * w_max * np.exp(log_keep)) / (n + 1.0)
    result: FloatArray = np.where(w_max >= 1.0, 1.0 / (n + 1.0), value)
    return result


def _fit_weight(sizes: FloatArray, successes: FloatArray) -> float:
    """Least-squares ``w_eff`` of the model ``scale * integral(n, w_eff)``.

    anonymeter fits (w_eff, scale) with ``curve_fit`` from one starting point, which can
    stop at w_eff = 1 (a curve falling as 1/(n + 1)) even when successes grow with n. The
    scale has a closed form for each w_eff, so the profile is scanned on a log grid and
    refined around its minimum: the global least-squares fit of the same model."""
    grid = np.logspace(np.log10(1e-3 / sizes.max()), 0.0, 400)

    def profile(w: FloatArray) -> FloatArray:
        curves = _singling_out_integral(sizes[None, :], w[:, None])
        scale = (curves @ successes) / np.maximum((curves * curves).sum(axis=1), 1e-300)
        sse: FloatArray = ((scale[:, None] * curves - successes[None, :]) ** 2).sum(axis=1)
        return sse

    best = int(np.argmin(profile(grid)))
    low, high = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, len(grid) - 1)])
    refined = minimize_scalar(
        lambda t: float(profile(np.array([np.exp(t)]))[0]), bounds=(low, high), method="bounded"
    )
    return float(np.exp(refined.x)) if refined.success else float(grid[best])


def _size_correction(
    control_bits: WordArray, n_control: int, n_main: int, rng: np.random.Generator
) -> float:
    """anonymeter's rescaling of control successes to the training table's size: count
    isolating predicates on random subsets of the control (10 sizes from min(1000, n)
    to n, 5 repeats each), fit ``scale * integral(n, w_eff)`` and return
    ``f(n_main) / f(n_control)``."""
    sizes = np.linspace(min(_CORRECTION_MIN_ROWS, n_control), n_control, _CORRECTION_SIZES)
    xs, ys = [], []
    for size in sizes.astype(np.int64):
        for _ in range(_CORRECTION_REPEATS):
            mask = np.zeros(n_control, dtype=np.bool_)
            mask[rng.choice(n_control, int(size), replace=False)] = True
            counts = _popcount(control_bits & _pack(mask[None, :]))
            xs.append(float(size))
            ys.append(float(np.count_nonzero(counts == 1)))
    weight = _fit_weight(np.array(xs), np.array(ys))
    fitted = _singling_out_integral(np.array([n_main, n_control], dtype=np.float64), weight)
    ratio = float(fitted[0] / fitted[1]) if fitted[1] > 0 else math.nan
    return ratio if math.isfinite(ratio) and ratio > 0 else 1.0


def _subsampled_successes(
    bits: WordArray, n_rows: int, size: int, rng: np.random.Generator
) -> float:
    """Mean number of predicates isolating one row of a random ``size``-row subset."""
    successes = []
    for _ in range(_SUBSAMPLE_REPEATS):
        mask = np.zeros(n_rows, dtype=np.bool_)
        mask[rng.choice(n_rows, size, replace=False)] = True
        successes.append(np.count_nonzero(_popcount(bits & _pack(mask[None, :])) == 1))
    return float(np.mean(successes))


# ------------------------------------------------------------------------------ attacks


@ATTACKS.register("singling_out")
class SinglingOut(Attack):
    """Singling-out risk: do predicates that isolate one synthetic record isolate one
    training record more often than one holdout record?

    ``mode="multivariate"`` (default, as in anonymeter) uses conjunctions of ``n_cols``
    attributes of a synthetic record, ``"univariate"`` rare single attributes. Success
    rates are over the predicates actually found (at most ``n_attacks``); anonymeter
    divides by the number requested, which understates the risk when fewer are found
    (``details`` has the counts for either). All three tables are deduplicated first.

    Success depends on table size, so when training and holdout sizes differ:
    ``size_matching="subsample"`` (default) counts on random subsets of the larger table
    cut to the smaller's size (averaged over 10); ``"fit"`` (anonymeter's method)
    rescales the control count by a model fitted on holdout subsets and extrapolated to
    the training size. The fit is biased when it extrapolates far: with an 80/20 split,
    MST at epsilon 1 on Adult showed risks of 0.06-0.09 with intervals excluding 0 under
    "fit", against 0-0.008 under "subsample" and 0.003 with equal sizes
    (benchmarks/anonymeter_crosscheck.py). Subsampling is unbiased when nothing leaks
    but dilutes a real leak by the size ratio; a holdout as large as the training set
    avoids both compromises."""

    name = "singling_out"

    def __init__(
        self,
        mode: Mode = "multivariate",
        n_attacks: int = DEFAULT_ATTACKS,
        n_cols: int = 3,
        max_attempts: int | None = None,
        size_matching: SizeMatching = "subsample",
        confidence: float = 0.95,
        seed: int | None = None,
    ) -> None:
        if size_matching not in ("fit", "subsample"):
            raise ConfigurationError(
                f"unknown size matching {size_matching!r}", hint="use fit or subsample"
            )
        if mode not in ("univariate", "multivariate"):
            raise ConfigurationError(
                f"unknown singling-out mode {mode!r}", hint="use univariate or multivariate"
            )
        if n_attacks < 1 or n_cols < 1:
            raise ConfigurationError("n_attacks and n_cols must be positive")
        self.mode = mode
        self.n_attacks = n_attacks
        self.n_cols = n_cols
        self.max_attempts = max_attempts if max_attempts is not None else 500 * n_attacks
        self.size_matching = size_matching
        self.confidence = confidence
        self.seed = seed

    def evaluate(self, data: EvaluationData) -> RiskResult:
        tables = _Tables.build(data, data.require_holdout())
        rng = np.random.default_rng(data.seed if self.seed is None else self.seed)
        n_cols = 1 if self.mode == "univariate" else min(self.n_cols, len(data.columns))
        synthetic = tables.synthetic[rng.permutation(len(tables.synthetic))]
        if self.mode == "univariate":
            predicates = _univariate_predicates(synthetic, tables.numeric, self.n_attacks, rng)
            attempts = len(predicates)
        else:
            predicates, attempts = _multivariate_predicates(
                _BitIndex(synthetic), tables.numeric, self.n_attacks, n_cols,
                self.max_attempts, rng,
            )  # fmt: skip
        real, holdout = _BitIndex(tables.real), _BitIndex(tables.holdout)
        main_bits = _exact_matches(real, predicates)
        control_bits = _exact_matches(holdout, predicates)
        n_main_raw = int(np.count_nonzero(_popcount(main_bits) == 1))
        n_control_raw = int(np.count_nonzero(_popcount(control_bits) == 1))
        n_real, n_holdout = len(tables.real), len(tables.holdout)
        n_main, n_control, correction = float(n_main_raw), float(n_control_raw), 1.0
        if n_real != n_holdout and self.size_matching == "fit" and n_control_raw > 0:
            correction = _size_correction(control_bits, n_holdout, n_real, rng)
            n_control = min(n_control_raw * correction, float(len(predicates)))
        elif n_real > n_holdout and self.size_matching == "subsample":
            n_main = _subsampled_successes(main_bits, n_real, n_holdout, rng)
        elif n_real < n_holdout and self.size_matching == "subsample":
            n_control = _subsampled_successes(control_bits, n_holdout, n_real, rng)
        baseline = _random_predicates(synthetic, tables.numeric, self.n_attacks, n_cols, rng)
        n_baseline = int(np.count_nonzero(_match_counts(real, baseline) == 1))
        n_predicates = len(predicates)
        estimate = risk_from_rates(
            min(round(n_main), n_predicates), n_predicates,
            min(round(n_control), n_predicates), n_predicates,
            n_baseline / len(baseline) if len(baseline) else 0.0,
            self.confidence,
        )  # fmt: skip
        used, uses = (u.tolist() for u in np.unique(predicates.column, return_counts=True))
        ops, op_uses = (u.tolist() for u in np.unique(predicates.op, return_counts=True))
        details = {
            "mode": self.mode,
            "n_cols": n_cols,
            "n_attacks_requested": self.n_attacks,
            "n_predicates": len(predicates),
            "generation_attempts": int(attempts),
            "size_matching": self.size_matching,
            "n_success_main": n_main_raw,
            "n_success_control": n_control_raw,
            "control_size_correction": correction,
            "n_success_main_used": n_main,
            "n_success_control_used": n_control,
            "n_baseline_predicates": len(baseline),
            "n_success_baseline": n_baseline,
            "rows_deduplicated": {
                "synthetic": len(synthetic), "real": n_real, "holdout": n_holdout,
            },
            "operators": dict(zip((OPERATORS[o] for o in ops), op_uses, strict=True)),
            "columns_used": dict(zip((data.columns[c] for c in used), uses, strict=True)),
            "confidence_level": self.confidence,
        }  # fmt: skip
        return estimate.to_result(self.name, n_predicates, **details)


@ATTACKS.register("linkability")
class Linkability(Attack):
    """Linkability risk: can the synthetic table re-join two halves of a record?

    The columns are split into two disjoint sets ``aux_cols`` (default: the
    quasi-identifiers against the rest, else the first half of the columns against the
    second). For each target the ``n_neighbors`` nearest synthetic records are found with
    each set; a link is a synthetic record in both lists. Targets are ``n_attacks``
    training records (main) and as many holdout records (control); the baseline draws
    both neighbour lists at random."""

    name = "linkability"

    def __init__(
        self,
        n_attacks: int = DEFAULT_ATTACKS,
        n_neighbors: int = 1,
        aux_cols: tuple[Sequence[str], Sequence[str]] | None = None,
        confidence: float = 0.95,
        seed: int | None = None,
    ) -> None:
        if n_attacks < 1 or n_neighbors < 1:
            raise ConfigurationError("n_attacks and n_neighbors must be positive")
        self.n_attacks = n_attacks
        self.n_neighbors = n_neighbors
        self.aux_cols = aux_cols
        self.confidence = confidence
        self.seed = seed

    def split(self, data: EvaluationData) -> tuple[list[str], list[str]]:
        """The two column sets the attacker holds."""
        if self.aux_cols is not None:
            first, second = (list(cols) for cols in self.aux_cols)
        elif data.quasi_identifiers and len(data.quasi_identifiers) < len(data.columns):
            first = list(data.quasi_identifiers)
            second = [c for c in data.columns if c not in first]
        else:
            half = len(data.columns) // 2
            first, second = data.columns[:half], data.columns[half:]
        unknown = sorted(c for c in [*first, *second] if c not in data.kinds)
        if unknown:
            raise ConfigurationError(
                f"linkability columns not in all tables: {unknown}", hint="check aux_cols"
            )
        if not first or not second or set(first) & set(second):
            raise ConfigurationError(
                "linkability needs two non-empty, disjoint column sets",
                hint="pass aux_cols=(columns_a, columns_b) or use at least two columns",
            )
        return first, second

    def evaluate(self, data: EvaluationData) -> RiskResult:
        holdout = data.require_holdout()
        first, second = self.split(data)
        rng = np.random.default_rng(data.seed if self.seed is None else self.seed)
        synthetic = data.synthetic.iloc[rng.permutation(len(data.synthetic))]
        k = min(self.n_neighbors, len(synthetic))
        main, control = (
            frame.iloc[rng.choice(len(frame), min(self.n_attacks, len(frame)), replace=False)]
            for frame in (data.real, holdout)
        )
        (main_a, control_a), (main_b, control_b) = (
            _gower_neighbours(data, columns, synthetic, [main, control], k)
            for columns in (first, second)
        )
        n_main = int(np.count_nonzero(_linked(main_a, main_b)))
        n_control = int(np.count_nonzero(_linked(control_a, control_b)))
        random_a, random_b = (_random_neighbours(len(synthetic), len(main), k, rng) for _ in "ab")
        n_baseline = int(np.count_nonzero(_linked(random_a, random_b)))
        estimate = risk_from_rates(
            n_main, len(main), n_control, len(control), n_baseline / len(main), self.confidence
        )
        details = {
            "aux_cols": [first, second],
            "n_neighbors": k,
            "n_attacks_requested": self.n_attacks,
            "n_targets_main": len(main),
            "n_targets_control": len(control),
            "n_success_main": n_main,
            "n_success_control": n_control,
            "n_success_baseline": n_baseline,
            "distance": "gower: |x - y| / range per numeric column + 1 per categorical mismatch",
            "confidence_level": self.confidence,
        }
        return estimate.to_result(self.name, len(main), **details)


# ------------------------------------------------------------------- neighbour search


def _gower_neighbours(
    data: EvaluationData,
    columns: list[str],
    synthetic: pd.DataFrame,
    targets: list[pd.DataFrame],
    k: int,
) -> list[IntArray]:
    """Indices (into ``synthetic``'s row order) of each target's ``k`` nearest synthetic
    records by Gower distance over ``columns``: ``|x - y| / range`` per numeric column
    (range over the synthetic and all target rows; one value missing costs 1, both
    missing 0) plus 1 per categorical mismatch. Ties go to the earlier synthetic row;
    the caller shuffles the synthetic rows once, so ties are broken at random but the
    same way for both column sets."""
    frames = [synthetic, *targets]
    numeric = [c for c in columns if data.kinds[c] == "numeric"]
    categorical = [c for c in columns if data.kinds[c] != "numeric"]
    # halved: exact, so distances keep their bits, and no range overflows near 1e308
    raw = [f[numeric].to_numpy(dtype=np.float64).reshape(len(f), -1) / 2.0 for f in frames]
    spans = np.ones(len(numeric))
    for j in range(len(numeric)):
        present = np.concatenate([r[:, j] for r in raw])
        present = present[~np.isnan(present)]
        if present.size and present.max() > present.min():
            spans[j] = present.max() - present.min()
    codes = [np.zeros((len(f), len(categorical)), dtype=np.int64) for f in frames]
    for j, column in enumerate(categorical):
        categories = sorted(set().union(*(set(f[column]) for f in frames)))
        for coded, frame in zip(codes, frames, strict=True):
            coded[:, j] = pd.Categorical(frame[column], categories=categories).codes
    groups = np.unique(np.vstack(codes), axis=0, return_inverse=True)[1].ravel()
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    group = [groups[bounds[i] : bounds[i + 1]] for i in range(len(frames))]
    return [
        _nearest(raw[i], codes[i], group[i], raw[0], codes[0], group[0], spans, k)
        for i in range(1, len(frames))
    ]


def _numeric_distance(targets: FloatArray, synthetic: FloatArray, spans: FloatArray) -> FloatArray:
    """Summed ``|x - y| / range`` over numeric columns (equal differences give equal
    distances, so ties stay exact), in place in one buffer: a few passes per column."""
    total = np.zeros((len(targets), len(synthetic)))
    buffer = np.empty_like(total)
    for j in range(targets.shape[1]):
        np.subtract.outer(targets[:, j], synthetic[:, j], out=buffer)
        np.abs(buffer, out=buffer)
        buffer /= spans[j]
        t_missing, s_missing = np.isnan(targets[:, j]), np.isnan(synthetic[:, j])
        if t_missing.any() or s_missing.any():
            buffer[t_missing] = 1.0  # one value missing costs 1, both missing 0
            buffer[:, s_missing] = 1.0
            buffer[np.ix_(t_missing, s_missing)] = 0.0
        total += buffer
    return total


def _nearest(
    t_num: FloatArray,
    t_codes: IntArray,
    t_group: IntArray,
    s_num: FloatArray,
    s_codes: IntArray,
    s_group: IntArray,
    spans: FloatArray,
    k: int,
) -> IntArray:
    """``k`` nearest synthetic rows per target, exactly.

    Most targets share all their categorical values with some synthetic rows (their
    group); the numeric part of a distance is below 1 there, and any row outside the
    group is at least 1 away, so when the ``k``-th nearest in the group is closer than 1
    the group alone decides. The other targets are compared with every synthetic row."""
    n_syn = len(s_num)
    out = np.full((len(t_num), k), -1, dtype=np.int64)
    s_order = np.argsort(s_group, kind="stable")
    s_sorted = s_group[s_order]
    t_order = np.argsort(t_group, kind="stable")
    t_sorted = t_group[t_order]
    cuts = np.flatnonzero(np.diff(t_sorted)) + 1
    for members_t in np.split(t_order, cuts) if len(t_order) else []:
        g = t_group[members_t[0]]
        start, stop = np.searchsorted(s_sorted, [g, g + 1])
        members = s_order[start:stop]
        if len(members) < k:
            continue
        step = max(1, _DISTANCES_PER_BLOCK // len(members))
        for first in range(0, len(members_t), step):
            chunk = members_t[first : first + step]
            distance = _numeric_distance(t_num[chunk], s_num[members], spans)
            pick = _smallest(distance, k)
            kth = np.take_along_axis(distance, pick, axis=1).max(axis=1)
            settled = (kth < 1.0) | (len(members) == n_syn)
            out[chunk[settled]] = members[pick[settled]]
    rest = np.flatnonzero(out[:, 0] < 0)
    out[rest] = _nearest_anywhere(t_num[rest], t_codes[rest], s_num, s_codes, spans, k)
    return out


def _nearest_anywhere(
    t_num: FloatArray,
    t_codes: IntArray,
    s_num: FloatArray,
    s_codes: IntArray,
    spans: FloatArray,
    k: int,
) -> IntArray:
    """``k`` nearest synthetic rows of each target among all of them, exactly.

    The category mismatches (counted by one matrix product) are a lower bound on the
    distance, so the exact distances to the ``k`` rows with fewest mismatches bound the
    ``k``-th nearest, and only rows whose mismatches do not exceed that bound can be
    nearer or tie; only those are measured, unless too many qualify."""
    counter = MatchCounter(s_codes)
    out = np.empty((len(t_num), k), dtype=np.int64)
    step = max(1, _DISTANCES_PER_BLOCK // max(len(s_num), 1))
    for first in range(0, len(t_num), step):
        part = slice(first, first + step)
        mismatches = t_codes.shape[1] - counter.matches(t_codes[part])
        out[part] = _pruned_nearest(t_num[part], s_num, spans, mismatches, k)
    return out


def _pruned_nearest(
    t_num: FloatArray, s_num: FloatArray, spans: FloatArray, mismatches: FloatArray, k: int
) -> IntArray:
    """:func:`_nearest_anywhere` for one block of targets, given their mismatches with
    every synthetic row (ties to the lower synthetic index, as :func:`_smallest`)."""
    bound = _distance_bound(t_num, s_num, spans, mismatches, k)
    rows, columns = np.nonzero(mismatches <= bound[:, None])
    if len(rows) > _PRUNED_SHARE * mismatches.size:
        distance = _numeric_distance(t_num, s_num, spans)
        distance += mismatches
        return _smallest(distance, k)
    distance = _pair_distance(t_num[rows], s_num[columns], spans)
    distance += mismatches[rows, columns]
    order = np.lexsort((columns, distance, rows))
    firsts = np.searchsorted(rows[order], np.arange(len(t_num)))
    picked: IntArray = columns[order][firsts[:, None] + np.arange(k)].astype(np.int64)
    return np.sort(picked, axis=1)  # in index order, as _smallest gives them


def _distance_bound(
    t_num: FloatArray, s_num: FloatArray, spans: FloatArray, mismatches: FloatArray, k: int
) -> FloatArray:
    """An upper bound on each target's ``k``-th nearest distance: the ``k``-th smallest
    exact distance among the :data:`_SEEDS` rows with fewest mismatches (any rows bound
    it; these usually bound it tightly, which is what keeps the candidates few)."""
    seeds = min(max(k, _SEEDS), mismatches.shape[1])
    picks = np.argpartition(mismatches, seeds - 1, axis=1)[:, :seeds].ravel()
    rows = np.repeat(np.arange(len(t_num)), seeds)
    distance = _pair_distance(t_num[rows], s_num[picks], spans) + mismatches[rows, picks]
    bound: FloatArray = np.sort(distance.reshape(-1, seeds), axis=1)[:, k - 1]
    return bound


def _pair_distance(targets: FloatArray, synthetic: FloatArray, spans: FloatArray) -> FloatArray:
    """:func:`_numeric_distance` of aligned pairs (row ``i`` with row ``i``), with the
    same operations in the same order, so both give bit-identical distances."""
    total = np.zeros(len(targets))
    for j in range(targets.shape[1]):
        diff = np.abs(targets[:, j] - synthetic[:, j]) / spans[j]
        t_missing, s_missing = np.isnan(targets[:, j]), np.isnan(synthetic[:, j])
        diff = np.where(t_missing | s_missing, np.where(t_missing & s_missing, 0.0, 1.0), diff)
        total += diff
    return total


def _smallest(distance: FloatArray, k: int) -> IntArray:
    """Column indices of the ``k`` smallest entries per row, ties to the lower index."""
    if k == 1:
        nearest: IntArray = np.argmin(distance, axis=1)[:, None].astype(np.int64)
        return nearest
    kth = np.partition(distance, k - 1, axis=1)[:, k - 1 : k]
    below = distance < kth
    tied = distance == kth
    room = k - below.sum(axis=1, keepdims=True)
    take = below | (tied & (np.cumsum(tied, axis=1) <= room))
    return np.nonzero(take)[1].reshape(len(distance), k).astype(np.int64)


def _random_neighbours(n_syn: int, n: int, k: int, rng: np.random.Generator) -> IntArray:
    """``k`` distinct random synthetic indices per attack (the baseline's guesses)."""
    picks = rng.integers(0, n_syn, (n, k))
    while k > 1:
        ordered = np.sort(picks, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not repeated.any():
            break
        picks[repeated] = rng.integers(0, n_syn, (int(repeated.sum()), k))
    return picks.astype(np.int64)


def _linked(first: IntArray, second: IntArray) -> BoolArray:
    """Whether each target's two neighbour lists share a synthetic record."""
    shared: BoolArray = (first[:, :, None] == second[:, None, :]).any(axis=(1, 2))
    return shared
