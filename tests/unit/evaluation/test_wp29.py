"""Singling-out and linkability (the Article 29 Working Party criteria) on real data.

Two generators bracket what the attacks must tell apart, on UCI Adult:

* a *copy* generator (synthetic = training rows): both risks must be clearly positive;
* a *fresh-rows* generator: synthetic rows, training rows and control rows are three
  disjoint, equal-sized random samples of the same population, so main and control are
  symmetric and both risks must read (near) zero.

Plus exactness checks of the vectorised machinery against brute force.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth.errors import ConfigurationError
from privsynth.evaluation.base import ATTACKS, RiskResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.wp29 import (
    EQ,
    GE,
    GT,
    IS_NULL,
    LE,
    LT,
    NE,
    NOT_NULL,
    Linkability,
    SinglingOut,
    _BitIndex,
    _fit_weight,
    _gower_neighbours,
    _isolates,
    _match_counts,
    _Predicates,
    _random_predicates,
    _record_predicates,
    _singling_out_integral,
)
from privsynth.schema import load_schema

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SMALL = 600  # attacks per run in the tests (the default is 2,000)


# --------------------------------------------------------------------------- fixtures


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def training() -> pd.DataFrame:
    return _read("adult_sample.csv")


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return _read("adult_holdout.csv")


def _build(real: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame) -> EvaluationData:
    schema = load_schema(EXAMPLES / "adult_schema.yaml")
    return EvaluationData.build(real, synthetic, control, schema=schema, seed=11)


@pytest.fixture(scope="module")
def copy_data(training: pd.DataFrame, holdout: pd.DataFrame) -> EvaluationData:
    return _build(training, training.copy(), holdout)


@pytest.fixture(scope="module")
def fresh_data(training: pd.DataFrame, holdout: pd.DataFrame) -> EvaluationData:
    """Holdout halves as synthetic and control; as many training rows, drawn at random,
    as the "training" set: three disjoint samples of 1,000 from one population."""
    order = np.random.default_rng(3).permutation(len(holdout))
    half = len(holdout) // 2
    synthetic = holdout.iloc[order[:half]].reset_index(drop=True)
    control = holdout.iloc[order[half:]].reset_index(drop=True)
    real = training.sample(half, random_state=5).reset_index(drop=True)
    return _build(real, synthetic, control)


# ------------------------------------------------------------------ copy vs fresh rows


@pytest.mark.parametrize("mode", ["multivariate", "univariate"])
def test_singling_out_flags_the_copy_generator(copy_data: EvaluationData, mode: str) -> None:
    result = SinglingOut(mode=mode, n_attacks=SMALL, size_matching="fit").evaluate(copy_data)
    assert result.ci[0] > 0.5
    assert result.main_rate == 1.0  # every predicate isolating a copy isolates its source
    assert result.details["n_predicates"] == SMALL
    assert result.baseline_rate < result.main_rate


@pytest.mark.parametrize("size_matching", ["fit", "subsample"])
def test_singling_out_size_matching_keeps_copies_flagged(
    copy_data: EvaluationData, size_matching: str
) -> None:
    attack = SinglingOut(n_attacks=SMALL, size_matching=size_matching)  # type: ignore[arg-type]
    result = attack.evaluate(copy_data)
    assert result.ci[0] > 0.1
    assert result.details["size_matching"] == size_matching


def test_linkability_flags_the_copy_generator(copy_data: EvaluationData) -> None:
    result = Linkability(n_attacks=SMALL).evaluate(copy_data)
    assert result.ci[0] > 0.1
    assert result.control_rate < 0.02


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("mode", ["multivariate", "univariate"])
def test_singling_out_reads_zero_for_fresh_rows(
    fresh_data: EvaluationData, mode: str, seed: int
) -> None:
    result = SinglingOut(mode=mode, n_attacks=SMALL, seed=seed).evaluate(fresh_data)
    assert result.details["control_size_correction"] == 1.0  # equal sizes: no rescaling
    assert result.ci[0] == 0.0 or result.ci[1] < 0.05


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("n_neighbors", [1, 5])
def test_linkability_reads_zero_for_fresh_rows(
    fresh_data: EvaluationData, n_neighbors: int, seed: int
) -> None:
    result = Linkability(n_attacks=SMALL, n_neighbors=n_neighbors, seed=seed).evaluate(fresh_data)
    assert result.ci[0] == 0.0 or result.ci[1] < 0.05


# ------------------------------------------------------------------- names and report


def test_column_names_with_spaces_and_dashes_give_identical_results(
    training: pd.DataFrame, holdout: pd.DataFrame, copy_data: EvaluationData
) -> None:
    names = {"marital-status": "marital status", "sex": "class", "race": 'it\'s "race"'}
    renamed = [frame.rename(columns=names) for frame in (training, holdout)]
    data = EvaluationData.build(renamed[0], renamed[0].copy(), renamed[1], seed=11)
    for attack in (SinglingOut(n_attacks=200), Linkability(n_attacks=200)):
        left, right = attack.evaluate(copy_data), attack.evaluate(data)
        assert (left.risk, left.ci, left.main_rate, left.control_rate) == (
            right.risk,
            right.ci,
            right.main_rate,
            right.control_rate,
        )
    used = SinglingOut(n_attacks=200).evaluate(data).details["columns_used"]
    assert "marital status" in used


def test_registered_and_reportable_without_record_values(copy_data: EvaluationData) -> None:
    for name, cls in (("singling_out", SinglingOut), ("linkability", Linkability)):
        assert ATTACKS.get(name) is cls
        result = cls(n_attacks=200).evaluate(copy_data)
        assert isinstance(result, RiskResult)
        text = json.dumps(result.to_dict())
        for value in ("Married-civ-spouse", "Bachelors", "United-States", "Exec-managerial"):
            assert value not in text
        assert 0.0 <= result.ci[0] <= result.risk <= result.ci[1] <= 1.0


def test_results_are_reproducible_from_the_seed(copy_data: EvaluationData) -> None:
    for attack in (SinglingOut(n_attacks=200, seed=4), Linkability(n_attacks=200, seed=4)):
        assert attack.evaluate(copy_data) == attack.evaluate(copy_data)


def test_errors_are_configuration_errors(training: pd.DataFrame) -> None:
    no_holdout = EvaluationData.build(training, training.copy())
    with pytest.raises(ConfigurationError):
        SinglingOut().evaluate(no_holdout)
    with pytest.raises(ConfigurationError):
        SinglingOut(mode="bivariate")  # type: ignore[arg-type]
    data = EvaluationData.build(training, training.copy(), training.copy())
    with pytest.raises(ConfigurationError):
        Linkability(aux_cols=(["age", "sex"], ["sex"])).evaluate(data)
    with pytest.raises(ConfigurationError):
        Linkability(aux_cols=(["age"], ["no such column"])).evaluate(data)


def test_linkability_defaults_to_quasi_identifiers_against_the_rest(
    training: pd.DataFrame,
) -> None:
    data = EvaluationData.build(
        training, training.copy(), training.copy(), quasi_identifiers=["age", "sex"]
    )
    first, second = Linkability().split(data)
    assert first == ["age", "sex"]
    assert set(second) == set(data.columns) - {"age", "sex"}


# ------------------------------------------------------------- exactness of machinery


def _mixed_table(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns: many-valued numeric (beyond the prefix-bitset limit) with missing values,
    few-valued numeric, categorical codes, and a column that is entirely missing."""
    wide = rng.normal(size=n).round(3)
    wide[rng.random(n) < 0.05] = np.nan
    few = rng.integers(0, 6, n).astype(float)
    few[rng.random(n) < 0.1] = np.nan
    codes = rng.integers(0, 4, n).astype(float)
    empty = np.full(n, np.nan)
    return np.column_stack([wide, few, codes, empty]), np.array([True, True, False, True])


