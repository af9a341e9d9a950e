"""Nearest-neighbour distances between encoded rows, fast enough for census-sized tables.

Every distance-based metric and attack (DCR, NNDR, alpha-precision, membership and
attribute inference) reduces to "which reference rows are closest to each query row".
Rows come from :meth:`EvaluationData.encoded` (numeric scaled to ~[0, 1], one-hot
scaled so a category mismatch costs 1), so plain Euclidean distance applies.

The search is brute force, which is exact and simple, but organised for BLAS: rows are
centred, cast to float32 and each query chunk gets one matrix product with the
reference. The product is augmented so that it directly yields
``score = q.r - |r|^2 / 2``, which is largest for the nearest ``r`` (because
``|q - r|^2 = |q|^2 - 2 score``); picking neighbours is then an ``argmax`` per row, a
fraction of a nanosecond per pair. The chosen neighbours' distances are recomputed
exactly in float64, so an exact copy is at distance 0, not at float32 round-off.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
Float32Matrix = npt.NDArray[np.float32]

#: metrics that may subsample their query rows do so to at most this many (seeded)
DEFAULT_MAX_QUERIES = 5_000
#: float32 elements of one chunk of the score matrix (128 MB)
CHUNK_ELEMENTS = 1 << 25


def subsample(n: int, limit: int | None, rng: np.random.Generator) -> IndexArray:
    """Sorted positions of at most ``limit`` of ``n`` rows (all of them when fewer)."""
    if limit is None or n <= limit:
        return np.arange(n, dtype=np.intp)
    return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.intp)


def _augmented(
    queries: FloatMatrix, reference: FloatMatrix
) -> tuple[Float32Matrix, Float32Matrix, FloatMatrix, FloatMatrix]:
    """Centred float32 ``[q, 1]`` and ``[r, -|r|^2/2]`` (their product is the score) and
    the centred float64 rows for exact distances.

    Centring on the reference mean keeps the norms small, so the float32 score loses
    little precision to cancellation."""
    if queries.ndim != 2 or reference.ndim != 2 or queries.shape[1] != reference.shape[1]:
        raise ValueError(f"incompatible shapes {queries.shape} and {reference.shape}")
    centre = reference.mean(axis=0) if len(reference) else np.zeros(reference.shape[1])
    q64 = np.asarray(queries, dtype=np.float64) - centre
    r64 = np.asarray(reference, dtype=np.float64) - centre
    q32 = np.hstack([q64, np.ones((len(q64), 1))]).astype(np.float32)
    r32 = np.hstack([r64, -0.5 * np.einsum("ij,ij->i", r64, r64)[:, None]]).astype(np.float32)
    return q32, r32, q64, r64


def score_chunks(
    queries: FloatMatrix, reference: FloatMatrix, chunk_elements: int = CHUNK_ELEMENTS
) -> Iterator[tuple[slice, Float32Matrix, FloatMatrix]]:
    """Chunks of ``score = q.r - |r|^2/2`` (float32; larger is closer), with each chunk's
    query rows and their squared norms (centred, float64) so callers can recover
    ``|q - r|^2 = |q|^2 - 2 score``.

    Yielded as a generator so memory stays at one chunk whatever the table sizes."""
    prepared = _augmented(queries, reference)
    for part, scores in _chunks(prepared, chunk_elements):
        q64 = prepared[2][part]
        yield part, scores, np.einsum("ij,ij->i", q64, q64)


def _chunks(
    prepared: tuple[Float32Matrix, Float32Matrix, FloatMatrix, FloatMatrix], chunk_elements: int
) -> Iterator[tuple[slice, Float32Matrix]]:
    q32, r32 = prepared[0], prepared[1]
    rows = max(1, chunk_elements // max(1, len(r32)))
    for start in range(0, len(q32), rows):
        part = slice(start, min(start + rows, len(q32)))
        yield part, q32[part] @ r32.T


def _exclude(scores: Float32Matrix, exclude: IndexArray | None, part: slice) -> None:
    """Make the excluded reference row of each query unpickable."""
    if exclude is None:
        return
    own = exclude[part]
    keep = np.flatnonzero(own >= 0)
    scores[keep, own[keep]] = -np.inf


def nearest_neighbours(
    queries: FloatMatrix,
    reference: FloatMatrix,
    k: int = 1,
    *,
    exclude: IndexArray | None = None,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> tuple[FloatMatrix, IndexArray]:
    """Euclidean distances (ascending, exact float64) and reference positions of the
    ``k`` nearest reference rows of every query row, as ``(n_queries, k)`` arrays.

    ``exclude[i]`` names a reference position query ``i`` may not pick (its own row
    when queries are part of the reference; ``-1`` for none): excluding by position
    rather than by distance 0 keeps genuine duplicates as neighbours. One candidate
    more than ``k`` is taken from the float32 scores and re-ranked exactly, which
    absorbs float32 near-ties."""
    n_ref = len(reference)
    usable = n_ref - (1 if exclude is not None else 0)
    if not 1 <= k <= usable:
        raise ValueError(f"k={k} needs at least {k} reference rows, have {usable}")
    candidates = min(k + 1, usable)
    distances = np.empty((len(queries), k), dtype=np.float64)
    indices = np.empty((len(queries), k), dtype=np.intp)
    prepared = _augmented(queries, reference)
    q64, r64 = prepared[2], prepared[3]
    for part, scores in _chunks(prepared, chunk_elements):
        rows = np.arange(scores.shape[0])
        _exclude(scores, exclude, part)
        picked = np.empty((scores.shape[0], candidates), dtype=np.intp)
        for j in range(candidates):
            picked[:, j] = scores.argmax(axis=1)
            scores[rows, picked[:, j]] = -np.inf
        diff = q64[part][:, None, :] - r64[picked]
        exact = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        distances[part] = np.take_along_axis(exact, order, axis=1)
        indices[part] = np.take_along_axis(picked, order, axis=1)
    return distances, indices


def nearest_distances(
    queries: FloatMatrix,
    reference: FloatMatrix,
    k: int = 1,
    *,
    exclude_self: bool = False,
    query_positions: IndexArray | None = None,
) -> FloatMatrix:
    """Distances from each query row to its ``k`` nearest reference rows, ``(n, k)``.

    With ``exclude_self`` the queries are rows of the reference — the same rows in the
    same order, or the rows at ``query_positions`` — and a row is not its own
    neighbour (e.g. the k-th neighbour radius of real rows among real rows)."""
    exclude = None
    if exclude_self:
        positions = (
            np.arange(len(queries), dtype=np.intp) if query_positions is None else query_positions
        )
        if len(positions) != len(queries):
            raise ValueError("query_positions must name one reference row per query")
        exclude = np.asarray(positions, dtype=np.intp)
    return nearest_neighbours(queries, reference, k, exclude=exclude)[0]


#: kernel exponents below this are treated as this (exp(-80) ~ 2e-35 next to the nearest
#: row's term of 1), which keeps float32 ``exp`` out of its slow denormal range
MIN_EXPONENT = np.float32(-80.0)


def log_kde(
    queries: FloatMatrix,
    reference: FloatMatrix,
    bandwidths: npt.ArrayLike,
    *,
    exclude: IndexArray | None = None,
) -> FloatMatrix:
    """Log-density of isotropic Gaussian kernel density estimates at each query row,
    one column per bandwidth ``h`` (shape ``(n_queries, n_bandwidths)``).

    ``log p(x) = logsumexp_j(-|x - r_j|^2 / 2h^2) - log n - (d/2) log(2 pi h^2)``,
    summed chunk by chunk with the nearest row's term factored out exactly, so nothing
    underflows. Several bandwidths share one distance computation (for choosing ``h``
    by cross-validation). ``exclude`` drops one reference row per query
    (leave-one-out)."""
    return kde_and_nearest(queries, reference, bandwidths, exclude=exclude)[0]


def kde_and_nearest(
    queries: FloatMatrix,
    reference: FloatMatrix,
    bandwidths: npt.ArrayLike,
    *,
    exclude: IndexArray | None = None,
) -> tuple[FloatMatrix, FloatMatrix]:
    """:func:`log_kde` and, from the same pass, each query's distance to its nearest
    reference row (exact float64 for the row float32 ranks first)."""
    h = np.atleast_1d(np.asarray(bandwidths, dtype=np.float64))
    if (h <= 0).any():
        raise ValueError("bandwidths must be positive")
    n_ref, dims = reference.shape
    n_used = n_ref - (1 if exclude is not None else 0)
    if n_used < 1:
        raise ValueError("need at least one reference row")
    density = np.empty((len(queries), len(h)), dtype=np.float64)
    nearest = np.empty(len(queries), dtype=np.float64)
    prepared = _augmented(queries, reference)
    q64, r64 = prepared[2], prepared[3]
    for part, scores in _chunks(prepared, CHUNK_ELEMENTS):
        _exclude(scores, exclude, part)
        best = scores.argmax(axis=1)
        np.subtract(scores, scores[np.arange(len(best)), best][:, None], out=scores)
        diff = q64[part] - r64[best]
        d_min_sq = np.einsum("ij,ij->i", diff, diff)
        nearest[part] = np.sqrt(d_min_sq)
        terms = np.empty_like(scores)
        for j, width in enumerate(h):
            # -|q - r|^2 / 2h^2 = (score - score_best) / h^2 - d_min^2 / 2h^2
            np.multiply(scores, np.float32(1.0 / width**2), out=terms)
            np.maximum(terms, MIN_EXPONENT, out=terms)
            np.exp(terms, out=terms)
            total = terms.sum(axis=1, dtype=np.float64)
            density[part, j] = np.log(total) - d_min_sq / (2.0 * width**2)
    density -= np.log(n_used) + 0.5 * dims * np.log(2.0 * np.pi * h**2)
    return density, nearest
