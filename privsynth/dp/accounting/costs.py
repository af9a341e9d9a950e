"""Privacy costs: what one mechanism spends, as an RDP curve plus an additive delta.

Every mechanism in privsynth (Gaussian counts, the exponential mechanism, Laplace,
thresholded release of categories, the subsampled Gaussian of DP-SGD) describes its
loss as a :class:`PrivacyCost`. Costs compose by adding their Rényi curves on one
shared grid of orders (:data:`~privsynth.dp.accounting.rdp.ORDERS`) and their additive
deltas, which is what lets one accountant and one ledger compose everything.

A cost serialises to its mechanism name and parameters only (``to_dict``); the curve
is recomputed from them (``from_dict``), so ledgers stay small and readable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth.dp.accounting import rdp
from privsynth.errors import ConfigurationError
from privsynth.registry import Registry

FloatArray = npt.NDArray[np.float64]
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class PrivacyCost:
    """The privacy loss of a mechanism or of a composition of mechanisms."""

    mechanism: str
    params: Mapping[str, Any]
    rdp: FloatArray = field(repr=False, compare=False)
    delta: float = 0.0

    def epsilon(self, delta: float) -> float:
        """Epsilon at total ``delta`` (the additive part is subtracted first)."""
        remaining = delta - self.delta
        if remaining <= 0:
            return math.inf
        return rdp.rdp_to_epsilon(self.rdp, remaining)[0]

    def rho(self) -> float:
        """The smallest rho with this curve <= rho * alpha (zCDP view of the cost)."""
        finite = np.isfinite(self.rdp)
        if not finite.any():
            return math.inf
        return float(np.max(self.rdp[finite] / rdp.ORDERS[finite]))

    def __add__(self, other: PrivacyCost) -> PrivacyCost:
        return PrivacyCost(
            mechanism="composition",
            params={},
            rdp=self.rdp + other.rdp,
            delta=self.delta + other.delta,
        )

    def dominated_by(self, limit: PrivacyCost) -> bool:
        """True when this cost is no larger than ``limit`` at every order and in delta."""
        slack = _TOLERANCE * np.maximum(1.0, np.abs(limit.rdp))
        curve_ok = bool(np.all(self.rdp <= limit.rdp + slack))
        return curve_ok and self.delta <= limit.delta * (1 + _TOLERANCE)

    def to_dict(self) -> dict[str, Any]:
        """Name and parameters; enough to rebuild the cost with :func:`from_dict`."""
        if self.mechanism == "composition":
            raise ValueError("compositions are stored as their parts, not as one cost")
        return {"mechanism": self.mechanism, "params": dict(self.params)}


def zero_cost() -> PrivacyCost:
    """The cost of doing nothing: the identity of composition."""
    return PrivacyCost("composition", {}, np.zeros_like(rdp.ORDERS), 0.0)


def compose(costs: list[PrivacyCost]) -> PrivacyCost:
    """Sequential composition of ``costs`` (RDP curves and additive deltas add)."""
    total = zero_cost()
    for cost in costs:
        total = total + cost
    return total


MECHANISMS: Registry[Callable[..., PrivacyCost]] = Registry("mechanism")


def _count(count: int) -> int:
    if not isinstance(count, int) or count < 1:
        raise ConfigurationError(f"a mechanism must run at least once, got count={count!r}")
    return count


@MECHANISMS.register("gaussian")
def gaussian(sigma: float, sensitivity: float = 1.0, count: int = 1) -> PrivacyCost:
    """``count`` releases of a (discrete) Gaussian with L2 ``sensitivity``: zCDP."""
    curve = rdp.gaussian_rdp(sigma, sensitivity) * _count(count)
    params = {"sigma": sigma, "sensitivity": sensitivity, "count": count}
    return PrivacyCost("gaussian", params, curve)


@MECHANISMS.register("zcdp")
def zcdp(rho: float, delta: float = 0.0) -> PrivacyCost:
    """A (rho, delta)-approximate zCDP guarantee, e.g. a run's whole planned budget."""
    if not 0.0 <= delta < 1.0:
        raise ConfigurationError(f"additive delta must be in [0, 1), got {delta!r}")
    return PrivacyCost("zcdp", {"rho": rho, "delta": delta}, rdp.zcdp_rdp(rho), delta)


@MECHANISMS.register("exponential")
def exponential(epsilon: float, count: int = 1) -> PrivacyCost:
    """``count`` runs of the exponential mechanism at ``epsilon`` (bounded range)."""
    curve = rdp.exponential_mechanism_rdp(epsilon) * _count(count)
    return PrivacyCost("exponential", {"epsilon": epsilon, "count": count}, curve)


@MECHANISMS.register("laplace")
def laplace(scale: float, sensitivity: float = 1.0, count: int = 1) -> PrivacyCost:
    """``count`` releases of a (discrete) Laplace with L1 ``sensitivity``."""
    curve = rdp.laplace_rdp(scale, sensitivity) * _count(count)
    params = {"scale": scale, "sensitivity": sensitivity, "count": count}
    return PrivacyCost("laplace", params, curve)


