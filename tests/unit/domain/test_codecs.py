"""Codecs: public domains only, values clipped into bounds, decoding inside bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privsynth.domain.codecs import (
    INVALID,
    MAX_UNIT_BINS,
    CategoricalCodec,
    DatetimeCodec,
    NumericCodec,
    make_bins,
)
from privsynth.domain.table import encode_columns


def test_categorical_round_trip_with_other_and_null() -> None:
    codec = CategoricalCodec("c", ["a", "b"], other_label="<other>", nullable=True)
    values = pd.Series(["a", "b", "zzz", None, "a"])
    codes = codec.encode(values)
    assert codes.tolist() == [0, 1, 2, 3, 0]
    assert codec.size == 4
    decoded = codec.decode(codes, np.random.default_rng(0))
    assert decoded.tolist() == ["a", "b", "<other>", None, "a"]


def test_values_outside_the_categories_are_invalid_not_an_error() -> None:
    """Failing on one record's value would be a free counting oracle: such cells get
    the INVALID code, which encoding turns into the null code or an imputation."""
    codec = CategoricalCodec("c", ["a", "b"], other_label=None, nullable=False)
    assert codec.encode(pd.Series(["a", "Jane Doe", None])).tolist() == [0, INVALID, INVALID]
    nullable = CategoricalCodec("c", ["a", "b"], other_label=None, nullable=True)
    assert nullable.encode(pd.Series(["Jane Doe", None])).tolist() == [INVALID, 2]


def test_invalid_cells_become_null_or_imputed_and_are_counted() -> None:
    strict = CategoricalCodec("s", ["a", "b"], other_label=None, nullable=False)
    loose = CategoricalCodec("l", ["a", "b"], other_label=None, nullable=True)
    frame = pd.DataFrame({"s": ["a", "zzz", None, "b"], "l": ["zzz", None, "a", "b"]})
    table, invalid = encode_columns(frame, {"s": strict, "l": loose}, np.random.default_rng(0))
    assert invalid == {"s": 2, "l": 1}  # a missing cell of a nullable column is valid
    assert set(table.codes["s"].tolist()) <= {0, 1}
    assert table.codes["l"].tolist() == [2, 2, 0, 1]


def test_small_integer_ranges_get_one_bin_per_value() -> None:
    codec = NumericCodec("age", 17, 90, integer=True, bins=None, nullable=False)
    assert codec.size == 74
    values = pd.Series(["17", "40", "90"])
    decoded = codec.decode(codec.encode(values), np.random.default_rng(0))
    assert decoded.tolist() == [17, 40, 90]


def test_zero_gets_its_own_bin_and_decodes_exactly() -> None:
    codec = NumericCodec("gain", 0, 99999, integer=True, bins=32, nullable=False)
    codes = codec.encode(pd.Series(["0", "1", "99999"]))
    assert codes[0] == 0 and codes[1] != 0
    decoded = codec.decode(np.zeros(100, dtype=np.int64), np.random.default_rng(0))
    assert set(decoded.tolist()) == {0}
    nonzero = codec.decode(np.full(100, 1, dtype=np.int64), np.random.default_rng(0))
    assert (nonzero > 0).all()


def test_out_of_bounds_values_are_clipped() -> None:
    codec = NumericCodec("x", 1.0, 10.0, integer=False, bins=5, nullable=False)
    codes = codec.encode(pd.Series([-100.0, 1000.0]))
    assert codes.tolist() == [0, codec.size - 1]
    with_zero = NumericCodec("x", 0.0, 10.0, integer=False, bins=5, nullable=False)
    assert with_zero.encode(pd.Series([-100.0])).tolist() == [0]  # clipped onto the point 0


def test_non_numeric_cells_are_invalid() -> None:
    codec = NumericCodec("x", 0.0, 10.0, integer=False, bins=5, nullable=True)
    codes = codec.encode(pd.Series(["1.5", "John Smith", None, "inf", "nan"]))
    assert codes.tolist() == [1, INVALID, codec.size - 1, codec.size - 2, INVALID]


@settings(max_examples=80, deadline=None)
@given(
    low=st.integers(-1000, 1000),
    width=st.integers(1, 10**6),
    integer=st.booleans(),
    bins=st.one_of(st.none(), st.integers(1, 200)),
    seed=st.integers(0, 2**31),
)
def test_decoded_values_stay_inside_public_bounds(
    low: int, width: int, integer: bool, bins: int | None, seed: int
) -> None:
    high = low + width
    codec = NumericCodec("x", low, high, integer=integer, bins=bins, nullable=False)
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, codec.size, 500)
    values = codec.decode(codes, rng).astype(float).to_numpy()
    assert np.all(values >= low) and np.all(values <= high)
    if integer:
        assert np.all(values == np.round(values))
    reencoded = codec.encode(pd.Series(values))
    assert np.array_equal(reencoded, codes)


def test_bins_cover_the_range() -> None:
    unit = make_bins(0, MAX_UNIT_BINS - 1, integer=True, bins=None)
    assert unit.count == MAX_UNIT_BINS and unit.points == ()
    wide = make_bins(-5.0, 5.0, integer=False, bins=10)
    assert wide.count == 10 and wide.points == (0.0,)
    assert wide.edges[0] == -5.0 and wide.edges[-1] == 5.0


@pytest.mark.parametrize(
    ("granularity", "low", "high", "value", "expected"),
    [
        ("year", "2000-01-01", "2030-12-31", "2021-06-15", "2021"),
        ("month", "2020-01-01", "2022-12-31", "2021-06-15", "2021-06"),
        ("day", "2021-06-01", "2021-07-31", "2021-06-15T10:30:00", "2021-06-15"),
        ("hour", "2021-06-15", "2021-06-17", "2021-06-15T10:30:00", "2021-06-15T10:00"),
        (
            "second",
            "2021-06-15T10:30",
            "2021-06-15T10:31",
            "2021-06-15T10:30:07",
            "2021-06-15T10:30:07",
        ),
    ],
)
def test_datetime_round_trip_at_each_granularity(
    granularity: str, low: str, high: str, value: str, expected: str
) -> None:
    bounds = pd.Timestamp(low), pd.Timestamp(high)
    codec = DatetimeCodec("t", *bounds, granularity, None, bins=None, nullable=True)
    codes = codec.encode(pd.Series([value, None]))
    decoded = codec.decode(codes, np.random.default_rng(0))
    assert decoded.iloc[0] == expected
    assert pd.isna(decoded.iloc[1])


def test_coarse_datetime_bins_decode_inside_their_bin() -> None:
    low, high = pd.Timestamp("2020-01-01"), pd.Timestamp("2022-12-31")
    codec = DatetimeCodec("t", low, high, "day", None, bins=12, nullable=False)
    codes = codec.encode(pd.Series(["2021-06-15"] * 50))
    decoded = pd.to_datetime(codec.decode(codes, np.random.default_rng(1)))
    assert decoded.between(low, high).all()
    assert (decoded.max() - decoded.min()).days <= (high - low).days / 11
    assert decoded.nunique() > 1


def test_datetime_with_declared_format_and_bad_cells() -> None:
    low, high = pd.Timestamp("2019-07-01"), pd.Timestamp("2019-08-31")
    codec = DatetimeCodec("t", low, high, "day", "%m/%d/%Y", bins=None, nullable=False)
    decoded = codec.decode(codec.encode(pd.Series(["07/22/2019"])), np.random.default_rng(0))
    assert decoded.iloc[0] == "07/22/2019"
    assert codec.encode(pd.Series(["2019-07-22"])).tolist() == [INVALID]


def test_mixed_time_zones_parse_cell_by_cell() -> None:
    """Offsets differing between cells, or zoned next to unzoned values, once crashed
    the run (an object column reached ``.dt``); each cell now parses on its own."""
    low, high = pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31")
    codec = DatetimeCodec("t", low, high, "hour", None, bins=None, nullable=False)
    cells = ["2020-03-01T10:00:00+02:00", "2020-03-01T03:00:00-05:00", "2020-03-01 08:00", "x"]
    codes = codec.encode(pd.Series(cells))
    assert codes[0] == codes[1] == codes[2] != INVALID
    assert codes[3] == INVALID
    alone = codec.encode(pd.Series(cells[:1]))
    assert alone[0] == codes[0]  # the same cell, the same code, whatever its neighbours
