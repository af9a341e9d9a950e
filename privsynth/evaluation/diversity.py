"""Diversity and closeness: does the synthetic data copy, hug, or cover the real data?

Five metrics, all on the rows of :class:`EvaluationData` (``real`` is the training
table, ``holdout`` real rows the generator never saw):

* ``exact_copy_rate`` — share of synthetic rows identical to some training row;
* ``dcr`` — distance to closest record, synthetic-to-training against
  synthetic-to-holdout (a generator that memorises is closer to its training rows);
* ``nndr`` — nearest-neighbour distance ratio d1/d2 (small: a synthetic row singles
  out one real row);
* ``alpha_precision`` and ``beta_recall`` — Alaa et al. (ICML 2022) fidelity and
  coverage, estimated with k-nearest-neighbour supports (see :func:`alpha_beta_curves`).

Distances are Euclidean on :meth:`EvaluationData.encoded` rows. Query rows are capped
at ``max_queries`` (seeded) where the estimate allows; details say when that happened.
Details carry counts, distances and rates only, never a record value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.errors import InputDataError
from privsynth.evaluation.base import METRICS, Goal, Metric, MetricResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import (
    DEFAULT_MAX_QUERIES,
    FloatMatrix,
    Rows,
    nearest_distances,
    subsample,
)
from privsynth.evaluation.stats import wilson_interval

#: neighbours defining a k-NN ball / density in alpha-precision and beta-recall
SUPPORT_K = 5
#: alpha (and beta) levels at which the curves are evaluated: midpoints of 20 bins
LEVELS = (np.arange(20) + 0.5) / 20


def _rng(data: EvaluationData, salt: int) -> np.random.Generator:
    """A generator per metric, so adding one metric does not shift another's samples."""
    return np.random.default_rng([data.seed, salt])


def _row_hashes(frame: pd.DataFrame) -> npt.NDArray[np.uint64]:
    """64-bit hashes of whole rows (values after normalisation, in column order)."""
    hashes = pd.util.hash_pandas_object(frame, index=False)
    return np.asarray(hashes, dtype=np.uint64)


def copy_share(frame: pd.DataFrame, reference: pd.DataFrame) -> tuple[int, int]:
    """How many rows of ``frame`` equal some row of ``reference`` (and of how many).

    Hash-based, so O(n); a 64-bit collision between distinct rows is ~1e-10 at a
    million rows, negligible next to the rate's own sampling error."""
    hits = np.isin(_row_hashes(frame), _row_hashes(reference))
    return int(hits.sum()), len(frame)


@METRICS.register("exact_copy_rate")
class ExactCopyRate(Metric):
    """Share of synthetic rows that are exact copies of a training row (ideal: what
    unseen real rows show, reported as ``holdout_rate``; 0 for tables with an
    identifying column, higher for coarse tables where identical people exist)."""

    name: ClassVar[str] = "exact_copy_rate"
    goal: ClassVar[Goal] = "minimize"
    section: ClassVar[str] = "diversity"

    def compute(self, data: EvaluationData) -> MetricResult:
        copies, total = copy_share(data.synthetic, data.real)
        details: dict[str, Any] = {"copies": copies, "n_synthetic": total}
        if data.holdout is not None and not data.holdout.empty:
            natural, n_holdout = copy_share(data.holdout, data.real)
            details["holdout_rate"] = natural / n_holdout
            details["holdout_copies"] = natural
        return self.result(copies / total, **details)


def closer_share(to_train: FloatMatrix, to_holdout: FloatMatrix) -> float:
    """Share of rows strictly closer to training than to holdout; ties count one half."""
    return float(np.mean(to_train < to_holdout) + 0.5 * np.mean(to_train == to_holdout))


def share_interval(share: float, n: int) -> tuple[float, float]:
    """95% Wilson interval of a closer-to-training share measured on ``n`` sampled
    synthetic rows (ties, counted one half, are rounded into whole rows): the value is
    estimated on a sample, so its uncertainty is stated, wider when the sample is."""
    return wilson_interval(round(share * n), n)


