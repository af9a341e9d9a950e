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

from privsynth.dp.accounting import PrivacyCost, PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.tails import release_threshold
from privsynth.dp.noise import NoiseSource, effective_sigma
from privsynth.errors import ConfigurationError

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
    """Runs DP mechanisms for one synthesis run, charging ``privacy_filter`` first.

    Callers state each query's sensitivity for one *row*. With a privacy unit whose
    members keep at most ``rows_per_unit`` rows (:mod:`privsynth.dp.units`), one unit
    moves a query by at most ``rows_per_unit`` times that (triangle inequality), and
    every mechanism here scales by it, so generators need not know the unit."""

    def __init__(
        self, privacy_filter: PrivacyFilter, noise: NoiseSource, rows_per_unit: int = 1
    ) -> None:
        self.filter = privacy_filter
        self.noise = noise
        self.rows_per_unit = rows_per_unit
        self._uses: dict[str, int] = {}

    def _noise_for(self, purpose: str) -> NoiseSource:
        """Noise for one release, derived from its purpose and how often that purpose
        was used before (see :meth:`NoiseSource.derive`)."""
        self._uses[purpose] = self._uses.get(purpose, 0) + 1
        return self.noise.derive(f"{purpose}#{self._uses[purpose]}")

    def gaussian_counts(
        self, counts: npt.ArrayLike, rho: float, purpose: str, sensitivity: float = 1.0
    ) -> NoisyCounts:
        """Release integer ``counts`` (one row changes them by at most ``sensitivity``
        in L2) with discrete Gaussian noise, spending ``rho``."""
        exact = np.asarray(counts)
        bound = sensitivity * self.rows_per_unit
        sigma = effective_sigma(sigma_for_rho(rho, bound))
        self.filter.charge(cost_of.gaussian(sigma, bound), purpose)
        noise = self._noise_for(purpose).discrete_gaussian(sigma, exact.size)
        noise = noise.reshape(exact.shape)
        return NoisyCounts(exact.astype(np.float64) + noise, sigma)

    def subsampled_gaussian(
        self, sigma: float, sample_rate: float, steps: int, purpose: str
    ) -> NoiseSource:
        """Charge ``steps`` Poisson-subsampled Gaussian steps (DP-SGD with noise multiplier
        ``sigma`` on gradients clipped per row) and return the source to seed the
        training noise from: the caller adds the noise, as Opacus does.

        Amplification by subsampling is analysed for rows sampled independently; a privacy
        unit with several rows would need a group analysis this library does not do yet,
        so only the row unit is accepted."""
        if self.rows_per_unit != 1:
            raise ConfigurationError(
                "DP-SGD protects single rows: it cannot protect a privacy unit with "
                f"up to {self.rows_per_unit} rows",
                hint="use a marginal generator (mst, aim) with `privacy_unit`",
            )
        self.filter.charge(cost_of.subsampled_gaussian(sigma, sample_rate, steps), purpose)
        return self._noise_for(purpose)

    def external(self, cost: PrivacyCost, purpose: str) -> None:
        """Charge ``cost`` for a release whose noise a trusted external library adds
        (e.g. smartnoise-synth's MST or AIM), before the caller hands it the rows.

        The noise is then that library's, drawn from its own generators (not privsynth's
        exact samplers: smartnoise uses OpenDP's floating-point Gaussian and numpy's
        non-cryptographic global generator), and the cost is only as true as the
        library's own analysis. Such libraries calibrate to one row per person, so only
        the row unit is accepted."""
        if self.rows_per_unit != 1:
            raise ConfigurationError(
                "an external DP library protects single rows: it cannot protect a privacy "
                f"unit with up to {self.rows_per_unit} rows",
                hint="use a marginal generator (mst, aim) with `privacy_unit`",
            )
        self.filter.charge(cost, purpose)

    def select(self, scores: Sequence[float], rho: float, purpose: str, sensitivity: float) -> int:
        """Exponential mechanism: an index, likelier the higher its score; ``rho`` = eps²/8.

        ``sensitivity`` is one row's effect on any score."""
        epsilon = math.sqrt(8.0 * rho)
        self.filter.charge(cost_of.exponential(epsilon), purpose)
        bound = sensitivity * self.rows_per_unit
        return self._noise_for(purpose).exponential_mechanism(scores, epsilon, bound)

    def frequent_keys(
        self, counts: Mapping[str, int], rho: float, delta: float, purpose: str
    ) -> dict[str, float]:
        """Keys whose noisy count clears a threshold, with their noisy counts (DP set
        release): the keys held by a single unit are released with probability at most
        ``delta`` together.

        ``counts`` must count each unit at most once per key (distinct units holding
        the key). A unit then holds at most ``rows_per_unit`` keys: the counts move by
        at most ``sqrt(rows_per_unit)`` in L2, and each of its keys is released alone
        with probability at most ``delta / rows_per_unit`` (exact discrete-Gaussian
        tail, :func:`~privsynth.dp.accounting.tails.release_threshold`)."""
        keys_per_unit = self.rows_per_unit
        sensitivity = math.sqrt(keys_per_unit)
        sigma = effective_sigma(sigma_for_rho(rho, sensitivity))
        threshold = release_threshold(sigma, delta / keys_per_unit, count=1)
        self.filter.charge(cost_of.thresholded_gaussian(sigma, delta, sensitivity), purpose)
        keys = sorted(counts)
        noisy = np.array([counts[k] for k in keys], dtype=np.float64)
        noisy += self._noise_for(purpose).discrete_gaussian(sigma, len(keys))
        return {
            key: float(value) for key, value in zip(keys, noisy, strict=True) if value > threshold
        }
