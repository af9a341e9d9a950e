"""Exact noise samplers for differential privacy.

Textbook DP noise (``numpy.random.normal``/``laplace``) transforms floating-point
uniforms, and the gaps in the resulting float distribution leak the true value
(Mironov 2012, "On significance of the least significant bits for differential
privacy"). Every sampler here is instead an exact rejection sampler over the
integers (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential
Privacy", Algorithms 1-3): randomness enters only as uniform integers, every
decision is an integer comparison or an exact rational, and no float touches a
sampled value.

The only rounding is of the *parameters*: the Gaussian sigma and the Laplace scale
are rounded UP to a dyadic rational with a few significant bits so that the exact
arithmetic fits numpy ``int64`` (fast). Rounding up only adds noise, and
:func:`effective_sigma` / :func:`effective_laplace_scale` return the value actually
used, exactly (it is a float), so the accountant charges the truth.

Samplers are vectorized: each step of the algorithms runs on a whole batch of
candidates at once with int64 arithmetic whose bounds are checked beforehand; when
a bound could be exceeded the step falls back to numpy object arrays of Python
ints, which are exact at any size (just slower).
"""

from __future__ import annotations

import hashlib
import math
import numbers
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth.errors import ConfigurationError

__all__ = ["NoiseSource", "effective_laplace_scale", "effective_sigma"]

# int64 arrays only ever hold magnitudes below this; anything larger is an object array.
_INT64_SAFE = 1 << 62
# |c| < _SQUARE_SAFE guarantees c * c < _INT64_SAFE.
_SQUARE_SAFE = 1 << 31
# Significant bits kept when rounding parameters up (relative increase < 2**-(bits-1)).
_GAUSS_BITS = 13
_LAPLACE_BITS = 31
# Accepted parameter range: beyond it samples would not fit int64 / are degenerate.
_MIN_SCALE = 2.0**-30
_MAX_SCALE = 2.0**45
# Largest number of candidates processed in one vectorized round (bounds memory).
_MAX_BATCH = 1 << 20

_IntArray = npt.NDArray[Any]
"""Exact integers: int64 when every magnitude is < 2**62, else object (Python ints)."""
_BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- validation


