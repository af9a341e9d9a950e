"""Suppressed categories in the output: keep them as ``<other>``, or draw again.

Discovery releases only the categories frequent enough to clear a DP threshold; the
rest become ``<other>`` (:data:`~privsynth.domain.discovery.OTHER_LABEL`), a value no
real record holds. Some users need every value to be a real category. Re-drawing is
post-processing of the generator's output (no privacy cost): rows holding ``<other>``
in any such column are replaced by fresh rows from the same model, a few rounds at
most; cells still suppressed after that are drawn from the column's other synthetic
values. The joint distribution is then the model's, conditioned on no suppressed
value, which is what such a user asks for; the counts are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from privsynth.domain.codecs import CategoricalCodec, Codes, ColumnCodec

#: what to do with the ``<other>`` of discovered categorical columns
Suppressed = Literal["keep", "resample"]
SUPPRESSED_CHOICES: Final = ("keep", "resample")
#: rounds of fresh rows before the remaining cells are drawn one by one
ROUNDS = 5


@dataclass(frozen=True)
class SuppressedReport:
    """How many output rows held a suppressed category, and what became of them."""

    rows_with_other: int
    mode: Suppressed = "keep"
    rows_redrawn: int = 0
    cells_redrawn: int = 0

    def describe(self, total: int) -> str:
        """One line for the run summary."""
        share = f"{self.rows_with_other:,} of {total:,} rows"
        if self.mode == "keep":
            return f"{share} hold <other> (keep); `suppressed='resample'` draws them again"
        return (
            f"{share} held <other>: {self.rows_redrawn:,} rows drawn again from the model, "
            f"{self.cells_redrawn:,} cells from the column's synthetic values"
        )


def other_codes(codecs: Mapping[str, ColumnCodec], label: str) -> dict[str, int]:
    """The code of ``label`` in every categorical column that has it as other label."""
    return {
        name: codec.other_code
        for name, codec in codecs.items()
        if isinstance(codec, CategoricalCodec)
        and codec.other_label == label
        and codec.other_code is not None
    }


def _suppressed_rows(codes: Mapping[str, Codes], others: Mapping[str, int]) -> np.ndarray:
    rows = len(next(iter(codes.values())))
    mask = np.zeros(rows, dtype=bool)
    for name, code in others.items():
        mask |= np.asarray(codes[name]) == code
    return mask


def count_suppressed(codes: Mapping[str, Codes], others: Mapping[str, int]) -> SuppressedReport:
    """The rows holding a suppressed category (for ``keep``)."""
    if not others or not codes:
        return SuppressedReport(0)
    return SuppressedReport(int(_suppressed_rows(codes, others).sum()))


def resample_suppressed(
    codes: Mapping[str, Codes],
    others: Mapping[str, int],
    draw: Callable[[int], Mapping[str, Codes]],
    rng: np.random.Generator,
) -> tuple[dict[str, Codes], SuppressedReport]:
    """``codes`` with every suppressed category drawn again (see the module docstring)."""
    out = {name: np.array(values, copy=True) for name, values in codes.items()}
    if not others or not out:
        return out, SuppressedReport(0, "resample")
    bad = np.flatnonzero(_suppressed_rows(out, others))
    report_rows = len(bad)
    for _ in range(ROUNDS):
        if not len(bad):
            break
        fresh = draw(2 * len(bad) + 16)
        usable = np.flatnonzero(~_suppressed_rows(fresh, others))[: len(bad)]
        for name, values in out.items():
            values[bad[: len(usable)]] = np.asarray(fresh[name])[usable]
        bad = bad[len(usable) :]
    redrawn_rows = report_rows - len(bad)
    cells = sum(_redraw_cells(out[name], code, bad, rng) for name, code in others.items())
    return out, SuppressedReport(report_rows, "resample", redrawn_rows, cells)


def _redraw_cells(column: Codes, other: int, rows: np.ndarray, rng: np.random.Generator) -> int:
    """Suppressed cells among ``rows`` drawn from the column's other synthetic values."""
    targets = rows[column[rows] == other]
    pool = column[column != other]
    if not len(targets) or not len(pool):
        return 0
    column[targets] = rng.choice(pool, size=len(targets))
    return len(targets)