def size_corrected(raw: float, expected: float) -> float:
    """Rescale a closer-to-training share so the ideal sits at 0.5 whatever the sizes.

    A synthetic row drawn from the population is, by exchangeability, nearest to a
    training row with probability ``expected = n_train / (n_train + n_holdout)``. The
    share is mapped piecewise-linearly: 0 -> 0, ``expected`` -> 0.5, 1 -> 1. With equal
    sizes this is the identity."""
    if raw <= expected:
        return 0.5 * raw / expected if expected > 0 else 0.5
    return 0.5 + 0.5 * (raw - expected) / (1.0 - expected)


def _equal_size_distances(
    data: EvaluationData,
    queries: Rows,
    to_train: FloatMatrix,
    to_holdout: FloatMatrix,
    rng: np.random.Generator,
) -> tuple[FloatMatrix, FloatMatrix]:
    """Distances to training and holdout with the larger set subsampled to the size of
    the smaller, so that their medians and percentiles compare like with like."""
    holdout = data.require_holdout()
    if len(data.real) > len(holdout):
        keep = subsample(len(data.real), len(holdout), rng)
        return nearest_distances(queries, data.encoded(data.real.iloc[keep]))[:, 0], to_holdout
    if len(holdout) > len(data.real):
        keep = subsample(len(holdout), len(data.real), rng)
        return to_train, nearest_distances(queries, data.encoded(holdout.iloc[keep]))[:, 0]
    return to_train, to_holdout


@METRICS.register("dcr")
class DistanceToClosestRecord(Metric):
    """Distance to closest record: how much closer synthetic rows are to the training
    rows than to holdout rows, as a share with 0.5 ideal.

    The value is the share of synthetic rows whose closest training row is nearer than
    their closest holdout row (ties count one half), using all training and holdout
    rows, rescaled by :func:`size_corrected` so that a generator that learned the
    population (not its rows) scores 0.5 in expectation even when the training table
    is larger than the holdout; with equal sizes it is the plain share. A generator
    copying its training rows scores 1.0; 0.75 means about half the synthetic rows
    behave like copies. Values below 0.5 are no privacy concern. Goal is declared
    ``minimize`` with range [0, 1]; read it as "lower, down to 0.5".

    The share is measured on at most ``max_queries`` sampled synthetic rows (against
    every training and holdout row); ``ci`` is its 95% interval for that sample size
    (Wilson, mapped like the value). The raw share and its ideal are in the details,
    with the median and 5th percentile of the distances to training and to holdout
    rows, computed with the larger of the two sets subsampled to the size of the
    smaller (distances to a larger set are smaller, so unequal sizes would not
    compare)."""

    name: ClassVar[str] = "dcr"
    goal: ClassVar[Goal] = "minimize"
    section: ClassVar[str] = "diversity"
    max_queries: int = DEFAULT_MAX_QUERIES

    def compute(self, data: EvaluationData) -> MetricResult:
        holdout = data.require_holdout()
        rng = _rng(data, 1)
        picks = subsample(len(data.synthetic), self.max_queries, rng)
        queries = data.encoded(data.synthetic.iloc[picks])
        to_train = nearest_distances(queries, data.encoded(data.real))[:, 0]
        to_holdout = nearest_distances(queries, data.encoded(holdout))[:, 0]
        expected = len(data.real) / (len(data.real) + len(holdout))
        raw = closer_share(to_train, to_holdout)
        train_eq, holdout_eq = _equal_size_distances(data, queries, to_train, to_holdout, rng)
        return self.result(
            size_corrected(raw, expected),
            ideal=0.5,
            ci=[size_corrected(bound, expected) for bound in share_interval(raw, len(picks))],
            raw_share=raw,
            raw_share_ideal=expected,
            median_dcr_train=float(np.median(train_eq)),
            median_dcr_holdout=float(np.median(holdout_eq)),
            p5_dcr_train=float(np.percentile(train_eq, 5)),
            p5_dcr_holdout=float(np.percentile(holdout_eq, 5)),
            histogram=_histogram(train_eq, holdout_eq),
            n_queries=len(picks),
            n_train=len(data.real),
            n_holdout=len(holdout),
            queries_subsampled=len(picks) < len(data.synthetic),
        )


