"""Small, exact statistics shared by the privacy metrics and attacks.

Kept dependency-free (numpy and scipy only; scikit-learn is a development extra) and
exact on ties, because privacy numbers are read at their extremes: a TPR at 0.1% FPR
or a risk whose confidence interval decides whether a release is acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats as _stats

from privsynth.evaluation.base import RiskResult

ArrayLike = npt.ArrayLike


def _z(confidence: float) -> float:
    """The two-sided normal quantile for ``confidence`` (1.96 at 95%)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(_stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial rate (Wilson 1927).

    Chosen over the normal approximation because attack success rates sit near 0 or 1,
    where the Wald interval collapses; it is also what anonymeter uses."""
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, {trials}], got {successes}")
    return wilson_bounds(successes / trials, trials, _z(confidence))


def wilson_bounds(rate: float, trials: float, z: float) -> tuple[float, float]:
    """The Wilson bounds of ``rate`` observed over ``trials`` at normal quantile ``z``;
    ``trials`` may be an effective (non-integer) count, as for a stratified rate."""
    if trials <= 0:
        return (0.0, 1.0)
    z2 = z * z
    centre = (rate + z2 / (2 * trials)) / (1 + z2 / trials)
    spread = rate * (1 - rate) / trials + z2 / (4 * trials * trials)
    half = z * np.sqrt(max(spread, 0.0)) / (1 + z2 / trials)
    low = 0.0 if rate <= 0.0 else max(0.0, float(centre - half))
    high = 1.0 if rate >= 1.0 else min(1.0, float(centre + half))
    return (low, high)


def clopper_pearson(successes: int, trials: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (conservative) binomial interval with coverage at least ``1 - alpha``.

    Used where a guarantee matters more than width, e.g. bounding a rate from zero
    observed events (0/20 gives an upper bound of 0.168 at 95%)."""
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, {trials}], got {successes}")
    low = 0.0 if successes == 0 else _stats.beta.ppf(alpha / 2, successes, trials - successes + 1)
    high = (
        1.0
        if successes == trials
        else _stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes)
    )
    return (float(low), float(high))


def _residual(main: float, control: float) -> float:
    """Anonymeter's residual success: the excess over control, normalised by its margin."""
    if control >= 1.0:
        return 0.0
    return (main - control) / (1.0 - control)


@dataclass(frozen=True)
class Rate:
    """An attack's success rate and the (effective) number of trials behind it: for a
    plain rate the targets attacked; for a stratified one ``rate(1 - rate) / variance``,
    the binomial sample size that would be as precise (Kish's effective size)."""

    value: float
    trials: float

    @classmethod
    def of(cls, successes: float, trials: float) -> Rate:
        return cls(successes / trials if trials else 0.0, float(trials))


def stratified_rate(
    values: npt.NDArray[np.float64],
    strata: npt.NDArray[np.intp],
    weights: npt.NDArray[np.float64],
) -> Rate:
    """The post-stratified mean ``sum_k w_k mean_k`` of per-target successes in [0, 1]
    (hits, or chances of a hit), weights fixed, with its effective trials
    ``rate (1 - rate) / variance`` (for 0/1 values in one stratum: the target count).

    Each stratum's variance is its values' variance (``p (1 - p)`` for hits), at least
    ``1 / (4 (n_k + 1))``, as if half a target more had been seen: a stratum that
    happened to be all hits (or all misses) is not taken as certain."""
    k = len(weights)
    n = np.bincount(strata, minlength=k).astype(np.float64)
    if np.any(n == 0):
        raise ValueError("every stratum needs at least one target")
    w = weights / weights.sum()
    means = np.bincount(strata, values, minlength=k) / n
    squares = np.bincount(strata, values * values, minlength=k) / n
    spread = np.maximum(squares - means * means, 1.0 / (4.0 * (n + 1.0)))
    value = float(np.clip(np.dot(w, means), 0.0, 1.0))
    variance = float(np.sum(w * w * spread / n))
    if value in (0.0, 1.0):
        return Rate(value, float(n.sum()))
    return Rate(value, value * (1.0 - value) / variance)


def residual_interval(main: Rate, control: Rate, confidence: float = 0.95) -> tuple[float, float]:
    """A confidence interval for ``(main - control) / (1 - control)``, clipped to [0, 1].

    The risk is ``1 - f_main / f_control`` where ``f = 1 - rate`` are the failure
    rates, so its interval is one minus that of a ratio of two independent rates: the
    MOVER-R interval (Newcombe 2016, "MOVER-R confidence intervals for ratios and
    products of two independently estimated quantities", Stat Methods Med Res 25(5)),
    built from each rate's Wilson interval. Its coverage is close to nominal (checked
    by simulation in the tests), where bounding the risk by the corners of the two
    rates' intervals (interval arithmetic) covers far more than asked and is
    correspondingly wider."""
    z = _z(confidence)
    main_low, main_high = wilson_bounds(main.value, main.trials, z)
    control_low, control_high = wilson_bounds(control.value, control.trials, z)
    f1, f2 = 1.0 - main.value, 1.0 - control.value
    ratio_low = _ratio_lower(f1, 1.0 - main_high, f2, 1.0 - control_low)
    ratio_high = _ratio_upper(f1, 1.0 - main_low, f2, 1.0 - control_high)
    return (_clip(1.0 - ratio_high), _clip(1.0 - ratio_low))


