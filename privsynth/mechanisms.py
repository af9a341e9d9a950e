"""DP mechanisms on private data: each one charges the privacy filter, then adds noise.

This is the only place where private statistics meet noise. Generators and domain
discovery call these functions with a zCDP share ``rho``; the cost is recorded (and
refused if it would exceed the run's reservation) *before* any noise is drawn, and
estimators downstream only ever see the noisy output (as in private-pgm, where
accounting stays out of estimators).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from privsynth.accounting import PrivacyFilter
from privsynth.accounting import costs as cost_of
from privsynth.errors import ConfigurationError
from privsynth.noise import NoiseSource, effective_sigma

FloatArray = npt.NDArray[np.float64]


def sigma_for_rho(rho: float, sensitivity: float = 1.0) -> float:
    """Gaussian scale whose release of an L2-``sensitivity`` query is ``rho``-zCDP."""
    if not rho > 0 or not math.isfinite(rho):
        raise ConfigurationError(f"a mechanism needs a positive zCDP budget, got rho={rho!r}")
    return sensitivity / math.sqrt(2.0 * rho)


@dataclass(frozen=True)
class NoisyCounts:
    """Counts released with discrete Gaussian noise of scale ``sigma``."""

    values: FloatArray
    sigma: float


class Mechanisms:
    """Runs DP mechanisms for one synthesis run, charging ``privacy_filter`` first."""

    def __init__(self, privacy_filter: PrivacyFilter, noise: NoiseSource) -> None:
        self.filter = privacy_filter
        self.noise = noise

    def gaussian_counts(
        self, counts: npt.ArrayLike, rho: float, purpose: str, sensitivity: float = 1.0
    ) -> NoisyCounts:
        """Release integer ``counts`` (one record changes them by at most
        ``sensitivity`` in L2) with discrete Gaussian noise, spending ``rho``."""
        exact = np.asarray(counts)
        sigma = effective_sigma(sigma_for_rho(rho, sensitivity))
        self.filter.charge(cost_of.gaussian(sigma, sensitivity), purpose)
        noisy = exact.astype(np.float64) + self.noise.discrete_gaussian(sigma, exact.size).reshape(
            exact.shape
        )
        return NoisyCounts(noisy, sigma)

    def select(self, scores: Sequence[float], rho: float, purpose: str, sensitivity: float) -> int:
        """Exponential mechanism: an index, likelier the higher its score; ``rho`` = eps²/8."""
        epsilon = math.sqrt(8.0 * rho)
        self.filter.charge(cost_of.exponential(epsilon), purpose)
        return self.noise.exponential_mechanism(scores, epsilon, sensitivity)

    def frequent_keys(
        self, counts: Mapping[str, int], rho: float, delta: float, purpose: str
    ) -> dict[str, float]:
        """Keys whose noisy count clears a threshold that a key held by a single record
        passes with probability at most ``delta`` (DP set release), with their noisy
        counts. Each record must contribute to at most one key."""
        sigma = effective_sigma(sigma_for_rho(rho))
        threshold = 1.0 + sigma * float(stats.norm.isf(delta))
        self.filter.charge(cost_of.thresholded_gaussian(sigma, delta), purpose)
        keys = sorted(counts)
        noisy = np.array([counts[k] for k in keys], dtype=np.float64)
        noisy += self.noise.discrete_gaussian(sigma, len(keys))
        return {
            key: float(value) for key, value in zip(keys, noisy, strict=True) if value > threshold
        }