@MECHANISMS.register("subsampled_gaussian")
def subsampled_gaussian(sigma: float, sample_rate: float, steps: int) -> PrivacyCost:
    """``steps`` Poisson-subsampled Gaussian steps, the mechanism of DP-SGD."""
    curve = rdp.subsampled_gaussian_rdp(sigma, sample_rate, steps)
    params = {"sigma": sigma, "sample_rate": sample_rate, "steps": steps}
    return PrivacyCost("subsampled_gaussian", params, curve)


@MECHANISMS.register("thresholded_gaussian")
def thresholded_gaussian(sigma: float, delta: float, sensitivity: float = 1.0) -> PrivacyCost:
    """Gaussian counts released only above a threshold (e.g. discovering categories).

    Keys present in both neighbours cost a Gaussian; a key present in only one is
    released with probability at most ``delta``, which is added to the delta.
    """
    if not 0.0 < delta < 1.0:
        raise ConfigurationError(f"threshold delta must be in (0, 1), got {delta!r}")
    curve = rdp.gaussian_rdp(sigma, sensitivity)
    params = {"sigma": sigma, "delta": delta, "sensitivity": sensitivity}
    return PrivacyCost("thresholded_gaussian", params, curve, delta)


@MECHANISMS.register("unbounded")
def unbounded(reason: str) -> PrivacyCost:
    """No privacy guarantee at all, e.g. noise from a seed someone else may know: every
    Rényi divergence is infinite, so whatever it composes with is ε = ∞."""
    return PrivacyCost("unbounded", {"reason": reason}, np.full_like(rdp.ORDERS, np.inf))


@MECHANISMS.register("sequence")
def sequence(parts: list[Mapping[str, Any]]) -> PrivacyCost:
    """The composition of named costs, stored as its parts (e.g. a run's reservation of a
    zCDP share for discovery followed by DP-SGD's subsampled Gaussian)."""
    if not parts:
        raise ConfigurationError("a sequence of costs needs at least one part")
    total = compose([from_dict(part) for part in parts])
    stored = [{"mechanism": p["mechanism"], "params": dict(p["params"])} for p in parts]
    return PrivacyCost("sequence", {"parts": stored}, total.rdp, total.delta)


def sequence_of(costs: list[PrivacyCost]) -> PrivacyCost:
    """:func:`sequence` of ``costs`` (each a named cost, not an anonymous composition)."""
    return sequence([cost.to_dict() for cost in costs])


def noise_multiplier_for(
    epsilon: float, delta: float, sample_rate: float, steps: int, before: PrivacyCost
) -> float:
    """The smallest DP-SGD noise multiplier (to 0.1%) for which ``before`` followed by
    ``steps`` subsampled Gaussian steps is (``epsilon``, ``delta``)-DP.

    Bisection on the composed curve: it converts to a smaller epsilon as sigma grows."""

    def epsilon_at(sigma: float) -> float:
        return (before + subsampled_gaussian(sigma, sample_rate, steps)).epsilon(delta)

    if before.epsilon(delta) >= epsilon:
        raise ConfigurationError(
            f"nothing of ε={epsilon:g} is left for training after the earlier spends",
            hint="raise `epsilon` or lower the discovery and quality shares",
        )
    low, high = 0.05, 1.0
    while epsilon_at(high) > epsilon:
        low, high = high, high * 2.0
        if high > 1e4:
            raise ConfigurationError(
                f"no noise level makes {steps} training steps fit ε={epsilon:g}",
                hint="train fewer epochs or use a smaller batch",
            )
    while high - low > 1e-3 * high:
        middle = (low + high) / 2.0
        low, high = (low, middle) if epsilon_at(middle) <= epsilon else (middle, high)
    return high


@dataclass(frozen=True)
class TrainingCost:
    """A DP-SGD run's planned cost: a Gaussian count of the examples (for the expected
    batch, never the exact count) with noise ``count_sigma``, then the training steps
    with noise multiplier ``sigma``; ``cost`` is the composition, stored by parts."""

    count_sigma: float
    sigma: float
    cost: PrivacyCost


def dpsgd_with_count(
    epsilon: float,
    delta: float,
    before: PrivacyCost,
    count_sigma: float,
    sample_rate: float,
    steps: int,
) -> TrainingCost:
    """Calibrate DP-SGD so that ``before``, a count with ``count_sigma`` and ``steps``
    subsampled Gaussian steps compose to (``epsilon``, ``delta``)-DP."""
    count = gaussian(count_sigma)
    sigma = noise_multiplier_for(epsilon, delta, sample_rate, steps, before + count)
    training = subsampled_gaussian(sigma, sample_rate, steps)
    return TrainingCost(count_sigma, sigma, sequence_of([count, training]))


def from_dict(data: Mapping[str, Any]) -> PrivacyCost:
    """Rebuild a cost from :meth:`PrivacyCost.to_dict` output (e.g. a ledger row)."""
    factory = MECHANISMS.get(str(data["mechanism"]))
    return factory(**dict(data["params"]))
