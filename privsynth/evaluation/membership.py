"""Membership inference: can an attacker holding the synthetic data tell whether a
record was in the training data?

Members are training rows, non-members holdout rows the generator never saw, in equal
numbers (so an AUC of 0.5 is chance). With a privacy unit (``patient_id``), privacy is
promised per person, so the attack targets persons: members are training persons,
non-members holdout persons, the reference below is a set of other holdout persons,
and a person's score is the highest score of their rows (an attacker flags a person
when any of their records looks like a member). Without one, each row is a unit of
one row and the two cases share one code path. Two attacks score every target
record, higher meaning "more likely a member":

* ``dcr`` — minus the distance to the closest synthetic record. A generator that
  memorises places synthetic rows at or near its training rows.
* ``domias`` — the density ratio ``p_synthetic(x) / p_reference(x)`` of DOMIAS (van
  Breugel, Sun, Qian & van der Schaar, AISTATS 2023): overfitting shows as synthetic
  density that is high *relative to* the population density, which the attacker
  estimates from reference records. The reference is a random half of the holdout
  (split by unit), disjoint from the non-member targets. Densities are isotropic
  Gaussian kernel density estimates on the encoded rows, each with its bandwidth chosen
  by leave-one-out likelihood (Scott's rule, DOMIAS' default, oversmooths in the ~100
  encoded dimensions).

Each attack reports its ROC AUC with a DeLong 95% interval and its TPR at 1% and 0.1%
FPR (Carlini et al. 2022: what matters is confidently exposing a few members; tied
scores are interpolated along the ROC curve, see :func:`stats.tpr_at_fpr`). The
headline is the stronger attack; taking the maximum of two makes it slightly
optimistic (for the attacker) on a generator that leaks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.errors import InputDataError
from privsynth.evaluation.base import (
    ATTACKS,
    Attack,
    MembershipAttackResult,
    MembershipResult,
    RocCurve,
)
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import (
    FloatMatrix,
    IndexArray,
    Rows,
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


def choose_bandwidth(rows: Rows, rng: np.random.Generator) -> float:
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


@dataclass(frozen=True)
class TargetSplit:
    """Who the attack targets and what the attacker knows, in units (persons, or rows
    without a privacy unit).

    ``members`` then ``non_members`` are the target rows; ``groups`` gives each of
    those rows its target unit (members first, then non-members), ``labels`` says
    which target units are members, and ``reference`` holds the rows of the
    attacker's reference units."""

    members: pd.DataFrame
    non_members: pd.DataFrame
    reference: pd.DataFrame
    groups: IndexArray
    labels: npt.NDArray[np.bool_]
    counts: dict[str, int]


def unit_codes(units: pd.Series | None, rows: int) -> IndexArray:
    """Each row's unit as ``0..k-1`` in order of first appearance; without unit ids,
    each row is a unit of its own (so rows and persons share one code path)."""
    if units is None:
        return np.arange(rows, dtype=np.intp)
    return pd.factorize(units)[0].astype(np.intp)


def rows_of(codes: IndexArray, chosen: IndexArray) -> tuple[IndexArray, IndexArray]:
    """The positions of the rows of the ``chosen`` units, grouped unit by unit in the
    order of ``chosen`` (rows in table order within a unit), and each row's position
    in ``chosen``. Units of one row give back ``chosen`` itself."""
    rank = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.intp)
    rank[chosen] = np.arange(len(chosen), dtype=np.intp)
    row_rank = rank[codes]
    rows = np.flatnonzero(row_rank >= 0)
    rows = rows[np.argsort(row_rank[rows], kind="stable")]
    return rows, row_rank[rows]


def _split(data: EvaluationData, rng: np.random.Generator, max_targets: int) -> TargetSplit:
    """Members, non-members and the attacker's reference (disjoint holdout halves),
    with as many member units as non-member units; every split is by unit, so a
    person's rows are all on one side."""
    holdout = data.require_holdout()
    real_codes = unit_codes(data.real_units, len(data.real))
    holdout_codes = unit_codes(data.holdout_units, len(holdout))
    held_units = int(holdout_codes.max(initial=-1)) + 1
    if held_units < 4:
        raise InputDataError(f"membership inference needs at least 4 holdout {_noun(data)}")
    order = rng.permutation(held_units)
    half = held_units // 2
    reference, outside = order[:half], order[half:]
    real_units = int(real_codes.max()) + 1
    n = min(len(outside), real_units, max_targets)
    members = subsample(real_units, n, rng)
    non_members = outside[subsample(len(outside), n, rng)]
    member_rows, member_groups = rows_of(real_codes, members)
    outside_rows, outside_groups = rows_of(holdout_codes, non_members)
    return TargetSplit(
        members=data.real.iloc[member_rows],
        non_members=holdout.iloc[outside_rows],
        reference=holdout.iloc[rows_of(holdout_codes, reference)[0]],
        groups=np.r_[member_groups, outside_groups + len(members)],
        labels=np.r_[np.ones(len(members), bool), np.zeros(len(non_members), bool)],
        counts={"members": len(members), "non_members": n, "reference": len(reference)},
    )


def _noun(data: EvaluationData) -> str:
    return f"units ({data.privacy_unit!r} values)" if data.privacy_unit else "rows"


def unit_maximum(
    scores: npt.NDArray[np.float64], groups: IndexArray, units: int
) -> npt.NDArray[np.float64]:
    """Each unit's highest row score: the attacker flags a person when any of their
    rows looks like a member (for one-row units, the scores themselves)."""
    best = np.full(units, -np.inf)
    np.maximum.at(best, groups, scores)
    return best


def summarise(
    scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]
) -> MembershipAttackResult:
    """AUC with its DeLong 95% interval, TPR at the reported FPR levels, and the ROC
    curve on a log-spaced FPR grid (for the report's plot; aggregate rates only)."""
    auc, low, high = auc_delong_ci(scores, labels)
    fpr, tpr = roc_points(scores, labels)
    grid = np.r_[0.0, np.logspace(-3, 0, ROC_POINTS - 1)]
    curve = np.asarray(np.interp(grid, fpr, tpr), dtype=np.float64)
    return MembershipAttackResult(
        auc=auc,
        auc_ci=(low, high),
        tpr_at_fpr={str(f): tpr_at_fpr(scores, labels, f) for f in FPR_LEVELS},
        roc=RocCurve(tuple(float(x) for x in grid), tuple(float(x) for x in curve)),
    )


def attack_scores(
    targets: Rows,
    synthetic: Rows,
    reference: Rows,
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
    """DCR and DOMIAS membership inference; training units (persons, or rows) against
    unseen holdout units."""

    name: ClassVar[str] = "membership_inference"
    max_targets: int = 5_000

    def evaluate(self, data: EvaluationData) -> MembershipResult:
        rng = np.random.default_rng([data.seed, 11])
        split = _split(data, rng, self.max_targets)
        targets = data.encoded(pd.concat([split.members, split.non_members], ignore_index=True))
        row_scores, bandwidths = attack_scores(
            targets, data.encoded(data.synthetic), data.encoded(split.reference), rng
        )
        attacks = {
            name: summarise(unit_maximum(values, split.groups, len(split.labels)), split.labels)
            for name, values in row_scores.items()
        }
        attacks["domias"] = replace(attacks["domias"], bandwidths=bandwidths)
        best = max(attacks, key=lambda a: float(attacks[a].auc))
        return MembershipResult(
            attacks=attacks,
            best_attack=best,
            unit=data.privacy_unit or "row",
            members=split.counts["members"],
            non_members=split.counts["non_members"],
            reference=split.counts["reference"],
        )
