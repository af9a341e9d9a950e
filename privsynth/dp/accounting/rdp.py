"""Rényi-DP accounting: RDP curves of the mechanisms privsynth uses, and their conversion.

Every privacy cost in the library is an RDP curve evaluated on the fixed grid :data:`ORDERS`,
so costs of different mechanisms compose by plain addition and are converted to
(epsilon, delta)-DP once, at the end, with :func:`rdp_to_epsilon`. Pure math (numpy/scipy):
the formulas follow the papers cited on each function, not any library's code.

References: Mironov 2017 ("Rényi differential privacy"); Mironov, Talwar & Zhang 2019
("Rényi DP of the sampled Gaussian mechanism", MTZ19); Bun & Steinke 2016 (zCDP);
Canonne, Kamath & Steinke 2020 (CKS20); Balle et al. 2020 ("Hypothesis testing
interpretations and Rényi DP"); Cesar & Rogers 2021 (bounded-range mechanisms).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from privsynth.errors import ConfigurationError

__all__ = [
    "ORDERS",
    "exponential_mechanism_rdp",
    "gaussian_rdp",
    "laplace_rdp",
    "pure_dp_rdp",
    "rdp_to_epsilon",
    "rho_for_epsilon",
    "subsampled_gaussian_rdp",
    "zcdp_rdp",
    "zcdp_to_epsilon",
]

FloatArray = npt.NDArray[np.float64]


def _build_orders() -> FloatArray:
    """Grid dense where the optimal conversion order moves fast (near 1), geometric above 64.

    For rho-zCDP the optimal order solves rho (a-1)^2 + log(a) = log(1/delta); for eps in
    [0.01, 50] and delta in [1e-12, 1e-3] it lies between ~1.5 and ~3800. Missing the optimum
    by a factor r in (a-1) costs about (r-1)^2/2 of the order-dependent part of epsilon, so
    steps <= 0.1 (a-1) below 64 and a ratio of 2^(1/8) above keep the grid within ~0.1% of
    the continuous optimum, while 16384 leaves room for smaller epsilons. Orders above 64
    are integers, for which the sampled-Gaussian RDP is an exact finite sum.
    """
    parts = [
        np.arange(101, 200) / 100.0,  # 1.01 .. 1.99
        np.arange(20, 80) / 10.0,  # 2.0 .. 7.9
        np.arange(32, 64) / 4.0,  # 8.0 .. 15.75
        np.arange(32, 129) / 2.0,  # 16.0 .. 64.0, every integer included
        np.round(64.0 * 2.0 ** (np.arange(1, 65) / 8.0)),  # 70 .. 16384, includes 128 .. 1024
    ]
    orders = np.unique(np.concatenate(parts)).astype(np.float64)
    orders.setflags(write=False)
    return orders


ORDERS: Final[FloatArray] = _build_orders()
"""Rényi orders (all > 1) on which every RDP curve in privsynth is evaluated (read-only)."""


# --------------------------------------------------------------------------- validation


def _real(name: str, value: object, hint: str) -> float:
    """Coerce a user number to float, refusing bools, non-numbers and non-finite values."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise ConfigurationError(f"{name} must be a real number, got {type(value).__name__}", hint)
    number = float(value)
    if not math.isfinite(number):
        raise ConfigurationError(f"{name} must be finite, got {number}", hint)
    return number


def _positive(name: str, value: object, hint: str) -> float:
    number = _real(name, value, hint)
    if number <= 0.0:
        raise ConfigurationError(f"{name} must be > 0, got {number}", hint)
    return number


def _non_negative(name: str, value: object, hint: str) -> float:
    number = _real(name, value, hint)
    if number < 0.0:
        raise ConfigurationError(f"{name} must be >= 0, got {number}", hint)
    return number


def _delta(delta: object) -> float:
    number = _real("delta", delta, "use a delta in (0, 1), typically below 1/n_records")
    if not 0.0 < number < 1.0:
        raise ConfigurationError(
            f"delta must be in (0, 1), got {number}", "use a delta such as 1e-6 or 1/n_records^2"
        )
    return number


def _sample_rate(sample_rate: object) -> float:
    hint = "sample_rate is batch_size / n_records, in [0, 1]"
    number = _real("sample_rate", sample_rate, hint)
    if not 0.0 <= number <= 1.0:
        raise ConfigurationError(f"sample_rate must be in [0, 1], got {number}", hint)
    return number


