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
anonymeter's. Synthetic records with the nearest quasi-identifier profile are tied
(common with few, coarse quasi-identifiers); the attacker takes one of them at random,
and a target's success is the *chance* that this guess is right: the share of that
profile's records whose secret hits. That is the same attack as taking any one of them,
in expectation, with the coin flip averaged out (Rao-Blackwell), so the rates are far
less noisy for the same targets. Distinct profiles at the same distance are told apart
by float32 rounding: deterministic, but none is preferred for a reason.

Every training and every holdout record is attacked (up to :data:`DEFAULT_ATTACKS`
each): the holdout is the scarce side, and the interval's width is set by it. For a
categorical secret the rates are post-stratified on the secret's class: each class's
success rate is measured on its own and the classes are weighted alike on both sides
(by their share among all targets). A rare class thus counts in proportion to its
people, not to how many of them the holdout happened to draw, and a training/holdout
difference in class mix is neither taken for a leak nor allowed to hide one. Classes
with fewer than :data:`MIN_CLASS_TARGETS` targets on either side are pooled into one
stratum. The interval is :func:`privsynth.evaluation.stats.residual_interval` on the
stratified rates' effective sizes.
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
from privsynth.evaluation.stats import Rate, RiskEstimate, risk_estimate, stratified_rate

#: numeric guesses within this fraction of the true value count as correct
TOLERANCE = 0.05
#: the most training (main) and holdout (control) records attacked, each (a bounded
#: cost on large tables; every record of tables up to that size)
DEFAULT_ATTACKS = 10_000
#: a secret class with fewer targets than this on either side joins the pooled stratum
MIN_CLASS_TARGETS = 20


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


@dataclass(frozen=True)
class _Hits:
    """Each main and control target's chance of a correct guess, and its stratum."""

    main: npt.NDArray[np.float64]
    control: npt.NDArray[np.float64]
    main_strata: npt.NDArray[np.intp]
    control_strata: npt.NDArray[np.intp]


