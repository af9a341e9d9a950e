"""Shared pieces of marginal-based generators (MST, AIM): counting marginals of
encoded data, compressing rare codes, and turning noisy counts into mbi measurements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from mbi import Factor, LinearMeasurement

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.mechanisms import Mechanisms, NoisyCounts

FloatArray = npt.NDArray[np.float64]


def marginal_counts(
    codes: Mapping[str, Codes], sizes: Mapping[str, int], clique: Sequence[str]
) -> npt.NDArray[np.int64]:
    """Exact counts of the marginal on ``clique`` (flattened, C order)."""
    shape = tuple(sizes[c] for c in clique)
    flat = np.ravel_multi_index(tuple(codes[c] for c in clique), shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).astype(np.int64)


@dataclass(frozen=True)
class Compression:
    """Merges the codes of one column whose noisy 1-way count is small into one bucket.

    Decided from noisy counts only (post-processing). Rare codes then share one
    cell, which cuts the noise of every marginal that contains the column."""

    kept: npt.NDArray[np.int64]  # original codes kept, in order
    merged: npt.NDArray[np.int64]  # original codes sharing the last bucket
    forward: npt.NDArray[np.int64]  # original code -> compressed code

    @classmethod
    def from_noisy(cls, noisy: FloatArray, threshold: float) -> Compression:
        keep = noisy >= threshold
        kept, merged = np.flatnonzero(keep), np.flatnonzero(~keep)
        forward = np.empty(noisy.size, dtype=np.int64)
        forward[kept] = np.arange(kept.size)
        forward[merged] = kept.size
        return cls(kept, merged, forward)

    @classmethod
    def capped(cls, noisy: FloatArray, sigma: float, sigmas: float, share: float) -> Compression:
        """Merge codes below ``sigmas`` noise deviations, lowering the threshold while the
        merged codes hold more than ``share`` of the noisy total: a bucket decompresses
        uniformly, which is harmless for rare codes but erases the shape of a column
        whose codes are all small (a wide numeric column on a small table)."""
        total = max(float(np.maximum(noisy, 0.0).sum()), 1.0)
        for multiple in (sigmas, sigmas / 2.0, sigmas / 4.0, 0.0):
            below = noisy < multiple * sigma
            if float(np.maximum(noisy[below], 0.0).sum()) <= share * total:
                break
        return cls.from_noisy(noisy, multiple * sigma)

    @classmethod
    def from_parts(cls, kept: npt.NDArray[np.int64], merged: npt.NDArray[np.int64]) -> Compression:
        """Rebuilt from :attr:`kept` and :attr:`merged` (a saved model); they must
        partition the column's codes."""
        size = kept.size + merged.size
        together = np.sort(np.concatenate([kept, merged]))
        if not np.array_equal(together, np.arange(size)):
            raise ValueError("kept and merged codes must partition the domain")
        forward = np.empty(size, dtype=np.int64)
        forward[kept] = np.arange(kept.size)
        forward[merged] = kept.size
        return cls(kept.astype(np.int64), merged.astype(np.int64), forward)

    @property
    def size(self) -> int:
        return int(self.kept.size + (self.merged.size > 0))

    def compress(self, codes: Codes) -> Codes:
        return self.forward[codes]

    def decompress(self, codes: Codes, rng: np.random.Generator) -> Codes:
        """Original codes; the bucket becomes a uniform draw among its members."""
        out = np.empty(codes.shape, dtype=np.int64)
        in_bucket = codes >= self.kept.size
        out[~in_bucket] = self.kept[codes[~in_bucket]]
        if in_bucket.any():
            out[in_bucket] = rng.choice(self.merged, int(in_bucket.sum()))
        return out

    def compress_noisy(self, noisy: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Noisy counts on the compressed domain and each cell's noise multiplier
        (the bucket sums ``len(merged)`` independent noises)."""
        values = np.append(noisy[self.kept], noisy[self.merged].sum())[: self.size]
        scale = np.ones(self.size)
        if self.merged.size:
            scale[-1] = np.sqrt(self.merged.size)
        return values, scale


def measurement(
    values: FloatArray, clique: Sequence[str], sigma: float, scale: FloatArray | None = None
) -> LinearMeasurement:
    """An mbi measurement of a marginal with Gaussian noise ``sigma`` per cell, or
    ``sigma * scale`` per cell (rescaled so mbi sees homoscedastic noise)."""
    if scale is None or np.all(scale == 1.0):
        return LinearMeasurement(jnp.asarray(values), tuple(clique), stddev=sigma)
    weights = jnp.asarray(1.0 / scale)

    def weighted(factor: Factor) -> Any:
        return weights * factor.datavector()

    return LinearMeasurement(jnp.asarray(values / scale), tuple(clique), sigma, weighted)


def measure_one_way(
    table: EncodedTable, mechanisms: Mechanisms, rho_each: float, generator: str
) -> dict[str, NoisyCounts]:
    """Every column's 1-way marginal released with ``rho_each`` zCDP (the first step of
    MST and AIM)."""
    return {
        column: mechanisms.gaussian_counts(
            marginal_counts(table.codes, table.sizes, [column]),
            rho_each,
            f"{generator}: 1-way marginal of {column!r}",
        )
        for column in table.codecs
    }


def one_way_measurement(
    column: str, released: NoisyCounts, compression: Compression
) -> LinearMeasurement:
    """An mbi measurement of a released 1-way marginal on its compressed codes."""
    values, scale = compression.compress_noisy(released.values)
    return measurement(values, [column], released.sigma, scale)


def estimate_total(released: Sequence[NoisyCounts]) -> float:
    """Inverse-variance weighted estimate of the number of records from noisy
    marginals (each sums to the total plus noise of variance cells * sigma²)."""
    sums = np.array([r.values.sum() for r in released])
    variances = np.array([r.values.size * r.sigma**2 for r in released])
    weights = 1.0 / variances
    return max(1.0, float(np.sum(weights * sums) / np.sum(weights)))