def _steps(steps: object) -> int:
    hint = "steps is the number of noisy iterations, a non-negative integer"
    if isinstance(steps, bool) or not isinstance(steps, Integral | np.integer):
        raise ConfigurationError(f"steps must be an integer, got {type(steps).__name__}", hint)
    if int(steps) < 0:
        raise ConfigurationError(f"steps must be >= 0, got {int(steps)}", hint)
    return int(steps)


def _curve(rdp: object) -> FloatArray:
    """An RDP curve must be one non-negative, non-NaN value per entry of ORDERS."""
    curve = np.asarray(rdp, dtype=np.float64)
    if curve.shape != ORDERS.shape:
        raise ConfigurationError(
            f"RDP curve has shape {curve.shape}, expected {ORDERS.shape}",
            "build curves with the functions of privsynth.dp.accounting.rdp (they use ORDERS)",
        )
    if np.isnan(curve).any() or (curve < 0.0).any():
        raise ConfigurationError(
            "RDP curve contains NaN or negative values",
            "Rényi divergences are non-negative; check the mechanism's parameters",
        )
    return curve


# --------------------------------------------------------------------------- conversions


def _conversion_offsets(delta: float) -> FloatArray:
    """The order-dependent term of the Balle et al. 2020 / CKS20 (Prop. 12) conversion."""
    return np.log1p(-1.0 / ORDERS) - (math.log(delta) + np.log(ORDERS)) / (ORDERS - 1.0)


def rdp_to_epsilon(rdp: FloatArray, delta: float) -> tuple[float, float]:
    """(epsilon, best order) of an RDP curve on ORDERS at the given delta.

    Uses the tight conversion eps = min_a rdp(a) + log((a-1)/a) - (log(delta) + log(a))/(a-1)
    (Balle et al. 2020 Thm. 21, CKS20 Prop. 12), which beats Mironov's log(1/delta)/(a-1)
    by about log(a)/(a-1). Infinite entries are ignored; an all-infinite curve gives
    (inf, nan). Epsilon is clipped at 0 because a negative value carries no meaning.
    """
    curve = _curve(rdp)
    d = _delta(delta)
    finite = np.isfinite(curve)
    if not finite.any():
        return math.inf, math.nan
    eps = np.where(finite, curve + _conversion_offsets(d), np.inf)
    best = int(np.argmin(eps))
    return max(0.0, float(eps[best])), float(ORDERS[best])


def zcdp_to_epsilon(rho: float, delta: float) -> float:
    """Optimal (continuous-order) epsilon of rho-zCDP at delta, the reference for ORDERS.

    Minimises f(a) = rho a + log((a-1)/a) - (log(delta) + log(a))/(a-1) over real a > 1.
    f'(a) (a-1)^2 = rho (a-1)^2 + log(a) - log(1/delta) is increasing in a, so f is
    unimodal and its minimiser is the unique root of that expression, bracketed by
    [1, 1 + sqrt(log(1/delta)/rho)] (CKS20 Cor. 13 in epsilon form).
    """
    r = _non_negative("rho", rho, "rho is a zCDP parameter, e.g. 0.5")
    d = _delta(delta)
    if r == 0.0:
        return 0.0
    log_inv_delta = -math.log(d)

    def slope(a: float) -> float:
        return r * (a - 1.0) ** 2 + math.log(a) - log_inv_delta

    upper = 1.0 + math.sqrt(log_inv_delta / r)
    a = float(optimize.brentq(slope, 1.0, upper, xtol=1e-300, rtol=1e-14, maxiter=500))
    eps = r * a + math.log1p(-1.0 / a) - (math.log(d) + math.log(a)) / (a - 1.0)
    return max(0.0, eps)


