"""The privacy audit: its statistics, and that it catches leakage and clears MST.

A test-only "generator" that resamples its training rows (no privacy at all) is
registered here, never in the package: the audit must find a large epsilon for it, and
must flag a violation when it claims a small one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable, build_codecs, encode_table
from privsynth.dp.accounting.rdp import rho_for_epsilon, zcdp_to_epsilon
from privsynth.dp.mechanisms import Mechanisms
from privsynth.errors import ConfigurationError, SchemaError
from privsynth.evaluation.canary_audit import (
    AuditResult,
    audit_generator,
    canary_matches,
    clopper_pearson_lower,
    clopper_pearson_upper,
    encode_canary,
    epsilon_from_rates,
    epsilon_lower_bound,
    rare_canary,
    select_threshold,
)
from privsynth.generators import GENERATORS, Generator
from privsynth.generators.base import ProgressCallback, no_progress
from privsynth.schema import AutoSpec, Schema, load_schema

COLUMNS = ["age", "sex", "race", "income"]
LEAKY = "test-audit-resample"


class ResampleRows(Generator):
    """Samples the training rows with replacement: no noise, no accounting."""

    name = LEAKY

    def __init__(self) -> None:
        self._codes: dict[str, Codes] = {}

    def fit(
        self,
        table: EncodedTable,
        mechanisms: Mechanisms,
        rho: float,
        progress: ProgressCallback = no_progress,
    ) -> None:
        self._codes = {name: np.asarray(codes) for name, codes in table.codes.items()}

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        picks = rng.integers(0, self.estimated_rows, rows)
        return {name: codes[picks] for name, codes in self._codes.items()}

    @property
    def estimated_rows(self) -> int:
        return len(next(iter(self._codes.values())))


@pytest.fixture(autouse=True, scope="module")
def _leaky_generator() -> Iterator[None]:
    """Register the test-only generator for this module only."""
    GENERATORS.register(LEAKY)(ResampleRows)
    yield
    GENERATORS.unregister(LEAKY)


@pytest.fixture(scope="module")
def schema(adult_schema_path: Path) -> Schema:
    full = load_schema(adult_schema_path)
    return Schema({c: full[c] for c in COLUMNS})


@pytest.fixture(scope="module")
def frame(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame[COLUMNS].iloc[:2000].reset_index(drop=True)


def leaky_audit(frame: pd.DataFrame, schema: Schema, **options: Any) -> AuditResult:
    settings: dict[str, Any] = {"epsilon": 1.0, "delta": 1e-5, "runs": 20, "seed": 7}
    settings.update(options)
    return audit_generator(frame, schema, generator=LEAKY, **settings)


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize(
    ("successes", "trials", "confidence"),
    [(3, 10, 0.95), (17, 20, 0.975), (1, 40, 0.9), (39, 40, 0.99), (50, 100, 0.95)],
)
def test_clopper_pearson_is_the_beta_quantile(
    successes: int, trials: int, confidence: float
) -> None:
    lower = clopper_pearson_lower(successes, trials, confidence)
    upper = clopper_pearson_upper(successes, trials, confidence)
    beta = stats.beta
    assert lower == pytest.approx(beta.ppf(1 - confidence, successes, trials - successes + 1))
    assert upper == pytest.approx(beta.ppf(confidence, successes + 1, trials - successes))
    # one-sided at c = each end of scipy's exact two-sided interval at 2c - 1
    interval = stats.binomtest(successes, trials).proportion_ci(2 * confidence - 1, "exact")
    assert (lower, upper) == pytest.approx((interval.low, interval.high))


def test_clopper_pearson_edges_and_coverage() -> None:
    assert clopper_pearson_lower(0, 20, 0.95) == 0.0
    assert clopper_pearson_upper(20, 20, 0.95) == 1.0
    assert clopper_pearson_lower(20, 20, 0.95) == pytest.approx(0.05 ** (1 / 20))
    assert clopper_pearson_upper(0, 20, 0.95) == pytest.approx(1 - 0.05 ** (1 / 20))
    rng = np.random.default_rng(0)
    draws = rng.binomial(30, 0.3, 4000)
    below = np.mean([clopper_pearson_lower(int(k), 30, 0.95) <= 0.3 for k in draws])
    assert below >= 0.95  # exact: coverage never below the nominal level
    with pytest.raises(ConfigurationError):
        clopper_pearson_lower(5, 4, 0.95)
    with pytest.raises(ConfigurationError):
        clopper_pearson_upper(1, 4, 1.0)


def test_epsilon_from_known_rates() -> None:
    assert epsilon_from_rates(0.9, 0.1, 0.0) == pytest.approx(math.log(9))
    # the first inequality binds: (0.5 - 0.01) / 0.05 = 9.8 > (1 - 0.05 - 0.01) / 0.5
    assert epsilon_from_rates(0.5, 0.05, 0.01) == pytest.approx(math.log(9.8))
    # the second binds: (1 - 0.5 - 0.01) / 0.02 = 24.5 > (0.98 - 0.01) / 0.5
    assert epsilon_from_rates(0.98, 0.5, 0.01) == pytest.approx(math.log(24.5))
    assert epsilon_from_rates(0.4, 0.4, 1e-5) == 0.0  # no advantage
    assert epsilon_from_rates(0.2, 0.5, 0.0) == 0.0  # worse than guessing: no bound
    assert epsilon_from_rates(0.3, 0.0, 0.5) == 0.0  # undefined terms give 0


def test_bound_from_counts_uses_joint_confidence() -> None:
    bound = epsilon_lower_bound(40, 40, 0, 40, delta=0.0, confidence=0.95)
    each = 0.025 ** (1 / 40)  # each one-sided bound at 97.5%
    assert bound.tpr_lower == pytest.approx(each)
    assert bound.fpr_upper == pytest.approx(1 - each)
    assert bound.epsilon == pytest.approx(math.log(each / (1 - each)))
    assert (bound.tpr, bound.fpr) == (1.0, 0.0)
    # perfect separation with 20 + 20 runs cannot certify epsilon 2 at 95%
    assert epsilon_lower_bound(20, 20, 0, 20, 0.0).epsilon < 2
    weak = epsilon_lower_bound(12, 20, 8, 20, 1e-5)
    assert weak.epsilon == 0.0


def test_threshold_is_chosen_to_maximise_the_bound() -> None:
    without = np.array([0.0, 0.0, 0.1, 0.0, 0.0, 0.2])
    with_ = np.array([0.5, 0.7, 0.6, 0.0, 0.9, 0.8])
    threshold = select_threshold(without, with_, 1e-5, 0.95)
    assert threshold == 0.2  # flags every positive run but one, no negative one
    assert select_threshold(np.zeros(5), np.zeros(5), 1e-5, 0.95) == 0.0


# --------------------------------------------------------------------------- the canary


def test_rare_canary_is_absent_from_the_base(frame: pd.DataFrame, schema: Schema) -> None:
    codecs = build_codecs(schema)
    table = encode_table(frame, codecs, np.random.default_rng(0))
    canary = rare_canary(table)
    assert canary_matches(table.codes, canary) == 0
    for name, code in canary.items():
        counts = np.bincount(table.codes[name], minlength=codecs[name].size)
        assert counts[code] == counts.min()
    given = pd.Series({"age": "90", "sex": "Female", "race": "Other", "income": ">50K"})
    codes = encode_canary(given, codecs, ("",))
    assert codecs["sex"].labels()[codes["sex"]] == "Female"
    assert codes["age"] == codecs["age"].size - 1
    with pytest.raises(ConfigurationError, match="lacks modelled columns"):
        encode_canary(given.drop("race"), codecs, ("",))


# --------------------------------------------------------------------------- the audit


def test_audit_detects_a_generator_that_copies_its_input(
    frame: pd.DataFrame, schema: Schema
) -> None:
    result = leaky_audit(frame, schema, runs=80)
    assert result.eps_lower > 2
    assert (result.tpr, result.fpr) == (1.0, 0.0)
    assert result.evaluation_runs == 40 and result.selection_runs == 40
    assert result.canary_in_base == 0
    assert result.accounted_epsilon == 0.0  # it never went through the mechanisms
    assert result.violation  # claims epsilon 1, leaks more than 2
    assert set(result.to_dict()) >= {"eps_lower", "violation", "threshold", "tpr_lower"}


def test_violation_is_flagged_when_the_claim_is_tiny(frame: pd.DataFrame, schema: Schema) -> None:
    result = leaky_audit(frame, schema, epsilon=0.1, runs=20)
    assert result.eps_lower > 0.1
    assert result.violation and result.to_dict()["violation"] is True
    assert any("PRIVACY VIOLATION" in w for w in result.warnings)
    assert result.summary().startswith("VIOLATION")


def test_no_violation_when_the_claim_covers_the_leak(frame: pd.DataFrame, schema: Schema) -> None:
    result = leaky_audit(frame, schema, epsilon=50.0, runs=20)
    assert result.eps_lower > 0.5
    assert not result.violation


def test_canary_copies_check_the_group_guarantee(frame: pd.DataFrame, schema: Schema) -> None:
    result = leaky_audit(frame, schema, canary_copies=3, runs=10)
    rho = rho_for_epsilon(1.0, 1e-5)
    assert result.claimed_epsilon == pytest.approx(zcdp_to_epsilon(9 * rho, 1e-5), rel=1e-3)
    assert result.dp_group_claim == pytest.approx((3.0, 3 * math.exp(2) * 1e-5))
    assert result.to_dict()["dp_group_claim"] == list(result.dp_group_claim)


def test_given_canary_and_seeded_runs_are_reproducible(frame: pd.DataFrame, schema: Schema) -> None:
    canary = pd.Series({"age": "90", "sex": "Female", "race": "Other", "income": ">50K"})
    first = leaky_audit(frame, schema, runs=6, canary=canary, synthetic_rows=500)
    second = leaky_audit(frame, schema, runs=6, canary=canary, synthetic_rows=500)
    assert first.scores_with == second.scores_with
    assert first.canary["sex"] == "Female" and first.synthetic_rows == 500


def test_audit_refuses_bad_settings(frame: pd.DataFrame, schema: Schema) -> None:
    with pytest.raises(ConfigurationError):
        leaky_audit(frame, schema, runs=1)
    with pytest.raises(ConfigurationError):
        leaky_audit(frame, schema, runs=4, selection_runs=4)
    with pytest.raises(ConfigurationError):
        leaky_audit(frame, schema, generator_options=None, confidence=1.0)
    with pytest.raises(ConfigurationError):
        leaky_audit(frame, schema, synthetic_rows=0)
    with pytest.raises(ConfigurationError):
        audit_generator(frame, schema, generator="nope", epsilon=1.0, delta=1e-5)
    incomplete = Schema({**schema.columns, "age": AutoSpec()})
    with pytest.raises(SchemaError, match="complete public schema"):
        leaky_audit(frame, incomplete)


@pytest.mark.slow
def test_mst_at_epsilon_one_shows_no_violation(frame: pd.DataFrame, schema: Schema) -> None:
    result = audit_generator(
        frame,
        schema,
        generator="mst",
        epsilon=1.0,
        delta=1e-5,
        runs=10,
        seed=3,
        generator_options={"iterations": 100},
    )
    assert result.eps_lower <= 1.0
    assert not result.violation
    assert 0.99 <= result.accounted_epsilon <= 1.0 + 1e-9


def test_a_group_audit_of_dpsgd_is_refused(frame: pd.DataFrame, schema: Schema) -> None:
    """DP-SGD's subsampled Gaussian is not ρ-zCDP at its (ε, δ): no k²ρ group claim."""
    with pytest.raises(ConfigurationError, match="zCDP generator"):
        audit_generator(
            frame, schema, generator="dpsgd", epsilon=1.0, delta=1e-5, runs=2,
            canary_copies=4, selection_runs=1,
        )  # fmt: skip


#: one quick training per run; the accounting does not depend on these options
AUDITED = {
    "independent": {},
    "aim": {"iterations": 60, "round_iterations": 10, "scoring_rows": 1000, "max_rounds": 1},
    "dpsgd": {"epochs": 1.0, "sample_rate": 0.1, "hidden": [32]},
}


@pytest.mark.slow
@pytest.mark.parametrize("generator", sorted(AUDITED))
def test_every_generator_passes_the_audit_and_spends_its_claim(
    frame: pd.DataFrame, schema: Schema, generator: str
) -> None:
    """CI-sized (benchmarks/epsilon_audit.py is the full size): no bound above the
    claim, and every run's own filter accounted the whole claim (so the audit
    exercised the generator's real spending path)."""
    result = audit_generator(
        frame.iloc[:600], schema, generator=generator, epsilon=1.0, delta=1e-5, runs=6,
        seed=11, generator_options=AUDITED[generator], synthetic_rows=3000,
    )  # fmt: skip
    assert not result.violation and result.eps_lower <= 1.0
    assert 0.95 <= result.accounted_epsilon <= 1.0 + 1e-9
