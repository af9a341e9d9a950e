"""Codecs: public domains only, values clipped into bounds, decoding inside bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privsynth.domain.codecs import (
    MAX_UNIT_BINS,
    CategoricalCodec,
    DatetimeCodec,
    NumericCodec,
    make_bins,
)
from privsynth.errors import InputDataError


def test_categorical_round_trip_with_other_and_null() -> None:
    codec = CategoricalCodec("c", ["a", "b"], other_label="<other>", nullable=True)
    values = pd.Series(["a", "b", "zzz", None, "a"])
    codes = codec.encode(values)
    assert codes.tolist() == [0, 1, 2, 3, 0]
    assert codec.size == 4
    decoded = codec.decode(codes, np.random.default_rng(0))
    assert decoded.tolist() == ["a", "b", "<other>", None, "a"]


def test_categorical_without_other_refuses_unknown_values_without_quoting_them() -> None:
    codec = CategoricalCodec("c", ["a", "b"], other_label=None, nullable=False)
    with pytest.raises(InputDataError) as caught:
        codec.encode(pd.Series(["a", "Jane Doe"]))
    assert "Jane Doe" not in caught.value.one_line()
    assert "1 values outside" in caught.value.one_line()


def test_non_nullable_column_refuses_missing_values() -> None:
    codec = CategoricalCodec("c", ["a"], other_label=None, nullable=False)
    with pytest.raises(InputDataError, match="nullable"):
        codec.encode(pd.Series(["a", None]))


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


def test_non_numeric_cells_are_an_error_that_does_not_quote_them() -> None:
    codec = NumericCodec("x", 0.0, 10.0, integer=False, bins=5, nullable=False)
    with pytest.raises(InputDataError) as caught:
        codec.encode(pd.Series(["1.5", "John Smith"]))
    assert "John Smith" not in caught.value.one_line()
    assert "row 2" in caught.value.one_line()


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
    with pytest.raises(InputDataError, match="not dates"):
        codec.encode(pd.Series(["2019-07-22"]))
