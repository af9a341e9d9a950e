"""Tests of privsynth.dp.accounting.rdp against Opacus, high-precision quadrature and theory."""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import math
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special

from privsynth.dp.accounting import rdp
from privsynth.dp.accounting.rdp import ORDERS
from privsynth.errors import ConfigurationError

SIGMAS = [0.5, 0.8, 1.0, 2.0, 5.0]
RATES = [0.001, 0.01, 0.1, 0.5, 1.0]
STEPS = [1, 100, 1000]
# Opacus's pure-Python loops take ~0.1 s per order near 1 at q = 0.5, so compare on a subset
# that still covers every regime: orders near 1, all of [2, 64] (fractional and integer) and
# the large integer orders.
NEAR_ONE = [1.01, 1.25, 1.5]
REFERENCE_MASK = (
    np.isin(ORDERS, NEAR_ONE)
    | ((ORDERS >= 2) & (ORDERS <= 64))
    | np.isin(ORDERS, [128, 256, 512, 1024])
)


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(math.log10(low), math.log10(high)).map(lambda x: 10.0**x)


@functools.cache
def opacus_rdp_analysis() -> ModuleType:
    """Opacus 1.6's opacus/accountants/analysis/rdp.py, loaded on its own.

    That file needs only numpy and scipy; importing it through the package would import
    torch and cost ~8 s, so it is loaded by path (skipped when Opacus is not installed).
    """
    spec = importlib.util.find_spec("opacus")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("opacus is not installed")
    assert importlib.metadata.version("opacus") == "1.6.0"
    path = Path(spec.submodule_search_locations[0]) / "accountants" / "analysis" / "rdp.py"
    module_spec = importlib.util.spec_from_file_location("_opacus_rdp_analysis", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


# opacus.accountants.RDPAccountant.DEFAULT_ALPHAS in Opacus 1.6
OPACUS_DEFAULT_ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


@functools.cache
def opacus_per_step(sigma: float, q: float) -> np.ndarray:
    """Opacus's RDP of one step of the sampled Gaussian on the reference orders."""
    orders = [float(a) for a in ORDERS[REFERENCE_MASK]]
    rdp_one = opacus_rdp_analysis().compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=orders)
    return np.asarray(rdp_one, dtype=np.float64)


def opacus_privacy_spent(curve: np.ndarray, delta: float) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "optimal order is the smallest/largest alpha"
        eps, order = opacus_rdp_analysis().get_privacy_spent(orders=ORDERS, rdp=curve, delta=delta)
    return float(eps), float(order)


def exact_sgm_rdp(alpha: float, sigma: float, q: float) -> float:
    """Sampled-Gaussian RDP in 20-50 digit arithmetic, independent of the module's series.

    Integer orders: the plain binomial sum for A; fractional orders: quadrature of
    E_mu0[(mu/mu0)^a] - 1 written with expm1/log1p so that A - 1 keeps its digits.
    """
    mp = pytest.importorskip("mpmath")
    if alpha == int(alpha):
        with mp.workdps(50):
            n, s, qq = int(alpha), mp.mpf(sigma), mp.mpf(q)
            terms = (
                mp.binomial(n, k) * (1 - qq) ** (n - k) * qq**k * mp.exp((k * k - k) / (2 * s * s))
                for k in range(n + 1)
            )
            return float(mp.log(mp.fsum(terms)) / (n - 1))
    with mp.workdps(20):
        a, s, qq = mp.mpf(alpha), mp.mpf(sigma), mp.mpf(q)

        def integrand(z: Any) -> Any:
            ratio_minus_1 = qq * mp.expm1((2 * z - 1) / (2 * s * s))
            return mp.npdf(z, 0, s) * mp.expm1(a * mp.log1p(ratio_minus_1))

        points = [-mp.inf, -20 * s, 0, mp.mpf(0.5), a / 2, a, a + 20 * s, mp.inf]
        return float(mp.log1p(mp.quad(integrand, sorted(set(points)))) / (a - 1))


