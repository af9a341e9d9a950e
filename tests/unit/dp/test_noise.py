"""Statistical and exactness tests for the exact DP noise samplers.

Seeds are fixed, so every test is deterministic. The tolerances (5 standard errors,
chi-square p > 1e-6) are such that, for a fresh seed, a correct sampler fails any one
check with probability ~1e-6 at most, while a wrong distribution fails loudly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from privsynth.dp.noise import (
    NoiseSource,
    _affine,
    _gaussian_plan,
    _laplace_plan,
    _square,
    effective_laplace_scale,
    effective_sigma,
)
from privsynth.errors import ConfigurationError

P_MIN = 1e-6  # smallest acceptable goodness-of-fit p-value
Z = 5.0  # standard errors allowed for moment checks


# --------------------------------------------------------------------------- helpers


def gaussian_pmf(sigma: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Support and exact (to float precision) pmf of N_Z(0, sigma^2), tails < 1e-300."""
    half = math.ceil(40 * sigma) + 10
    xs = np.arange(-half, half + 1, dtype=np.int64)
    weights = np.exp(-(xs.astype(np.float64) ** 2) / (2 * sigma**2))
    return xs, weights / weights.sum()


def laplace_pmf(scale: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Support and pmf of P(x) ~ exp(-|x| / scale), tails < e^-60."""
    half = math.ceil(60 * scale) + 10
    xs = np.arange(-half, half + 1, dtype=np.int64)
    weights = np.exp(-np.abs(xs.astype(np.float64)) / scale)
    return xs, weights / weights.sum()


def chi_square_pvalue(
    samples: npt.NDArray[np.int64], xs: npt.NDArray[np.int64], pmf: npt.NDArray[np.float64]
) -> float:
    """Chi-square GOF p-value; cells (-inf, -L], -L+1 .. L-1, [L, inf) with >= 20 expected."""
    n = samples.size
    upper_tail = np.cumsum(pmf[::-1])[::-1]  # P(X >= xs[i])
    big = xs[(upper_tail * n >= 20) & (xs >= 0)]
    cut = int(big.max()) if big.size else 0
    if cut == 0:  # degenerate: everything at 0
        return 1.0 if np.all(samples == 0) else 0.0
    inner = (xs > -cut) & (xs < cut)
    expected = np.concatenate([[pmf[xs <= -cut].sum()], pmf[inner], [pmf[xs >= cut].sum()]]) * n
    clipped = np.clip(samples, -cut, cut) + cut
    observed = np.bincount(clipped, minlength=2 * cut + 1)
    stat = float(((observed - expected) ** 2 / expected).sum())
    return float(stats.chi2.sf(stat, df=observed.size - 1))


def moments(xs: npt.NDArray[np.int64], pmf: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Exact variance and fourth central moment of a symmetric integer distribution."""
    x = xs.astype(np.float64)
    return float((pmf * x**2).sum()), float((pmf * x**4).sum())


def check_moments(samples: npt.NDArray[np.int64], var: float, mu4: float) -> None:
    """Sample mean ~ 0 and sample variance ~ var, within Z standard errors."""
    n = samples.size
    x = samples.astype(np.float64)
    assert abs(x.mean()) <= Z * math.sqrt(var / n)
    assert abs(x.var() - var) <= Z * math.sqrt((mu4 - var**2) / n)


# --------------------------------------------------------------------------- reproducibility


def draw_everything(src: NoiseSource) -> list[Any]:
    return [
        src.discrete_gaussian(3.0, 200).tolist(),
        src.discrete_laplace(2.5, 200).tolist(),
        [src.exponential_mechanism([0.0, 1.0, 2.0], 1.0, 1.0) for _ in range(20)],
        [src.uniform_int(10**30) for _ in range(5)],
        [src.bernoulli_exp(Fraction(1, 3)) for _ in range(50)],
        src.numpy_generator().integers(0, 2**62, size=5).tolist(),
    ]


def test_seeded_sources_are_reproducible() -> None:
    a, b = NoiseSource(seed=20240501), NoiseSource(seed=20240501)
    assert a.seeded and b.seeded
    assert draw_everything(a) == draw_everything(b)
    assert draw_everything(NoiseSource(seed=1)) != draw_everything(NoiseSource(seed=2))


def test_unseeded_sources_are_not_reproducible() -> None:
    a, b = NoiseSource(), NoiseSource()
    assert not a.seeded
    # Each of these collides with probability far below 1e-100.
    assert not np.array_equal(a.discrete_gaussian(50.0, 200), b.discrete_gaussian(50.0, 200))
    assert not np.array_equal(a.discrete_laplace(50.0, 200), b.discrete_laplace(50.0, 200))
    assert a.uniform_int(2**128) != b.uniform_int(2**128)
    ga, gb = a.numpy_generator(), b.numpy_generator()
    assert ga.integers(0, 2**62, size=4).tolist() != gb.integers(0, 2**62, size=4).tolist()


def test_successive_numpy_generators_differ() -> None:
    src = NoiseSource(seed=3)
    first = src.numpy_generator().integers(0, 2**62, size=4)
    second = src.numpy_generator().integers(0, 2**62, size=4)
    assert not np.array_equal(first, second)


# --------------------------------------------------------------------------- discrete Gaussian


@pytest.mark.parametrize("sigma", [0.5, 0.7, 3.0])
def test_discrete_gaussian_matches_pmf(sigma: float) -> None:
    samples = NoiseSource(seed=11).discrete_gaussian(sigma, 100_000)
    assert samples.dtype == np.int64 and samples.shape == (100_000,)
    xs, pmf = gaussian_pmf(effective_sigma(sigma))
    assert chi_square_pvalue(samples, xs, pmf) > P_MIN


@pytest.mark.parametrize("sigma", [0.5, 3.0, 30.0, 300.0, 2000.0])
def test_discrete_gaussian_moments(sigma: float) -> None:
    s_eff = effective_sigma(sigma)
    var, mu4 = moments(*gaussian_pmf(s_eff))
    # Known bound (CKS 2020): Var < sigma^2, and extremely close to it once sigma >= 1.
    assert var <= s_eff**2 * (1 + 1e-12)
    if sigma >= 1:
        assert var >= s_eff**2 * (1 - 1e-9)
    samples = NoiseSource(seed=int(sigma * 10)).discrete_gaussian(sigma, 50_000)
    check_moments(samples, var, mu4)


def test_discrete_gaussian_with_python_int_fallback() -> None:
    """Huge sigma: acceptance denominators exceed int64, so exact Python ints are used."""
    sigma = 2.0**40
    assert _gaussian_plan(sigma).r >= 2**62
    samples = NoiseSource(seed=5).discrete_gaussian(sigma, 4000)
    check_moments(samples, sigma**2, 3 * sigma**4)


def test_tiny_sigma_gives_zeros() -> None:
    # P(x != 0) ~ 2 exp(-1 / (2 * 1e-6)): never.
    assert not NoiseSource(seed=5).discrete_gaussian(1e-3, 5000).any()


def test_odd_rounded_sigma_matches_pmf() -> None:
    """A sigma whose rounding is non-trivial (non-integer, non-reducible plan)."""
    sigma = 2.3456789
    plan = _gaussian_plan(sigma)
    assert plan.sigma.denominator > 1 and plan.r > 2**40
    samples = NoiseSource(seed=8).discrete_gaussian(sigma, 50_000)
    assert chi_square_pvalue(samples, *gaussian_pmf(effective_sigma(sigma))) > P_MIN


# --------------------------------------------------------------------------- discrete Laplace


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_discrete_laplace_matches_pmf(scale: float) -> None:
    samples = NoiseSource(seed=13).discrete_laplace(scale, 100_000)
    assert samples.dtype == np.int64
    xs, pmf = laplace_pmf(effective_laplace_scale(scale))
    assert chi_square_pvalue(samples, xs, pmf) > P_MIN


@pytest.mark.parametrize("scale", [2.5, 300.0])
def test_discrete_laplace_moments(scale: float) -> None:
    t = effective_laplace_scale(scale)
    var, mu4 = moments(*laplace_pmf(t))
    q = math.exp(-1 / t)
    assert var == pytest.approx(2 * q / (1 - q) ** 2, rel=1e-9)  # two-sided geometric
    check_moments(NoiseSource(seed=17).discrete_laplace(scale, 50_000), var, mu4)


# --------------------------------------------------------------------------- Bernoulli primitives


@pytest.mark.parametrize("gamma", [Fraction(0), Fraction(3, 10), Fraction(1), Fraction(5, 2)])
def test_bernoulli_exp_frequency(gamma: Fraction) -> None:
    n = 10_000
    src = NoiseSource(seed=23)
    hits = sum(src.bernoulli_exp(gamma) for _ in range(n))
    p = math.exp(-gamma)
    if gamma == 0:
        assert hits == n
    else:
        assert abs(hits / n - p) <= Z * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize(
    ("num", "den"),
    [(0, 1), (3, 10), (1, 1), (5, 2), (7, 2), (3 * 2**70, 10 * 2**70), (11 * 2**70, 2**72)],
)
def test_vectorized_bernoulli_exp_frequency(num: int, den: int) -> None:
    n = 20_000 if den > 2**62 else 400_000  # Python-int path is slower
    src = NoiseSource(seed=29)
    nums = np.full(n, num, dtype=np.int64 if num < 2**62 else object)
    hits = int(src._bernoulli_exp_array(nums, den).sum())
    p = math.exp(-num / den)
    if num == 0:
        assert hits == n
    else:
        assert abs(hits / n - p) <= Z * math.sqrt(p * (1 - p) / n)


def test_bernoulli_exp_huge_gamma_is_fast_and_false() -> None:
    src = NoiseSource(seed=1)
    assert not any(src.bernoulli_exp(Fraction(10**9, 7)) for _ in range(100))


def test_bernoulli_and_uniform_int() -> None:
    src = NoiseSource(seed=31)
    n = 20_000
    assert not any(src.bernoulli(Fraction(0)) for _ in range(100))
    assert all(src.bernoulli(Fraction(1)) for _ in range(100))
    hits = sum(src.bernoulli(Fraction(1, 3)) for _ in range(n))
    assert abs(hits / n - 1 / 3) <= Z * math.sqrt(2 / 9 / n)
    counts = np.bincount([src.uniform_int(7) for _ in range(n)], minlength=7)
    assert counts.size == 7
    assert stats.chisquare(counts).pvalue > P_MIN


def test_uniform_below_beyond_int64() -> None:
    bound = 3 * 2**70
    draws = NoiseSource(seed=37)._uniform_below(bound, 5000)
    values = [int(v) for v in draws]
    assert all(0 <= v < bound for v in values)
    mean, sd = bound / 2, bound / math.sqrt(12)
    assert abs(sum(values) / len(values) - mean) <= Z * sd / math.sqrt(len(values))


def test_exact_array_ops_switch_to_python_ints() -> None:
    x = np.array([2**31, -3], dtype=np.int64)
    assert [int(v) for v in _square(x)] == [2**62, 9]
    assert [int(v) for v in _affine(x, 2**40, 5)] == [2**71 + 5, -3 * 2**40 + 5]
    assert _affine(np.array([3], dtype=np.int64), 4, 5).dtype == np.int64


# --------------------------------------------------------------------------- exponential mechanism


@pytest.mark.parametrize(
    ("scores", "epsilon", "sensitivity"),
    [([0.0, 1.0, 2.0, 3.5], 1.0, 1.0), ([-1.25, 0.1, 7.0, 7.0, 3.3], 0.5, 2.0)],
)
def test_exponential_mechanism_frequencies(
    scores: list[float], epsilon: float, sensitivity: float
) -> None:
    n = 10_000
    src = NoiseSource(seed=41)
    counts = np.bincount(
        [src.exponential_mechanism(scores, epsilon, sensitivity) for _ in range(n)],
        minlength=len(scores),
    )
    logits = epsilon * np.array(scores) / (2 * sensitivity)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    assert stats.chisquare(counts, probs * n).pvalue > P_MIN


def test_exponential_mechanism_edge_cases() -> None:
    src = NoiseSource(seed=43)
    assert src.exponential_mechanism([5.0], 1.0, 1.0) == 0
    # exp(-250000) for the loser: it is never picked.
    assert all(src.exponential_mechanism([0.0, 1e6], 1.0, 2.0) == 1 for _ in range(200))
    assert src.exponential_mechanism(np.array([1.0, 2.0]), 1.0, 1.0) in (0, 1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- effective parameters


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=2.0**-30, max_value=2.0**45, allow_nan=False, allow_infinity=False))
def test_effective_sigma_is_the_sampled_sigma_and_not_smaller(sigma: float) -> None:
    eff = effective_sigma(sigma)
    plan = _gaussian_plan(sigma)
    assert Fraction(eff) == plan.sigma  # exactly the value the sampler uses
    assert eff >= sigma
    assert Fraction(eff) - Fraction(sigma) < Fraction(sigma) / 2**12
    # The integer constants encode gamma(y) = (|y| - s^2 / t)^2 / (2 s^2) exactly.
    s2 = plan.sigma**2
    for y in (0, 1, plan.t, 3 * plan.t + 1):
        assert Fraction((y * plan.p - plan.q) ** 2, plan.r) == (y - s2 / plan.t) ** 2 / (2 * s2)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=2.0**-30, max_value=2.0**45, allow_nan=False, allow_infinity=False))
