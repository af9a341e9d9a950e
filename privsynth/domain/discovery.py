"""Differentially private domain discovery: kinds, categories and bounds, paid with rho.

Used for every column whose schema entry is incomplete (or when no schema is given).
Nothing is read from the data except through :class:`~privsynth.mechanisms.Mechanisms`:

* kind: noisy counts of how many cells parse as numbers, integers, ISO dates, long
  text, plus the number of distinct values (one record moves each by at most 1);
* categories: thresholded Gaussian release, so a value held by a handful of records
  is released only with probability ``delta`` (rare categories never leak);
* numeric bounds: a noisy histogram over a fixed logarithmic grid of magnitudes,
  keeping the outermost bins that clear a threshold;
* date bounds: a noisy histogram of years over a fixed public range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.accounting.tails import release_threshold
from privsynth.domain.codecs import parse_datetimes, parse_numbers
from privsynth.errors import InputDataError
from privsynth.mechanisms import Mechanisms
from privsynth.schema.model import (
    AutoSpec,
    CategoricalSpec,
    ColumnSpec,
    DatetimeSpec,
    IdentifierSpec,
    NumericSpec,
    Schema,
    TextSpec,
)

#: most categories kept per discovered column (by noisy count)
MAX_DISCOVERED_CATEGORIES = 1000
#: magnitudes are binned on a grid of 2**(k/STEPS_PER_OCTAVE)
STEPS_PER_OCTAVE = 2
_K_MIN, _K_MAX = -20 * STEPS_PER_OCTAVE, 64 * STEPS_PER_OCTAVE
YEAR_RANGE = (1800, 2200)
#: share of a column's discovery budget spent on deciding its kind
KIND_SHARE = 1 / 3
#: label of the values that were too rare to release
OTHER_LABEL = "<other>"
#: chance that any empty bin of a histogram clears the threshold by noise alone
FALSE_BIN_RATE = 1e-3
_FEATURES = ("rows", "missing", "non_numeric", "non_integer", "non_date", "long_text", "distinct")
#: L2 norm of one record's contribution to the feature counts: at most five ones
#: (its row, and e.g. non-numeric, non-date, long text and a new distinct value)
_FEATURE_SENSITIVITY = math.sqrt(5.0)


@dataclass
class DiscoveryReport:
    """What discovery released (all DP outputs, safe to show)."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def discover(
    frame: pd.DataFrame,
    schema: Schema,
    mechanisms: Mechanisms,
    rho: float,
    delta: float,
    units: pd.Series | None = None,
) -> tuple[Schema, DiscoveryReport]:
    """Complete every incomplete column of ``schema`` with DP, spending ``rho`` and
    at most ``delta`` (additive) in total. ``units`` holds each row's privacy-unit id
    (``None``: every row is its own unit)."""
    todo = schema.needs_discovery()
    report = DiscoveryReport()
    if not todo:
        return schema, report
    share_rho, share_delta = rho / len(todo), delta / len(todo)
    columns = dict(schema.columns)
    for name, fields in todo.items():
        spec = columns[name]
        column_rho = share_rho
        if isinstance(spec, AutoSpec):
            spec = _detect_kind(frame[name], name, spec, mechanisms, share_rho * KIND_SHARE)
            column_rho = share_rho * (1.0 - KIND_SHARE)
        if spec.missing_domain():
            column = _Column(name, frame[name], units)
            spec = _discover_domain(column, spec, mechanisms, column_rho, share_delta)
            _warn_if_empty(name, spec, report)
        columns[name] = spec
        report.columns[name] = fields
    return replace(schema, columns=columns), report


@dataclass(frozen=True)
class _Column:
    """One column's values, and the privacy unit of each row (if any)."""

    name: str
    values: pd.Series
    units: pd.Series | None

    def key_counts(self) -> dict[str, int]:
        """How many units hold each value: a unit counts once per value, so one unit
        changes each count by at most one (what set release needs)."""
        present = self.values.notna().to_numpy()
        keys = pd.Series(self.values.to_numpy()[present]).astype(str)
        if self.units is not None:
            units = pd.Series(self.units.to_numpy()[present]).astype(str)
            keys = pd.DataFrame({"key": keys, "unit": units}).drop_duplicates()["key"]
        return {str(key): int(count) for key, count in keys.value_counts().items()}


def _features(values: pd.Series) -> npt.NDArray[np.int64]:
    """Counts behind the kind decision (see ``_FEATURE_SENSITIVITY``)."""
    present = values.dropna().astype(str)
    numbers = pd.Series(parse_numbers(present), index=present.index)
    dates = parse_datetimes(present, None)
    counts = [
        len(values),
        int(values.isna().sum()),
        int(numbers.isna().sum()),
        int((numbers.notna() & (numbers != np.round(numbers))).sum()),
        int(dates.isna().sum()),
        int((present.str.split().str.len() >= 5).sum()),
        int(present.nunique()),
    ]
    return np.array(counts, dtype=np.int64)


