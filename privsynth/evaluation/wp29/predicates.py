"""Singling-out predicates: conjunctions of per-column conditions, held as arrays.

A predicate never becomes a query string, so column names may hold spaces, dashes or
keywords; the tables are float matrices (numbers, NaN = missing, categories as codes)
and a condition is ``(column, operator, value)``. The operators are anonymeter's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: conditions of a predicate, as in anonymeter: eq/ne/gt/lt/ge/le and null tests
OPERATORS = ("eq", "ne", "gt", "lt", "ge", "le", "is_null", "not_null")
EQ, NE, GT, LT, GE, LE, IS_NULL, NOT_NULL = range(8)

#: a predicate's identity: its conditions, in column order
Key = tuple[tuple[int, int, float], ...]


@dataclass(frozen=True)
class Predicates:
    """Conjunctions of conditions ``column op value``, one predicate per row."""

    column: IntArray
    op: IntArray
    value: FloatArray

    def __len__(self) -> int:
        return len(self.column)

    @property
    def width(self) -> int:
        """Conditions per predicate."""
        return int(self.column.shape[1])

    def take(self, rows: IntArray) -> Predicates:
        """The predicates at ``rows``."""
        return Predicates(self.column[rows], self.op[rows], self.value[rows])

    def key(self, row: int) -> Key:
        """A predicate's identity: its conditions, in column order."""
        values = np.nan_to_num(self.value[row]).tolist()
        return tuple(
            sorted(zip(self.column[row].tolist(), self.op[row].tolist(), values, strict=True))
        )

    @classmethod
    def concatenate(cls, parts: list[Predicates], width: int) -> Predicates:
        """All predicates of ``parts`` (each ``width`` conditions wide), in order."""
        return cls(
            np.concatenate([p.column for p in parts]).reshape(-1, width),
            np.concatenate([p.op for p in parts]).reshape(-1, width),
            np.concatenate([p.value for p in parts]).reshape(-1, width),
        )


def value_bounds(op: IntArray, value: FloatArray) -> tuple[FloatArray, FloatArray]:
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


def unique_conditions(
    column: IntArray, op: IntArray, value: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """Distinct conditions among flat arrays and, per input, the index of its own (so
    a condition shared by many predicates is evaluated once)."""
    clean = np.where((op == IS_NULL) | (op == NOT_NULL), 0.0, value) + 0.0
    order = np.lexsort((clean.view(np.int64), op, column))
    c, o, v = column[order], op[order], clean[order]
    new = np.concatenate([[True], (c[1:] != c[:-1]) | (o[1:] != o[:-1]) | (v[1:] != v[:-1])])
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    first = order[new]
    return column[first], op[first], clean[first], inverse
