"""The predicates a singling-out attacker tries, and the baseline's random ones.

All are drawn from the synthetic table alone (anonymeter's attacker model): rare
single attributes (univariate), conjunctions of a synthetic record's attributes that
isolate it (multivariate), and for the baseline random conditions over each column's
synthetic domain.
"""

from __future__ import annotations

import numpy as np

from privsynth.evaluation.wp29.index import BitIndex, isolates
from privsynth.evaluation.wp29.predicates import (
    EQ,
    GE,
    IS_NULL,
    LE,
    NOT_NULL,
    BoolArray,
    FloatArray,
    IntArray,
    Key,
    Predicates,
)


def univariate_predicates(
    syn: FloatArray, numeric: BoolArray, n: int, rng: np.random.Generator
) -> Predicates:
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
    return Predicates(
        np.concatenate(cols)[order, None],
        np.concatenate(ops)[order, None],
        np.concatenate(values)[order, None],
    )


def record_predicates(
    syn: FloatArray,
    numeric: BoolArray,
    medians: FloatArray,
    n: int,
    n_cols: int,
    rng: np.random.Generator,
) -> Predicates:
    """anonymeter's multivariate candidates: a random synthetic record and ``n_cols`` of
    its columns at random; equality on categories, ``>=`` the value on numbers above the
    column's synthetic median and ``<=`` otherwise, ``is null`` on missing values."""
    rows = rng.integers(0, syn.shape[0], n)
    cols = np.argsort(rng.random((n, syn.shape[1])), axis=1)[:, :n_cols].astype(np.int64)
    values = syn[rows[:, None], cols]
    with np.errstate(invalid="ignore"):
        op = np.where(numeric[cols], np.where(values > medians[cols], GE, LE), EQ)
    op = np.where(np.isnan(values), IS_NULL, op).astype(np.int64)
    return Predicates(cols, op, values)


def _medians(syn: FloatArray, numeric: BoolArray) -> FloatArray:
    """Each numeric column's synthetic median (NaN for categories and empty columns)."""
    with np.errstate(all="ignore"):
        return np.array(
            [np.nanmedian(syn[:, c]) if numeric[c] and (~np.isnan(syn[:, c])).any() else np.nan
             for c in range(syn.shape[1])],
            dtype=np.float64,
        )  # fmt: skip


def multivariate_predicates(
    index: BitIndex,
    numeric: BoolArray,
    n: int,
    n_cols: int,
    max_attempts: int,
    rng: np.random.Generator,
) -> tuple[Predicates, int]:
    """Distinct record predicates that match exactly one synthetic record (the table of
    ``index``), generated in batches until ``n`` are found or ``max_attempts``
    candidates were tried; also returns the number tried."""
    syn = index.table
    medians = _medians(syn, numeric)
    found: list[Predicates] = []
    seen: set[Key] = set()
    attempts, batch = 0, max(1_000, n)
    while len(seen) < n and attempts < max_attempts:
        size = min(batch, max_attempts - attempts)
        candidates = record_predicates(syn, numeric, medians, size, n_cols, rng)
        hits = np.flatnonzero(isolates(index, candidates))
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
    return Predicates.concatenate(found, n_cols), attempts


def random_predicates(
    syn: FloatArray, numeric: BoolArray, n: int, n_cols: int, rng: np.random.Generator
) -> Predicates:
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
    return Predicates(cols, op.astype(np.int64), values)
