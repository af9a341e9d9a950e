"""Discrete Gaussian tails and release thresholds against exact mpmath sums.

The reference is independent of the code under test: 50-digit sums of
exp(-z^2 / (2 sigma^2)) term by term where that takes at most a few thousand terms,
otherwise the Euler-Maclaurin formula (its error is below 1e-25 there, checked against
the direct sum below), and the normaliser from Jacobi's theta function. Every check
is "bound >= exact" and "bound <= exact * (1 + slack)", with the slack the module
documents, so a bound that is unsafe or loose by more than that fails.
"""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

import mpmath
import pytest
from scipy.stats import norm

from privsynth.dp.accounting.tails import discrete_gaussian_tail, release_threshold
from privsynth.errors import ConfigurationError

SIGMAS = [0.1, 0.3, 0.5, 1.0, 2.0, 5.0, 20.0, 100.0, 1000.0, 1e5]
DELTAS = [1e-3, 1e-6, 1e-8, 1e-10, 1e-12]
COUNTS = [0, 1, 3]
#: relative slack of the bound: term-by-term sums (sigma <= 420) vs integral bounds
EXACT_SLACK = 1e-8
INTEGRAL_SLACK = 1e-5
#: terms below exp(-_REF_CUT) of the first are dropped by the reference (< 1e-52)
_REF_CUT = 120


def slack(sigma: float) -> float:
    return EXACT_SLACK if sigma <= 420 else INTEGRAL_SLACK


def _mp(value: float) -> Any:
    return mpmath.mpf(value)


def _direct_sum(sigma: float, m: int) -> Any:
    """Term by term; f(z + 1) = f(z) * g(z), g(z + 1) = g(z) * exp(-1 / sigma^2)."""
    terms = int(math.sqrt(m * m + 2 * _REF_CUT * sigma * sigma) - m) + 2
    s2 = 2 * _mp(sigma) ** 2
    term, step, shrink = (
        mpmath.exp(-(_mp(m) ** 2) / s2),
        mpmath.exp(-(2 * m + 1) / s2),
        mpmath.exp(-2 / s2),
    )
    total = _mp(0)
    for _ in range(terms):
        total += term
        term, step = term * step, step * shrink
    return total


def _euler_maclaurin_sum(sigma: float, m: int) -> Any:
    """sum_{z>=m} f(z) = int_m^inf f + f(m)/2 - sum_k B_2k/(2k)! f^(2k-1)(m) + tiny."""
    c = 1 / (_mp(sigma) * mpmath.sqrt(2))
    u = m * c
    fm = mpmath.exp(-u * u)
    total = mpmath.sqrt(mpmath.pi) / (2 * c) * mpmath.erfc(u) + fm / 2
    for k in range(1, 6):  # f^(n)(x) = (-c)^n H_n(c x) f(x)
        derivative = (-c) ** (2 * k - 1) * mpmath.hermite(2 * k - 1, u) * fm
        total -= mpmath.bernoulli(2 * k) / mpmath.factorial(2 * k) * derivative
    return total


def exact_tail_sum(sigma: float, m: int) -> Any:
    """sum_{z >= m} exp(-z^2 / (2 sigma^2)) to ~45 digits, for m >= 1."""
    with mpmath.workdps(50):
        if math.sqrt(m * m + 2 * _REF_CUT * sigma * sigma) - m <= 4000:
            return _direct_sum(sigma, m)
        return _euler_maclaurin_sum(sigma, m)


@cache
def normaliser(sigma: float) -> Any:
    """sum_z exp(-z^2 / (2 sigma^2)): theta_3 directly, or its Poisson dual."""
    with mpmath.workdps(50):
        s = _mp(sigma)
        if sigma <= 5:
            return mpmath.jtheta(3, 0, mpmath.exp(-1 / (2 * s * s)))
        return (
            mpmath.sqrt(2 * mpmath.pi)
            * s
            * mpmath.jtheta(3, 0, mpmath.exp(-2 * (mpmath.pi * s) ** 2))
        )


