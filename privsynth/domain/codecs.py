"""Codecs turn one column's values into integer codes over a public domain and back.

A codec is built only from a complete, public :class:`~privsynth.schema.ColumnSpec`
(declared by the user or discovered with DP), never from the data it encodes, so
the domain a generator sees reveals nothing. Numbers and timestamps are binned;
decoding draws a value inside its bin, always within the declared bounds.

Encoding never fails on a cell's content: a cell that the domain cannot represent
(unparseable, outside the categories without an other label, or missing in a column
that is not nullable) gets the code :data:`INVALID`, and
:func:`~privsynth.domain.table.encode_columns` turns it into the null code or a random
imputation. Whether a run fails must not depend on one record.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.cells import to_numbers

Codes = npt.NDArray[np.int64]
#: default number of bins for continuous numbers
DEFAULT_BINS = 32
#: integer columns whose range has at most this many values get one bin per value
MAX_UNIT_BINS = 128
#: floats hold every whole number below this magnitude (and half-units far below it)
_EXACT_INTEGERS = float(2**52)
#: the code of a cell the domain cannot represent (see the module docstring)
INVALID = -1


def parse_numbers(values: pd.Series) -> npt.NDArray[np.float64]:
    """Floats from text, cell by cell; anything that is not a number becomes NaN."""
    return np.asarray(to_numbers(values).to_numpy(), dtype=np.float64)


def parse_datetimes(values: pd.Series, fmt: str | None) -> pd.Series:
    """Naive UTC timestamps from text, cell by cell (NaT where a cell does not parse).

    Zoned values are converted to UTC and unzoned ones read as UTC wall time, so a
    column mixing offsets, or zoned and unzoned values, parses cell by cell."""
    stamps = pd.to_datetime(
        values.astype(object), format=fmt or "ISO8601", errors="coerce", utc=True
    )
    return pd.Series(stamps.dt.tz_localize(None), index=values.index)


class ColumnCodec(ABC):
    """Maps one column to codes ``0 .. size-1`` and back."""

    def __init__(self, name: str, nullable: bool) -> None:
        self.name = name
        self.nullable = nullable

    @property
    @abstractmethod
    def size(self) -> int:
        """Number of codes (the column's domain size as the model sees it)."""

    @abstractmethod
    def labels(self) -> list[str]:
        """A public, human-readable label for each code (for reports and plots)."""

    @abstractmethod
    def encode(self, values: pd.Series) -> Codes:
        """Codes for ``values``: missing cells map to the null code if nullable, cells
        the domain cannot represent to :data:`INVALID`."""

    @abstractmethod
    def decode(self, codes: Codes, rng: np.random.Generator) -> pd.Series:
        """Values for ``codes``; continuous bins are sampled uniformly inside."""

    def _finish(self, codes: Codes, missing: npt.NDArray[np.bool_]) -> Codes:
        """Missing cells get the null code, or :data:`INVALID` when not nullable."""
        codes[missing] = self.size - 1 if self.nullable else INVALID
        return codes


class CategoricalCodec(ColumnCodec):
    """Codes: the public categories, then ``other_label`` (if any), then null (if any)."""

    def __init__(
        self, name: str, categories: list[str], other_label: str | None, nullable: bool
    ) -> None:
        super().__init__(name, nullable)
        self.categories = list(categories)
        self.other_label = other_label
        self._index = {value: i for i, value in enumerate(self.categories)}

    @property
    def size(self) -> int:
        return len(self.categories) + (self.other_label is not None) + self.nullable

    @property
    def other_code(self) -> int | None:
        return len(self.categories) if self.other_label is not None else None

    @property
    def null_code(self) -> int | None:
        return self.size - 1 if self.nullable else None

    def labels(self) -> list[str]:
        extra = [self.other_label] if self.other_label is not None else []
        return self.categories + extra + (["<missing>"] if self.nullable else [])

    def encode(self, values: pd.Series) -> Codes:
        missing = values.isna().to_numpy()
        mapped = values.astype("string").map(self._index)
        unknown = mapped.isna().to_numpy() & ~missing
        codes = np.array(mapped.fillna(INVALID), dtype=np.int64)
        codes[unknown] = self.other_code if self.other_code is not None else INVALID
        return self._finish(codes, missing)

    def decode(self, codes: Codes, rng: np.random.Generator) -> pd.Series:
        table = np.array([*self.categories, self.other_label, None], dtype=object)
        positions = codes.copy()
        if self.other_label is None:
            positions[positions >= len(self.categories)] += 1
        return pd.Series(table[positions], name=self.name, dtype=object)


@dataclass(frozen=True)
class Bins:
    """Public bins over ``[low, high]``: optional point values, then intervals."""

    points: tuple[float, ...]
    edges: npt.NDArray[np.float64]

    @property
    def count(self) -> int:
        return len(self.points) + len(self.edges) - 1


def make_bins(low: float, high: float, integer: bool, bins: int | None) -> Bins:
    """Bins from public bounds: unit bins for small integer ranges, else ``bins``
    equal-width intervals, with 0 as its own point when inside the range (counts,
    amounts and doses are often exactly zero)."""
    exact = max(abs(low), abs(high)) < _EXACT_INTEGERS  # low - 0.5 is not low itself
    if integer and bins is None and exact and high - low + 1 <= MAX_UNIT_BINS:
        return Bins((), np.arange(low - 0.5, high + 1.0, 1.0))
    count = bins or DEFAULT_BINS
    points = (0.0,) if low <= 0.0 <= high and count > 1 else ()
    if not integer:
        return Bins(points, _spaced(low, high, count - len(points) + 1))
    # integer intervals are [a, b) on whole numbers, each holding a value besides the points
    edges = np.unique(np.round(_spaced(low, high + 1.0, count - len(points) + 1)))
    kept = [edges[0]]
    for edge in edges[1:-1]:
        if _integers_between(kept[-1], edge, points) > 0:
            kept.append(edge)
    if len(kept) > 1 and _integers_between(kept[-1], edges[-1], points) == 0:
        kept.pop()
    return Bins(points, np.array([*kept, edges[-1]]))


def _spaced(low: float, high: float, count: int) -> npt.NDArray[np.float64]:
    """``count`` evenly spaced values from ``low`` to ``high``: exact at both ends,
    never decreasing (float rounding in narrow ranges), and finite even when
    ``high - low`` overflows (bounds near the largest float)."""
    if math.isfinite((high - low) * count):  # numpy multiplies the step by up to count
        spaced = np.linspace(low, high, count)
    else:
        share = np.linspace(0.0, 1.0, count)
        spaced = (1.0 - share) * low + share * high
    return np.asarray(np.maximum.accumulate(np.clip(spaced, low, high)), dtype=np.float64)


def _integers_between(a: float, b: float, points: tuple[float, ...]) -> int:
    """How many whole numbers lie in [a, b) other than ``points``."""
    inside = max(0, math.ceil(b) - math.ceil(a))
    return inside - sum(1 for p in points if a <= p < b)


class NumericCodec(ColumnCodec):
    """Clips numbers into public bounds and bins them; decodes inside the bin."""

    def __init__(
        self, name: str, low: float, high: float, integer: bool, bins: int | None, nullable: bool
    ) -> None:
        super().__init__(name, nullable)
        # + 0.0: a bound of -0.0 is 0.0 (numpy refuses the interval [0.0, -0.0])
        self.low, self.high, self.integer = float(low) + 0.0, float(high) + 0.0, integer
        self.bins = make_bins(self.low, self.high, integer, bins)

    @property
    def size(self) -> int:
        return self.bins.count + self.nullable

    def labels(self) -> list[str]:
        points = [f"{p:g}" for p in self.bins.points]
        edges = self.bins.edges
        spans = [f"[{a:g}, {b:g})" for a, b in itertools.pairwise(edges)]
        return points + spans + (["<missing>"] if self.nullable else [])

    def encode(self, values: pd.Series) -> Codes:
        return self.encode_numbers(parse_numbers(values), values.isna().to_numpy())

    def encode_numbers(
        self, numbers: npt.NDArray[np.float64], missing: npt.NDArray[np.bool_]
    ) -> Codes:
        """Codes of parsed numbers; NaN cells that were present did not parse."""
        unparsed = np.isnan(numbers) & ~missing
        clipped = np.clip(np.nan_to_num(numbers, nan=self.low), self.low, self.high)
        codes = np.searchsorted(self.bins.edges, clipped, side="right") - 1
        codes = np.clip(codes, 0, len(self.bins.edges) - 2) + len(self.bins.points)
        for index, point in enumerate(self.bins.points):
            codes[clipped == point] = index
        codes = codes.astype(np.int64)
        codes[unparsed] = INVALID
        return self._finish(codes, missing)

    def decode(self, codes: Codes, rng: np.random.Generator) -> pd.Series:
        values = self.decode_numbers(codes, rng)
        if self.integer:
            return _whole_numbers(values, self.name, self.low, self.high)
        return pd.Series(values, name=self.name)

    def decode_numbers(self, codes: Codes, rng: np.random.Generator) -> npt.NDArray[np.float64]:
        """Floats for ``codes`` (NaN for the null code), inside the public bounds."""
        points, edges = np.array(self.bins.points), self.bins.edges
        out = np.full(codes.shape, np.nan)
        is_point = codes < len(points)
        out[is_point] = points[codes[is_point]]
        interval = codes - len(points)
        inside = (interval >= 0) & (interval < len(edges) - 1)
        low, high = edges[interval[inside]], edges[interval[inside] + 1]
        if self.integer:
            out[inside] = _uniform_integers(low, high, bool(points.size), rng)
        else:
            out[inside] = rng.uniform(low, high)
        return np.asarray(np.clip(out, self.low, self.high), dtype=np.float64)


#: whole numbers of at most this magnitude fit an ``Int64`` column
_INT64_LIMIT = float(2**63)


def _whole_numbers(
    values: npt.NDArray[np.float64], name: str, low: float, high: float
) -> pd.Series:
    """Rounded values as ``Int64``, or as floats when the public bounds reach beyond the
    int64 range (DP discovery may find +-2**64): decided by the bounds, not the values."""
    rounded = pd.Series(np.round(values), name=name)
    if max(abs(low), abs(high)) < _INT64_LIMIT:
        return rounded.astype("Int64")
    return rounded


def _uniform_integers(
    low: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    skip_zero: bool,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """A whole number drawn uniformly from each [low, high), skipping 0 if it is a point."""
    first, last = np.ceil(low), np.ceil(high) - 1
    zero_inside = skip_zero & (first <= 0) & (last >= 0)
    count = np.maximum(last - first + 1 - zero_inside, 1)
    values = first + np.floor(rng.uniform(0, count))
    return np.asarray(values + (zero_inside & (values >= 0)), dtype=np.float64)


_UNIT_FORMATS = {
    "year": "%Y",
    "month": "%Y-%m",
    "day": "%Y-%m-%d",
    "hour": "%Y-%m-%dT%H:00",
    "minute": "%Y-%m-%dT%H:%M",
    "second": "%Y-%m-%dT%H:%M:%S",
}
_UNIT_SECONDS = {"day": 86_400, "hour": 3_600, "minute": 60, "second": 1}


def to_units(stamps: pd.Series, granularity: str) -> npt.NDArray[np.float64]:
    """Whole ``granularity`` units since 1970 (years and months counted as such)."""
    if granularity == "year":
        units = stamps.dt.year
    elif granularity == "month":
        units = stamps.dt.year * 12 + stamps.dt.month - 1
    else:
        seconds = (stamps - pd.Timestamp(0)).dt.total_seconds()
        units = np.floor(seconds / _UNIT_SECONDS[granularity])
    return np.asarray(units.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def from_units(units: npt.NDArray[np.float64], granularity: str) -> pd.Series:
    """Inverse of :func:`to_units` (NaN becomes NaT)."""
    valid = ~np.isnan(units)
    placeholder = {"year": 1970, "month": 1970 * 12}.get(granularity, 0)
    whole = np.where(valid, units, placeholder).astype(np.int64)
    if granularity == "year":
        stamps = pd.to_datetime(pd.DataFrame({"year": whole, "month": 1, "day": 1}))
    elif granularity == "month":
        parts = {"year": whole // 12, "month": whole % 12 + 1, "day": 1}
        stamps = pd.to_datetime(pd.DataFrame(parts))
    else:
        seconds = pd.Series(whole * _UNIT_SECONDS[granularity])
        stamps = pd.Timestamp(0) + pd.to_timedelta(seconds, unit="s")
    return stamps.where(valid)


class DatetimeCodec(ColumnCodec):
    """Timestamps as integer units at a public granularity, binned like numbers."""

    def __init__(
        self,
        name: str,
        low: pd.Timestamp,
        high: pd.Timestamp,
        granularity: str,
        fmt: str | None,
        bins: int | None,
        nullable: bool,
    ) -> None:
        super().__init__(name, nullable)
        self.granularity, self.format = granularity, fmt
        bounds = to_units(pd.Series([low, high]), granularity)
        self.numbers = NumericCodec(name, bounds[0], bounds[1], True, bins, nullable)

    @property
    def size(self) -> int:
        return self.numbers.size

    def labels(self) -> list[str]:
        return self.numbers.labels()

    def encode(self, values: pd.Series) -> Codes:
        units = to_units(parse_datetimes(values, self.format), self.granularity)
        return self.numbers.encode_numbers(units, values.isna().to_numpy())

    def decode(self, codes: Codes, rng: np.random.Generator) -> pd.Series:
        stamps = from_units(self.numbers.decode_numbers(codes, rng), self.granularity)
        text = stamps.dt.strftime(self.format or _UNIT_FORMATS[self.granularity])
        return pd.Series(text.to_numpy(), name=self.name, dtype=object)