def _histogram(
    to_train: npt.NDArray[np.float64], to_holdout: npt.NDArray[np.float64], bins: int = 30
) -> dict[str, list[float]]:
    """Counts of distances to training and to holdout rows on shared bins (aggregates
    only: the report plots them)."""
    top = float(np.percentile(np.r_[to_train, to_holdout], 99)) or 1.0
    edges = np.linspace(0.0, top, bins + 1)
    return {
        "edges": edges.tolist(),
        "train": np.histogram(np.clip(to_train, 0, top), edges)[0].astype(float).tolist(),
        "holdout": np.histogram(np.clip(to_holdout, 0, top), edges)[0].astype(float).tolist(),
    }


@METRICS.register("nndr")
class NearestNeighbourDistanceRatio(Metric):
    """Median ratio of each synthetic row's distance to its nearest and second-nearest
    training row.

    Near 0, a synthetic row is much closer to one real row than to any other: it points
    at an individual. Near 1, it sits between several. A ratio 0/0 (the synthetic row
    equals two identical real rows) counts as 1, since it singles out no one."""

    name: ClassVar[str] = "nndr"
    goal: ClassVar[Goal] = "maximize"
    section: ClassVar[str] = "diversity"
    max_queries: int = DEFAULT_MAX_QUERIES

    def compute(self, data: EvaluationData) -> MetricResult:
        if len(data.real) < 2:
            raise InputDataError("the nearest-neighbour distance ratio needs two training rows")
        picks = subsample(len(data.synthetic), self.max_queries, _rng(data, 2))
        queries = data.encoded(data.synthetic.iloc[picks])
        distances = nearest_distances(queries, data.encoded(data.real), k=2)
        ratio = np.divide(
            distances[:, 0],
            distances[:, 1],
            out=np.ones(len(distances)),
            where=distances[:, 1] > 0,
        )
        return self.result(
            float(np.median(ratio)),
            mean=float(ratio.mean()),
            p5=float(np.percentile(ratio, 5)),
            share_below_0_5=float(np.mean(ratio < 0.5)),
            n_queries=len(picks),
            queries_subsampled=len(picks) < len(data.synthetic),
        )


@dataclass(frozen=True)
class AlphaBetaCurves:
    """P_alpha and R_beta at :data:`LEVELS`, and the integrated scores built from them."""

    levels: FloatMatrix
    precision_curve: FloatMatrix
    recall_curve: FloatMatrix
    sample_size: int

    @property
    def alpha_precision(self) -> float:
        return _integrated(self.precision_curve)

    @property
    def beta_recall(self) -> float:
        return _integrated(self.recall_curve)


def _integrated(curve: FloatMatrix) -> float:
    """Alaa et al.'s integrated score ``1 - 2 * integral |curve(a) - a| da`` (midpoint
    rule); 1 when the curve is the diagonal, 0 when no (or every) row is in support."""
    return float(np.clip(1.0 - 2.0 * np.mean(np.abs(curve - LEVELS)), 0.0, 1.0))


def _levels_of(radii: FloatMatrix, own_radii: FloatMatrix) -> FloatMatrix:
    """The support level of each radius: the share of a sample's own leave-one-out radii
    at or below it (a small radius is a dense region, inside a small-level support)."""
    return np.searchsorted(np.sort(own_radii), radii, side="right") / len(own_radii)


