"""Data quality told with differential privacy: how much of the input did not fit.

A run never fails on one record's content: malformed rows are left out, and cells
that the domain cannot represent are modelled as missing or imputed
(:func:`~privsynth.domain.table.encode_columns`). The user still deserves to know
when a declared category list misses a common value or a file is half Latin-1, but
an exact count (or even whether a warning appears) would be a free counting query.
So the counts are released once, with discrete Gaussian noise paid from the run's
budget (a small share, :data:`QUALITY_SHARE`), and a warning appears only when a
noisy count clears a threshold that pure noise crosses with probability
:data:`FALSE_WARNING_RATE`. With ``PRIVSYNTH_DEBUG=1`` the exact counts are added,
marked as not private.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from privsynth.dp.accounting.tails import release_threshold
from privsynth.dp.mechanisms import Mechanisms, NoisyCounts
from privsynth.errors import InputDataError, debug_enabled

#: chance that noise alone raises one quality warning
FALSE_WARNING_RATE = 1e-3
_ROW_KEYS = ("rows", "malformed_rows", "undecodable_rows")


@dataclass(frozen=True)
class QualityCounts:
    """Exact, private counts of what did not fit; released only by :func:`release`."""

    rows: int
    invalid: Mapping[str, int]
    #: rows left out for another number of fields than the header (per-row runs only)
    malformed_rows: int = 0
    #: rows left out for bytes that are not UTF-8 (per-row runs only)
    undecodable_rows: int = 0
    #: columns whose invalid cells become the missing category (the others are imputed)
    nullable: frozenset[str] = frozenset()

    def vector(self) -> npt.NDArray[np.int64]:
        counts = [self.rows, self.malformed_rows, self.undecodable_rows, *self.invalid.values()]
        return np.array(counts, dtype=np.int64)

    @property
    def sensitivity(self) -> float:
        """L2 change from one row: its own count, plus either one left-out reason or
        one invalid cell per column."""
        return math.sqrt(1.0 + max(1, len(self.invalid)))


@dataclass
class QualityReport:
    """The noisy counts (safe to show) and the warnings they justify."""

    #: noisy ``rows``, ``malformed_rows`` and ``undecodable_rows``
    rows: dict[str, float] = field(default_factory=dict)
    #: noisy count of invalid cells per modelled column
    invalid: dict[str, float] = field(default_factory=dict)
    sigma: float = 0.0
    warnings: list[str] = field(default_factory=list)
    #: exact counts, only with ``PRIVSYNTH_DEBUG=1``: shown, never recorded
    debug: list[str] = field(default_factory=list)


def release(
    counts: QualityCounts, mechanisms: Mechanisms, rho: float, source: str
) -> QualityReport:
    """Release ``counts`` with noise; warn where they clear the threshold; refuse a
    file whose left-out rows outnumber its readable ones."""
    released = mechanisms.gaussian_counts(
        counts.vector(), rho, "data quality counts", sensitivity=counts.sensitivity
    )
    values = released.values.tolist()
    report = QualityReport(
        dict(zip(_ROW_KEYS, values[:3], strict=True)),
        dict(zip(counts.invalid, values[3:], strict=True)),
        released.sigma,
    )
    limit = release_threshold(released.sigma, FALSE_WARNING_RATE, count=0)
    _refuse_unreadable(report.rows, limit, released, source)
    report.warnings += _row_warnings(report, limit)
    report.warnings += _column_warnings(report, limit, counts.nullable)
    if debug_enabled():
        report.debug.append(_exact(counts))
    return report


def _about(value: float, sigma: float) -> str:
    return f"about {max(0, round(value)):,} (DP estimate, noise σ={sigma:.3g})"


def _exact(counts: QualityCounts) -> str:
    invalid = ", ".join(f"{name!r}: {count}" for name, count in counts.invalid.items())
    return (
        f"exact data quality counts (PRIVSYNTH_DEBUG=1: NOT PRIVATE, not recorded): "
        f"{counts.rows} rows read, {counts.malformed_rows} with another number of fields, "
        f"{counts.undecodable_rows} not UTF-8; invalid cells: {invalid or 'none'}"
    )


def _refuse_unreadable(
    noisy: dict[str, float], limit: float, released: NoisyCounts, source: str
) -> None:
    left_out = noisy["malformed_rows"] + noisy["undecodable_rows"]
    if left_out > limit and left_out > noisy["rows"]:
        raise InputDataError(
            f"most rows of {source} could not be read (DP estimate: {max(0, round(left_out)):,} "
            f"left out, {max(0, round(noisy['rows'])):,} read, noise σ={released.sigma:.3g})",
            hint="check that it is UTF-8 CSV with one value per header column "
            "(e.g. iconv -f latin1 -t utf-8)",
        )


def _row_warnings(report: QualityReport, limit: float) -> list[str]:
    noisy, sigma = report.rows, report.sigma
    found = []
    if noisy["rows"] <= limit:
        found.append(
            f"the input has few rows for this ε and privacy unit: {_about(noisy['rows'], sigma)}; "
            "the output is mostly noise"
        )
    reasons = {
        "malformed_rows": "had another number of fields than the header (quote fields "
        "that contain commas)",
        "undecodable_rows": "were not valid UTF-8 (re-encode the file, e.g. iconv -f latin1 "
        "-t utf-8)",
    }
    for key, reason in reasons.items():
        if noisy[key] > limit:
            found.append(f"{_about(noisy[key], sigma)} rows {reason} and were left out")
    return found


def _column_warnings(report: QualityReport, limit: float, nullable: frozenset[str]) -> list[str]:
    treated = {True: "modelled as missing", False: "imputed at random"}
    return [
        f"column {name!r}: {_about(value, report.sigma)} values were missing, unparseable or "
        f"outside the declared domain and were {treated[name in nullable]} (fix: declare "
        "their categories or bounds, an `other_label`, or `nullable: true` in the schema)"
        for name, value in report.invalid.items()
        if value > limit
    ]
