"""Differentially private domain discovery: kinds, categories and bounds, paid with rho.

Used for every column whose schema entry is incomplete (or when no schema is given).
Nothing is read from the data except through :class:`~privsynth.dp.mechanisms.Mechanisms`:

* kind: noisy counts of how many cells parse as numbers, integers, ISO dates, long
  text, look like codes (leading zeros, letter-prefixed: "02134", "V57", "E885.9") or
  like identifiers (e-mail, SSN, phone, URL, IP shapes), plus the number of distinct
  values (one record moves each by at most 1). A header is a hint, never the decision:
  a column named like an identifier (``*_id``, ``mrn``) is one only when most of its
  values are distinct or look like identifiers; otherwise it is a categorical code;
  numbers that are codes (by their shape or a code-like header) are categorical too;
* categories: thresholded Gaussian release, so a value held by a handful of records
  is released only with probability ``delta`` (rare categories never leak);
* numeric bounds: a noisy histogram over a fixed logarithmic grid of magnitudes,
  keeping the outermost bins that clear a threshold;
* date bounds: a noisy histogram of years over a fixed public range.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.domain.code_systems import code_system
from privsynth.domain.codecs import parse_datetimes, parse_numbers
from privsynth.domain.hierarchy import node_domain, release_nodes
from privsynth.dp.accounting.tails import release_threshold
from privsynth.dp.mechanisms import Mechanisms
from privsynth.errors import InputDataError
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
_FEATURES = (
    "rows", "missing", "non_numeric", "non_integer", "non_date", "long_text", "distinct",
    "code_like", "identifier_like",
)  # fmt: skip
#: L2 norm of one record's contribution to the feature counts: at most six ones (its
#: row, and e.g. non-numeric, non-date, long text, a new distinct value, and one of
#: code-like / identifier-like, whose patterns exclude each other)
_FEATURE_SENSITIVITY = math.sqrt(6.0)
#: a column named like an identifier is a code when it has at most this many distinct
#: values, or this share of its rows (admission type ids, facility ids, DRG codes)
CODE_MAX_VALUES = 500
CODE_MAX_SHARE = 0.05
#: cells shaped like codes: a leading zero ("02134", "0042") or a letter then digits
#: ("V57", "E885.9", "A41.9", "MUS009")
_CODE_LIKE = re.compile(r"0\d+(?:\.\d+)?|[A-Za-z]{1,3}\d{2,5}(?:\.\d{1,4})?")
#: cells shaped like direct identifiers: e-mail, SSN, telephone, URL, IPv4
IDENTIFIER_LIKE = re.compile(
    r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|\d{3}-\d{2}-\d{4}|\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}|"
    r"(?:https?://|www\.)\S+|\d{1,3}(?:\.\d{1,3}){3}"
)
#: headers naming code systems: numbers in these columns are labels, not quantities
_CODE_HEADER = re.compile(
    r"(?:^|[^a-z])(?:code|codes|icd\d*|cpt|hcpcs|ndc|npi|dx|diag\w*|drg|zip\w*|postal|"
    r"fips|id|ids|type|class|category|status)(?:$|[^a-z])",
    re.IGNORECASE,
)


@dataclass
class DiscoveryReport:
    """What discovery released (all DP outputs, safe to show)."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: columns whose kind was decided from values, and why (DP evidence; shown in the
    #: run summary with the schema line that would change the decision)
    kinds: dict[str, str] = field(default_factory=dict)


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
            spec, why = _detect_kind(frame[name], name, spec, mechanisms, share_rho * KIND_SHARE)
            report.kinds[name] = why
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
    stripped = present.str.strip()
    counts = [
        len(values),
        int(values.isna().sum()),
        int(numbers.isna().sum()),
        int((numbers.notna() & (numbers != np.round(numbers))).sum()),
        int(dates.isna().sum()),
        int((present.str.split().str.len() >= 5).sum()),
        int(present.nunique()),
        int(stripped.str.fullmatch(_CODE_LIKE).sum()),
        int(stripped.str.fullmatch(IDENTIFIER_LIKE).sum()),
    ]
    return np.array(counts, dtype=np.int64)


