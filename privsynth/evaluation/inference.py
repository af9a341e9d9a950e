"""Attribute inference, as anonymeter's ``InferenceEvaluator`` (Giomi et al., PoPETs 2023).

The attacker knows some attributes of a target person (the quasi-identifiers) and
wants a secret one. With the synthetic table in hand, the guess is the secret of the
synthetic record nearest to the target on the quasi-identifiers. The attack runs on
training records (``main``) and on holdout records the generator never saw
(``control``): what the synthetic data teaches about the population shows in both,
so only the excess on training records, ``risk = (main - control) / (1 - control)``,
is a privacy leak. A naive guesser (always the synthetic mode, or median for numeric
secrets) gives the ``baseline`` rate: an attack that does not beat it shows nothing.

A guess is correct when equal to the secret (categorical) or within 5% of it,
relative to the true value (numeric; anonymeter divides by the guess instead, which
is undefined for negative guesses); missing matches missing. Distances on the
quasi-identifiers are Euclidean on :meth:`EvaluationData.encoded` rows (numeric
scaled to ~[0, 1], a category mismatch costs 1): a Gower-like distance, as
anonymeter's. Synthetic records tied at the same distance (common with few, coarse
quasi-identifiers) are told apart by float32 rounding: deterministic, but no record
is preferred for a reason, which is the fair model of an attacker without more
information.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.errors import ConfigurationError
from privsynth.evaluation.base import ATTACKS, Attack, RiskResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import nearest_neighbours, subsample
from privsynth.evaluation.stats import RiskEstimate, risk_from_rates

#: numeric guesses within this fraction of the true value count as correct
TOLERANCE = 0.05
DEFAULT_ATTACKS = 2_000


def correct_guesses(guesses: pd.Series, secrets: pd.Series, numeric: bool) -> npt.NDArray[np.bool_]:
    """Which guesses hit: exact for categories, within :data:`TOLERANCE` (relative to
    the secret) for numbers; missing matches missing."""
    guess = guesses.to_numpy()
    truth = secrets.to_numpy()
    both_missing = pd.isna(guess) & pd.isna(truth)
    if not numeric:
        return np.asarray((guess == truth) | both_missing, dtype=bool)
    g = guess.astype(np.float64)
    t = truth.astype(np.float64)
    with np.errstate(invalid="ignore"):
        close = np.abs(g - t) <= TOLERANCE * np.abs(t) + 1e-12
    return np.asarray(close | both_missing, dtype=bool)


def naive_guess(synthetic: pd.Series, numeric: bool) -> Any:
    """The guess of an attacker ignoring the target: synthetic median or mode."""
    present = synthetic.dropna()
    if present.empty:
        return np.nan
    if numeric:
        return float(present.median())
    return present.value_counts().index[0]


@dataclass(frozen=True)
class _Targets:
    """Training (main) and holdout (control) records attacked, sampled once."""

    main: pd.DataFrame
    control: pd.DataFrame


def _targets(data: EvaluationData, n_attacks: int) -> _Targets:
    rng = np.random.default_rng([data.seed, 21])
    holdout = data.require_holdout()
    main = data.real.iloc[subsample(len(data.real), n_attacks, rng)]
    control = holdout.iloc[subsample(len(holdout), n_attacks, rng)]
    return _Targets(main.reset_index(drop=True), control.reset_index(drop=True))


def _secrets(data: EvaluationData) -> list[str]:
    secrets = data.sensitive or ([data.target] if data.target else [])
    if not secrets:
        raise ConfigurationError(
            "attribute inference needs a secret column",
            hint="mark columns with role: sensitive in the schema, or pass a target",
        )
    return secrets


def _quasi_identifiers(data: EvaluationData, secret: str) -> list[str]:
    """The attacker's knowledge: the declared quasi-identifiers, else every other column."""
    qis = [c for c in data.quasi_identifiers if c != secret]
    return qis or [c for c in data.columns if c != secret]


def attack_secret(
    data: EvaluationData, targets: _Targets, secret: str, confidence: float = 0.95
) -> tuple[RiskEstimate, dict[str, Any]]:
    """The risk for one secret column, and its counts for the report."""
    qis = _quasi_identifiers(data, secret)
    numeric = data.kinds[secret] == "numeric"
    both = pd.concat([targets.main, targets.control], ignore_index=True)
    _, nearest = nearest_neighbours(data.encoded(both, qis), data.encoded(data.synthetic, qis), 1)
    guesses = data.synthetic[secret].iloc[nearest[:, 0]].reset_index(drop=True)
    correct = correct_guesses(guesses, both[secret], numeric)
    hits = {"main": correct[: len(targets.main)], "control": correct[len(targets.main) :]}
    naive = pd.Series([naive_guess(data.synthetic[secret], numeric)] * len(targets.main))
    baseline = float(correct_guesses(naive, targets.main[secret], numeric).mean())
    estimate = risk_from_rates(
        int(hits["main"].sum()),
        len(targets.main),
        int(hits["control"].sum()),
        len(targets.control),
        baseline,
        confidence,
    )
    details = {
        "risk": estimate.risk,
        "ci": list(estimate.ci),
        "main_rate": estimate.main_rate,
        "control_rate": estimate.control_rate,
        "baseline_rate": estimate.baseline_rate,
        "n_main": len(targets.main),
        "n_control": len(targets.control),
        "kind": data.kinds[secret],
        "quasi_identifiers": qis,
    }
    return estimate, details


@ATTACKS.register("attribute_inference")
class AttributeInference(Attack):
    """Anonymeter-style inference of each secret column from the quasi-identifiers;
    the headline is the riskiest secret, with every secret in ``details``."""

    name: ClassVar[str] = "attribute_inference"
    n_attacks: int = DEFAULT_ATTACKS
    confidence: float = 0.95

    def evaluate(self, data: EvaluationData) -> RiskResult:
        targets = _targets(data, self.n_attacks)
        per_secret: dict[str, dict[str, Any]] = {}
        estimates: dict[str, RiskEstimate] = {}
        for secret in _secrets(data):
            estimates[secret], per_secret[secret] = attack_secret(
                data, targets, secret, self.confidence
            )
        worst = max(estimates, key=lambda s: (estimates[s].risk, estimates[s].ci[1]))
        return estimates[worst].to_result(
            self.name,
            len(targets.main),
            worst_secret=worst,
            secrets=per_secret,
            tolerance=TOLERANCE,
            confidence=self.confidence,
        )
