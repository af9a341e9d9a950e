"""Exact (safe-side) tail probabilities of the discrete Gaussian, and release thresholds.

Why: thresholded releases (frequent keys, data-quality warnings) add discrete Gaussian
noise N_Z(0, sigma^2), P[Z = z] ∝ exp(-z^2 / (2 sigma^2)) over the integers (Canonne,
Kamath & Steinke 2020, "The Discrete Gaussian for Differential Privacy"), and charge
``delta`` for the chance that a key held by one unit clears the threshold. Picking the
threshold from the *continuous* Gaussian tail under-estimates that chance for small
sigma (the discrete law puts a whole atom just above a fractional threshold), so the
charged ``delta`` would be false. Here the tail is computed from the discrete law
itself, always rounded UP: every returned probability is >= the true one, so a
threshold found with it never releases more often than promised.

With f(x) = exp(-x^2 / (2 sigma^2)), P[Z >= m] = S(m) / N where S(m) = sum_{z>=m} f(z)
and N = sum_z f(z). For m >= 1 the result is an upper bound S_up(m) / N_low:

* N_low: for sigma < 1 the direct sum over |z| <= 10 sigma + 2 (truncating a positive
  series only lowers it); for sigma >= 1 Poisson summation,
  N = sqrt(2 pi) sigma * (1 + 2 sum_{k>=1} exp(-2 pi^2 sigma^2 k^2)), truncated after
  k = 1 (again a lower bound; the next term is below e^-78).
* S_up: the terms z = m, ..., m + K - 1 summed directly, where K covers every term
  down to e^-46 of f(m), as long as K < 4096 (always for sigma <= 420); then the rest,
  from a = m + K, bounded by the smallest of
    - geometric: f(a) / (1 - q), q = exp(-(2a + 1) / (2 sigma^2)) >= f(z+1)/f(z), z >= a;
    - monotone:  f(a) + integral_a^inf f (f decreases on [0, inf));
    - midpoint:  integral_{a-1/2}^inf f, valid when a - 1/2 >= sigma, where f is convex
      and so f(z) <= integral_{z-1/2}^{z+1/2} f (Hermite-Hadamard inequality).
  Here the bound is the exact sum (the remainder is < e^-46 of it).
  When K would exceed 4096 (large sigma) nothing is summed and a = m: for
  m - 1/2 >= sigma the midpoint bound gives P[Z >= m] <= P[N(0, sigma^2) >= m - 1/2]
  (half a unit tighter than shifting by a whole unit), with relative excess
  ~ (m/sigma^2)^2 / 24 < 5e-6 in this regime; for m - 1/2 < sigma f is concave on
  [m, floor(sigma)], where trapezoids under-estimate the integral, so that part is
  <= integral + half its end terms (relative excess ~ 1/(12 sigma^2)).

Everything is computed in log space (no underflow) and inflated by a relative 1e-9,
far above the accumulated float error (a few ulps per step, < 1e-12 relative), then
rounded up to the next float. Tails below ~1e-270 use the Abramowitz-Stegun 7.1.13
bound on erfc (up to 3e-4 looser). m <= 0 goes by symmetry, P[Z >= m] = 1 - P[Z >= 1-m],
with the mirrored lower bounds (truncated direct sums; midpoints where f is concave,
trapezoids where it is convex; N <= 1 + 2 S_up(1)). Callers only need m >= 1.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from privsynth.errors import ConfigurationError

__all__ = ["discrete_gaussian_tail", "release_threshold"]

#: accepted sigma range (wider than the sampler's [2**-30, 2**45])
_MIN_SIGMA = 2.0**-40
_MAX_SIGMA = 2.0**50
#: relative safety margin covering float rounding (applied in log space)
_LOG_MARGIN = 1e-9
#: terms below exp(-_CUT) of the first are left to the remainder bounds
_CUT = 46.0
#: most terms summed directly; beyond, the integral bounds are already tight
_MAX_TERMS = 4096
#: beyond this many sigmas the tail is below exp(-2**39): report the smallest float
_FAR = 2.0**20
#: math.erfc keeps full relative precision up to here; beyond, Abramowitz-Stegun 7.1.13
_ERFC_SAFE = 25.0


# --------------------------------------------------------------------------- validation
def _check_sigma(sigma: float) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise ConfigurationError(
            f"sigma must be a number, got {type(sigma).__name__}", hint="pass a float"
        )
    value = float(sigma)
    if not _MIN_SIGMA <= value <= _MAX_SIGMA:
        raise ConfigurationError(
            f"sigma={value!r} is outside the supported range [{_MIN_SIGMA}, {_MAX_SIGMA}]",
            hint="the noise scale must be a positive finite number; check rho and sensitivity",
        )
    return value


def _check_int(name: str, value: int, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigurationError(
            f"{name} must be an integer, got {type(value).__name__}", hint=f"pass an int {name}"
        )
    number = int(value)
    if minimum is not None and number < minimum:
        raise ConfigurationError(
            f"{name}={number} is below {minimum}", hint=f"pass {name} >= {minimum}"
        )
    return number


def _check_delta(delta: float) -> float:
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise ConfigurationError(
            f"delta must be a number, got {type(delta).__name__}", hint="pass a float"
        )
    value = float(delta)
    if not 0.0 < value < 1.0:
        raise ConfigurationError(
            f"delta={value!r} is not in (0, 1)", hint="use a small positive delta such as 1e-8"
        )
    return value


# --------------------------------------------------------------------------- log helpers
def _log_gauss_tail_scaled(y: float, upper: bool = True) -> float:
    """A bound (upper or lower) on log P[N(0,1) >= y] + y^2/2, for y >= 0."""
    x = y / math.sqrt(2.0)
    if x <= _ERFC_SAFE:
        return math.log(0.5 * math.erfc(x)) + 0.5 * y * y
    # 2/(x + sqrt(x^2 + 2)) < sqrt(pi) e^{x^2} erfc(x) <= 2/(x + sqrt(x^2 + 4/pi))  (A&S 7.1.13)
    width = 4.0 / math.pi if upper else 2.0
    return -0.5 * math.log(math.pi) - math.log(x + math.sqrt(x * x + width))


def _log_integral_rel(sigma: float, m: float, shift: float, upper: bool = True) -> float:
    """log(integral_{m+shift}^inf f) - log f(m), for m + shift > 0."""
    b = m + shift
    return (
        math.log(math.sqrt(2.0 * math.pi) * sigma)
        + _log_gauss_tail_scaled(b / sigma, upper)
        - shift * (2.0 * m + shift) / (2.0 * sigma * sigma)
    )


def _ratio(sigma: float, m: float, z: float) -> float:
    """f(z) / f(m)."""
    return math.exp(-(z - m) * (z + m) / (2.0 * sigma * sigma))


def _integral(sigma: float, m: float, b: float, upper: bool) -> float:
    """integral_b^inf f / f(m) (a bound on it: float-accurate below the A&S switch)."""
    return math.exp(_log_integral_rel(sigma, m, b - m, upper))


def _terms_needed(sigma: float, m: float) -> float:
    """How many terms from m on are above exp(-_CUT) times the first."""
    return math.sqrt(m * m + 2.0 * _CUT * sigma * sigma) - m


def _direct_sum_rel(sigma: float, m: float, terms: int) -> float:
    """sum_{k < terms} f(m + k) / f(m)."""
    k = np.arange(terms, dtype=np.float64)
    return float(np.exp(-k * (2.0 * m + k) / (2.0 * sigma * sigma)).sum())


# --------------------------------------------------------------------------- upper bounds
def _log_remainder_rel(sigma: float, m: float, k: int) -> float:
    """Upper bound on log(sum_{z >= m+k} f(z)) - log f(m), for m >= 1."""
    a = m + k
    log_fa = -k * (2.0 * m + k) / (2.0 * sigma * sigma)
    geometric = log_fa - math.log(-math.expm1(-(2.0 * a + 1.0) / (2.0 * sigma * sigma)))
    monotone = float(np.logaddexp(log_fa, _log_integral_rel(sigma, m, float(k))))
    best = min(geometric, monotone)
    if a - 0.5 >= sigma:
        best = min(best, _log_integral_rel(sigma, m, k - 0.5))
    return best


def _log_straddling_rel(sigma: float, m: float) -> float:
    """Upper bound on log S(m) - log f(m) for 1 <= m < sigma + 1/2 (f concave, then convex).

    With c = floor(sigma) (f concave on [m, c]) trapezoids under-estimate the integral,
    so sum_{z=m}^{c} f(z) <= integral_m^c f + (f(m) + f(c)) / 2; the rest is f(c + 1)
    plus the midpoint bound from c + 3/2 > sigma + 1/2. No ratio here underflows."""
    c = max(float(math.floor(sigma)), m - 1.0)
    concave = 0.0
    if c >= m:
        concave = _integral(sigma, m, m, True) - _integral(sigma, m, c, False)
        concave += 0.5 * (1.0 + _ratio(sigma, m, c))
    convex = _ratio(sigma, m, c + 1.0) + _integral(sigma, m, c + 1.5, True)
    return math.log(concave + convex)


def _log_tail_sum_rel(sigma: float, m: float) -> float:
    """Upper bound on log S(m) - log f(m), for m >= 1."""
    needed = _terms_needed(sigma, m)
    if needed >= _MAX_TERMS:
        bound = _log_remainder_rel(sigma, m, 0)
        if m - 0.5 < sigma:
            bound = min(bound, _log_straddling_rel(sigma, m))
        return bound
    terms = int(needed) + 2
    direct = _direct_sum_rel(sigma, m, terms)
    return float(np.logaddexp(math.log(direct), _log_remainder_rel(sigma, m, terms)))


def _log_normaliser_low(sigma: float) -> float:
    """Lower bound on log N, N = sum_z exp(-z^2 / (2 sigma^2))."""
    if sigma >= 1.0:
        dual = 2.0 * math.exp(-2.0 * math.pi**2 * sigma * sigma)
        return math.log(math.sqrt(2.0 * math.pi) * sigma) + math.log1p(dual)
    z = np.arange(1, int(10.0 * sigma) + 3, dtype=np.float64)
    return math.log1p(2.0 * float(np.exp(-(z * z) / (2.0 * sigma * sigma)).sum()))


def _log_upper_tail(sigma: float, m: int) -> float:
    """Upper bound on log P[Z >= m] for m >= 1, before the safety margin."""
    x = m / sigma
    return -0.5 * x * x + _log_tail_sum_rel(sigma, float(m)) - _log_normaliser_low(sigma)


# --------------------------------------------------------------------------- lower bounds
def _lower_sum_rel(sigma: float, k: float) -> float:
    """Lower bound on S(k) / f(k), for k >= 1 (mirror of the upper bounds).

    Small sigma: the truncated direct sum. Large sigma: midpoints over-estimate the
    integral where f is concave (z + 1/2 <= sigma), trapezoids where it is convex
    (z >= sigma), so S(c) >= integral_c^inf f + f(c)/2 for c >= sigma."""
    needed = _terms_needed(sigma, k)
    if needed < _MAX_TERMS:
        return _direct_sum_rel(sigma, k, int(needed) + 1)
    if k >= sigma:
        return _integral(sigma, k, k, False) + 0.5
    last_concave = math.floor(sigma - 0.5)
    first_convex = math.ceil(sigma)
    total = _integral(sigma, k, first_convex, False) + 0.5 * _ratio(sigma, k, first_convex)
    if last_concave >= k:
        total += _integral(sigma, k, k - 0.5, False) - _integral(sigma, k, last_concave + 0.5, True)
    for z in range(max(int(k), last_concave + 1), first_convex):
        total += _ratio(sigma, k, z)
    return total


def _log_normaliser_up(sigma: float) -> float:
    """Upper bound on log N = log(1 + 2 S(1))."""
    log_f1 = -0.5 / (sigma * sigma)
    return math.log1p(2.0 * math.exp(log_f1 + _log_tail_sum_rel(sigma, 1.0)))


def _lower_tail(sigma: float, k: int) -> float:
    """Lower bound on P[Z >= k] for k >= 1 (0.0 once below e^-800)."""
    if k > 40.0 * sigma:
        return 0.0
    x = k / sigma
    log_tail = -0.5 * x * x + math.log(_lower_sum_rel(sigma, float(k)))
    log_tail -= _log_normaliser_up(sigma) + _LOG_MARGIN
    return math.nextafter(math.exp(log_tail), 0.0)


def _safe_exp(log_value: float) -> float:
    """exp(log_value + margin) rounded up, capped at 1."""
    value = math.exp(min(log_value + _LOG_MARGIN, 0.0))
    return min(1.0, math.nextafter(value, math.inf))


# --------------------------------------------------------------------------- public API
def discrete_gaussian_tail(sigma: float, m: int) -> float:
    """An upper bound on P[Z >= m] for Z ~ N_Z(0, sigma^2), never below the true value.

    Where the terms are summed (always for sigma <= 420) it is the exact tail times at
    most 1 + 2e-9; for larger sigma an integral bound with relative excess < 1e-5
    (see the module docstring). m <= 0 is exact to ~1e-6 relative by symmetry. The
    result is at most 1; a tail below the smallest positive float returns that float.
    sigma must lie in [2**-40, 2**50] (the sampler's range is [2**-30, 2**45]).
    """
    sigma = _check_sigma(sigma)
    m = _check_int("m", m)
    if m == 0:
        return _safe_exp(math.log(0.5 + 0.5 * math.exp(-_log_normaliser_low(sigma))))
    if m < 0:
        return min(1.0, math.nextafter(1.0 - _lower_tail(sigma, 1 - m), math.inf))
    if m > _FAR * sigma:
        # log P <= -m^2/(2 sigma^2) + log(1 + sigma^2/m) < -2**39 + 36 (geometric bound)
        return math.ulp(0.0)
    return _safe_exp(_log_upper_tail(sigma, m))


def release_threshold(sigma: float, delta: float, count: int = 1) -> int:
    """Smallest integer T with P[count + Z > T] <= delta, Z ~ N_Z(0, sigma^2).

    A key whose true count is ``count`` (the most one privacy unit contributes) then
    passes the rule ``noisy > T`` with probability at most ``delta``; ``count=0`` gives
    the threshold an empty bin clears with probability at most ``delta``. T is exact
    (the true minimum) unless the true tail at T - 1 lies within the bound's tiny slack
    above ``delta`` (see :func:`discrete_gaussian_tail`); it is never too small.
    """
    sigma = _check_sigma(sigma)
    delta = _check_delta(delta)
    count = _check_int("count", count, minimum=0)
    # P[count + Z > T] = P[Z >= T - count + 1]: search the smallest such m.
    m = _smallest_m(sigma, delta)
    return m + count - 1


def _smallest_m(sigma: float, delta: float) -> int:
    """Smallest m whose tail bound is <= delta (bisection between bracketing m)."""
    high = max(1, math.ceil(sigma * math.sqrt(2.0 * math.log(1.0 / delta))) + 1)
    while discrete_gaussian_tail(sigma, high) > delta:
        high *= 2
    low = 0
    while discrete_gaussian_tail(sigma, low) <= delta:
        low = 2 * low - 1
    while high - low > 1:  # tail(low) > delta >= tail(high)
        middle = (low + high) // 2
        if discrete_gaussian_tail(sigma, middle) <= delta:
            high = middle
        else:
            low = middle
    return high