def secret_strata(
    main: pd.Series, control: pd.Series, numeric: bool
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Each target's stratum: its secret's class, classes with fewer than
    :data:`MIN_CLASS_TARGETS` targets on a side pooled into one, numeric secrets in one.
    A pool missing a side joins the largest class kept; with no class kept, all
    targets form one stratum."""
    if numeric:
        return np.zeros(len(main), np.intp), np.zeros(len(control), np.intp)
    both = pd.concat([main, control], ignore_index=True).astype("string").fillna("\0missing")
    codes, _ = pd.factorize(both)
    n_main = np.bincount(codes[: len(main)], minlength=codes.max() + 1)
    n_control = np.bincount(codes[len(main) :], minlength=codes.max() + 1)
    kept = (n_main >= MIN_CLASS_TARGETS) & (n_control >= MIN_CLASS_TARGETS)
    if not kept.any():
        return np.zeros(len(main), np.intp), np.zeros(len(control), np.intp)
    pool_usable = n_main[~kept].sum() > 0 and n_control[~kept].sum() > 0
    largest = int(np.argmax(np.where(kept, n_main + n_control, -1)))
    strata = np.where(kept, np.arange(len(kept)), len(kept) if pool_usable else largest)
    _, compact = np.unique(strata[codes], return_inverse=True)
    return compact[: len(main)].astype(np.intp), compact[len(main) :].astype(np.intp)


def stratified_rates(hits: _Hits) -> tuple[Rate, Rate, list[dict[str, Any]]]:
    """Main and control rates post-stratified on the strata (weights: each stratum's
    share of all targets), and each stratum's counts (no class label)."""
    k = int(max(hits.main_strata.max(initial=0), hits.control_strata.max(initial=0))) + 1
    main_n = np.bincount(hits.main_strata, minlength=k).astype(np.float64)
    control_n = np.bincount(hits.control_strata, minlength=k).astype(np.float64)
    weights = main_n + control_n
    main = stratified_rate(hits.main, hits.main_strata, weights)
    control = stratified_rate(hits.control, hits.control_strata, weights)
    main_sums = np.bincount(hits.main_strata, hits.main, minlength=k)
    control_sums = np.bincount(hits.control_strata, hits.control, minlength=k)
    strata = [
        {"share": float(w / weights.sum()), "n_main": int(nm), "n_control": int(nc),
         "main_rate": float(sm / nm), "control_rate": float(sc / nc)}
        for w, nm, nc, sm, sc in zip(weights, main_n, control_n, main_sums, control_sums,
                                     strict=True)
    ]  # fmt: skip
    return main, control, strata


def profile_hits(
    synthetic: pd.Series,
    profiles: npt.NDArray[np.intp],
    chosen: npt.NDArray[np.intp],
    secrets: pd.Series,
    numeric: bool,
) -> npt.NDArray[np.float64]:
    """Each target's chance of a correct guess when the attacker takes the secret of a
    random synthetic record among those with the nearest quasi-identifier profile:
    the share of that profile's records whose secret hits (see
    :func:`correct_guesses`). ``profiles`` gives each synthetic record's profile,
    ``chosen`` each target's nearest profile."""
    if not numeric:
        syn = synthetic.astype("string").fillna("\0missing").to_numpy()
        truth = secrets.astype("string").fillna("\0missing").to_numpy()
        counts = (
            pd.Series(1, index=pd.MultiIndex.from_arrays([profiles, syn]))
            .groupby(level=[0, 1])
            .size()
        )
        found = counts.reindex(pd.MultiIndex.from_arrays([chosen, truth]), fill_value=0)
        sizes = np.bincount(profiles)
        return np.asarray(found.to_numpy(), dtype=np.float64) / sizes[chosen]
    return _numeric_profile_hits(
        synthetic.to_numpy(dtype=np.float64), profiles, chosen, secrets.to_numpy(np.float64)
    )


def _numeric_profile_hits(
    values: npt.NDArray[np.float64],
    profiles: npt.NDArray[np.intp],
    chosen: npt.NDArray[np.intp],
    truth: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """:func:`profile_hits` for a numeric secret: per profile, the share of records
    within :data:`TOLERANCE` of each target's value (missing matches missing)."""
    hits = np.zeros(len(truth))
    by_target = np.argsort(chosen, kind="stable")
    by_profile = np.argsort(profiles, kind="stable")
    target_starts = np.searchsorted(chosen[by_target], np.arange(profiles.max() + 2))
    profile_starts = np.searchsorted(profiles[by_profile], np.arange(profiles.max() + 2))
    for g in np.unique(chosen):
        targets = by_target[target_starts[g] : target_starts[g + 1]]
        members = values[by_profile[profile_starts[g] : profile_starts[g + 1]]]
        present = np.sort(members[~np.isnan(members)])
        t = truth[targets]
        reach = TOLERANCE * np.abs(t) + 1e-12
        inside = np.searchsorted(present, t + reach, "right") - np.searchsorted(present, t - reach)
        missing = float(np.isnan(members).sum())
        hits[targets] = np.where(np.isnan(t), missing, inside) / len(members)
    return hits


def _hits(data: EvaluationData, targets: _Targets, secret: str, qis: list[str]) -> _Hits:
    """Every target's chance of a correct guess (:func:`profile_hits`) and stratum."""
    numeric = data.kinds[secret] == "numeric"
    both = pd.concat([targets.main, targets.control], ignore_index=True)
    _, nearest = nearest_neighbours(data.encoded(both, qis), data.encoded(data.synthetic, qis), 1)
    groups = data.synthetic.groupby(qis, dropna=False, sort=False).ngroup()
    profiles = np.asarray(groups.to_numpy(), dtype=np.intp)
    chosen = np.asarray(profiles[nearest[:, 0]], dtype=np.intp)
    correct = profile_hits(data.synthetic[secret], profiles, chosen, both[secret], numeric)
    main_strata, control_strata = secret_strata(
        targets.main[secret], targets.control[secret], numeric
    )
    n = len(targets.main)
    return _Hits(correct[:n], correct[n:], main_strata, control_strata)


def attack_secret(
    data: EvaluationData, targets: _Targets, secret: str, confidence: float = 0.95
) -> tuple[RiskEstimate, dict[str, Any]]:
    """The risk for one secret column, and its counts for the report."""
    qis = _quasi_identifiers(data, secret)
    numeric = data.kinds[secret] == "numeric"
    hits = _hits(data, targets, secret, qis)
    main, control, strata = stratified_rates(hits)
    naive = pd.Series([naive_guess(data.synthetic[secret], numeric)] * len(targets.main))
    baseline = float(correct_guesses(naive, targets.main[secret], numeric).mean())
    estimate = risk_estimate(main, control, baseline, confidence)
    details = {
        "risk": estimate.risk,
        "ci": list(estimate.ci),
        "main_rate": estimate.main_rate,
        "control_rate": estimate.control_rate,
        "baseline_rate": estimate.baseline_rate,
        "n_main": len(targets.main),
        "n_control": len(targets.control),
        "n_success_main": float(hits.main.sum()),
        "n_success_control": float(hits.control.sum()),
        "strata": strata,
        "sample": estimate.sample("holdout", len(data.require_holdout())),
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
            sample=per_secret[worst]["sample"],
        )
