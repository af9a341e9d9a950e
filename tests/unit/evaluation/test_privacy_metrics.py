"""Privacy metrics and attacks on real data (UCI Adult) with controlled generators.

Two legitimate generators bracket what the metrics must tell apart:

* a *copy* generator, whose output is its training rows: the worst case, every metric
  must flag it;
* a *holdout* generator, whose output is other real rows from the same population
  that the "training" never contained: a perfect generator in distribution, every
  privacy metric must read near its ideal.

Plus unit tests of the statistics against textbook values and brute force.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.special import logsumexp

from privsynth.errors import ConfigurationError
from privsynth.evaluation.base import ATTACKS, METRICS, MetricResult, RiskResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import (
    kde_and_nearest,
    log_kde,
    nearest_distances,
    nearest_neighbours,
)
from privsynth.evaluation.diversity import size_corrected
from privsynth.evaluation.inference import correct_guesses
from privsynth.evaluation.membership import MembershipInference
from privsynth.evaluation.stats import (
    auc_delong_ci,
    clopper_pearson,
    risk_from_rates,
    roc_auc,
    tpr_at_fpr,
    wilson_interval,
)
from privsynth.schema import Schema

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

DIVERSITY = ("exact_copy_rate", "dcr", "nndr", "alpha_precision", "beta_recall")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def training(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame


@pytest.fixture(scope="module")
def holdout(adult_holdout_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_holdout_frame


def _build(
    real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> EvaluationData:
    return EvaluationData.build(
        real, synthetic, holdout, schema=schema, sensitive=["income", "capital-gain"], seed=7
    )


@pytest.fixture(scope="module")
def copy_data(
    training: pd.DataFrame, holdout: pd.DataFrame, adult_schema: Schema
) -> EvaluationData:
    """The copy generator: synthetic rows are the training rows."""
    return _build(training, training.copy(), holdout, adult_schema)


@pytest.fixture(scope="module")
def holdout_halves(holdout: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(3).permutation(len(holdout))
    half = len(holdout) // 2
    first = holdout.iloc[order[:half]].reset_index(drop=True)
    return first, holdout.iloc[order[half:]].reset_index(drop=True)


@pytest.fixture(scope="module")
def fresh_data(
    training: pd.DataFrame,
    holdout_halves: tuple[pd.DataFrame, pd.DataFrame],
    adult_schema: Schema,
) -> EvaluationData:
    """The holdout generator: synthetic rows are half of the unseen rows, the other half
    is the control group."""
    synthetic, control = holdout_halves
    return _build(training, synthetic, control, adult_schema)


@pytest.fixture(scope="module")
def copy_results(copy_data: EvaluationData) -> dict[str, Any]:
    return _run_all(copy_data)


@pytest.fixture(scope="module")
def fresh_results(fresh_data: EvaluationData) -> dict[str, Any]:
    return _run_all(fresh_data)


def _run_all(data: EvaluationData) -> dict[str, Any]:
    results: dict[str, Any] = {name: METRICS.get(name)().compute(data) for name in DIVERSITY}
    assert ATTACKS.get("membership_inference") is MembershipInference
    for name in ("membership_inference", "attribute_inference"):
        results[name] = ATTACKS.get(name)().evaluate(data)
    return results


# ------------------------------------------------------------------------ statistics


def test_wilson_interval_of_8_out_of_10() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_at_the_edges_stays_in_range() -> None:
    assert wilson_interval(0, 50)[0] == 0.0
    assert wilson_interval(50, 50)[1] == 1.0
    assert wilson_interval(0, 50)[1] == pytest.approx(0.0714, abs=1e-4)


def test_clopper_pearson_known_values() -> None:
    assert clopper_pearson(0, 20) == pytest.approx((0.0, 0.1684), abs=1e-4)
    assert clopper_pearson(20, 20) == pytest.approx((0.8316, 1.0), abs=1e-4)
    assert clopper_pearson(5, 10) == pytest.approx((0.1871, 0.8129), abs=1e-4)


def test_roc_auc_counts_ties_as_half() -> None:
    # pairs (pos, neg): (3,2) win, (3,1) win, (2,2) tie, (2,1) win -> 3.5 / 4
    assert roc_auc([3, 2, 2, 1], [1, 1, 0, 0]) == pytest.approx(0.875)
    assert roc_auc([1, 1, 1, 1], [1, 0, 1, 0]) == pytest.approx(0.5)
    assert roc_auc([0, 1], [1, 0]) == 0.0


def test_roc_auc_matches_pairwise_definition_with_many_ties() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, 300).astype(float)
    labels = rng.random(300) < 0.3 + 0.1 * scores
    pos, neg = scores[labels], scores[~labels]
    pairwise = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert roc_auc(scores, labels) == pytest.approx(pairwise)


def test_delong_interval_matches_brute_force_variance() -> None:
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=200), 1)
    labels = rng.random(200) < 0.4
    scores[labels] += 0.5
    pos, neg = scores[labels], scores[~labels]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    variance = psi.mean(axis=1).var(ddof=1) / pos.size + psi.mean(axis=0).var(ddof=1) / neg.size
    auc, low, high = auc_delong_ci(scores, labels)
    assert auc == pytest.approx(psi.mean())
    assert high - low == pytest.approx(2 * 1.959964 * np.sqrt(variance), rel=1e-5)


def test_tpr_at_fpr_interpolates_across_tied_scores() -> None:
    scores, labels = [3, 2, 2, 1], [1, 1, 0, 0]
    assert tpr_at_fpr(scores, labels, 0.0) == pytest.approx(0.5)
    # the tied pair (one member, one non-member) is a diagonal ROC segment
    assert tpr_at_fpr(scores, labels, 0.25) == pytest.approx(0.75)
    assert tpr_at_fpr(scores, labels, 0.5) == pytest.approx(1.0)
    assert tpr_at_fpr([5, 4, 3, 2, 1], [1, 1, 0, 1, 0], 0.0) == pytest.approx(2 / 3)


def test_risk_follows_anonymeter_definition_with_a_mover_r_interval() -> None:
    estimate = risk_from_rates(90, 100, 60, 100, baseline_rate=0.5)
    assert estimate.risk == pytest.approx((0.9 - 0.6) / (1 - 0.6))
    main_low, main_high = wilson_interval(90, 100)
    control_low, control_high = wilson_interval(60, 100)
    # the risk is 1 - f_main / f_control (failure rates); MOVER-R's bounds of that ratio
    # solve f1 - t f2 = -/+ sqrt(...) (Newcombe 2016), found here by root-finding
    f1, f2 = 0.1, 0.4
    lo1, hi1, lo2, hi2 = 1 - main_high, 1 - main_low, 1 - control_high, 1 - control_low

    def lower(t: float) -> float:
        return f1 - t * f2 - np.sqrt((f1 - lo1) ** 2 + t * t * (hi2 - f2) ** 2)

    def upper(t: float) -> float:
        return f1 - t * f2 + np.sqrt((hi1 - f1) ** 2 + t * t * (f2 - lo2) ** 2)

    ratio_low, ratio_high = brentq(lower, 0, f1 / f2), brentq(upper, f1 / f2, 100)
    assert estimate.ci == pytest.approx((1 - ratio_high, 1 - ratio_low), abs=1e-9)
    # narrower than the corners of the two rates' intervals (interval arithmetic)
    corners = ((main_low - control_high) / (1 - control_high),
               (main_high - control_low) / (1 - control_low))  # fmt: skip
    assert corners[0] < estimate.ci[0] < estimate.risk < estimate.ci[1] < corners[1]


def test_risk_is_clipped_when_training_records_are_harder() -> None:
    estimate = risk_from_rates(48, 100, 50, 100, baseline_rate=0.5)
    assert estimate.risk == 0.0
    assert estimate.ci[0] == 0.0
    assert 0.0 < estimate.ci[1] < 0.4


def test_size_corrected_share_puts_the_ideal_at_one_half() -> None:
    assert size_corrected(0.8, 0.8) == pytest.approx(0.5)
    assert size_corrected(1.0, 0.8) == pytest.approx(1.0)
    assert size_corrected(0.9, 0.8) == pytest.approx(0.75)
    assert size_corrected(0.4, 0.5) == pytest.approx(0.4)


# ------------------------------------------------------------------------- distances


def test_nearest_neighbours_match_brute_force() -> None:
    rng = np.random.default_rng(2)
    queries, reference = rng.random((150, 12)), rng.random((700, 12))
    reference[:5] = queries[:5]  # exact copies must come out at distance 0
    distances, indices = nearest_neighbours(queries, reference, 3, chunk_elements=5_000)
    full = np.linalg.norm(queries[:, None, :] - reference[None, :, :], axis=2)
    assert np.allclose(distances, np.sort(full, axis=1)[:, :3], atol=1e-12)
    assert np.array_equal(indices[:, 0], np.argmin(full, axis=1))
    assert np.all(distances[:5, 0] == 0.0)


def test_exclude_self_skips_the_row_itself_but_not_its_duplicate() -> None:
    rng = np.random.default_rng(3)
    rows = rng.random((200, 6))
    rows[1] = rows[0]
    distances = nearest_distances(rows, rows, 2, exclude_self=True)
    full = np.linalg.norm(rows[:, None, :] - rows[None, :, :], axis=2)
    np.fill_diagonal(full, np.inf)
    assert np.allclose(distances, np.sort(full, axis=1)[:, :2], atol=1e-12)
    assert distances[0, 0] == 0.0
    positions = np.array([10, 50, 199])
    some = nearest_distances(rows[positions], rows, 1, exclude_self=True, query_positions=positions)
    assert np.allclose(some[:, 0], full[positions].min(axis=1), atol=1e-12)


def test_kde_matches_the_formula_and_reports_nearest_distances() -> None:
    rng = np.random.default_rng(4)
    queries, reference = rng.random((40, 5)), rng.random((300, 5))
    bandwidths = np.array([0.05, 0.3])
    density, nearest = kde_and_nearest(queries, reference, bandwidths)
    sq = ((queries[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    for j, h in enumerate(bandwidths):
        expected = logsumexp(-sq / (2 * h * h), axis=1) - np.log(300)
        expected -= 2.5 * np.log(2 * np.pi * h * h)
        assert np.allclose(density[:, j], expected, atol=1e-4)
    assert np.allclose(nearest, np.sqrt(sq.min(axis=1)))
    loo = log_kde(reference[:10], reference, 0.3, exclude=np.arange(10))
    sq_self = ((reference[:10, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    sq_self[np.arange(10), np.arange(10)] = np.inf
    expected = logsumexp(-sq_self / 0.18, axis=1) - np.log(299) - 2.5 * np.log(2 * np.pi * 0.09)
    assert np.allclose(loo[:, 0], expected, atol=1e-4)


# ------------------------------------------------------------------------- diversity


def test_metrics_declare_goal_range_and_section() -> None:
    for name in DIVERSITY:
        metric = METRICS.get(name)
        assert metric.section == "diversity"
        assert (metric.low, metric.high) == (0.0, 1.0)
    assert METRICS.get("exact_copy_rate").goal == "minimize"
    assert METRICS.get("dcr").goal == "minimize"
    assert METRICS.get("alpha_precision").goal == "maximize"


def test_copy_generator_is_all_copies(copy_results: dict[str, Any]) -> None:
    result: MetricResult = copy_results["exact_copy_rate"]
    assert result.value == 1.0
    assert result.details["copies"] == 5_000


def test_fresh_rows_copy_only_as_often_as_real_people_coincide(
    fresh_results: dict[str, Any],
    training: pd.DataFrame,
    holdout_halves: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    # natural duplicates: unseen rows that happen to equal a training row, counted on
    # the raw strings, independently of the metric's hashing
    synthetic = holdout_halves[0]
    seen = set(training.itertuples(index=False, name=None))
    natural = sum(row in seen for row in synthetic.itertuples(index=False, name=None))
    result: MetricResult = fresh_results["exact_copy_rate"]
    assert result.details["copies"] == natural
    assert result.value <= 0.01


def test_dcr_flags_copies_and_reads_one_half_for_fresh_rows(
    copy_results: dict[str, Any], fresh_results: dict[str, Any]
) -> None:
    copied: MetricResult = copy_results["dcr"]
    fresh: MetricResult = fresh_results["dcr"]
    assert copied.value > 0.99
    assert copied.details["median_dcr_train"] < copied.details["median_dcr_holdout"]
    assert copied.details["p5_dcr_train"] == 0.0
    assert abs(fresh.value - 0.5) < 0.06
    assert fresh.details["raw_share_ideal"] == pytest.approx(5_000 / 6_000)


def test_nndr_is_zero_for_copies_and_high_for_fresh_rows(
    copy_results: dict[str, Any], fresh_results: dict[str, Any]
) -> None:
    assert copy_results["nndr"].value == 0.0
    assert fresh_results["nndr"].value > 0.6


def test_alpha_precision_and_beta_recall_near_one_for_fresh_rows(
    fresh_results: dict[str, Any],
) -> None:
    assert fresh_results["alpha_precision"].value > 0.9
    assert fresh_results["beta_recall"].value > 0.9


def test_independent_marginals_lose_precision_and_collapse_loses_recall(
    training: pd.DataFrame, holdout: pd.DataFrame, adult_schema: Schema
) -> None:
    rng = np.random.default_rng(5)
    n = 2_000
    marginals = pd.DataFrame(
        {c: training[c].to_numpy()[rng.integers(0, len(training), n)] for c in training}
    )
    collapsed = training.iloc[rng.integers(0, 40, n)].reset_index(drop=True)
    implausible = _build(training, marginals, holdout, adult_schema)
    narrow = _build(training, collapsed, holdout, adult_schema)
    assert METRICS.get("alpha_precision")().compute(implausible).value < 0.6
    assert METRICS.get("beta_recall")().compute(narrow).value < 0.4
    assert METRICS.get("beta_recall")().compute(implausible).value > 0.8


# ------------------------------------------------------------------ membership attack


def test_membership_inference_exposes_the_copy_generator(copy_results: dict[str, Any]) -> None:
    result = copy_results["membership_inference"]
    dcr = result["attacks"]["dcr"]
    assert dcr["auc"] > 0.9
    assert dcr["auc_ci"][0] > 0.9
    assert dcr["tpr_at_fpr"]["0.01"] > 0.5
    assert result["auc"] >= dcr["auc"]
    assert result["members"] == result["non_members"] == 1_000
    assert set(result["tpr_at_fpr"]) == {"0.01", "0.001"}


def test_membership_inference_is_chance_for_fresh_rows(fresh_results: dict[str, Any]) -> None:
    result = fresh_results["membership_inference"]
    for attack in ("dcr", "domias"):
        assert abs(result["attacks"][attack]["auc"] - 0.5) < 0.1
        assert result["attacks"][attack]["tpr_at_fpr"]["0.01"] < 0.1
    assert abs(result["auc"] - 0.5) < 0.1


def test_membership_inference_needs_a_holdout(training: pd.DataFrame) -> None:
    data = EvaluationData.build(training, training, None)
    with pytest.raises(ConfigurationError):
        ATTACKS.get("membership_inference")().evaluate(data)


# ----------------------------------------------------------------- inference attack


def test_attribute_inference_exposes_the_copy_generator(copy_results: dict[str, Any]) -> None:
    result: RiskResult = copy_results["attribute_inference"]
    assert result.risk > 0.5
    assert result.ci[0] > 0.3
    assert result.main_rate > result.control_rate
    assert set(result.details["secrets"]) == {"income", "capital-gain"}
    assert result.n_attacks == 5_000  # every training record
    assert result.details["secrets"]["income"]["n_control"] == 2_000  # every holdout one


def test_attribute_inference_risk_near_zero_for_fresh_rows(
    training: pd.DataFrame, holdout: pd.DataFrame, adult_schema: Schema
) -> None:
    # fresh people: rows of adult.test beyond the bundled holdout (the larger demo
    # holdout starts with the same 2,000 rows), so that, as in a real audit, the table
    # attacked with and the control group are separate samples. (``fresh_data`` splits
    # one 2,000-row pool in two; its income risk read 0.04-0.12 over eight splits, two
    # of them with intervals excluding 0: every split shares that one small pool.)
    more = pd.read_csv(EXAMPLES / "adult_holdout_8k.csv", dtype=str, keep_default_na=False)
    assert more.iloc[: len(holdout)].equals(holdout)
    synthetic = more.iloc[len(holdout) : len(holdout) + 2_000].reset_index(drop=True)
    data = _build(training, synthetic, holdout, adult_schema)
    result = ATTACKS.get("attribute_inference")().evaluate(data)
    for secret in result.details["secrets"].values():
        assert secret["ci"][0] == 0.0
        assert secret["ci"][1] < 0.15


def test_numeric_guesses_count_within_five_percent() -> None:
    guesses = pd.Series([100.0, 100.0, 0.0, np.nan, 50.0])
    secrets = pd.Series([104.0, 106.0, 0.0, np.nan, np.nan])
    assert correct_guesses(guesses, secrets, numeric=True).tolist() == [
        True,
        False,
        True,
        True,
        False,
    ]


def test_attribute_inference_needs_a_secret(training: pd.DataFrame, holdout: pd.DataFrame) -> None:
    data = EvaluationData.build(training, training, holdout)
    with pytest.raises(ConfigurationError):
        ATTACKS.get("attribute_inference")().evaluate(data)


# --------------------------------------------------------------------- report safety


def test_details_are_json_and_carry_no_record_values(
    copy_results: dict[str, Any], copy_data: EvaluationData
) -> None:
    values = {str(v) for c in copy_data.categorical_columns for v in copy_data.real[c].unique()}
    for result in copy_results.values():
        payload = result if isinstance(result, dict) else result.to_dict()
        text = json.dumps(payload)
        leaked = {v for v in values if json.dumps(v) in text}
        assert not leaked, leaked
