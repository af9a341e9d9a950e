"""The statistics behind a conclusive verdict (issue 16): the risk interval covers as
asked and no more, stratified and averaged successes keep that coverage, the power
calculation's sample size does what it says, and attribute inference's averaged
tie-break equals the attack it replaces.

Coverage is checked by simulation (seeded, a few thousand draws each): a two-sided
95% interval should miss the true risk about 2.5% of the time on each side. The
bounds allow for Monte Carlo error (one standard error at 3,000 draws is 0.3%) and for
the interval being approximate: no side may miss more than 4%, and the policies read
the upper bound, so its misses must stay well under the 5% a one-sided 95% bound
allows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from privsynth.evaluation.inference import correct_guesses, profile_hits, secret_strata
from privsynth.evaluation.stats import (
    Rate,
    RiskEstimate,
    conclusive_growth,
    residual_interval,
    risk_from_rates,
    stratified_rate,
    wilson_interval,
)

DRAWS = 3_000
MAX_MISS = 0.04


def _misses(
    main: float, control: float, n_main: int, n_control: int, seed: int
) -> tuple[float, float]:
    """How often the interval lies wholly below / wholly above the true risk."""
    rng = np.random.default_rng(seed)
    truth = max(0.0, (main - control) / (1 - control))
    below = above = 0
    mains, controls = rng.binomial(n_main, main, DRAWS), rng.binomial(n_control, control, DRAWS)
    for m, c in zip(mains, controls, strict=True):
        low, high = residual_interval(Rate.of(m, n_main), Rate.of(c, n_control))
        below += high < truth - 1e-12
        above += low > truth + 1e-12
    return below / DRAWS, above / DRAWS


@pytest.mark.parametrize(
    ("main", "control", "n_main", "n_control"),
    [
        (0.70, 0.70, 5_000, 2_000),  # the demo's income secret, nothing leaked
        (0.75, 0.70, 5_000, 2_000),  # a leak of 0.17
        (0.30, 0.20, 200, 100),  # small samples
        (0.99, 0.50, 500, 500),  # near-perfect attack: few failures on the main side
        (0.02, 0.02, 2_000, 2_000),  # a rare success (linkability-like)
    ],
)
def test_the_risk_interval_covers_on_both_sides(
    main: float, control: float, n_main: int, n_control: int
) -> None:
    below, above = _misses(main, control, n_main, n_control, seed=int(main * 1000 + n_control))
    assert below <= MAX_MISS and above <= MAX_MISS


def test_the_interval_is_narrower_than_interval_arithmetic_at_the_demo_rates() -> None:
    # the failed demo audit: 2,000 targets a side, rates 0.6965 and 0.6955
    estimate = risk_from_rates(1_393, 2_000, 1_391, 2_000, baseline_rate=0.754)
    main_high = wilson_interval(1_393, 2_000)[1]
    control_low = wilson_interval(1_391, 2_000)[0]
    corner = (main_high - control_low) / (1 - control_low)
    assert corner == pytest.approx(0.127, abs=0.001)  # what the old report said
    assert estimate.ci[1] < 0.8 * corner


def _chances(
    n: int, rare_share: float, leak: float, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """Per-target chances of a hit, as averaged tie-breaks give them: a common class
    mostly guessed right, a rare one mostly wrong, and an optional leak on top."""
    strata = (rng.random(n) < rare_share).astype(np.intp)
    common = rng.choice([0.95, 0.8, 0.6, 1.0], n, p=[0.4, 0.3, 0.2, 0.1])
    rare = rng.choice([0.1, 0.3, 0.5, 0.0], n, p=[0.3, 0.3, 0.2, 0.2])
    chances = np.where(strata == 0, common, rare)
    return chances + leak * (1 - chances), strata


@pytest.mark.parametrize(
    ("n_main", "n_control", "rare_share", "leak"),
    [(5_000, 2_000, 0.24, 0.0), (5_000, 2_000, 0.24, 0.1), (300, 100, 0.1, 0.2)],
)
def test_stratified_averaged_rates_keep_the_coverage(
    n_main: int, n_control: int, rare_share: float, leak: float
) -> None:
    rng = np.random.default_rng(11)
    big_main, big_strata = _chances(400_000, rare_share, leak, rng)
    big_control, control_strata = _chances(400_000, rare_share, 0.0, rng)
    w = np.array([1 - rare_share, rare_share])
    main = float(np.dot(w, [big_main[big_strata == k].mean() for k in (0, 1)]))
    control = float(np.dot(w, [big_control[control_strata == k].mean() for k in (0, 1)]))
    truth = max(0.0, (main - control) / (1 - control))
    below = above = 0
    for _ in range(1_500):
        m, ms = _chances(n_main, rare_share, leak, rng)
        c, cs = _chances(n_control, rare_share, 0.0, rng)
        weights = (np.bincount(ms, minlength=2) + np.bincount(cs, minlength=2)).astype(float)
        low, high = residual_interval(
            stratified_rate(m, ms, weights), stratified_rate(c, cs, weights)
        )
        below += high < truth - 1e-9
        above += low > truth + 1e-9
    assert below / 1_500 <= MAX_MISS and above / 1_500 <= MAX_MISS


def test_a_stratified_rate_of_hits_in_one_stratum_is_the_plain_rate() -> None:
    hits = np.array([1, 0, 1, 1, 0, 1, 1, 1], dtype=np.float64)
    rate = stratified_rate(hits, np.zeros(8, dtype=np.intp), np.array([1.0]))
    assert rate.value == pytest.approx(0.75)
    assert rate.trials == pytest.approx(8.0)
    # averaged chances vary less than hits: more effective trials than targets
    chances = np.full(8, 0.75) + np.linspace(-0.05, 0.05, 8)
    assert stratified_rate(chances, np.zeros(8, dtype=np.intp), np.array([1.0])).trials > 8


def test_the_power_calculation_sizes_a_holdout_that_settles_the_verdict() -> None:
    # 10,000 training targets, 1,000 holdout ones, equal rates: inconclusive
    estimate = risk_from_rates(7_000, 10_000, 700, 1_000, baseline_rate=0.7)
    assert estimate.ci[1] > 0.09
    growth = conclusive_growth(estimate, 0.09, grow_main=False)
    assert growth is not None and growth > 1
    needed = int(np.ceil(1_000 * growth))
    # were the rates the observed ones, that holdout settles the verdict 80% of the time
    rng = np.random.default_rng(5)
    settled = 0
    draws = zip(rng.binomial(10_000, 0.7, 1_000), rng.binomial(needed, 0.7, 1_000), strict=True)
    for m, c in draws:
        settled += risk_from_rates(m, 10_000, c, needed, 0.7).ci[1] <= 0.09
    assert 0.75 <= settled / 1_000 <= 0.9
    # the holdout at hand does so far less often
    settled_now = sum(
        risk_from_rates(m, 10_000, c, 1_000, 0.7).ci[1] <= 0.09
        for m, c in zip(
            rng.binomial(10_000, 0.7, 1_000), rng.binomial(1_000, 0.7, 1_000), strict=True
        )
    )
    assert settled_now / 1_000 < 0.6
    # with 2,000 training targets (the old demo's) no holdout would do at 80% power
    old = risk_from_rates(1_393, 2_000, 1_391, 2_000, baseline_rate=0.754)
    assert conclusive_growth(old, 0.09, grow_main=False) is None


def test_no_holdout_settles_what_the_training_targets_cannot() -> None:
    # 50 training targets: even a perfectly known control leaves the interval wide
    estimate = RiskEstimate(0.0, (0.0, 0.4), 0.7, 0.7, 0.7, 50.0, 50.0)
    assert conclusive_growth(estimate, 0.09, grow_main=False) is None
    assert conclusive_growth(estimate, 0.09, grow_main=True) is not None


def test_a_clear_leak_is_settled_as_a_failure() -> None:
    estimate = risk_from_rates(900, 1_000, 700, 1_000, baseline_rate=0.5)
    assert estimate.ci[0] > 0.09  # conclusive failure already
    growth = conclusive_growth(estimate, 0.09, grow_main=False)
    assert growth is not None and growth < 1


# -------------------------------------------------------- averaged tie-breaking


def test_profile_hits_equal_the_average_over_random_tie_breaks() -> None:
    rng = np.random.default_rng(2)
    secrets = pd.Series(rng.choice(["a", "b", "c"], 60))
    profiles = rng.integers(0, 5, 60).astype(np.intp)
    chosen = rng.integers(0, 5, 25).astype(np.intp)
    truth = pd.Series(rng.choice(["a", "b", "c"], 25))
    found = profile_hits(secrets, profiles, chosen, truth, numeric=False)
    for i in range(25):
        members = np.flatnonzero(profiles == chosen[i])
        guesses = secrets.iloc[members].reset_index(drop=True)
        expected = correct_guesses(guesses, pd.Series([truth[i]] * len(members)), False)
        assert found[i] == pytest.approx(expected.mean())


def test_numeric_profile_hits_use_the_tolerance_and_match_missing() -> None:
    values = pd.Series([100.0, 104.0, 106.0, np.nan, 0.0, 10.0])
    profiles = np.array([0, 0, 0, 0, 1, 1], dtype=np.intp)
    chosen = np.array([0, 0, 1, 1], dtype=np.intp)
    truth = pd.Series([100.0, np.nan, 0.0, 10.4])
    found = profile_hits(values, profiles, chosen, truth, numeric=True)
    # 100: 100 and 104 within 5% (of 100); missing: the one missing; 0: only 0; 10.4: 10
    assert found.tolist() == pytest.approx([0.5, 0.25, 0.5, 0.5])


def test_rare_secret_classes_are_pooled_into_one_stratum() -> None:
    main = pd.Series(["x"] * 100 + ["y"] * 50 + ["r1"] * 3 + ["r2"] * 2)
    control = pd.Series(["x"] * 40 + ["y"] * 30 + ["r1"] * 1 + ["r2"] * 4)
    main_strata, control_strata = secret_strata(main, control, numeric=False)
    assert len(set(main_strata[:100])) == 1 and len(set(main_strata[100:150])) == 1
    assert main_strata[0] != main_strata[100]
    rare = set(main_strata[150:]) | set(control_strata[70:])
    assert len(rare) == 1 and rare.isdisjoint({main_strata[0], main_strata[100]})
    numeric_main, _ = secret_strata(main, control, numeric=True)
    assert set(numeric_main) == {0}


def test_a_pool_missing_a_side_joins_the_largest_class_kept() -> None:
    # the most common class has no holdout target: it cannot be a stratum of its own
    main = pd.Series(["big"] * 300 + ["x"] * 100 + ["y"] * 50)
    control = pd.Series(["x"] * 40 + ["y"] * 30)
    main_strata, control_strata = secret_strata(main, control, numeric=False)
    assert set(main_strata[:300]) == set(main_strata[300:400]) == set(control_strata[:40])
    assert len(set(main_strata)) == len(set(control_strata)) == 2
    # and no class large enough on both sides: one stratum
    few_main, few_control = secret_strata(main[:10], control[:10], numeric=False)
    assert set(few_main) == set(few_control) == {0}