def analytic_gaussian_epsilon(sigma: float, delta: float) -> float:
    """Exact epsilon of one Gaussian mechanism, sensitivity 1 (Balle & Wang 2018)."""

    def excess(eps: float) -> float:
        a, b = 0.5 / sigma - eps * sigma, -0.5 / sigma - eps * sigma
        return float(special.ndtr(a) - math.exp(eps) * special.ndtr(b) - delta)

    return float(optimize.brentq(excess, 0.0, 200.0, xtol=1e-14))


def cks20_zcdp_epsilon(rho: float, delta: float) -> float:
    """CKS20 Cor. 13 in its delta form, inverted numerically (independent of the module)."""

    def log_delta(eps: float) -> float:
        def objective(t: float) -> float:  # t = log(alpha - 1)
            a = 1.0 + math.exp(t)
            return (a - 1) * (a * rho - eps) - math.log(a - 1) + a * math.log1p(-1 / a)

        res = optimize.minimize_scalar(objective, bounds=(-12, 25), method="bounded")
        res = optimize.minimize_scalar(
            objective, bounds=(res.x - 0.5, res.x + 0.5), method="bounded", options={"xatol": 1e-12}
        )
        return float(res.fun)

    return float(optimize.brentq(lambda e: log_delta(e) - math.log(delta), 0.0, 500.0))


# --------------------------------------------------------------------------- the grid


def test_orders_grid() -> None:
    assert ORDERS.ndim == 1 and 300 <= ORDERS.size < 600
    assert np.all(np.diff(ORDERS) > 0) and ORDERS[0] > 1.0
    assert set(range(2, 65)) <= set(ORDERS.tolist())
    assert {128.0, 256.0, 512.0, 1024.0} <= set(ORDERS.tolist())
    assert np.allclose(ORDERS[:99], np.arange(101, 200) / 100)
    assert ORDERS[-1] >= 8192  # the optimal order at eps=0.01, delta=1e-12 is ~3800
    assert not ORDERS.flags.writeable


# --------------------------------------------------------------------------- sampled Gaussian


@pytest.mark.parametrize("sigma", SIGMAS)
@pytest.mark.parametrize("q", RATES)
def test_subsampled_gaussian_matches_opacus(sigma: float, q: float) -> None:
    reference = opacus_per_step(sigma, q)
    orders = ORDERS[REFERENCE_MASK]
    for steps in STEPS:
        ours = rdp.subsampled_gaussian_rdp(sigma, q, steps)
        # 1e-6 relative, plus Opacus's own rounding floor: its alternating-series log(A)
        # near A = 1 carries up to ~1e-13 absolute error, which is 4.4e-6 relative at
        # a = 1.01, sigma = 5, q = 0.001 (where ours matches 20-digit quadrature to 2e-9,
        # see test_subsampled_gaussian_matches_quadrature); nowhere else does it matter.
        floor = steps * 1e-13 / (orders - 1.0)
        error = np.abs(ours[REFERENCE_MASK] - steps * reference)
        bad = error > 1e-6 * np.abs(steps * reference) + floor
        assert not bad.any(), f"orders {orders[bad]}: ours {ours[REFERENCE_MASK][bad]}"
        for delta in (1e-5, 1e-9):
            eps, order = rdp.rdp_to_epsilon(ours, delta)
            ref_eps, ref_order = opacus_privacy_spent(ours, delta)
            assert eps == pytest.approx(max(ref_eps, 0.0), rel=1e-9, abs=1e-12)
            assert order == ref_order


@pytest.mark.parametrize(
    ("alpha", "sigma", "q"),
    [
        (1.01, 5.0, 0.001),  # where Opacus is off by 4e-6 relative
        (1.01, 0.8, 0.001),
        (1.01, 100.0, 0.5),  # slowly converging alternating tail
        (1.5, 100.0, 0.5),
        (2.5, 1.0, 0.1),
        (7.5, 1.0, 0.999),
        (63.5, 0.3, 1e-5),  # huge terms, e^(k^2 / 0.18)
        (2.0, 100.0, 1e-5),  # A - 1 ~ 1e-14
        (64.0, 2.0, 0.01),
        (1024.0, 1.0, 0.1),
    ],
)
def test_subsampled_gaussian_matches_quadrature(alpha: float, sigma: float, q: float) -> None:
    (index,) = np.flatnonzero(alpha == ORDERS)
    ours = rdp.subsampled_gaussian_rdp(sigma, q, 1)[index]
    assert ours == pytest.approx(exact_sgm_rdp(alpha, sigma, q), rel=1e-8)