@cache
def exact_tail(sigma: float, m: int) -> Any:
    """P[Z >= m] for Z ~ N_Z(0, sigma^2), to ~45 digits."""
    with mpmath.workdps(50):
        if m <= 0:
            return 1 - exact_tail(sigma, 1 - m)
        return exact_tail_sum(sigma, m) / normaliser(sigma)


def exact_release(sigma: float, count: int, threshold: int) -> Any:
    """P[count + Z > threshold] = P[Z >= threshold - count + 1]."""
    return exact_tail(sigma, threshold - count + 1)


def old_threshold(sigma: float, delta: float) -> float:
    """The continuous-Gaussian rule that release_threshold replaces."""
    return 1 + sigma * float(norm.isf(delta))


# --------------------------------------------------------------------------- reference
@pytest.mark.parametrize("sigma", [1.0, 2.0, 5.0])
def test_reference_normaliser_agrees_with_its_poisson_dual(sigma: float) -> None:
    with mpmath.workdps(50):
        s = _mp(sigma)
        direct = mpmath.jtheta(3, 0, mpmath.exp(-1 / (2 * s * s)))
        dual = (
            mpmath.sqrt(2 * mpmath.pi)
            * s
            * mpmath.jtheta(3, 0, mpmath.exp(-2 * (mpmath.pi * s) ** 2))
        )
        assert abs(direct / dual - 1) < mpmath.mpf("1e-45")


@pytest.mark.parametrize(("sigma", "m"), [(300.0, 2000), (500.0, 3500), (500.0, 1)])
def test_reference_euler_maclaurin_agrees_with_direct_sum(sigma: float, m: int) -> None:
    with mpmath.workdps(50):
        direct, em = _direct_sum(sigma, m), _euler_maclaurin_sum(sigma, m)
        assert abs(em / direct - 1) < mpmath.mpf("1e-25")


# --------------------------------------------------------------------------- tail bound
def _check_bound(sigma: float, m: int) -> float:
    """Assert exact <= bound <= exact * (1 + slack); return bound / exact."""
    bound, exact = discrete_gaussian_tail(sigma, m), exact_tail(sigma, m)
    assert mpmath.mpf(bound) >= exact, (sigma, m, bound, exact)
    ratio = float(mpmath.mpf(bound) / exact)
    assert ratio <= 1 + slack(sigma), (sigma, m, ratio)
    return ratio


@pytest.mark.parametrize("sigma", SIGMAS)
def test_tail_is_a_tight_upper_bound(sigma: float) -> None:
    ms = {1, 2, 3, max(1, round(sigma)), round(sigma) + 1, math.ceil(3 * sigma) + 1}
    for delta in DELTAS:  # around the thresholds actually used
        m = release_threshold(sigma, delta, count=1)
        ms |= {m - 1, m, m + 1}
    for m in sorted(x for x in ms if x >= 1):
        _check_bound(sigma, m)


@pytest.mark.parametrize("sigma", [0.3, 1.0, 20.0, 1000.0, 1e5])
def test_tail_bound_holds_far_out_and_below_zero(sigma: float) -> None:
    for m in (round(20 * sigma) + 1, round(30 * sigma) + 1):  # tails 1e-88 .. 1e-197
        _check_bound(sigma, m)
    for m in (0, -1, -3, -round(sigma)):
        bound, exact = discrete_gaussian_tail(sigma, m), exact_tail(sigma, m)
        assert exact <= mpmath.mpf(bound) <= min(1, exact * (1 + 1e-6))


def test_tail_at_zero_is_half_plus_half_the_atom() -> None:
    for sigma in (0.1, 1.0, 50.0):
        expected = (1 + 1 / normaliser(sigma)) / 2
        assert expected <= discrete_gaussian_tail(sigma, 0) <= expected * (1 + 1e-8)