def _ratio_lower(f1: float, low1: float, f2: float, high2: float) -> float:
    """MOVER-R lower bound of ``f1 / f2``: the root in [0, f1/f2] of
    ``f1 - t f2 = sqrt((f1 - low1)^2 + t^2 (high2 - f2)^2)``, in the rationalised form
    ``C / (f1 f2 + sqrt(D))`` that stays finite whatever the sign of its quadratic term."""
    a = high2 * (2 * f2 - high2)
    c = low1 * (2 * f1 - low1)
    denominator = f1 * f2 + float(np.sqrt(max((f1 * f2) ** 2 - a * c, 0.0)))
    return c / denominator if denominator > 0 else 0.0


def _ratio_upper(f1: float, high1: float, f2: float, low2: float) -> float:
    """MOVER-R upper bound of ``f1 / f2`` (infinite when ``f2``'s lower bound is 0)."""
    a = low2 * (2 * f2 - low2)
    if a <= 0:
        return float("inf")
    c = high1 * (2 * f1 - high1)
    return (f1 * f2 + float(np.sqrt(max((f1 * f2) ** 2 - a * c, 0.0)))) / a


@dataclass(frozen=True)
class RiskEstimate:
    """The numeric fields of a :class:`RiskResult`, before it is given a name, and the
    effective trials behind each rate (what a power calculation scales)."""

    risk: float
    ci: tuple[float, float]
    main_rate: float
    control_rate: float
    baseline_rate: float
    main_trials: float = 0.0
    control_trials: float = 0.0

    def to_result(self, name: str, n_attacks: int, **details: Any) -> RiskResult:
        """The named result, ready for a report."""
        return RiskResult(
            name=name,
            risk=self.risk,
            ci=self.ci,
            main_rate=self.main_rate,
            control_rate=self.control_rate,
            baseline_rate=self.baseline_rate,
            n_attacks=n_attacks,
            details=details,
        )

    def sample(self, grows_with: str, size: int) -> dict[str, Any]:
        """What a power calculation needs (``details["sample"]``): the effective trials
        of both rates, and what a larger sample means: ``"holdout"`` (only the control
        trials grow, with the holdout's ``size`` records) or ``"attacks"`` (both grow
        with the ``size`` attacks run)."""
        return {
            "main_trials": self.main_trials,
            "control_trials": self.control_trials,
            "grows_with": grows_with,
            "size": size,
        }


def risk_estimate(
    main: Rate, control: Rate, baseline_rate: float, confidence: float = 0.95
) -> RiskEstimate:
    """Anonymeter's risk ``(main - control) / (1 - control)`` with its
    :func:`residual_interval`. The point risk and the interval are clipped to [0, 1]:
    an attack doing worse on training records than on unseen ones shows no risk."""
    return RiskEstimate(
        risk=_clip(_residual(main.value, control.value)),
        ci=residual_interval(main, control, confidence),
        main_rate=float(main.value),
        control_rate=float(control.value),
        baseline_rate=float(baseline_rate),
        main_trials=main.trials,
        control_trials=control.trials,
    )


def risk_from_rates(
    main_successes: float,
    main_trials: int,
    control_successes: float,
    control_trials: int,
    baseline_rate: float,
    confidence: float = 0.95,
) -> RiskEstimate:
    """:func:`risk_estimate` from success counts (a count may be an average, as for
    singling out's subsampled tables)."""
    if not (0 <= main_successes <= main_trials and 0 <= control_successes <= control_trials):
        raise ValueError("successes must lie between 0 and the trials")
    main = Rate.of(main_successes, main_trials)
    control = Rate.of(control_successes, control_trials)
    return risk_estimate(main, control, baseline_rate, confidence)


#: the range of growth factors a power calculation tries (beyond: "not reachable")
MIN_GROWTH, MAX_GROWTH = 1e-3, 1e4