def rho_for_epsilon(epsilon: float, delta: float) -> float:
    """Largest rho whose grid conversion rdp_to_epsilon(ORDERS * rho, delta) is <= epsilon.

    Calibrates zCDP-based generators so the ledger's conversion never exceeds the target.
    The conversion is min_a (rho a + c_a), so it is <= epsilon iff rho <= (epsilon - c_a)/a
    for some order: the answer is max_a (epsilon - c_a)/a, exact (no bisection needed).
    Float rounding is then corrected by shrinking rho a few ulps until the check passes.
    """
    eps = _positive("epsilon", epsilon, "epsilon is the target privacy budget, e.g. 1.0")
    d = _delta(delta)
    offsets = _conversion_offsets(d)
    rho = float(np.max((eps - offsets) / ORDERS))
    if rho < 0.0:
        floor = float(np.min(offsets))
        raise ConfigurationError(
            f"epsilon={eps} is below {floor:.3g}, the smallest epsilon the order grid "
            f"can certify at delta={d}",
            "use a larger epsilon or a larger delta",
        )
    for shift in range(64):
        if rdp_to_epsilon(ORDERS * rho, d)[0] <= eps:
            return rho
        rho *= 1.0 - 2.0 ** (shift - 52)
    raise ArithmeticError("rho_for_epsilon: rounding correction did not converge")


# --------------------------------------------------------------------------- simple mechanisms


def zcdp_rdp(rho: float) -> FloatArray:
    """RDP curve of a rho-zCDP mechanism: rho * a at every order (Bun & Steinke 2016)."""
    r = _non_negative("rho", rho, "rho is a zCDP parameter, e.g. 0.5")
    return ORDERS * r


def gaussian_rdp(sigma: float, sensitivity: float = 1.0) -> FloatArray:
    """Exact RDP of the Gaussian mechanism, a * sensitivity^2 / (2 sigma^2) (Mironov 2017)."""
    s = _positive("sigma", sigma, "sigma is the standard deviation of the Gaussian noise")
    sens = _positive("sensitivity", sensitivity, "sensitivity is the L2 sensitivity, e.g. 1.0")
    return ORDERS * (sens * sens / (2.0 * s * s))


def _log_cosh(x: FloatArray) -> FloatArray:
    """log(cosh(x)) for x >= 0, accurate for tiny x (log1p form) and huge x (no overflow)."""
    small = np.minimum(x, 1.0)
    return np.where(
        x < 1.0,
        np.log1p(2.0 * np.sinh(small / 2.0) ** 2),
        x + np.log1p(np.exp(-2.0 * x)) - math.log(2.0),
    )


def pure_dp_rdp(epsilon: float) -> FloatArray:
    """Tight RDP of an arbitrary epsilon-DP mechanism (worst case: randomized response).

    Derivation: for neighbours P, Q the likelihood ratio L = dP/dQ lies in [e^-eps, e^eps]
    and E_Q[L] = 1. exp((a-1) D_a) = E_Q[L^a] with t -> t^a convex, so it is maximised by
    putting L on the two endpoints (convex function below its chord), i.e. by randomized
    response with P(L = e^eps) = 1/(1 + e^eps). That gives
    D_a = log(cosh((a - 1/2) eps) / cosh(eps/2)) / (a-1)
        = log((sinh(a eps) - sinh((a-1) eps)) / sinh(eps)) / (a-1),
    which is attained, hence tight, and <= min(eps, a eps^2/2) (Mironov 2017 Prop. 3,
    Bun & Steinke 2016 Prop. 3.3); the min is kept only as a guard against rounding.
    """
    eps = _positive("epsilon", epsilon, "epsilon is the pure-DP parameter, e.g. 1.0")
    exact = (_log_cosh((ORDERS - 0.5) * eps) - _log_cosh(np.asarray(eps / 2.0))) / (ORDERS - 1.0)
    return np.minimum(exact, np.minimum(eps, ORDERS * eps * eps / 2.0))


def laplace_rdp(scale: float, sensitivity: float = 1.0) -> FloatArray:
    """Exact RDP of the Laplace mechanism with noise scale b and L1 sensitivity s (Mironov 2017).

    With eps = s/b, D_a = log(a/(2a-1) e^((a-1) eps) + (a-1)/(2a-1) e^(-a eps)) / (a-1)
    (Table II), rewritten as eps + log1p(-(a-1)(1 - e^(-(2a-1) eps))/(2a-1))/(a-1) so that
    nothing overflows at large orders and small eps keeps its precision.
    """
    b = _positive("scale", scale, "scale is the Laplace noise scale b")
    sens = _positive("sensitivity", sensitivity, "sensitivity is the L1 sensitivity, e.g. 1.0")
    eps = sens / b
    shrink = (ORDERS - 1.0) * -np.expm1(-(2.0 * ORDERS - 1.0) * eps) / (2.0 * ORDERS - 1.0)
    return np.maximum(eps + np.log1p(-shrink) / (ORDERS - 1.0), 0.0)