def _positive_float(name: str, value: float) -> float:
    """``value`` as a float, refusing non-numbers (strings, bools), NaN, inf and <= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigurationError(
            f"{name} must be a number, got {type(value).__name__}", hint=f"pass {name} as a float"
        )
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ConfigurationError(
            f"{name} must be finite and > 0, got {number!r}",
            hint=f"check the privacy parameters that determine {name}",
        )
    return number


def _check_scale(name: str, value: float) -> float:
    """A finite, positive noise parameter within the supported range."""
    number = _positive_float(name, value)
    if not _MIN_SCALE <= number <= _MAX_SCALE:
        raise ConfigurationError(
            f"{name}={number!r} is outside the supported range [{_MIN_SCALE}, {_MAX_SCALE}]",
            hint="such noise is degenerate; check epsilon, delta and the sensitivity",
        )
    return number


def _check_positive(name: str, value: float) -> Fraction:
    """A finite positive float, as the exact rational it represents."""
    return Fraction(_positive_float(name, value))


def _as_fraction(name: str, value: Fraction) -> Fraction:
    """``value`` as an exact rational (ints, Fractions and finite floats are exact)."""
    try:
        if isinstance(value, str | bool):
            raise TypeError(name)
        return Fraction(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigurationError(
            f"{name} must be a finite rational number, got {value!r}",
            hint=f"pass {name} as a fractions.Fraction",
        ) from None


def _check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 0:
        raise ConfigurationError(
            f"size must be an integer >= 0, got {size!r}", hint="pass the number of samples"
        )
    return int(size)


def _check_scores(scores: Sequence[float]) -> list[float]:
    if any(isinstance(s, bool) or not isinstance(s, numbers.Real) for s in scores):
        raise ConfigurationError(
            "candidate scores must be numbers", hint="pass a sequence of floats"
        )
    values = [float(s) for s in scores]
    if not values:
        raise ConfigurationError(
            "exponential mechanism needs at least one candidate score",
            hint="pass a non-empty list of scores",
        )
    bad = sum(not math.isfinite(v) for v in values)
    if bad:
        raise ConfigurationError(
            f"{bad} of {len(values)} candidate scores are NaN or infinite",
            hint="scores must be finite numbers",
        )
    return values


def _scaled_gaps(values: list[float], factor: Fraction) -> tuple[list[int], int]:
    """Exact gamma_i = factor * (max(values) - values[i]) as numerators over one denominator.

    Finite floats are dyadic rationals, so a common denominator is a power of two times
    factor's; unreduced fractions are fine for Bernoulli trials and avoid slow gcds.
    """
    ratios = [v.as_integer_ratio() for v in values]
    common = max(d for _, d in ratios)  # every d is a power of two, so all divide it
    nums = [n * (common // d) for n, d in ratios]
    top = max(nums)
    return [factor.numerator * (top - n) for n in nums], factor.denominator * common


# --------------------------------------------------------------------------- parameters


def _dyadic_ceil(x: float, bits: int) -> Fraction:
    """``x`` rounded UP to ``bits`` significant bits, but never coarser than an integer.

    The result m / 2**k is dyadic with few bits, so it is exactly a float (what the
    accountant sees is what the sampler uses) and keeps the sampler's integers small.
    """
    exponent = math.frexp(x)[1]  # x in [2**(exponent - 1), 2**exponent)
    shift = max(bits - exponent, 0)
    return Fraction(math.ceil(Fraction(x) * (1 << shift)), 1 << shift)


@dataclass(frozen=True)
class _GaussianPlan:
    """Integers for CKS Algorithm 3 at sigma (exact): proposal Lap_Z(t), and
    acceptance Bernoulli(exp(-gamma)) with gamma(y) = (|y| p - q)**2 / r
    = (|y| - sigma**2 / t)**2 / (2 sigma**2)."""

    sigma: Fraction
    t: int
    p: int
    q: int
    r: int


def _gaussian_plan(sigma: float) -> _GaussianPlan:
    exact = _dyadic_ceil(_check_scale("sigma", sigma), _GAUSS_BITS)
    # Any t > 0 is correct; t ~ sigma is efficient and t = sigma (integer sigma) keeps r small.
    t = math.ceil(exact)
    var = exact * exact
    a, b = var.numerator, var.denominator
    p, q, r = t * b, a, 2 * a * b * t * t
    g = math.gcd(p, q)  # g | a and g | tb, so g*g | a*tb | r
    return _GaussianPlan(exact, t, p // g, q // g, r // (g * g))


def _laplace_plan(scale: float) -> Fraction:
    """The scale t/s actually used (CKS Algorithm 2 takes integers t, s)."""
    return _dyadic_ceil(_check_scale("scale", scale), _LAPLACE_BITS)


def effective_sigma(sigma: float) -> float:
    """The sigma that :meth:`NoiseSource.discrete_gaussian` really uses for ``sigma``.

    It is ``sigma`` rounded up to 13 significant bits (relative increase < 2.5e-4),
    returned exactly, so privacy accounting with it is exact, not approximate.
    """
    return float(_gaussian_plan(sigma).sigma)


def effective_laplace_scale(scale: float) -> float:
    """The scale that :meth:`NoiseSource.discrete_laplace` really uses, exactly (>= scale)."""
    return float(_laplace_plan(scale))


# --------------------------------------------------------------------------- exact array ops


def _absmax(x: _IntArray) -> int:
    return int(np.max(np.abs(x))) if x.size else 0


def _compact(x: _IntArray) -> _IntArray:
    """Back to int64 when an object array's values all fit (speed)."""
    if x.dtype == object and _absmax(x) < _INT64_SAFE:
        return x.astype(np.int64)
    return x