def conclusive_growth(
    estimate: RiskEstimate,
    threshold: float,
    grow_main: bool,
    confidence: float = 0.95,
    power: float = 0.8,
) -> float | None:
    """The smallest factor ``k`` (from :data:`MIN_GROWTH`) by which the control trials
    (and the main trials when ``grow_main``) should be multiplied for the interval to
    lie on one side of ``threshold`` (below it when the estimate is: a conclusive pass;
    above it otherwise: a conclusive failure) with probability ``power``, were the true
    rates the observed ones. The usual sample-size rule ``n = (z_a + z_b)^2 var /
    margin^2``, applied to the interval itself: the interval at the wider confidence
    of ``z_a + z_b`` must clear the threshold. None when even :data:`MAX_GROWTH` times
    more would not (the main trials limit it, or the estimate sits on the threshold).
    The width shrinks as the trials grow, so ``k`` is found by bisection."""
    z = _z(confidence) + float(_stats.norm.ppf(power))
    wider = float(2.0 * _stats.norm.cdf(z) - 1.0)
    if not _conclusive(estimate, MAX_GROWTH, threshold, grow_main, wider):
        return None
    if _conclusive(estimate, MIN_GROWTH, threshold, grow_main, wider):
        return MIN_GROWTH
    low, high = float(np.log(MIN_GROWTH)), float(np.log(MAX_GROWTH))
    for _ in range(60):
        middle = (low + high) / 2
        if _conclusive(estimate, float(np.exp(middle)), threshold, grow_main, wider):
            high = middle
        else:
            low = middle
    return float(np.exp(high))


def _conclusive(
    estimate: RiskEstimate, growth: float, threshold: float, grow_main: bool, confidence: float
) -> bool:
    main_trials = estimate.main_trials * (growth if grow_main else 1.0)
    low, high = residual_interval(
        Rate(estimate.main_rate, main_trials),
        Rate(estimate.control_rate, estimate.control_trials * growth),
        confidence,
    )
    return high <= threshold if estimate.risk <= threshold else low > threshold


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def _scores_labels(
    scores: ArrayLike, labels: ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Validated float scores and boolean labels (True = positive, e.g. member)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).astype(bool).ravel()
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores but {y.size} labels")
    if not y.any() or y.all():
        raise ValueError("need both positive and negative labels")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    return s, y


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve, exact with ties counted as one half.

    Computed as the Mann-Whitney U statistic from mid-ranks, so it equals the
    probability that a random positive outscores a random negative."""
    s, y = _scores_labels(scores, labels)
    ranks = _stats.rankdata(s)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    u = float(ranks[y].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def auc_delong_ci(
    scores: ArrayLike, labels: ArrayLike, confidence: float = 0.95
) -> tuple[float, float, float]:
    """AUC with DeLong's (1988) normal confidence interval, as ``(auc, low, high)``.

    DeLong's variance comes from the per-record placement values, computed here with
    mid-ranks in O(n log n) (Sun & Xu 2014), which is exact on ties and avoids the cost
    and seed-dependence of a bootstrap."""
    s, y = _scores_labels(scores, labels)
    pos, neg = s[y], s[~y]
    m, n = pos.size, neg.size
    all_ranks = _stats.rankdata(np.concatenate([pos, neg]))
    v10 = (all_ranks[:m] - _stats.rankdata(pos)) / n  # share of negatives each positive beats
    v01 = 1.0 - (all_ranks[m:] - _stats.rankdata(neg)) / m  # share of positives beating each
    auc = float(v10.mean())
    var10 = float(v10.var(ddof=1)) if m > 1 else 0.0
    var01 = float(v01.var(ddof=1)) if n > 1 else 0.0
    half = _z(confidence) * np.sqrt(var10 / m + var01 / n)
    return auc, _clip(auc - half), _clip(auc + half)


def roc_points(
    scores: ArrayLike, labels: ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The ROC curve's vertices ``(fpr, tpr)``, from (0, 0) to (1, 1), one per distinct
    score: records with tied scores enter together (a diagonal segment)."""
    s, y = _scores_labels(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.append(s_sorted[1:] != s_sorted[:-1], True)
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = np.cumsum(~y_sorted)[last_of_tie]
    fpr = np.r_[0.0, fp / fp[-1]]
    tpr = np.r_[0.0, tp / tp[-1]]
    return fpr, tpr


def tpr_at_fpr(scores: ArrayLike, labels: ArrayLike, fpr: float) -> float:
    """True-positive rate at false-positive rate ``fpr`` on the ROC curve (Carlini et al.
    2022's low-FPR view of membership inference).

    Ties are handled as the ROC curve (and the AUC, where ties count one half) handles
    them: records with equal scores form a diagonal segment, so between two thresholds
    the TPR is interpolated linearly. That rate is achievable by flagging a random
    share of the tied records; without it, a block of tied non-members (say natural
    duplicates of training rows) would hide every member tied with them."""
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"fpr must be in [0, 1], got {fpr}")
    x, y = roc_points(scores, labels)
    below = int(np.searchsorted(x, fpr, side="right")) - 1  # last vertex with x <= fpr
    if below == len(x) - 1 or x[below] == fpr:
        return float(y[below])
    share = (fpr - x[below]) / (x[below + 1] - x[below])
    return float(y[below] + share * (y[below + 1] - y[below]))
