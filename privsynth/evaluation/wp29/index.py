"""Which rows of a table each predicate matches, as packed bitsets.

Each condition is evaluated once per table as a bitset (row ``p`` is bit ``p % 64`` of
word ``p // 64``) and a predicate is an AND of bitsets, so millions of candidate
predicates cost a few gathers each rather than a pass over the table. Most conditions
need no pass at all: :class:`BitIndex` keeps prefix bitsets of each column's sorted
values, from which a range is two gathers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from privsynth.evaluation.wp29.predicates import (
    GE,
    GT,
    IS_NULL,
    LE,
    LT,
    NE,
    NOT_NULL,
    BoolArray,
    FloatArray,
    IntArray,
    Predicates,
    unique_conditions,
    value_bounds,
)

WordArray = npt.NDArray[np.uint64]

#: booleans evaluated at once when bitsets are built (bounds memory)
_CELLS_PER_BLOCK = 1 << 23
#: prefix bitsets kept per column of a table (bounds memory)
_MAX_BOUNDARIES = 256
#: words (64 rows each) of the shuffled synthetic table used to reject candidates early
_SCREEN_WORDS = 32
#: predicates ANDed at once (bounds memory to this many rows of bitset words)
_PREDICATES_PER_BLOCK = 4096
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
_BITWISE_COUNT = getattr(np, "bitwise_count", None)  # numpy >= 2.0


def pack(rows: BoolArray) -> WordArray:
    """Boolean rows as bitsets: row ``p`` of the table is bit ``p % 64`` of word ``p // 64``."""
    n_words = max(1, -(-rows.shape[1] // 64))
    packed = np.zeros((rows.shape[0], n_words * 8), dtype=np.uint8)
    packed[:, : -(-rows.shape[1] // 8)] = np.packbits(rows, axis=1, bitorder="little")
    return packed.view(np.dtype("<u8")).astype(np.uint64, copy=False)


def popcount(words: WordArray) -> IntArray:
    """Set bits per row."""
    if _BITWISE_COUNT is not None:
        counted: IntArray = _BITWISE_COUNT(words).sum(axis=1, dtype=np.int64)
        return counted
    as_bytes = words.view(np.uint8).reshape(len(words), -1)
    looked_up: IntArray = _POPCOUNT8[as_bytes].sum(axis=1)
    return looked_up


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


class BitIndex:
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
                pack(rank[None, :] < bounds[start : start + step, None])
                for start in range(0, len(bounds), step)
            ]
            stacks.extend([*prefixes, pack(missing[None, :])])
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
        lo, hi = value_bounds(op, value)
        rows = np.flatnonzero(~exact)
        step = max(1, _CELLS_PER_BLOCK // max(self.table.shape[0], 1))
        for start in range(0, len(rows), step):
            chosen = rows[start : start + step]
            x = self.table[:, column[chosen]].T
            bits[chosen] = pack((x >= lo[chosen, None]) & (x <= hi[chosen, None]))
        ne = np.flatnonzero(op == NE)
        bits[ne] = self.prefixes[self.valid(column[ne])] & ~bits[ne]
        return bits


def _and_pairs(prefixes: WordArray, plus: IntArray, minus: IntArray) -> WordArray:
    """AND over each predicate's slots of ``prefixes[plus] & ~prefixes[minus]``."""
    acc = np.take(prefixes, plus[:, 0], axis=0) & ~np.take(prefixes, minus[:, 0], axis=0)
    for slot in range(1, plus.shape[1]):
        acc &= np.take(prefixes, plus[:, slot], axis=0)
        acc &= ~np.take(prefixes, minus[:, slot], axis=0)
    return acc


def exact_matches(index: BitIndex, predicates: Predicates) -> WordArray:
    """Bitsets of the rows each predicate matches."""
    if not len(predicates):
        return np.zeros((0, index.n_words), dtype=np.uint64)
    column, op, value, inverse = unique_conditions(
        predicates.column.ravel(), predicates.op.ravel(), predicates.value.ravel()
    )
    bits = index.exact(column, op, value)
    local = inverse.reshape(predicates.column.shape)
    acc = bits[local[:, 0]]
    for slot in range(1, predicates.width):
        acc &= bits[local[:, slot]]
    return acc


def match_counts(index: BitIndex, predicates: Predicates) -> IntArray:
    """How many rows each predicate matches."""
    counts = [np.zeros(0, dtype=np.int64)]
    for start in range(0, len(predicates), _PREDICATES_PER_BLOCK):
        chunk = np.arange(start, min(start + _PREDICATES_PER_BLOCK, len(predicates)))
        counts.append(popcount(exact_matches(index, predicates.take(chunk))))
    return np.concatenate(counts)


def isolates(index: BitIndex, predicates: Predicates) -> BoolArray:
    """Whether each predicate matches exactly one row, rejecting most candidates on a
    subsample (the first rows; the caller shuffles them) with subset bitsets first."""
    plus, minus, exact = index.pairs(predicates.column, predicates.op, predicates.value)
    ne = predicates.op == NE  # its pair is the eq one: use the empty set, a subset
    plus[ne], minus[ne], exact[ne] = index.zero, index.zero, False
    alive = np.arange(len(predicates))
    screen = min(_SCREEN_WORDS, index.n_words)
    if screen < index.n_words:
        counts = popcount(_and_pairs(index.prefixes[:, :screen], plus, minus))
        alive = alive[counts <= 1]
    counts = np.concatenate(
        [np.zeros(0, dtype=np.int64)]
        + [
            popcount(_and_pairs(index.prefixes, plus[chunk], minus[chunk]))
            for chunk in np.array_split(alive, max(1, -(-len(alive) // _PREDICATES_PER_BLOCK)))
        ]
    )
    alive, counts = alive[counts <= 1], counts[counts <= 1]
    settled = exact[alive].all(axis=1)
    result = np.zeros(len(predicates), dtype=np.bool_)
    result[alive[settled]] = counts[settled] == 1
    unsure = alive[~settled]
    if len(unsure):
        result[unsure] = match_counts(index, predicates.take(unsure)) == 1
    return result
