"""Codecs turn one column's values into integer codes over a public domain and back.

A codec is built only from a complete, public :class:`~privsynth.schema.ColumnSpec`
(declared by the user or discovered with DP), never from the data it encodes, so
the domain a generator sees reveals nothing. Numbers and timestamps are binned;
decoding draws a value inside its bin, always within the declared bounds.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.errors import InputDataError

Codes = npt.NDArray[np.int64]
#: default number of bins for continuous numbers
DEFAULT_BINS = 32
#: integer columns whose range has at most this many values get one bin per value
MAX_UNIT_BINS = 128


def _null_error(name: str, count: int) -> InputDataError:
    return InputDataError(
        f"column {name!r} has {count} missing values but its schema says nullable: false",
        hint="set `nullable: true` for it in the schema, or fill the missing values",
    )


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
        """Codes for ``values``; missing values map to the null code if nullable."""

    @abstractmethod
    def decode(self, codes: Codes, rng: np.random.Generator) -> pd.Series:
        """Values for ``codes``; continuous bins are sampled uniformly inside."""

    def _null_mask(self, values: pd.Series) -> npt.NDArray[np.bool_]:
        mask = values.isna().to_numpy()
        if mask.any() and not self.nullable:
            raise _null_error(self.name, int(mask.sum()))
        return mask


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
        nulls = self._null_mask(values)
        mapped = values.astype("string").map(self._index)
        unknown = mapped.isna().to_numpy() & ~nulls
        if unknown.any() and self.other_code is None:
            raise InputDataError(
                f"column {self.name!r} has {int(unknown.sum())} values outside its categories",
                hint="add them to the schema's `categories` or set an `other_label`",
            )
        codes = np.array(mapped.fillna(-1), dtype=np.int64)
        codes[unknown] = self.other_code if self.other_code is not None else -1
        if self.null_code is not None:
            codes[nulls] = self.null_code
        return codes

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
    if integer and bins is None and high - low + 1 <= MAX_UNIT_BINS:
        return Bins((), np.arange(low - 0.5, high + 1.0, 1.0))
    count = bins or DEFAULT_BINS
    points = (0.0,) if low <= 0.0 <= high and count > 1 else ()
    if not integer:
        return Bins(points, np.linspace(low, high, count - len(points) + 1))
    # integer intervals are [a, b) on whole numbers, each holding a value besides the points
    edges = np.unique(np.round(np.linspace(low, high + 1.0, count - len(points) + 1)))
    kept = [edges[0]]
    for edge in edges[1:-1]:
        if _integers_between(kept[-1], edge, points) > 0:
            kept.append(edge)
    if len(kept) > 1 and _integers_between(kept[-1], edges[-1], points) == 0:
        kept.pop()
    return Bins(points, np.array([*kept, edges[-1]]))


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
        self.low, self.high, self.integer = float(low), float(high), integer
        self.bins = make_bins(self.low, self.high, integer, bins)

    @property
    def size(self) -> int:
        return self.bins.count + self.nullable

    def labels(self) -> list[str]:
        points = [f"{p:g}" for p in self.bins.points]
        edges = self.bins.edges
        spans = [f"[{a:g}, {b:g})" for a, b in itertools.pairwise(edges)]
        return points + spans + (["<missing>"] if self.nullable else [])

    def parse(self, values: pd.Series) -> npt.NDArray[np.float64]:
        """Floats from strings or numbers; non-numeric cells are an error (never shown)."""
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputDataError(
                f"column {self.name!r} has {int(bad.sum())} non-numeric values (first at row "
                f"{first + 1})",
                hint="clean them, or declare the column categorical in the schema",
            )
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)

    def encode(self, values: pd.Series) -> Codes:
        nulls = self._null_mask(values)
        numbers = np.clip(self.parse(values), self.low, self.high)
        codes = np.searchsorted(self.bins.edges, numbers, side="right") - 1
        codes = np.clip(codes, 0, len(self.bins.edges) - 2) + len(self.bins.points)
        for index, point in enumerate(self.bins.points):
            codes[numbers == point] = index
        if self.nullable:
            codes[nulls] = self.size - 1
        return codes.astype(np.int64)

    def decode(self, codes: Codes, rng: np.random.Generator) -> pd.Series:
        values = self.decode_numbers(codes, rng)
        if self.integer:
            return pd.Series(values, name=self.name).round().astype("Int64")
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

    def parse(self, values: pd.Series) -> pd.Series:
        """Timestamps from strings; unparseable cells are an error (never shown)."""
        stamps = pd.to_datetime(values, format=self.format or "ISO8601", errors="coerce")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = stamps.isna() & values.notna()
        if bad.any():
            raise InputDataError(
                f"column {self.name!r} has {int(bad.sum())} values that are not dates in the "
                f"expected format ({self.format or 'ISO 8601'})",
                hint="set the column's `format` in the schema, or clean the values",
            )
        return stamps

    def encode(self, values: pd.Series) -> Codes:
        self._null_mask(values)
        units = pd.Series(to_units(self.parse(values), self.granularity))
        return self.numbers.encode(units.where(values.notna().to_numpy()))

    def decode(self, codes: Codes, rng: np.random.Generator) -> pd.Series:
        stamps = from_units(self.numbers.decode_numbers(codes, rng), self.granularity)
        text = stamps.dt.strftime(self.format or _UNIT_FORMATS[self.granularity])
        return pd.Series(text.to_numpy(), name=self.name, dtype=object)