def test_tail_extremes_stay_positive_and_at_most_one() -> None:
    assert discrete_gaussian_tail(0.05, 1) == pytest.approx(math.exp(-200), rel=1e-8)
    assert discrete_gaussian_tail(1.0, 10**400) == math.ulp(0.0)  # underflow: smallest > 0
    assert discrete_gaussian_tail(2.0**-40, 1) == math.ulp(0.0)
    assert discrete_gaussian_tail(1.0, -(10**400)) == 1.0
    huge = discrete_gaussian_tail(2.0**45, 2**45)  # ~ P[N(0,1) >= 1]
    assert float(norm.sf(1.0)) <= huge <= float(norm.sf(1.0)) * (1 + 1e-6)
    for sigma in (0.1, 3.0, 700.0, 1e7):
        values = [discrete_gaussian_tail(sigma, m) for m in range(-3, 8)]
        assert all(0 < v <= 1 for v in values)
        assert values == sorted(values, reverse=True)


# --------------------------------------------------------------------------- thresholds
@pytest.mark.parametrize("sigma", SIGMAS)
def test_release_threshold_is_the_smallest_safe_threshold(sigma: float) -> None:
    for delta in DELTAS:
        base = release_threshold(sigma, delta, count=0)
        for count in COUNTS:
            threshold = release_threshold(sigma, delta, count=count)
            assert threshold == base + count
            assert exact_release(sigma, count, threshold) <= delta
            below = exact_release(sigma, count, threshold - 1)
            if sigma > 420 and below <= delta:  # integral bounds: conservative within slack
                assert below * (1 + slack(sigma)) > delta, (sigma, delta, count)
            else:  # summed terms: T is exactly the smallest
                assert below > delta, (sigma, delta, count, float(below))


@pytest.mark.parametrize(("sigma", "delta"), [(1.0, 0.9), (1000.0, 0.6), (1000.0, 0.4)])
def test_release_threshold_for_large_delta(sigma: float, delta: float) -> None:
    threshold = release_threshold(sigma, delta, count=1)
    assert exact_release(sigma, 1, threshold) <= delta < exact_release(sigma, 1, threshold - 1)


def test_old_continuous_rule_exceeds_delta_where_the_new_one_does_not() -> None:
    # (sigma, delta): the old rule releases a count-1 key ~8-12x more often than delta
    for sigma, delta in [(0.32, 1e-3), (0.21, 1e-6), (0.53, 1e-8), (0.47, 1e-10), (0.71, 1e-12)]:
        old = old_threshold(sigma, delta)  # released when 1 + Z > old, Z integer
        assert exact_tail(sigma, math.floor(old - 1) + 1) > 5 * delta, (sigma, delta)
        new = release_threshold(sigma, delta, count=1)
        assert new > old
        assert exact_release(sigma, 1, new) <= delta


def test_release_threshold_is_fast() -> None:
    start = time.perf_counter()
    for sigma in (0.5, 30.0, 700.0, 1e5, 1e7):
        for delta in (1e-3, 1e-12):
            release_threshold(sigma, delta, count=1)
    assert (time.perf_counter() - start) / 10 < 0.01


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan, math.inf, 1e300, True, "1"])
def test_bad_sigma_is_refused(sigma: Any) -> None:
    with pytest.raises(ConfigurationError, match="sigma") as info:
        release_threshold(sigma, 1e-6)
    assert info.value.hint and "\n" not in info.value.one_line()
    with pytest.raises(ConfigurationError, match="sigma"):
        discrete_gaussian_tail(sigma, 1)


@pytest.mark.parametrize("delta", [0.0, 1.0, -1e-9, 1.5, math.nan, None])
def test_bad_delta_is_refused(delta: Any) -> None:
    with pytest.raises(ConfigurationError, match="delta") as info:
        release_threshold(1.0, delta)
    assert info.value.hint


@pytest.mark.parametrize("count", [-1, 1.5, True, "1"])
def test_bad_count_is_refused(count: Any) -> None:
    with pytest.raises(ConfigurationError, match="count") as info:
        release_threshold(1.0, 1e-6, count=count)
    assert info.value.hint


@pytest.mark.parametrize("m", [1.5, True, None])
def test_bad_m_is_refused(m: Any) -> None:
    with pytest.raises(ConfigurationError, match="m must be an integer"):
        discrete_gaussian_tail(1.0, m)