def _naive_counts(table: np.ndarray, predicates: _Predicates) -> np.ndarray:
    counts = []
    for cols, ops, values in zip(predicates.column, predicates.op, predicates.value, strict=True):
        match = np.ones(len(table), dtype=bool)
        for col, op, v in zip(cols, ops, values, strict=True):
            x = table[:, col]
            present = ~np.isnan(x)
            with np.errstate(invalid="ignore"):
                tests = {
                    EQ: x == v, NE: present & (x != v), GT: x > v, LT: x < v,
                    GE: x >= v, LE: x <= v, IS_NULL: ~present, NOT_NULL: present,
                }  # fmt: skip
            match &= tests[op]
        counts.append(int(match.sum()))
    return np.array(counts)


@pytest.mark.parametrize("n", [50, 1000, 3001])
def test_bitset_counts_match_brute_force(n: int) -> None:
    rng = np.random.default_rng(n)
    table, numeric = _mixed_table(rng, n)
    medians = np.array([np.nanmedian(table[:, c]) if c < 2 else np.nan for c in range(4)])
    index = _BitIndex(table)
    for width in (1, 2, 3):
        batches = [
            _random_predicates(table, numeric, 400, width, rng),
            _record_predicates(table, numeric, medians, 400, width, rng),
        ]
        for predicates in batches:
            expected = _naive_counts(table, predicates)
            assert np.array_equal(_match_counts(index, predicates), expected)
            assert np.array_equal(_isolates(index, predicates), expected == 1)


def test_gower_neighbours_match_brute_force_with_ties(training: pd.DataFrame) -> None:
    frame = training.iloc[:400].copy()
    frame.loc[frame.index[::7], "age"] = ""  # some missing numbers
    data = _build(frame, frame.copy(), frame.copy())
    assert data.kinds["age"] == "numeric"
    synthetic = data.synthetic.iloc[np.random.default_rng(0).permutation(400)[:300]]
    targets = data.real.iloc[:120]
    columns = ["age", "workclass", "education", "sex", "hours-per-week"]
    numeric = [c for c in columns if data.kinds[c] == "numeric"]
    distance = np.zeros((len(targets), len(synthetic)))
    for column in numeric + [c for c in columns if c not in numeric]:
        t = targets[column].to_numpy()[:, None]
        s = synthetic[column].to_numpy()[None, :]
        if column in numeric:
            both = np.concatenate([targets[column], synthetic[column]]).astype(float)
            span = np.nanmax(both) - np.nanmin(both)
            t_f, s_f = t.astype(float), s.astype(float)
            diff = np.abs(t_f - s_f) / span
            diff = np.where(np.isnan(t_f) & np.isnan(s_f), 0.0, np.nan_to_num(diff, nan=1.0))
            distance += diff
        else:
            distance += t != s
    for k in (1, 3):
        (found,) = _gower_neighbours(data, columns, synthetic, [targets], k)
        for row in range(len(targets)):  # nearest first, ties to the earlier synthetic row
            expected = np.lexsort((np.arange(len(synthetic)), distance[row]))[:k]
            assert set(found[row].tolist()) == set(expected.tolist())


def test_size_model_fit_recovers_the_weight() -> None:
    sizes = np.repeat(np.linspace(1000, 10_000, 10), 5)
    successes = 800.0 * _singling_out_integral(sizes, 2e-4)
    assert _fit_weight(sizes, successes) == pytest.approx(2e-4, rel=1e-3)