def test_subsampled_gaussian_edge_cases() -> None:
    assert np.array_equal(rdp.subsampled_gaussian_rdp(1.3, 1.0, 7), rdp.gaussian_rdp(1.3) * 7)
    assert np.array_equal(rdp.subsampled_gaussian_rdp(1.3, 0.0, 7), np.zeros_like(ORDERS))
    assert np.array_equal(rdp.subsampled_gaussian_rdp(1.3, 0.2, 0), np.zeros_like(ORDERS))
    one = rdp.subsampled_gaussian_rdp(0.9, 0.05, 1)
    np.testing.assert_allclose(rdp.subsampled_gaussian_rdp(0.9, 0.05, 250), 250 * one, rtol=1e-15)


@settings(max_examples=20, deadline=None)
@given(sigma=log_uniform(0.3, 100.0), q=log_uniform(1e-5, 1.0), steps=st.integers(1, 10**5))
def test_subsampled_gaussian_is_finite_and_below_full_batch(
    sigma: float, q: float, steps: int
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warnings anywhere
        curve = rdp.subsampled_gaussian_rdp(sigma, q, steps)
    full = rdp.gaussian_rdp(sigma) * steps
    assert np.all(np.isfinite(curve)) and np.all(curve >= 0)
    assert np.all(curve <= full * (1 + 1e-12))  # subsampling never hurts privacy
    resolvable = curve > steps * 1e-9  # far below this the values are float noise
    assert np.all(np.diff(curve[resolvable]) >= -1e-9 * curve[resolvable][1:])  # monotone in a


@settings(max_examples=10, deadline=None)
@given(sigma=log_uniform(0.3, 20.0), q=log_uniform(1e-4, 0.5), factor=st.floats(1.1, 3.0))
def test_subsampled_gaussian_monotone_in_parameters(sigma: float, q: float, factor: float) -> None:
    base = rdp.subsampled_gaussian_rdp(sigma, q, 10)
    resolvable = base > 1e-8
    more_noise = rdp.subsampled_gaussian_rdp(sigma * factor, q, 10)
    larger_rate = rdp.subsampled_gaussian_rdp(sigma, min(1.0, q * factor), 10)
    assert np.all(more_noise[resolvable] <= base[resolvable] * (1 + 1e-9))
    assert np.all(larger_rate[resolvable] >= base[resolvable] * (1 - 1e-9))


def test_dp_sgd_mnist_reference_point() -> None:
    """Abadi et al. 2016 / TF-Privacy / Opacus MNIST: sigma 1.1, batch 256 of 60k, 60 epochs."""
    q = 256 / 60000
    steps = round(60 / q)
    curve = rdp.subsampled_gaussian_rdp(1.1, q, steps)
    eps, order = rdp.rdp_to_epsilon(curve, 1e-5)
    # The classic conversion min_a rdp + log(1/delta)/(a-1) gives the published eps ~= 3.0.
    classic = float(np.min(curve + math.log(1e5) / (ORDERS - 1)))
    assert 2.95 <= classic <= 3.05
    # The tight conversion (Balle et al. 2020), as Opacus 1.6 reports it with its own orders.
    analysis = opacus_rdp_analysis()
    alphas = OPACUS_DEFAULT_ALPHAS
    ref_curve = analysis.compute_rdp(q=q, noise_multiplier=1.1, steps=steps, orders=alphas)
    ref_eps, _ = analysis.get_privacy_spent(orders=alphas, rdp=ref_curve, delta=1e-5)
    assert 2.5 <= eps <= 2.7 and 4 <= order <= 16
    assert eps == pytest.approx(ref_eps, rel=1e-3)


# --------------------------------------------------------------------------- conversions


def test_zcdp_known_values() -> None:
    rho, delta = 0.5, 1e-5
    eps = rdp.zcdp_to_epsilon(rho, delta)
    assert eps <= rho + 2 * math.sqrt(rho * math.log(1 / delta))  # Bun & Steinke 2016 Prop. 1.3
    assert eps == pytest.approx(cks20_zcdp_epsilon(rho, delta), rel=1e-7)
    assert eps == pytest.approx(4.7284, abs=1e-4)
    # sigma = 1 gives rho = 1/2; the analytic Gaussian mechanism is the exact optimum.
    exact = analytic_gaussian_epsilon(1.0, delta)
    assert exact == pytest.approx(4.3772, abs=1e-4)
    assert exact <= eps <= 1.2 * exact
    grid_eps, _ = rdp.rdp_to_epsilon(rdp.gaussian_rdp(1.0), delta)
    assert eps <= grid_eps <= eps * 1.005
    assert rdp.zcdp_to_epsilon(0.0, delta) == 0.0


@settings(max_examples=40, deadline=None)
@given(rho=log_uniform(1e-4, 20.0), delta=log_uniform(1e-12, 1e-3))
def test_zcdp_conversion_matches_cks20(rho: float, delta: float) -> None:
    assert rdp.zcdp_to_epsilon(rho, delta) == pytest.approx(
        cks20_zcdp_epsilon(rho, delta), rel=1e-6, abs=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(sigma=log_uniform(0.5, 20.0), delta=log_uniform(1e-10, 1e-3))
def test_rdp_conversion_upper_bounds_analytic_gaussian(sigma: float, delta: float) -> None:
    exact = analytic_gaussian_epsilon(sigma, delta)
    eps, _ = rdp.rdp_to_epsilon(rdp.gaussian_rdp(sigma), delta)
    assert exact <= eps <= 1.5 * exact + 1e-3


@settings(max_examples=100, deadline=None)
@given(rho=log_uniform(1e-7, 40.0), delta=log_uniform(1e-12, 1e-3))
def test_grid_conversion_close_to_continuous(rho: float, delta: float) -> None:
    exact = rdp.zcdp_to_epsilon(rho, delta)
    assume(0.01 <= exact <= 50)
    grid, _ = rdp.rdp_to_epsilon(rdp.zcdp_rdp(rho), delta)
    assert exact * (1 - 1e-12) <= grid <= exact * 1.005


def test_grid_conversion_worst_case_over_range() -> None:
    worst = 0.0
    for delta in np.geomspace(1e-12, 1e-3, 10):
        for eps in np.geomspace(0.01, 50, 60):
            rho = rdp.rho_for_epsilon(eps, delta)
            worst = max(worst, eps / rdp.zcdp_to_epsilon(rho, delta) - 1)
    assert 0 <= worst < 0.005


@settings(max_examples=100, deadline=None)
@given(epsilon=log_uniform(0.01, 50.0), delta=log_uniform(1e-12, 1e-3))
def test_rho_for_epsilon_is_the_inverse(epsilon: float, delta: float) -> None:
    rho = rdp.rho_for_epsilon(epsilon, delta)
    achieved, _ = rdp.rdp_to_epsilon(rdp.zcdp_rdp(rho), delta)
    assert achieved <= epsilon
    assert achieved >= epsilon * (1 - 1e-6)
    above, _ = rdp.rdp_to_epsilon(rdp.zcdp_rdp(rho * (1 + 1e-9)), delta)
    assert above > epsilon  # largest such rho


def test_rho_for_epsilon_refuses_unreachable_epsilon() -> None:
    with pytest.raises(ConfigurationError):
        rdp.rho_for_epsilon(1e-6, 1e-12)


@settings(max_examples=100, deadline=None)
@given(
    rho=log_uniform(1e-5, 10.0),
    seed=st.integers(0, 2**32 - 1),
    scale=log_uniform(1e-6, 1.0),
    delta=log_uniform(1e-12, 0.5),
)
def test_rdp_to_epsilon_monotone_in_rdp(rho: float, seed: int, scale: float, delta: float) -> None:
    curve = rdp.zcdp_rdp(rho)
    bump = np.random.default_rng(seed).exponential(scale, ORDERS.size)
    low, _ = rdp.rdp_to_epsilon(curve, delta)
    high, _ = rdp.rdp_to_epsilon(curve + bump, delta)
    assert high >= low


@settings(max_examples=100, deadline=None)
@given(
    sigma=log_uniform(0.3, 50.0),
    d1=log_uniform(1e-14, 0.9),
    d2=log_uniform(1e-14, 0.9),
)
def test_rdp_to_epsilon_decreasing_in_delta(sigma: float, d1: float, d2: float) -> None:
    curve = rdp.gaussian_rdp(sigma)
    small, large = min(d1, d2), max(d1, d2)
    assert rdp.rdp_to_epsilon(curve, small)[0] >= rdp.rdp_to_epsilon(curve, large)[0]


def test_rdp_to_epsilon_special_curves() -> None:
    curve = rdp.gaussian_rdp(2.0)
    curve[:10] = np.inf  # infinite entries are skipped
    eps, order = rdp.rdp_to_epsilon(curve, 1e-6)
    assert math.isfinite(eps) and order > ORDERS[9]
    eps, order = rdp.rdp_to_epsilon(np.full(ORDERS.shape, np.inf), 1e-6)
    assert eps == math.inf and math.isnan(order)
    assert rdp.rdp_to_epsilon(np.zeros(ORDERS.shape), 1e-3)[0] == 0.0


# --------------------------------------------------------------------------- pure DP mechanisms


def randomized_response_rdp(epsilon: float, alpha: float) -> float:
    """Renyi divergence between the two output laws of randomized response, computed directly."""
    p = math.exp(epsilon) / (1 + math.exp(epsilon))
    return math.log(p**alpha * (1 - p) ** (1 - alpha) + (1 - p) ** alpha * p ** (1 - alpha)) / (
        alpha - 1
    )


def laplace_rdp_by_quadrature(epsilon: float, alpha: float) -> float:
    """D_a(Lap(eps) || Lap(0)) with unit scale, by numerical integration (Mironov 2017 Table II)."""

    def density_ratio_power(x: float) -> float:
        return 0.5 * math.exp(-alpha * abs(x - epsilon) - (1 - alpha) * abs(x))

    parts = [(-np.inf, 0.0), (0.0, epsilon), (epsilon, np.inf)]
    total = sum(
        integrate.quad(density_ratio_power, a, b, epsabs=0, epsrel=1e-12)[0] for a, b in parts
    )
    return math.log(total) / (alpha - 1)


@pytest.mark.parametrize("epsilon", [0.01, 0.3, 1.0, 4.0])
def test_pure_dp_rdp_is_randomized_response(epsilon: float) -> None:
    curve = rdp.pure_dp_rdp(epsilon)
    for alpha in (1.01, 1.5, 2.0, 7.5, 32.0, 64.0):
        (index,) = np.flatnonzero(alpha == ORDERS)
        assert curve[index] == pytest.approx(randomized_response_rdp(epsilon, alpha), rel=1e-9)


@pytest.mark.parametrize("epsilon", [0.05, 0.5, 2.0])
def test_laplace_rdp_matches_quadrature(epsilon: float) -> None:
    curve = rdp.laplace_rdp(scale=2.0, sensitivity=2.0 * epsilon)
    for alpha in (1.01, 1.5, 2.0, 7.5, 32.0):
        (index,) = np.flatnonzero(alpha == ORDERS)
        assert curve[index] == pytest.approx(laplace_rdp_by_quadrature(epsilon, alpha), rel=1e-8)


@settings(max_examples=200, deadline=None)
@given(scale=log_uniform(0.01, 100.0), sensitivity=log_uniform(0.01, 100.0))
def test_pure_dp_bound_dominates_laplace(scale: float, sensitivity: float) -> None:
    epsilon = sensitivity / scale
    assume(1e-4 <= epsilon <= 200)
    laplace = rdp.laplace_rdp(scale, sensitivity)
    bound = rdp.pure_dp_rdp(epsilon)
    assert np.all(np.isfinite(laplace)) and np.all(laplace >= 0)
    assert np.all(bound >= laplace * (1 - 1e-12))
    assert np.all(bound <= np.minimum(epsilon, ORDERS * epsilon**2 / 2) * (1 + 1e-12))
    assert np.all(np.diff(laplace) >= -1e-12 * laplace[1:])


@settings(max_examples=200, deadline=None)
@given(epsilon=log_uniform(1e-4, 200.0))
def test_exponential_mechanism_below_pure_dp(epsilon: float) -> None:
    curve = rdp.exponential_mechanism_rdp(epsilon)
    assert np.all(curve <= rdp.pure_dp_rdp(epsilon))
    assert np.all(curve <= ORDERS * epsilon**2 / 8 * (1 + 1e-12))
    assert np.all(np.isfinite(curve)) and np.all(curve > 0)


def test_closed_form_curves() -> None:
    np.testing.assert_allclose(rdp.gaussian_rdp(2.0, sensitivity=3.0), ORDERS * 9 / 8)
    np.testing.assert_allclose(rdp.zcdp_rdp(0.25), ORDERS * 0.25)
    # a zCDP curve and a Gaussian curve with the same rho convert identically
    assert rdp.rdp_to_epsilon(rdp.zcdp_rdp(0.5), 1e-6) == rdp.rdp_to_epsilon(
        rdp.gaussian_rdp(1.0), 1e-6
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call",
    [
        lambda: rdp.gaussian_rdp(0.0),
        lambda: rdp.gaussian_rdp(float("nan")),
        lambda: rdp.gaussian_rdp(1.0, sensitivity=-1.0),
        lambda: rdp.zcdp_rdp(-0.1),
        lambda: rdp.zcdp_rdp(float("inf")),
        lambda: rdp.pure_dp_rdp(0.0),
        lambda: rdp.pure_dp_rdp(float("inf")),
        lambda: rdp.laplace_rdp(0.0),
        lambda: rdp.exponential_mechanism_rdp(-1.0),
        lambda: rdp.subsampled_gaussian_rdp(-1.0, 0.1, 10),
        lambda: rdp.subsampled_gaussian_rdp(1.0, 1.5, 10),
        lambda: rdp.subsampled_gaussian_rdp(1.0, float("nan"), 10),
        lambda: rdp.subsampled_gaussian_rdp(1.0, 0.1, -1),
        lambda: rdp.subsampled_gaussian_rdp(1.0, 0.1, 2.5),  # type: ignore[arg-type]
        lambda: rdp.subsampled_gaussian_rdp(1.0, 0.1, True),
        lambda: rdp.zcdp_to_epsilon(0.5, 0.0),
        lambda: rdp.zcdp_to_epsilon(0.5, 1.0),
        lambda: rdp.zcdp_to_epsilon(-0.5, 1e-5),
        lambda: rdp.rho_for_epsilon(0.0, 1e-5),
        lambda: rdp.rho_for_epsilon(float("inf"), 1e-5),
        lambda: rdp.rho_for_epsilon(1.0, float("nan")),
        lambda: rdp.rdp_to_epsilon(rdp.zcdp_rdp(1.0), 1.5),
        lambda: rdp.rdp_to_epsilon(np.ones(10), 1e-5),
        lambda: rdp.rdp_to_epsilon(np.full(ORDERS.shape, np.nan), 1e-5),
        lambda: rdp.rdp_to_epsilon(-rdp.zcdp_rdp(1.0), 1e-5),
        lambda: rdp.gaussian_rdp("1.0"),  # type: ignore[arg-type]
    ],
)
def test_invalid_inputs_raise_configuration_error(call: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        call()
    assert info.value.hint