def alpha_beta_curves(
    real: Rows, synthetic: Rows, rng: np.random.Generator, max_rows: int
) -> AlphaBetaCurves:
    """k-NN estimates of Alaa et al.'s alpha-precision and beta-recall curves.

    Equal-size samples R (real) and S (synthetic) of ``m = min(|real|, |synthetic|,
    max_rows)`` rows are drawn. The paper's one-class score (distance to the centre of
    a learned hypersphere) is replaced by the k-NN radius ``rho_X(x)``, the distance
    from ``x`` to its k-th nearest row of sample ``X`` (``x`` itself excluded when it
    is a row of ``X``): a standard k-NN density / novelty score, and meaningful on
    mixed one-hot data where distance to a single centre is not.

    * The real alpha-support is the k-NN level set ``{x : rho_R(x) <= q_alpha}``, with
      ``q_alpha`` the alpha-quantile of the real rows' own radii: the densest regions
      holding real mass alpha (the minimum-volume set of the definition). Equivalently,
      a point is inside when the ball of radius ``q_alpha`` around it holds k real rows.
      ``P_alpha`` is the share of S inside it.
    * The synthetic beta-support is defined the same way from S, and ``R_beta`` is the
      share of R inside it (the definition ``R_beta = P(X_real in S_synth^beta)``).
    * The scores are ``1 - 2 * integral |P_alpha - alpha| d alpha`` and likewise for
      beta (midpoint rule over 20 levels), clipped to [0, 1].

    A generator sampling the real distribution puts the curves on the diagonal (both
    scores near 1, up to sampling noise). Implausible synthetic rows pull P_alpha
    below the diagonal; rows crowding the real modes push it above; mode collapse
    leaves real rows outside the synthetic support and pulls R_beta down.

    The paper's own recall estimator (a synthetic row of the beta-support inside the
    real row's k-NN ball; also synthcity's) is not used: any of the ~k synthetic rows
    in the ball counts, so it is far above the diagonal even for ideal data (about
    0.5 integrated on Adult for a second real sample), which makes the score
    unreadable."""
    size = min(len(real), len(synthetic), max_rows)
    if size <= SUPPORT_K + 1:
        raise InputDataError(
            f"alpha-precision and beta-recall need more than {SUPPORT_K + 1} real and "
            "synthetic rows"
        )
    r = real[subsample(len(real), size, rng)]
    s = synthetic[subsample(len(synthetic), size, rng)]
    precision_levels = _levels_of(_kth_radius(s, r), _kth_radius(r, r, exclude_self=True))
    recall_levels = _levels_of(_kth_radius(r, s), _kth_radius(s, s, exclude_self=True))
    precision = np.array([np.mean(precision_levels <= a) for a in LEVELS])
    recall = np.array([np.mean(recall_levels <= b) for b in LEVELS])
    return AlphaBetaCurves(LEVELS, precision, recall, size)


def _kth_radius(queries: Rows, reference: Rows, *, exclude_self: bool = False) -> FloatMatrix:
    """Distance from each query to its k-th nearest reference row."""
    k = min(SUPPORT_K, len(reference) - (1 if exclude_self else 0))
    return nearest_distances(queries, reference, k, exclude_self=exclude_self)[:, k - 1]


class _AlphaBetaMetric(Metric):
    """Shared computation of the two Alaa et al. scores."""

    section: ClassVar[str] = "diversity"
    goal: ClassVar[Goal] = "maximize"
    max_queries: int = DEFAULT_MAX_QUERIES

    def curves(self, data: EvaluationData) -> AlphaBetaCurves:
        return alpha_beta_curves(
            data.encoded(data.real), data.encoded(data.synthetic), _rng(data, 3), self.max_queries
        )

    def details(self, curves: AlphaBetaCurves, curve: FloatMatrix) -> dict[str, Any]:
        return {
            "estimator": f"k-NN supports, k={SUPPORT_K} (Alaa et al. 2022, integrated)",
            "levels": [round(float(v), 4) for v in curves.levels],
            "curve": [round(float(v), 4) for v in curve],
            "sample_size": curves.sample_size,
        }


@METRICS.register("alpha_precision")
class AlphaPrecision(_AlphaBetaMetric):
    """Integrated alpha-precision: are synthetic rows as typical as real rows? (1 ideal;
    low when synthetic rows fall outside the real support or crowd its densest part.)"""

    name: ClassVar[str] = "alpha_precision"

    def compute(self, data: EvaluationData) -> MetricResult:
        curves = self.curves(data)
        return self.result(curves.alpha_precision, **self.details(curves, curves.precision_curve))


@METRICS.register("beta_recall")
class BetaRecall(_AlphaBetaMetric):
    """Integrated beta-recall: does the synthetic data cover the real variety? (1 ideal;
    low under mode collapse.)"""

    name: ClassVar[str] = "beta_recall"

    def compute(self, data: EvaluationData) -> MetricResult:
        curves = self.curves(data)
        return self.result(curves.beta_recall, **self.details(curves, curves.recall_curve))


__all__ = [
    "AlphaBetaCurves",
    "AlphaPrecision",
    "BetaRecall",
    "DistanceToClosestRecord",
    "ExactCopyRate",
    "NearestNeighbourDistanceRatio",
    "alpha_beta_curves",
    "copy_share",
]