def test_effective_laplace_scale_is_the_sampled_scale_and_not_smaller(scale: float) -> None:
    eff = effective_laplace_scale(scale)
    assert Fraction(eff) == _laplace_plan(scale)
    assert eff >= scale
    assert Fraction(eff) - Fraction(scale) < Fraction(scale) / 2**30


@settings(max_examples=40, deadline=None)
@given(
    st.floats(min_value=0.05, max_value=1e6, allow_nan=False),
    st.integers(min_value=0, max_value=300),
)
def test_samplers_return_int64_arrays_of_the_requested_size(sigma: float, size: int) -> None:
    src = NoiseSource(seed=size)
    for out in (src.discrete_gaussian(sigma, size), src.discrete_laplace(sigma, size)):
        assert out.dtype == np.int64 and out.shape == (size,)


# --------------------------------------------------------------------------- validation

SRC = NoiseSource(seed=0)
BAD_CALLS: list[tuple[str, Callable[[], object]]] = [
    ("sigma zero", lambda: SRC.discrete_gaussian(0.0, 3)),
    ("sigma negative", lambda: SRC.discrete_gaussian(-1.0, 3)),
    ("sigma nan", lambda: SRC.discrete_gaussian(math.nan, 3)),
    ("sigma inf", lambda: SRC.discrete_gaussian(math.inf, 3)),
    ("sigma huge", lambda: SRC.discrete_gaussian(1e300, 3)),
    ("sigma text", lambda: SRC.discrete_gaussian("1", 3)),  # type: ignore[arg-type]
    ("size negative", lambda: SRC.discrete_gaussian(1.0, -1)),
    ("size float", lambda: SRC.discrete_gaussian(1.0, 2.0)),  # type: ignore[arg-type]
    ("scale zero", lambda: SRC.discrete_laplace(0.0, 3)),
    ("scale nan", lambda: SRC.discrete_laplace(math.nan, 3)),
    ("laplace size", lambda: SRC.discrete_laplace(1.0, -5)),
    ("no scores", lambda: SRC.exponential_mechanism([], 1.0, 1.0)),
    ("nan score", lambda: SRC.exponential_mechanism([1.0, math.nan], 1.0, 1.0)),
    ("inf score", lambda: SRC.exponential_mechanism([1.0, -math.inf], 1.0, 1.0)),
    ("epsilon zero", lambda: SRC.exponential_mechanism([1.0], 0.0, 1.0)),
    ("epsilon nan", lambda: SRC.exponential_mechanism([1.0], math.nan, 1.0)),
    ("sensitivity negative", lambda: SRC.exponential_mechanism([1.0], 1.0, -1.0)),
    ("sensitivity inf", lambda: SRC.exponential_mechanism([1.0], 1.0, math.inf)),
    ("effective sigma", lambda: effective_sigma(-2.0)),
    ("effective scale", lambda: effective_laplace_scale(math.inf)),
    ("upper zero", lambda: SRC.uniform_int(0)),
    ("p above one", lambda: SRC.bernoulli(Fraction(3, 2))),
    ("p nan", lambda: SRC.bernoulli(math.nan)),  # type: ignore[arg-type]
    ("gamma negative", lambda: SRC.bernoulli_exp(Fraction(-1, 2))),
    ("seed text", lambda: NoiseSource(seed="7")),  # type: ignore[arg-type]
    ("score text", lambda: SRC.exponential_mechanism(["1.0"], 1.0, 1.0)),  # type: ignore[list-item]
    ("gamma text", lambda: SRC.bernoulli_exp("1/2")),  # type: ignore[arg-type]
    ("sigma bool", lambda: SRC.discrete_gaussian(True, 3)),
]


@pytest.mark.parametrize("call", [c for _, c in BAD_CALLS], ids=[name for name, _ in BAD_CALLS])
def test_invalid_arguments_raise_configuration_error(call: Callable[[], object]) -> None:
    with pytest.raises(ConfigurationError) as info:
        call()
    assert info.value.hint


def test_size_zero_is_empty() -> None:
    for out in (SRC.discrete_gaussian(2.0, 0), SRC.discrete_laplace(2.0, 0)):
        assert out.dtype == np.int64 and out.shape == (0,)
