"""Matching success counts on tables of different sizes (singling out).

A predicate isolates one record more easily in a small table than in a large one, so
training and holdout successes are only comparable at equal sizes: either count on
random subsets of the larger table cut to the smaller's size, or (anonymeter's way)
fit how successes grow with size on holdout subsets and extrapolate to the training
size. Both work on the predicates' match bitsets.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from privsynth.evaluation.wp29.index import WordArray, pack, popcount
from privsynth.evaluation.wp29.predicates import FloatArray

#: subsample sizes and repeats for the control-size correction (anonymeter's values)
_CORRECTION_SIZES, _CORRECTION_REPEATS, _CORRECTION_MIN_ROWS = 10, 5, 1000
#: random subsets averaged when the larger table is subsampled to the smaller's size
_SUBSAMPLE_REPEATS = 10


def singling_out_integral(n: FloatArray, w_max: FloatArray | float) -> FloatArray:
    """Integral over weights in [0, w_max] of P(w, n) = n w (1 - w)^(n - 1), the chance
    that a predicate of weight w isolates one of n records (Cohen and Nissim 2020):
    ``(1 - (n w + 1)(1 - w)^n) / (n + 1)``, written to stay accurate for small n w."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_keep = n * np.log1p(-np.minimum(w_max, 1.0))
        value = (-np.expm1(log_keep) - n * w_max * np.exp(log_keep)) / (n + 1.0)
    result: FloatArray = np.where(w_max >= 1.0, 1.0 / (n + 1.0), value)
    return result


def fit_weight(sizes: FloatArray, successes: FloatArray) -> float:
    """Least-squares ``w_eff`` of the model ``scale * integral(n, w_eff)``.

    anonymeter fits (w_eff, scale) with ``curve_fit`` from one starting point, which can
    stop at w_eff = 1 (a curve falling as 1/(n + 1)) even when successes grow with n. The
    scale has a closed form for each w_eff, so the profile is scanned on a log grid and
    refined around its minimum: the global least-squares fit of the same model."""
    grid = np.logspace(np.log10(1e-3 / sizes.max()), 0.0, 400)

    def profile(w: FloatArray) -> FloatArray:
        curves = singling_out_integral(sizes[None, :], w[:, None])
        scale = (curves @ successes) / np.maximum((curves * curves).sum(axis=1), 1e-300)
        sse: FloatArray = ((scale[:, None] * curves - successes[None, :]) ** 2).sum(axis=1)
        return sse

    best = int(np.argmin(profile(grid)))
    low, high = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, len(grid) - 1)])
    refined = minimize_scalar(
        lambda t: float(profile(np.array([np.exp(t)]))[0]), bounds=(low, high), method="bounded"
    )
    return float(np.exp(refined.x)) if refined.success else float(grid[best])


def size_correction(
    control_bits: WordArray, n_control: int, n_main: int, rng: np.random.Generator
) -> float:
    """anonymeter's rescaling of control successes to the training table's size: count
    isolating predicates on random subsets of the control (10 sizes from min(1000, n)
    to n, 5 repeats each), fit ``scale * integral(n, w_eff)`` and return
    ``f(n_main) / f(n_control)``."""
    sizes = np.linspace(min(_CORRECTION_MIN_ROWS, n_control), n_control, _CORRECTION_SIZES)
    xs, ys = [], []
    for size in sizes.astype(np.int64):
        for _ in range(_CORRECTION_REPEATS):
            mask = np.zeros(n_control, dtype=np.bool_)
            mask[rng.choice(n_control, int(size), replace=False)] = True
            counts = popcount(control_bits & pack(mask[None, :]))
            xs.append(float(size))
            ys.append(float(np.count_nonzero(counts == 1)))
    weight = fit_weight(np.array(xs), np.array(ys))
    fitted = singling_out_integral(np.array([n_main, n_control], dtype=np.float64), weight)
    ratio = float(fitted[0] / fitted[1]) if fitted[1] > 0 else math.nan
    return ratio if math.isfinite(ratio) and ratio > 0 else 1.0


def subsampled_successes(
    bits: WordArray, n_rows: int, size: int, rng: np.random.Generator
) -> float:
    """Mean number of predicates isolating one row of a random ``size``-row subset."""
    successes = []
    for _ in range(_SUBSAMPLE_REPEATS):
        mask = np.zeros(n_rows, dtype=np.bool_)
        mask[rng.choice(n_rows, size, replace=False)] = True
        successes.append(np.count_nonzero(popcount(bits & pack(mask[None, :])) == 1))
    return float(np.mean(successes))