def exponential_mechanism_rdp(epsilon: float) -> FloatArray:
    """RDP of the epsilon-DP exponential mechanism (sampling prop. to exp(eps u / (2 Delta u))).

    That mechanism has bounded range eps, hence is eps^2/8-zCDP (Cesar & Rogers 2021),
    four times better than the generic eps^2/2 of pure DP; being eps-DP as well, the
    pointwise minimum with :func:`pure_dp_rdp` is also valid and helps at large orders.
    """
    eps = _positive("epsilon", epsilon, "epsilon is the exponential mechanism's epsilon")
    return np.minimum(ORDERS * (eps * eps / 8.0), pure_dp_rdp(eps))


# --------------------------------------------------------------------------- sampled Gaussian


def _crvz_weights(n: int) -> FloatArray:
    """Weights w with sum_j (-1)^j b_j ~= sum_j w_j b_j (Cohen, Rodriguez Villegas & Zagier 2000).

    For a completely monotone (moment) sequence b the error is at most 2 S / (3 + sqrt 8)^n.
    """
    d = (3.0 + math.sqrt(8.0)) ** n
    d = (d + 1.0 / d) / 2.0
    b, c = -1.0, -d
    weights = np.empty(n)
    for k in range(n):
        c = b - c
        weights[k] = c / d
        b = (k + n) * (k - n) * b / ((k + 0.5) * (k + 1.0))
    return weights


_TAIL_TERMS: Final = 30
_TAIL_WEIGHTS: Final = _crvz_weights(_TAIL_TERMS)
_LOG_FACTORIALS: Final = special.gammaln(np.arange(int(ORDERS.max()) + 1) + 1.0)


def _log_expm1(x: FloatArray) -> FloatArray:
    """log(exp(x) - 1) for x > 0 without overflow."""
    return np.where(
        x > 1.0,
        x + np.log1p(-np.exp(-np.maximum(x, 1.0))),
        np.log(np.expm1(np.minimum(x, 1.0))),
    )


def _log_a_integer(alphas: FloatArray, q: float, sigma: float) -> FloatArray:
    """log A_a for integer orders, A_a = sum_k C(a,k) (1-q)^(a-k) q^k exp((k^2-k)/(2 sigma^2)).

    MTZ19 Sec. 3.3. Since sum_k C(a,k) (1-q)^(a-k) q^k = 1, A_a - 1 equals the same sum
    with exp(.) replaced by expm1(.): all terms are positive and zero for k < 2, so it is
    computed by a segmented log-sum-exp and log A = log1p(A - 1) keeps full relative
    precision even when A is within 1e-12 of 1 (tiny q, large sigma).
    """
    orders = alphas.astype(np.int64)
    counts = orders - 1  # terms k = 2 .. a
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    k = np.arange(int(counts.sum())) - np.repeat(starts - 2, counts)
    ks = np.arange(int(orders.max()) + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):  # k = 0, 1 give log(0) = -inf and are never used
        per_k = ks * (math.log(q) - math.log1p(-q)) + _log_expm1((ks * ks - ks) / (2.0 * sigma**2))
    per_k -= _LOG_FACTORIALS[: ks.size]
    per_order = _LOG_FACTORIALS[orders] + orders * math.log1p(-q)
    log_terms = (
        np.repeat(per_order, counts) + per_k[k] - _LOG_FACTORIALS[np.repeat(orders, counts) - k]
    )
    peak = np.maximum.reduceat(log_terms, starts)
    scaled = np.add.reduceat(np.exp(log_terms - np.repeat(peak, counts)), starts)
    result: FloatArray = np.logaddexp(0.0, peak + np.log(scaled))
    return result