@dataclass(frozen=True)
class _Evidence:
    """The released feature counts of one column, and the noise they carry."""

    counts: dict[str, float]
    sigma: float

    @property
    def present(self) -> float:
        return max(self.counts["rows"] - self.counts["missing"], 1.0)

    def most(self, feature: str) -> bool:
        """Whether more than half of the present cells have ``feature``."""
        return self.counts[feature] > self.present / 2.0

    def some(self, feature: str) -> bool:
        """Whether the count clears its noise (three standard deviations)."""
        return self.counts[feature] > 3.0 * self.sigma

    def is_text(self) -> bool:
        """Long values, and too many of them for a list of labels."""
        return self.most("long_text") and self.many_values()

    def many_values(self) -> bool:
        """Clearly too many distinct values for a code (an identifier's or free text's
        signature): above the limit by three standard deviations, so that noise alone
        never turns a code into dropped tokens."""
        limit = min(CODE_MAX_VALUES, CODE_MAX_SHARE * self.present)
        return self.counts["distinct"] > limit + 3.0 * self.sigma


def _detect_kind(
    values: pd.Series, name: str, spec: ColumnSpec, mechanisms: Mechanisms, rho: float
) -> tuple[ColumnSpec, str]:
    """The kind of a column and the reason, by majority votes on noisy counts: robust
    when the noise is large (small data or small epsilon), where tight ratios would flip
    at random. The header (public) is only a hint (see the module docstring)."""
    released = mechanisms.gaussian_counts(
        _features(values), rho, f"discover kind of {name!r}", sensitivity=_FEATURE_SENSITIVITY
    )
    evidence = _Evidence(
        dict(zip(_FEATURES, np.maximum(released.values, 0.0), strict=True)), released.sigma
    )
    nullable = bool(evidence.some("missing"))
    if spec.role == "direct_identifier":
        return _identifier_or_code(evidence, nullable)
    if spec.role == "free_text" and not evidence.is_text():
        return CategoricalSpec(nullable=nullable), "labels, not free text (few distinct values)"
    return _kind_from_values(evidence, name, nullable)


def _identifier_or_code(evidence: _Evidence, nullable: bool) -> tuple[ColumnSpec, str]:
    """A column named like an identifier: one only when its values say so too."""
    if evidence.most("identifier_like"):
        return IdentifierSpec(), "identifier: header and values shaped like identifiers"
    if evidence.many_values():
        return IdentifierSpec(), "identifier: header and many distinct values"
    return CategoricalSpec(nullable=nullable), "categorical code: few distinct values"


def is_code_header(name: str) -> bool:
    """Whether a header names a code ("APR.DRG.Code", "admissionTypeId", "zip3")."""
    return bool(_CODE_HEADER.search(re.sub(r"([a-z])([A-Z])", r"\1 \2", name)))


def _kind_from_values(evidence: _Evidence, name: str, nullable: bool) -> tuple[ColumnSpec, str]:
    if not evidence.most("non_numeric"):
        if evidence.some("code_like") or is_code_header(name):
            return CategoricalSpec(nullable=nullable), "categorical code: numbers that are codes"
        numeric_cells = evidence.present - evidence.counts["non_numeric"]
        integer = bool(evidence.counts["non_integer"] < numeric_cells / 2.0)
        return NumericSpec(integer=integer, nullable=nullable), "numeric"
    if not evidence.most("non_date"):
        return DatetimeSpec(nullable=nullable), "dates"
    if evidence.is_text():
        return TextSpec(), "free text: long, mostly distinct values"
    if evidence.most("identifier_like"):
        return IdentifierSpec(), "identifier: values shaped like identifiers"
    if evidence.most("distinct"):
        return IdentifierSpec(), "identifier: most values distinct"
    return CategoricalSpec(nullable=nullable), "categorical"


def _discover_domain(
    column: _Column, spec: ColumnSpec, mechanisms: Mechanisms, rho: float, delta: float
) -> ColumnSpec:
    name, values = column.name, column.values
    purpose = f"discover domain of {name!r}"
    if isinstance(spec, CategoricalSpec) and spec.code_system:
        system = code_system(spec.code_system)
        nodes = release_nodes(values, column.units, system, mechanisms, (rho, delta), purpose)
        return spec.with_fields(categories=node_domain(system, nodes), other_label=None)
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
        hint=f"declare its {what} in a `schema`, or raise `epsilon`",
    )
