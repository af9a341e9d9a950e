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
    z = _z(confidence)
    z2 = z * z
    p = successes / trials
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    low = 0.0 if successes == 0 else max(0.0, float(centre - half))
    high = 1.0 if successes == trials else min(1.0, float(centre + half))
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
class RiskEstimate:
    """The numeric fields of a :class:`RiskResult`, before it is given a name."""

    risk: float
    ci: tuple[float, float]
    main_rate: float
    control_rate: float
    baseline_rate: float

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


def risk_from_rates(
    main_successes: int,
    main_trials: int,
    control_successes: int,
    control_trials: int,
    baseline_rate: float,
    confidence: float = 0.95,
) -> RiskEstimate:
    """Anonymeter's risk ``(main - control) / (1 - control)`` with a confidence interval.

    The interval is propagated from the Wilson intervals of both rates by interval
    arithmetic: the risk grows with ``main`` and shrinks with ``control``, so its
    extremes are at ``(main_low, control_high)`` and ``(main_high, control_low)``.
    This is wider (more cautious) than anonymeter's first-order error propagation.
    The point risk and the interval are clipped to [0, 1]: an attack doing worse on
    training records than on unseen ones shows no risk, not a negative one."""
    main = main_successes / main_trials if main_trials else 0.0
    control = control_successes / control_trials if control_trials else 0.0
    main_low, main_high = wilson_interval(main_successes, main_trials, confidence)
    control_low, control_high = wilson_interval(control_successes, control_trials, confidence)
    low = _clip(_residual(main_low, control_high))
    high = _clip(_residual(main_high, control_low))
    return RiskEstimate(
        risk=_clip(_residual(main, control)),
        ci=(low, high),
        main_rate=float(main),
        control_rate=float(control),
        baseline_rate=float(baseline_rate),
    )


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
