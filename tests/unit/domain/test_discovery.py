"""DP domain discovery on real data: kinds, categories and bounds, all paid for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from privsynth.domain.codecs import INVALID
from privsynth.domain.discovery import OTHER_LABEL, discover
from privsynth.domain.table import build_codecs, encode_columns
from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.errors import InputDataError
from privsynth.schema import CategoricalSpec, NumericSpec, Schema

GENEROUS_RHO = 5.0
DELTA = 1e-8


def _mechanisms(rho: float = GENEROUS_RHO, seed: int = 7) -> Mechanisms:
    return Mechanisms(PrivacyFilter(cost_of.zcdp(rho, DELTA)), NoiseSource(seed))


def test_kinds_and_domains_of_adult(adult_frame: pd.DataFrame) -> None:
    mechanisms = _mechanisms()
    schema, report = discover(
        adult_frame, Schema.auto(list(adult_frame.columns)), mechanisms, GENEROUS_RHO, DELTA
    )
    assert schema.needs_discovery() == {}
    age = schema["age"]
    assert isinstance(age, NumericSpec) and age.integer
    assert age.min is not None and age.max is not None
    assert age.min <= 17 and age.max >= 80  # a superset of most of the data
    workclass = schema["workclass"]
    assert isinstance(workclass, CategoricalSpec)
    assert {"Private", "Self-emp-not-inc"} <= set(workclass.categories or ())
    assert workclass.other_label == OTHER_LABEL
    assert set(report.columns) == set(adult_frame.columns)
    purposes = [s.purpose for s in mechanisms.filter.accountant.history]
    assert any("kind of 'age'" in p for p in purposes)
    assert any("domain of 'workclass'" in p for p in purposes)
    assert mechanisms.filter.accountant.total().dominated_by(mechanisms.filter.limit)


def test_rare_categories_are_never_released(adult_frame: pd.DataFrame) -> None:
    frame = adult_frame[["race"]].copy()
    frame.loc[frame.index[:2], "race"] = ["Singleton-Value", "Pair-Value"]
    frame.loc[frame.index[2], "race"] = "Pair-Value"
    for seed in range(20):
        schema, _ = discover(frame, Schema.auto(["race"]), _mechanisms(seed=seed), 5.0, DELTA)
        released = set(schema["race"].categories or ())  # type: ignore[attr-defined]
        assert "White" in released
        assert not released & {"Singleton-Value", "Pair-Value"}


def test_declared_fields_are_kept_and_only_missing_ones_discovered(
    adult_frame: pd.DataFrame,
) -> None:
    declared = Schema(
        {"age": NumericSpec(min=0, integer=True), "sex": CategoricalSpec(categories=("F", "M"))}
    )
    mechanisms = _mechanisms()
    schema, report = discover(adult_frame[["age", "sex"]], declared, mechanisms, 1.0, DELTA)
    assert report.columns == {"age": ["max"]}
    assert schema["age"].min == 0  # type: ignore[attr-defined]
    assert schema["sex"] == declared["sex"]
    assert len(mechanisms.filter.accountant.history) == 1


def test_too_little_budget_for_bounds_fails_closed(adult_frame: pd.DataFrame) -> None:
    small = adult_frame[["age"]].head(50)
    declared = Schema({"age": NumericSpec(integer=True)})
    with pytest.raises(InputDataError) as caught:
        discover(small, declared, _mechanisms(), 1e-5, DELTA)
    assert "declare its min and max" in caught.value.one_line()


def test_mostly_numeric_column_is_numeric_and_stray_text_is_invalid() -> None:
    values = [str(v) for v in range(2000)] + ["n/a"] * 20
    frame = pd.DataFrame({"dose": values})
    schema, _ = discover(frame, Schema.auto(["dose"]), _mechanisms(), 2.0, DELTA)
    spec = schema["dose"]
    assert isinstance(spec, NumericSpec) and spec.integer
    codecs = build_codecs(schema)
    assert (codecs["dose"].encode(frame["dose"]) == INVALID).sum() == 20
    _, invalid = encode_columns(frame, codecs, np.random.default_rng(0))
    assert invalid == {"dose": 20}  # imputed, and counted for the DP quality report


def test_a_unit_counts_once_per_category() -> None:
    """With a privacy unit, category counts are of distinct units: one person with many
    rows of a rare value cannot push it over the release threshold."""
    values = ["common"] * 3000 + ["mine"] * 40
    units = pd.Series([f"p{i}" for i in range(3000)] + ["p-many"] * 40)
    frame = pd.DataFrame({"dx": values})
    per_row, _ = discover(frame, Schema.auto(["dx"]), _mechanisms(), 2.0, DELTA)
    assert "mine" in (per_row["dx"].categories or ())  # type: ignore[attr-defined]
    for seed in range(5):
        mechanisms = Mechanisms(PrivacyFilter(cost_of.zcdp(2.0, DELTA)), NoiseSource(seed), 40)
        per_person, _ = discover(frame, Schema.auto(["dx"]), mechanisms, 2.0, DELTA, units)
        assert (per_person["dx"].categories or ()) == ("common",)  # type: ignore[attr-defined]