def _log_series_terms(a: FloatArray, k: FloatArray, q: float, sigma: float) -> FloatArray:
    """log |term_k| of the fractional-order expansion, both series of MTZ19 Sec. 3.3 combined.

    Splitting the integral at z0, where (1-q) mu0 = q mu1, makes both binomial series
    converge:
      A = sum_k C(a,k) (1-q)^(a-k) q^k e^((k^2-k)/(2s^2)) Phi((z0-k)/s)
        + sum_k C(a,k) q^(a-k) (1-q)^k e^((m^2-m)/(2s^2)) Phi((m-z0)/s),  m = a - k;
    the k-th terms of the two series share the sign of C(a,k), so they are merged.
    """
    z0 = sigma * sigma * (math.log1p(-q) - math.log(q)) + 0.5
    two_var = 2.0 * sigma * sigma
    m = a - k
    log_coef = special.gammaln(a + 1.0) - special.gammaln(k + 1.0) - special.gammaln(m + 1.0)
    below = k * math.log(q) + m * math.log1p(-q) + (k * k - k) / two_var
    above = m * math.log(q) + k * math.log1p(-q) + (m * m - m) / two_var
    below = below + special.log_ndtr((z0 - k) / sigma)
    above = above + special.log_ndtr((m - z0) / sigma)
    result: FloatArray = log_coef + np.logaddexp(below, above)
    return result


def _log_a_fractional(alphas: FloatArray, q: float, sigma: float) -> FloatArray:
    """log A_a for fractional orders: positive head by log-sum-exp, alternating tail by CRVZ.

    C(a,k) > 0 for k <= ceil(a) and alternates in sign after. Writing each Gaussian factor
    with the Mills ratio M(x) = Phi(-x)/phi(x) = int_0^inf exp(-x t - t^2/2) dt shows that
    term_k = C(a,k) (1-q)^a exp(-z0^2/(2s^2)) (M((k-z0)/s) + M((k-a+z0)/s)) / sqrt(2 pi):
    beyond ceil(a) the magnitudes are a product of moment sequences, i.e. completely
    monotone, so the CRVZ acceleration sums the (slowly decaying, ~k^(-a-2)) tail from 30
    terms with relative error < 2 (3 + sqrt 8)^-30 ~ 1e-23, far below float rounding, where
    plain summation would need up to ~1e5 terms for orders near 1.
    """
    first_tail = np.ceil(alphas).astype(np.int64)
    k = np.arange(int(first_tail.max()) + _TAIL_TERMS, dtype=np.float64)
    log_b = _log_series_terms(alphas[:, None], k[None, :], q, sigma)
    log_head = special.logsumexp(np.where(k < first_tail[:, None], log_b, -np.inf), axis=1)
    tail_index = first_tail[:, None] + np.arange(_TAIL_TERMS)
    log_tail = np.take_along_axis(log_b, tail_index, axis=1)
    scale = log_tail[:, 0]
    tail = np.exp(log_tail - scale[:, None]) @ _TAIL_WEIGHTS
    result: FloatArray = np.logaddexp(log_head, scale + np.log(np.maximum(tail, 1e-300)))
    return result


def subsampled_gaussian_rdp(sigma: float, sample_rate: float, steps: int) -> FloatArray:
    """RDP of `steps` compositions of the Poisson-subsampled Gaussian mechanism (DP-SGD).

    Add/remove neighbours, noise multiplier sigma (std / L2 sensitivity), sampling rate q.
    Per step the RDP is log(A_a)/(a-1) with A_a = E_mu0[(mu/mu0)^a], mu0 = N(0, sigma^2),
    mu = (1-q) mu0 + q N(1, sigma^2); this direction dominates the reverse one (MTZ19).
    Integer orders use the exact finite sum, fractional orders the two-series formula,
    both in log-space (log-sum-exp, log Phi) so sigma in [0.3, 100], q in [1e-5, 1] and
    large orders neither overflow nor lose precision. Composition adds the per-step curves.
    """
    s = _positive("sigma", sigma, "sigma is the noise multiplier (noise std / clipping norm)")
    q = _sample_rate(sample_rate)
    n = _steps(steps)
    if q == 0.0 or n == 0:
        return np.zeros_like(ORDERS)
    if q == 1.0:
        return gaussian_rdp(s) * n
    integer = np.round(ORDERS) == ORDERS
    log_a = np.empty_like(ORDERS)
    log_a[integer] = _log_a_integer(ORDERS[integer], q, s)
    log_a[~integer] = _log_a_fractional(ORDERS[~integer], q, s)
    return np.maximum(log_a / (ORDERS - 1.0), 0.0) * n