def _affine(x: _IntArray, mul: int, add: _IntArray | int) -> _IntArray:
    """x * mul + add, exactly: int64 when the result provably fits, else Python ints."""
    add_max = _absmax(add) if isinstance(add, np.ndarray) else abs(add)
    if x.dtype != object and _absmax(x) * abs(mul) + add_max < _INT64_SAFE:
        return x * mul + add
    extra = add.astype(object) if isinstance(add, np.ndarray) else add
    return x.astype(object) * mul + extra


def _square(x: _IntArray) -> _IntArray:
    """x * x, exactly."""
    if x.dtype != object and _absmax(x) < _SQUARE_SAFE:
        return x * x
    big: _IntArray = x.astype(object)
    product: _IntArray = big * big
    return product


# --------------------------------------------------------------------------- the source


class NoiseSource:
    """Randomness for DP mechanisms; exact samplers (immune to floating-point attacks).

    ``seed=None`` (production) draws from the operating system's CSPRNG
    (:class:`secrets.SystemRandom`, i.e. ``os.urandom``); an integer seed gives a
    reproducible Mersenne Twister stream, which is predictable and so is for tests only.
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise ConfigurationError(
                f"seed must be an integer or None, got {type(seed).__name__}",
                hint="omit the seed outside tests",
            )
        self._seeded = seed is not None
        self._seed = None if seed is None else int(seed)
        self._rng: random.Random = (
            secrets.SystemRandom() if seed is None else random.Random(int(seed))
        )

    @property
    def seeded(self) -> bool:
        """True when reproducible (and therefore not secure)."""
        return self._seeded

    def derive(self, label: str) -> NoiseSource:
        """An independent source for one purpose.

        Seeded, its stream depends only on the seed and ``label``: the noise of one
        measurement never depends on how many draws other measurements made (e.g. a
        category release earlier in the run that drew one value per category found),
        so seeded runs on two neighbouring datasets share the noise of every
        measurement whose size does not depend on the data, which is what the
        neighbouring-dataset tests compare.
        Unseeded, it is the same OS CSPRNG."""
        if self._seed is None:
            return self
        digest = hashlib.sha256(f"{self._seed}\x1f{label}".encode()).digest()
        return NoiseSource(int.from_bytes(digest[:16], "big"))

    # ------------------------------------------------------------------ scalar primitives

    def uniform_int(self, upper: int) -> int:
        """Uniform on {0, ..., upper - 1}, without modulo bias."""
        if isinstance(upper, bool) or not isinstance(upper, int | np.integer) or upper < 1:
            raise ConfigurationError(
                f"upper must be an integer >= 1, got {upper!r}", hint="pass a positive range size"
            )
        return self._rng.randrange(int(upper))

    def bernoulli(self, p: Fraction) -> bool:
        """Exact Bernoulli(p) for rational p: a uniform integer below the denominator."""
        prob = _as_fraction("p", p)
        if not 0 <= prob <= 1:
            raise ConfigurationError(f"p must be in [0, 1], got {prob}", hint="pass a probability")
        return self._rng.randrange(prob.denominator) < prob.numerator

    def bernoulli_exp(self, gamma: Fraction) -> bool:
        """Exact Bernoulli(exp(-gamma)) for rational gamma >= 0 (CKS Algorithm 1).

        exp(-gamma) = exp(-1)**floor(gamma) * exp(-frac(gamma)): one trial per factor.
        """
        exact = _as_fraction("gamma", gamma)
        if exact < 0:
            raise ConfigurationError(f"gamma must be >= 0, got {exact}", hint="pass gamma >= 0")
        return self._bernoulli_exp_int(exact.numerator, exact.denominator)

    def _bernoulli_exp_int(self, num: int, den: int) -> bool:
        """Bernoulli(exp(-num/den)) on plain ints (no Fraction arithmetic: fast)."""
        whole, rest = divmod(num, den)
        for _ in range(whole):  # stops at the first failure, so huge gammas are cheap
            if not self._bernoulli_exp_unit(1, 1):
                return False
        return self._bernoulli_exp_unit(rest, den)

    def _bernoulli_exp_unit(self, num: int, den: int) -> bool:
        """Bernoulli(exp(-gamma)), gamma = num/den in [0, 1]: K is the first failure of
        Bernoulli(gamma/K), and P(K odd) = sum_j (-gamma)**j / j! = exp(-gamma)."""
        k = 1
        while self._rng.randrange(den * k) < num:  # Bernoulli(num / (den k))
            k += 1
        return k % 2 == 1

    # ------------------------------------------------------------------ vectorized primitives

    def _words(self, count: int) -> npt.NDArray[np.int64]:
        """``count`` uniform 64-bit words from the source (CSPRNG or seeded stream)."""
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        raw = self._rng.getrandbits(64 * count).to_bytes(8 * count, "little")
        return np.frombuffer(raw, dtype="<i8").astype(np.int64)

    def _uniform_below(self, bound: int, count: int) -> _IntArray:
        """``count`` i.i.d. uniform integers in [0, bound): mask to the bit length, reject."""
        if bound == 1:
            return np.zeros(count, dtype=np.int64)
        if bound > _INT64_SAFE:
            return np.array([self._rng.randrange(bound) for _ in range(count)], dtype=object)
        mask = (1 << (bound - 1).bit_length()) - 1
        out = np.empty(count, dtype=np.int64)
        todo = np.arange(count)
        while todo.size:  # each round accepts with probability > 1/2
            draw = self._words(todo.size) & mask
            ok = draw < bound
            out[todo[ok]] = draw[ok]
            todo = todo[~ok]
        return out

    def _bernoulli_exp_unit_array(self, num: _IntArray, den: int) -> _BoolArray:
        """Elementwise exact Bernoulli(exp(-num/den)), num/den in [0, 1] (CKS Alg. 1).

        All still-running elements share the same K, so each round is one batch.
        """
        out = np.empty(num.size, dtype=np.bool_)
        todo = np.arange(num.size)
        k = 1
        while todo.size:
            cont = self._uniform_below(den * k, todo.size) < num[todo]  # Bernoulli(gamma / k)
            out[todo[~cont]] = k % 2 == 1
            todo = todo[cont]
            k += 1
        return out

    def _bernoulli_exp1_chain(self, trials: _IntArray) -> _BoolArray:
        """Elementwise: do ``trials[i]`` independent Bernoulli(exp(-1)) all succeed?"""
        alive = np.ones(trials.size, dtype=np.bool_)
        todo = np.flatnonzero(trials > 0)
        left = trials[todo]
        while todo.size:
            ok = self._bernoulli_exp_unit_array(np.ones(todo.size, dtype=np.int64), 1)
            alive[todo[~ok]] = False
            todo, left = todo[ok], left[ok] - 1
            more = left > 0
            todo, left = todo[more], left[more]
        return alive

    def _bernoulli_exp_array(self, num: _IntArray, den: int) -> _BoolArray:
        """Elementwise exact Bernoulli(exp(-num/den)) for num >= 0 (CKS Alg. 1, any gamma)."""
        whole, frac = num // den, num % den
        alive = self._bernoulli_exp1_chain(whole)
        todo = np.flatnonzero(alive)
        alive[todo] = self._bernoulli_exp_unit_array(_compact(frac[todo]), den)
        return alive

    def _geometric_exp1(self, count: int) -> npt.NDArray[np.int64]:
        """Number of Bernoulli(exp(-1)) successes before the first failure."""
        out = np.zeros(count, dtype=np.int64)
        todo = np.arange(count)
        while todo.size:
            ok = self._bernoulli_exp_unit_array(np.ones(todo.size, dtype=np.int64), 1)
            todo = todo[ok]
            out[todo] += 1
        return out

    # ------------------------------------------------------------------ candidate batches

    def _laplace_candidates(self, t: int, s: int, count: int) -> _IntArray:
        """CKS Algorithm 2 on ``count`` candidates; returns the accepted Lap_Z(t/s) samples.

        X = U + t V with U uniform below t kept w.p. exp(-U/t) and V geometric has
        P(X = x) proportional to exp(-x/t); Y = floor(X/s) then has ratio exp(-s/t).
        """
        u = self._uniform_below(t, count)
        u = u[self._bernoulli_exp_unit_array(u, t)]
        x = _affine(self._geometric_exp1(u.size), t, u)
        y = x // s
        negative = self._uniform_below(2, y.size) == 1
        keep = ~(negative & (y == 0))  # otherwise 0 would be counted twice
        return _compact(np.where(negative, -y, y)[keep])

    def _gaussian_candidates(self, plan: _GaussianPlan, count: int) -> _IntArray:
        """CKS Algorithm 3: Lap_Z(t) proposals accepted w.p. exp(-(|y|-s^2/t)^2/(2 s^2))."""
        y = self._laplace_candidates(plan.t, 1, count)
        c = _affine(np.abs(y), plan.p, -plan.q)
        return y[self._bernoulli_exp_array(_square(c), plan.r)]

    def _collect(self, size: int, draw: Callable[[int], _IntArray]) -> npt.NDArray[np.int64]:
        """``size`` accepted samples from a batch rejection sampler.

        Candidates are independent, so the accepted ones are i.i.d. from the target and
        keeping the first ``size`` of them (a choice that ignores their values) is unbiased.
        """
        out = np.empty(size, dtype=np.int64)
        filled, tried, accepted = 0, 0, 0
        while filled < size:
            need = size - filled
            rate = max(accepted / tried, 0.05) if tried else 0.4  # acceptance, for batch sizing
            count = min(_MAX_BATCH, int(need / rate * 1.1) + 16)
            batch = draw(count)
            tried, accepted = tried + count, accepted + batch.size
            take = batch[:need]
            out[filled : filled + take.size] = take  # OverflowError if beyond int64 (never)
            filled += take.size
        return out

    # ------------------------------------------------------------------ public samplers

    def discrete_gaussian(self, sigma: float, size: int) -> npt.NDArray[np.int64]:
        """i.i.d. samples of N_Z(0, s^2), P(x) ~ exp(-x^2 / (2 s^2)), s = effective_sigma(sigma).

        The discrete Gaussian gives the same zCDP guarantee as the continuous one
        (rho = Delta^2 / (2 s^2)) while being exactly samplable on the integers.
        """
        plan = _gaussian_plan(sigma)
        return self._collect(_check_size(size), lambda n: self._gaussian_candidates(plan, n))

    def discrete_laplace(self, scale: float, size: int) -> npt.NDArray[np.int64]:
        """i.i.d. samples with P(x) ~ exp(-|x| / t), t = effective_laplace_scale(scale).

        With t = Delta / epsilon this is epsilon-DP for integer-valued queries.
        """
        exact = _laplace_plan(scale)
        t, s = exact.numerator, exact.denominator
        return self._collect(_check_size(size), lambda n: self._laplace_candidates(t, s, n))

    def exponential_mechanism(
        self, scores: Sequence[float], epsilon: float, sensitivity: float
    ) -> int:
        """Index i with probability proportional to exp(epsilon * scores[i] / (2 sensitivity)).

        Exact: propose i uniformly and accept w.p. exp(-gamma_i) with the rational
        gamma_i = epsilon (max - scores[i]) / (2 sensitivity) >= 0; accepted proposals
        have exactly the mechanism's distribution (no float softmax, no float attack).
        Expected proposals: len(scores) / sum_i exp(-gamma_i) <= len(scores).
        """
        values = _check_scores(scores)
        factor = _check_positive("epsilon", epsilon) / (
            2 * _check_positive("sensitivity", sensitivity)
        )
        nums, den = _scaled_gaps(values, factor)
        while True:
            index = self._rng.randrange(len(nums))
            if self._bernoulli_exp_int(nums[index], den):
                return index

    def numpy_generator(self) -> np.random.Generator:
        """A numpy Generator for post-processing randomness (e.g. sampling synthetic rows).

        Seeded from this source (reproducible when seeded, from the OS CSPRNG otherwise).
        Not for DP noise: its float samplers are exactly what Mironov's attack exploits.
        """
        return np.random.Generator(np.random.PCG64(self._rng.getrandbits(128)))
