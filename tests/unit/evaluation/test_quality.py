"""Fidelity, utility and detection metrics on the bundled UCI Adult sample.

The "synthetic" tables are controlled generators with known answers rather than
mocks: an exact copy of the real rows (every distance ~0, TSTR = TRTR), each column
drawn independently from its real marginal (1-way distances small, but every
relationship between columns gone, so k-way distances, association differences and
TSTR all degrade), and unseen real rows from the holdout (only sampling noise).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from privsynth.cli.flags import for_cli
from privsynth.errors import ConfigurationError
from privsynth.evaluation import discriminator, fidelity, utility
from privsynth.evaluation.base import METRICS, MetricResult
from privsynth.evaluation.data import EvaluationData
from privsynth.schema import Schema

SECTIONS = {
    "column_distance": "fidelity",
    "marginal_tvd_2way": "fidelity",
    "marginal_tvd_3way": "fidelity",
    "correlation_difference": "fidelity",
    "coverage": "fidelity",
    "tstr": "utility",
    "detection_auc": "detection",
}
FIDELITY = [name for name, section in SECTIONS.items() if section == "fidelity"]
assert discriminator and fidelity and utility  # imported so the metrics register


@pytest.fixture(scope="module")
def schema(adult_schema: Schema) -> Schema:
    return adult_schema


@pytest.fixture(scope="module")
def real(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame


@pytest.fixture(scope="module")
def holdout(adult_holdout_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_holdout_frame


def independent_marginals(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Each column resampled on its own: marginals kept, relationships destroyed."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.choice(frame[c].to_numpy(), len(frame)) for c in frame.columns})


@pytest.fixture(scope="module")
def tables(real: pd.DataFrame, holdout: pd.DataFrame, schema: Schema) -> dict[str, EvaluationData]:
    synthetic = {
        "copy": real.copy(),
        "independent": independent_marginals(real),
        "holdout_rows": holdout.copy(),
    }
    return {
        case: EvaluationData.build(real, frame, holdout, schema=schema, target="income")
        for case, frame in synthetic.items()
    }


class Results:
    """Each (case, metric) computed once per module: the models are the slow part."""

    def __init__(self, tables: dict[str, EvaluationData]) -> None:
        self.tables = tables
        self.cache: dict[tuple[str, str], MetricResult] = {}

    def __call__(self, case: str, name: str) -> MetricResult:
        if (case, name) not in self.cache:
            self.cache[case, name] = METRICS.get(name)().compute(self.tables[case])
        return self.cache[case, name]


@pytest.fixture(scope="module")
def results(tables: dict[str, EvaluationData]) -> Results:
    return Results(tables)


# ---------------------------------------------------------------- declarations


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_metric_declares_goal_range_and_section(name: str) -> None:
    metric = METRICS.get(name)
    assert metric.name == name
    assert metric.goal in ("maximize", "minimize")
    assert metric.low < metric.high
    assert metric.section == SECTIONS[name]


def test_declared_directions() -> None:
    goals = {name: METRICS.get(name).goal for name in SECTIONS}
    assert goals["coverage"] == goals["tstr"] == "maximize"
    assert {goals[n] for n in SECTIONS if n not in ("coverage", "tstr")} == {"minimize"}
    assert (METRICS.get("detection_auc").low, METRICS.get("detection_auc").high) == (0.5, 1.0)
    assert (METRICS.get("tstr").low, METRICS.get("tstr").high) == (-1.0, 1.0)


@pytest.mark.parametrize("case", ["copy", "independent", "holdout_rows"])
@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_results_in_range_and_json_serialisable(results: Results, case: str, name: str) -> None:
    result = results(case, name)
    assert result.name == name
    assert result.low <= result.value <= result.high
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert json.loads(text)["goal"] == METRICS.get(name).goal


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_details_hold_no_record_values(
    results: Results, real: pd.DataFrame, schema: Schema, name: str
) -> None:
    """Column names and public category labels may appear, cell values may not."""
    public = set(real.columns)
    for spec in schema.columns.values():
        public |= {str(c) for c in getattr(spec, "categories", None) or []}
    cells = set(real.to_numpy().ravel().astype(str)) - public
    for case in ("copy", "independent"):
        assert not set(_strings(results(case, name).details)) & cells


# ---------------------------------------------------------------- controlled generators


def test_copy_is_at_distance_zero(results: Results) -> None:
    for name in ("column_distance", "marginal_tvd_2way", "marginal_tvd_3way"):
        assert results("copy", name).value == pytest.approx(0.0, abs=1e-12)
    assert results("copy", "correlation_difference").value == pytest.approx(0.0, abs=1e-9)
    assert results("copy", "coverage").value == 1.0
    wasserstein = results("copy", "column_distance").details["columns"]["age"]["wasserstein"]
    assert wasserstein == pytest.approx(0.0, abs=1e-12)


def test_independent_marginals_keep_columns_but_lose_structure(results: Results) -> None:
    assert results("independent", "column_distance").value < 0.03
    assert results("independent", "coverage").value > 0.9
    for name in ("marginal_tvd_2way", "marginal_tvd_3way", "correlation_difference"):
        copy, holdout = results("copy", name).value, results("holdout_rows", name).value
        independent = results("independent", name).value
        assert independent > copy + 0.05, name
        assert independent > 1.5 * holdout, name
    three_way = results("independent", "marginal_tvd_3way").value
    assert three_way > results("independent", "marginal_tvd_2way").value


def test_holdout_rows_are_close_to_the_copy(results: Results) -> None:
    """Unseen rows of the same population differ only by sampling noise."""
    assert results("holdout_rows", "column_distance").value < 0.03
    assert results("holdout_rows", "marginal_tvd_2way").value < 0.06
    assert results("holdout_rows", "correlation_difference").value < 0.03
    assert results("holdout_rows", "coverage").value > 0.85


def test_correlation_details_form_a_symmetric_matrix(results: Results) -> None:
    details = results("independent", "correlation_difference").details
    columns = list(details["difference"])
    assert columns == results.tables["independent"].columns
    for a in columns:
        assert details["real"][a][a] == 1.0
        for b in columns:
            assert details["difference"][a][b] == details["difference"][b][a]
            assert 0.0 <= details["difference"][a][b] <= 1.0
    # education and education-num encode the same thing: strong in real, gone when independent
    assert details["real"]["education"]["education-num"] > 0.95
    assert details["synthetic"]["education"]["education-num"] < 0.1


def test_tstr_equals_trtr_on_a_copy(results: Results) -> None:
    details = results("copy", "tstr").details
    assert details["task"] == "classification"
    assert details["tested_on"] == "holdout"
    assert details["tstr"] == details["trtr"]
    assert details["trtr"]["auc"] > 0.85
    assert details["ratio"] == pytest.approx(1.0)


def test_tstr_drops_without_relationships(results: Results) -> None:
    """Income depends on the other columns; resampled independently it does not."""
    details = results("independent", "tstr").details
    assert details["tstr"]["auc"] < 0.6
    assert details["trtr"]["auc"] > 0.85
    assert details["ratio"] < 0.75
    assert results("independent", "tstr").value == details["tstr"]["auc"]


def test_detection_tells_independent_rows_apart_not_copies(results: Results) -> None:
    assert results("copy", "detection_auc").value < 0.6
    assert results("holdout_rows", "detection_auc").value < 0.6
    independent = results("independent", "detection_auc")
    assert independent.value > 0.9
    assert len(independent.details["top_features"]) == 5
    assert len(independent.details["fold_aucs"]) == 3


# ---------------------------------------------------------------- targeted behaviour


def test_detection_names_the_artifact_column(
    real: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    """A generator that gets one column wrong (uniform ages) is caught by that column."""
    synthetic = holdout.copy()
    synthetic["age"] = np.random.default_rng(1).integers(17, 91, len(synthetic)).astype(str)
    data = EvaluationData.build(real, synthetic, schema=schema)
    result = METRICS.get("detection_auc")().compute(data)
    assert result.value > 0.7
    assert result.details["rows_per_table"] == len(holdout)
    assert result.details["top_features"][0]["column"] == "age"


def test_tstr_without_target_is_a_configuration_error(
    real: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    data = EvaluationData.build(real, holdout, holdout, schema=schema)
    with pytest.raises(ConfigurationError) as caught:
        METRICS.get("tstr")().compute(data)
    hint = caught.value.hint
    assert hint and "`target`" in hint  # the parameter; the CLI shows its flag
    assert "--target" in for_cli(hint)


def test_tstr_without_holdout_splits_the_real_rows(real: pd.DataFrame, schema: Schema) -> None:
    data = EvaluationData.build(real, real.copy(), schema=schema, target="income")
    details = METRICS.get("tstr")().compute(data).details
    assert details["tested_on"] == "real_split_20pct"
    assert details["test_rows"] == 1000
    assert details["trtr"]["auc"] > 0.85


def test_tstr_regression_on_a_numeric_target(
    real: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    good = EvaluationData.build(real, real.copy(), holdout, schema=schema, target="education-num")
    bad = EvaluationData.build(
        real, independent_marginals(real), holdout, schema=schema, target="education-num"
    )
    good_result = METRICS.get("tstr")().compute(good)
    bad_result = METRICS.get("tstr")().compute(bad)
    assert good_result.details["task"] == "regression"
    # education determines education-num exactly
    assert good_result.value > 0.95
    assert good_result.details["tstr"]["mae"] < 0.2
    assert bad_result.value < 0.05


def test_coverage_counts_missing_categories_and_short_ranges(
    real: pd.DataFrame, schema: Schema
) -> None:
    synthetic = real[real["workclass"] != "Private"].copy()
    synthetic["age"] = np.minimum(synthetic["age"].astype(int), 40).astype(str)
    data = EvaluationData.build(real, synthetic, schema=schema)
    columns = METRICS.get("coverage")().compute(data).details["columns"]
    categories = real["workclass"].nunique()
    assert columns["workclass"]["value"] == pytest.approx((categories - 1) / categories)
    private_share = (real["workclass"] == "Private").mean()
    assert columns["workclass"]["weighted"] == pytest.approx(1 - private_share)
    low, high = np.quantile(real["age"].astype(float), [0.01, 0.99])
    assert columns["age"]["value"] == pytest.approx((40 - low) / (high - low))


# ---------------------------------------------------------------- building blocks


def test_ks_statistic_matches_scipy_and_counts_missing_values() -> None:
    rng = np.random.default_rng(3)
    a, b = pd.Series(rng.normal(size=500)), pd.Series(rng.normal(0.3, 1, size=700))
    assert fidelity.ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)
    with_missing = pd.concat([a, pd.Series([np.nan] * 500)])
    assert fidelity.ks_statistic(with_missing, a) == pytest.approx(0.5)


def test_total_variation_by_hand() -> None:
    real = pd.Series(["a", "a", "b", "c"])
    synthetic = pd.Series(["a", "b", "b", "d"])
    # |.5-.25| + |.25-.5| + |.25-0| + |0-.25| = 1.0, halved
    assert fidelity.total_variation(real, synthetic) == pytest.approx(0.5)


def test_marginal_tvd_matches_crosstab_and_sparse_path(real: pd.DataFrame) -> None:
    pair = real[["education", "sex"]].iloc[:2500], real[["education", "sex"]].iloc[2500:]
    codes_a, codes_b, sizes = fidelity.category_codes(*pair)
    p = pd.crosstab(pair[0]["education"], pair[0]["sex"], normalize=True)
    q = pd.crosstab(pair[1]["education"], pair[1]["sex"], normalize=True)
    expected = 0.5 * (p - q).abs().to_numpy().sum()
    assert fidelity.marginal_tvd(codes_a, codes_b, sizes) == pytest.approx(expected)
    huge = np.array([10**7, 10**7], dtype=np.int64)  # forces numbering of occurring cells
    assert fidelity.marginal_tvd(codes_a, codes_b, huge) == pytest.approx(expected)


def test_marginals_are_sampled_with_the_seed() -> None:
    every, total = fidelity.choose_marginals(15, 2, 300, seed=0)
    assert len(every) == total == 105
    sampled, total = fidelity.choose_marginals(15, 3, 300, seed=0)
    assert (len(sampled), total) == (300, 455)
    assert sampled == fidelity.choose_marginals(15, 3, 300, seed=0)[0]
    assert sampled != fidelity.choose_marginals(15, 3, 300, seed=1)[0]
    wide, total = fidelity.choose_marginals(200, 3, 50, seed=0)  # rejection-sampled
    assert len(set(wide)) == 50 and total == 1_313_400
    assert all(len(set(t)) == 3 for t in wide)


def test_cramers_v_and_correlation_ratio_extremes() -> None:
    rng = np.random.default_rng(0)
    x = pd.Series(rng.choice(list("abcd"), 3000))
    assert fidelity.cramers_v(x, x) == pytest.approx(1.0, abs=1e-3)
    noise = pd.Series(rng.choice(list("xyz"), 3000))
    assert fidelity.cramers_v(x, noise) < 0.05
    means = x.map({"a": 0.0, "b": 10.0, "c": 20.0, "d": 30.0})
    assert fidelity.correlation_ratio(x, means) == pytest.approx(1.0)
    assert fidelity.correlation_ratio(x, pd.Series(rng.normal(size=3000))) < 0.1


def test_macro_auc_equals_binary_auc_for_two_classes() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(["no", "yes"], 400)
    p_yes = np.clip((y == "yes") * 0.3 + rng.uniform(size=400) * 0.7, 0, 1)
    scores = np.column_stack([1 - p_yes, p_yes])
    binary = utility.roc_auc_score(y == "yes", p_yes)
    assert utility.macro_auc(y, scores, ["no", "yes"]) == pytest.approx(binary)


def test_tables_too_narrow_are_skipped_not_scored_perfect(real: pd.DataFrame) -> None:
    data = EvaluationData.build(real[["sex", "race"]], real[["sex", "race"]].iloc[::-1])
    assert METRICS.get("marginal_tvd_2way")().compute(data).value == pytest.approx(0.0)
    with pytest.raises(ConfigurationError):
        METRICS.get("marginal_tvd_3way")().compute(data)
    with pytest.raises(ConfigurationError):
        METRICS.get("correlation_difference")().compute(EvaluationData.build(real[["sex"]], real))


def test_tstr_single_class_and_multiclass_targets(
    real: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    """A synthetic target with one class is a constant guess (AUC 0.5), not a crash; a
    multiclass target whose rarest class is absent from the synthetic rows still scores."""
    one_class = real.assign(income="<=50K")
    data = EvaluationData.build(real, one_class, holdout, schema=schema, target="income")
    assert METRICS.get("tstr")().compute(data).details["tstr"]["auc"] == 0.5
    without_other = real[real["race"] != "Other"]
    data = EvaluationData.build(real, without_other, holdout, schema=schema, target="race")
    details = METRICS.get("tstr")().compute(data).details
    assert details["task"] == "classification"
    assert 0.6 < details["tstr"]["auc"] <= 1.0
    assert details["trtr"]["auc"] > 0.6


@pytest.mark.filterwarnings("error")
def test_a_constant_synthetic_column_has_no_correlation_and_no_warning() -> None:
    from privsynth.evaluation.fidelity import pearson

    constant = pd.Series([0.0] * 50)
    varying = pd.Series(np.arange(50, dtype=float))
    assert pearson(constant, varying) == 0.0
    assert pearson(varying, varying) == pytest.approx(1.0)
