"""Membership inference: can an attacker holding the synthetic data tell whether a
record was in the training data?

Members are training rows, non-members holdout rows the generator never saw, in equal
numbers (so an AUC of 0.5 is chance). Two attacks score every target record, higher
meaning "more likely a member":

* ``dcr`` — minus the distance to the closest synthetic record. A generator that
  memorises places synthetic rows at or near its training rows.
* ``domias`` — the density ratio ``p_synthetic(x) / p_reference(x)`` of DOMIAS (van
  Breugel, Sun, Qian & van der Schaar, AISTATS 2023): overfitting shows as synthetic
  density that is high *relative to* the population density, which the attacker
  estimates from reference records. The reference is a random half of the holdout,
  disjoint from the non-member targets. Densities are isotropic Gaussian kernel
  density estimates on the encoded rows, each with its bandwidth chosen by
  leave-one-out likelihood (Scott's rule, DOMIAS' default, oversmooths in the ~100
  encoded dimensions).

Each attack reports its ROC AUC with a DeLong 95% interval and its TPR at 1% and 0.1%
FPR (Carlini et al. 2022: what matters is confidently exposing a few members; tied
scores are interpolated along the ROC curve, see :func:`stats.tpr_at_fpr`). The
headline is the stronger attack; taking the maximum of two makes it slightly
optimistic (for the attacker) on a generator that leaks nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.errors import InputDataError
from privsynth.evaluation.base import ATTACKS, Attack
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import (
    FloatMatrix,
    kde_and_nearest,
    log_kde,
    nearest_distances,
    subsample,
)
from privsynth.evaluation.stats import auc_delong_ci, roc_points, tpr_at_fpr

#: FPR levels at which TPR is reported (keys of ``tpr_at_fpr``)
FPR_LEVELS = (0.01, 0.001)
#: points of the ROC curve kept for the report (log-spaced false-positive rates)
ROC_POINTS = 40
#: bandwidth grid, as multiples of the median nearest-neighbour distance
BANDWIDTH_FACTORS = 2.0 ** (np.arange(-8, 0) / 2.0)
#: rows used to cross-validate a bandwidth
CV_ROWS = 300


def choose_bandwidth(rows: FloatMatrix, rng: np.random.Generator) -> float:
    """The grid bandwidth maximising the leave-one-out log-likelihood of ``rows``.

    The grid runs from 1/16 to 0.7 times the median nearest-neighbour distance (the
    scale of local structure; on Adult the optimum sits near a quarter of it, as
    expected for ~100 encoded dimensions). Likelihood is scored on up to
    :data:`CV_ROWS` rows against all of ``rows``, so the bandwidth suits the full
    sample size."""
    if len(rows) < 2:
        return 1.0
    picks = subsample(len(rows), CV_ROWS, rng)
    nn = nearest_distances(rows[picks], rows, 1, exclude_self=True, query_positions=picks)
    positive = nn[nn > 0]
    scale = float(np.median(positive)) if positive.size else 1.0
    grid = scale * BANDWIDTH_FACTORS
    likelihood = log_kde(rows[picks], rows, grid, exclude=picks).mean(axis=0)
    return float(grid[int(np.argmax(likelihood))])


def _split(
    data: EvaluationData, rng: np.random.Generator, max_targets: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Members, non-members and the attacker's reference rows (disjoint holdout halves),
    with as many members as non-members."""
    holdout = data.require_holdout()
    if len(holdout) < 4:
        raise InputDataError("membership inference needs at least 4 holdout rows")
    order = rng.permutation(len(holdout))
    half = len(holdout) // 2
    reference, outside = holdout.iloc[order[:half]], holdout.iloc[order[half:]]
    n = min(len(outside), len(data.real), max_targets)
    members = data.real.iloc[subsample(len(data.real), n, rng)]
    non_members = outside.iloc[subsample(len(outside), n, rng)]
    return members, non_members, reference


def summarise(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> dict[str, Any]:
    """AUC with its DeLong 95% interval, TPR at the reported FPR levels, and the ROC
    curve on a log-spaced FPR grid (for the report's plot; aggregate rates only)."""
    auc, low, high = auc_delong_ci(scores, labels)
    fpr, tpr = roc_points(scores, labels)
    grid = np.r_[0.0, np.logspace(-3, 0, ROC_POINTS - 1)]
    return {
        "auc": auc,
        "auc_ci": [low, high],
        "tpr_at_fpr": {str(f): tpr_at_fpr(scores, labels, f) for f in FPR_LEVELS},
        "roc": {"fpr": grid.tolist(), "tpr": np.interp(grid, fpr, tpr).tolist()},
    }


def attack_scores(
    targets: FloatMatrix,
    synthetic: FloatMatrix,
    reference: FloatMatrix,
    rng: np.random.Generator,
) -> tuple[dict[str, FloatMatrix], dict[str, float]]:
    """Both attacks' scores per target, and the DOMIAS bandwidths.

    ``dcr`` is minus the distance to the closest synthetic row, ``domias`` is
    ``log p_synthetic(x) - log p_reference(x)``; one pass over the synthetic rows gives
    both."""
    h_synthetic = choose_bandwidth(synthetic, rng)
    h_reference = choose_bandwidth(reference, rng)
    log_synthetic, closest = kde_and_nearest(targets, synthetic, h_synthetic)
    log_reference = log_kde(targets, reference, h_reference)
    scores = {"dcr": -closest, "domias": log_synthetic[:, 0] - log_reference[:, 0]}
    return scores, {"synthetic": h_synthetic, "reference": h_reference}


@ATTACKS.register("membership_inference")
class MembershipInference(Attack):
    """DCR and DOMIAS membership inference; training rows against unseen holdout rows."""

    name: ClassVar[str] = "membership_inference"
    max_targets: int = 5_000

    def evaluate(self, data: EvaluationData) -> dict[str, Any]:
        rng = np.random.default_rng([data.seed, 11])
        members, non_members, reference = _split(data, rng, self.max_targets)
        targets = data.encoded(pd.concat([members, non_members], ignore_index=True))
        labels = np.r_[np.ones(len(members), bool), np.zeros(len(non_members), bool)]
        scores, bandwidths = attack_scores(
            targets, data.encoded(data.synthetic), data.encoded(reference), rng
        )
        attacks = {name: summarise(values, labels) for name, values in scores.items()}
        attacks["domias"]["bandwidths"] = bandwidths
        best = max(attacks, key=lambda a: float(attacks[a]["auc"]))
        return {
            "auc": attacks[best]["auc"],
            "auc_ci": attacks[best]["auc_ci"],
            "tpr_at_fpr": attacks[best]["tpr_at_fpr"],
            "best_attack": best,
            "attacks": attacks,
            "members": len(members),
            "non_members": len(non_members),
            "reference": len(reference),
        }