def _detect_kind(
    values: pd.Series, name: str, spec: ColumnSpec, mechanisms: Mechanisms, rho: float
) -> ColumnSpec:
    """Majority votes on noisy counts: robust when the noise is large (small data or
    small epsilon), where tight ratios would flip at random."""
    released = mechanisms.gaussian_counts(
        _features(values), rho, f"discover kind of {name!r}", sensitivity=_FEATURE_SENSITIVITY
    )
    noisy = dict(zip(_FEATURES, np.maximum(released.values, 0.0), strict=True))
    half = max(noisy["rows"] - noisy["missing"], 1.0) / 2.0
    nullable = bool(noisy["missing"] > 3.0 * released.sigma)
    if noisy["non_numeric"] < half:
        integer = bool(noisy["non_integer"] < (2.0 * half - noisy["non_numeric"]) / 2.0)
        return NumericSpec(integer=integer, nullable=nullable)
    if noisy["non_date"] < half:
        return DatetimeSpec(nullable=nullable)
    if noisy["long_text"] > half:
        return TextSpec()
    if noisy["distinct"] > half:
        return IdentifierSpec()
    return CategoricalSpec(nullable=nullable)


def _discover_domain(
    column: _Column, spec: ColumnSpec, mechanisms: Mechanisms, rho: float, delta: float
) -> ColumnSpec:
    name, values = column.name, column.values
    purpose = f"discover domain of {name!r}"
    if isinstance(spec, CategoricalSpec):
        released = mechanisms.frequent_keys(column.key_counts(), rho, delta, purpose)
        top = sorted(released, key=lambda key: -released[key])[:MAX_DISCOVERED_CATEGORIES]
        other = spec.other_label or OTHER_LABEL
        return spec.with_fields(categories=tuple(sorted(top)), other_label=other)
    if isinstance(spec, NumericSpec):
        low, high = _numeric_bounds(values, name, mechanisms, rho, purpose)
        if spec.integer:
            low, high = math.floor(low), math.ceil(high)
        return spec.with_fields(
            min=spec.min if spec.min is not None else low,
            max=spec.max if spec.max is not None else high,
        )
    if isinstance(spec, DatetimeSpec):
        first, last = _year_bounds(values, name, spec.format, mechanisms, rho, purpose)
        return spec.with_fields(
            min=spec.min or f"{first}-01-01T00:00:00", max=spec.max or f"{last}-12-31T23:59:59"
        )
    return spec


def _warn_if_empty(name: str, spec: ColumnSpec, report: DiscoveryReport) -> None:
    if isinstance(spec, CategoricalSpec) and not spec.categories:
        report.warnings.append(
            f"column {name!r}: no category is frequent enough to release at this budget; "
            f"every value becomes {spec.other_label!r}"
        )


def _threshold(sigma: float, bins: int) -> float:
    """A noisy count above this is, with probability ``1 - FALSE_BIN_RATE`` over all
    ``bins``, not an empty bin (exact discrete-Gaussian tail)."""
    return float(release_threshold(sigma, FALSE_BIN_RATE / bins, count=0))


def _noisy_extremes(
    bin_ids: npt.NDArray[np.int64],
    n_bins: int,
    mechanisms: Mechanisms,
    rho: float,
    purpose: str,
) -> tuple[int, int] | None:
    """Indices of the first and last bins whose noisy count clears the threshold."""
    counts = np.bincount(bin_ids, minlength=n_bins)
    released = mechanisms.gaussian_counts(counts, rho, purpose)
    passing = np.flatnonzero(released.values > _threshold(released.sigma, n_bins))
    if passing.size == 0:
        return None
    return int(passing[0]), int(passing[-1])


def _magnitude_edges() -> npt.NDArray[np.float64]:
    """Ordered public edges: -2**(K/4) .. -2**(k/4), 0, 2**(k/4) .. 2**(K/4)."""
    powers = 2.0 ** (np.arange(_K_MIN, _K_MAX + 1) / STEPS_PER_OCTAVE)
    return np.concatenate([-powers[::-1], [0.0], powers])


def _numeric_bounds(
    values: pd.Series, name: str, mechanisms: Mechanisms, rho: float, purpose: str
) -> tuple[float, float]:
    numbers = parse_numbers(values)
    numbers = numbers[~np.isnan(numbers)]
    edges = _magnitude_edges()
    zero = len(edges) // 2  # edges[zero] == 0
    # bins: [edges[i], edges[i+1]) below zero, the point 0, (edges[j-1], edges[j]] above
    ids = np.where(
        numbers < 0,
        np.searchsorted(edges, numbers, side="right") - 1,
        np.searchsorted(edges, numbers, side="left"),
    )
    ids = np.where(numbers == 0, zero, np.clip(ids, 0, len(edges) - 1))
    found = _noisy_extremes(ids.astype(np.int64), len(edges), mechanisms, rho, purpose)
    if found is None:
        raise _undiscoverable(name, "min and max")
    lower = [*edges[:zero], 0.0, *edges[zero:-1]]
    upper = [*edges[1 : zero + 1], 0.0, *edges[zero + 1 :]]
    return float(lower[found[0]]), float(upper[found[1]])


def _year_bounds(
    values: pd.Series,
    name: str,
    fmt: str | None,
    mechanisms: Mechanisms,
    rho: float,
    purpose: str,
) -> tuple[int, int]:
    stamps = parse_datetimes(values, fmt).dropna()
    first, last = YEAR_RANGE
    years = (np.clip(stamps.dt.year.to_numpy(dtype=np.int64), first, last) - first).astype(np.int64)
    found = _noisy_extremes(years, last - first + 1, mechanisms, rho, purpose)
    if found is None:
        raise _undiscoverable(name, "min and max dates")
    return first + found[0], first + found[1]


def _undiscoverable(name: str, what: str) -> InputDataError:
    return InputDataError(
        f"column {name!r}: too few values to discover its {what} privately at this budget "
        "(the discovery budget was spent)",
        hint=f"declare its {what} in a schema (--schema), or raise --epsilon",
    )
