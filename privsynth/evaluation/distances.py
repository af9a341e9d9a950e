"""Nearest-neighbour distances between encoded rows, in memory that does not grow with
the number of categories.

Every distance-based metric and attack (DCR, NNDR, alpha-precision, membership and
attribute inference) reduces to "which reference rows are closest to each query row".
Rows are :class:`Rows` (from :meth:`EvaluationData.encoded`): numeric values scaled to
~[0, 1] and one code per categorical column. Their distance is Euclidean with a
category mismatch costing 1 in squared distance, the distance of a one-hot encoding
scaled by 1/sqrt(2), but that one-hot matrix is never built: its width is the number of
categories, and on a 100k-row hospital table with codes of hundreds of values it
took gigabytes and made every matrix product tens of times slower.

The search is brute force, which is exact, organised for BLAS: each query chunk gets
one float32 matrix product with the reference, giving
``score = q.r - |r|^2 / 2 + matches / 2`` (numeric parts centred on the reference mean),
which is largest for the nearest ``r`` because ``|q - r|^2 = |q|^2 + C - 2 score`` for
``C`` categorical columns. Categories held by more than :data:`DENSE_SHARE` of the
reference rows enter the product as one-hot columns (at most 1/DENSE_SHARE per
categorical column); a rarer category adds its 1/2 by scattering it to the reference
rows that share it, at most that share of the reference per query. Neighbours are
picked by ``argmax`` and their distances recomputed exactly in float64, so an exact copy
is at distance 0, not at float32 round-off. Query rows go in chunks, so memory is one
chunk of scores whatever the table sizes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]
CodeMatrix = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.intp]
Float32Matrix = npt.NDArray[np.float32]

#: metrics that may subsample their query rows do so to at most this many (seeded)
DEFAULT_MAX_QUERIES = 5_000
#: float32 elements of one chunk of the score matrix (128 MB)
CHUNK_ELEMENTS = 1 << 25
#: categories held by more than this share of the reference rows are one-hot columns of
#: the matrix product; rarer ones are scattered (a balance of the two costs)
DENSE_SHARE = 1.0 / 16.0


@dataclass(frozen=True)
class Rows:
    """Rows for distances: ``numeric`` (n, p) values and ``codes`` (n, c) category codes
    (>= 0); ``sizes`` are the categories per code column, the width of the one-hot
    space they stand for (the ``d`` of a density over them)."""

    numeric: FloatMatrix
    codes: CodeMatrix
    sizes: tuple[int, ...] = ()

    @classmethod
    def of(cls, rows: Rows | npt.ArrayLike) -> Rows:
        """``rows`` as :class:`Rows`; a plain matrix is all numeric (plain Euclidean)."""
        if isinstance(rows, Rows):
            return rows
        matrix = np.asarray(rows, dtype=np.float64)
        if matrix.ndim != 2:
            raise ValueError(f"rows must be a matrix, got shape {matrix.shape}")
        return cls(matrix, np.zeros((len(matrix), 0), dtype=np.int64), ())

    def __len__(self) -> int:
        return len(self.numeric)

    def __getitem__(self, positions: IndexArray | slice) -> Rows:
        return Rows(self.numeric[positions], self.codes[positions], self.sizes)

    @property
    def width(self) -> int:
        """Dimensions of the equivalent one-hot encoding."""
        return int(self.numeric.shape[1] + sum(self.sizes))


Points = Rows | FloatMatrix


def subsample(n: int, limit: int | None, rng: np.random.Generator) -> IndexArray:
    """Sorted positions of at most ``limit`` of ``n`` rows (all of them when fewer)."""
    if limit is None or n <= limit:
        return np.arange(n, dtype=np.intp)
    return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.intp)


@dataclass(frozen=True)
class _CodeIndex:
    """One categorical column of the reference: each code's one-hot slot in the matrix
    product (-1 when rare) and its reference rows (``order[starts[k]:starts[k + 1]]``)."""

    slot: IndexArray
    order: IndexArray
    starts: IndexArray

    @classmethod
    def build(cls, codes: CodeMatrix, size: int, first_slot: int) -> _CodeIndex:
        size = max(size, int(codes.max(initial=-1)) + 1)
        counts = np.bincount(codes, minlength=size)
        dense = np.flatnonzero(counts > DENSE_SHARE * len(codes))
        slot = np.full(size, -1, dtype=np.intp)
        slot[dense] = first_slot + np.arange(len(dense))
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        return cls(slot, np.argsort(codes, kind="stable").astype(np.intp), starts)

    def slots_of(self, codes: CodeMatrix) -> IndexArray:
        """Each code's slot; -1 for rare codes and codes the reference never saw."""
        known = codes < len(self.slot)
        return np.where(known, self.slot[np.where(known, codes, 0)], -1)

    def runs(self, codes: CodeMatrix) -> tuple[IndexArray, IndexArray]:
        """``(query, reference)`` position pairs sharing a rare code, each pair once."""
        queries = np.flatnonzero(self.slots_of(codes) < 0)
        queries = queries[codes[queries] < len(self.slot)]
        first, last = self.starts[codes[queries]], self.starts[codes[queries] + 1]
        lengths = last - first
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return np.repeat(queries, lengths), self.order[np.repeat(first, lengths) + offsets]


class _Search:
    """A reference prepared once for scoring query chunks against it."""

    def __init__(self, reference: Rows) -> None:
        self.reference = reference
        numeric = reference.numeric
        self.centre = numeric.mean(axis=0) if len(numeric) else np.zeros(numeric.shape[1])
        self.indexes: list[_CodeIndex] = []
        slots = numeric.shape[1]
        for j in range(reference.codes.shape[1]):
            size = reference.sizes[j] if j < len(reference.sizes) else 0
            index = _CodeIndex.build(reference.codes[:, j], size, slots)
            slots += int((index.slot >= 0).sum())
            self.indexes.append(index)
        self.width = slots
        centred = numeric - self.centre
        block = self._one_hot(reference.codes, 0.5)
        block[:, : numeric.shape[1]] = centred
        block[:, -1] = -0.5 * np.einsum("ij,ij->i", centred, centred)
        self.dense = block

    def _one_hot(self, codes: CodeMatrix, value: float) -> Float32Matrix:
        """float32 rows of ``width + 1`` columns: ``value`` in each frequent code's slot."""
        block = np.zeros((len(codes), self.width + 1), dtype=np.float32)
        for j, index in enumerate(self.indexes):
            slots = index.slots_of(codes[:, j])
            rows = np.flatnonzero(slots >= 0)
            block[rows, slots[rows]] = value
        return block

    def check(self, queries: Rows) -> None:
        ref = self.reference
        if (
            queries.numeric.shape[1] != ref.numeric.shape[1]
            or queries.codes.shape[1] != ref.codes.shape[1]
        ):
            raise ValueError(
                f"incompatible rows: {queries.numeric.shape[1]} numeric and "
                f"{queries.codes.shape[1]} categorical columns against "
                f"{ref.numeric.shape[1]} and {ref.codes.shape[1]}"
            )

    def scores(self, queries: Rows) -> Float32Matrix:
        """``q.r - |r|^2/2 + matches/2`` of every query (a chunk) and reference row."""
        block = self._one_hot(queries.codes, 1.0)
        block[:, : queries.numeric.shape[1]] = queries.numeric - self.centre
        block[:, -1] = 1.0
        scores: Float32Matrix = block @ self.dense.T
        for j, index in enumerate(self.indexes):
            rows, columns = index.runs(queries.codes[:, j])
            scores[rows, columns] += np.float32(0.5)
        return scores

    def norms(self, queries: Rows) -> FloatMatrix:
        """``|q|^2 + C`` (centred), so that ``|q - r|^2 = norms - 2 score``."""
        centred = queries.numeric - self.centre
        norms: FloatMatrix = np.einsum("ij,ij->i", centred, centred) + queries.codes.shape[1]
        return norms

    def exact(self, queries: Rows, picked: IndexArray) -> FloatMatrix:
        """Exact float64 squared distances from each query to its ``picked`` rows."""
        ref = self.reference
        diff = queries.numeric[:, None, :] - ref.numeric[picked]
        squared: FloatMatrix = np.einsum("ijk,ijk->ij", diff, diff)
        squared += (queries.codes[:, None, :] != ref.codes[picked]).sum(axis=2)
        return squared

    def chunks(self, queries: Rows, chunk_elements: int) -> Iterator[tuple[slice, Float32Matrix]]:
        """Query slices and their scores, one bounded chunk at a time."""
        self.check(queries)
        rows = max(1, chunk_elements // max(1, len(self.reference)))
        for start in range(0, len(queries), rows):
            part = slice(start, min(start + rows, len(queries)))
            yield part, self.scores(queries[part])


class MatchCounter:
    """How many categorical columns each reference row shares with each query row,
    counted exactly (halves and integers are exact in float32) through the same
    one-hot product and rare-category scatter as the search."""

    def __init__(self, codes: CodeMatrix) -> None:
        self._search = _Search(Rows(np.zeros((len(codes), 0)), codes))

    def matches(self, codes: CodeMatrix) -> Float32Matrix:
        """``(n_queries, n_reference)`` counts of shared categories."""
        scores = self._search.scores(Rows(np.zeros((len(codes), 0)), codes))
        scores *= np.float32(2.0)
        return scores


def score_chunks(
    queries: Points, reference: Points, chunk_elements: int = CHUNK_ELEMENTS
) -> Iterator[tuple[slice, Float32Matrix, FloatMatrix]]:
    """Chunks of ``score`` (float32; larger is closer), with each chunk's query rows and
    the norms that recover ``|q - r|^2 = norms - 2 score``.

    Yielded as a generator so memory stays at one chunk whatever the table sizes."""
    rows = Rows.of(queries)
    search = _Search(Rows.of(reference))
    for part, scores in search.chunks(rows, chunk_elements):
        yield part, scores, search.norms(rows[part])


def _exclude(scores: Float32Matrix, exclude: IndexArray | None, part: slice) -> None:
    """Make the excluded reference row of each query unpickable."""
    if exclude is None:
        return
    own = exclude[part]
    keep = np.flatnonzero(own >= 0)
    scores[keep, own[keep]] = -np.inf


def nearest_neighbours(
    queries: Points,
    reference: Points,
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
    rows, search = Rows.of(queries), _Search(Rows.of(reference))
    usable = len(search.reference) - (1 if exclude is not None else 0)
    if not 1 <= k <= usable:
        raise ValueError(f"k={k} needs at least {k} reference rows, have {usable}")
    candidates = min(k + 1, usable)
    distances = np.empty((len(rows), k), dtype=np.float64)
    indices = np.empty((len(rows), k), dtype=np.intp)
    for part, scores in search.chunks(rows, chunk_elements):
        _exclude(scores, exclude, part)
        picked = _top(scores, candidates)
        exact = np.sqrt(search.exact(rows[part], picked))
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        distances[part] = np.take_along_axis(exact, order, axis=1)
        indices[part] = np.take_along_axis(picked, order, axis=1)
    return distances, indices


def _top(scores: Float32Matrix, count: int) -> IndexArray:
    """Column positions of the ``count`` largest scores per row (``scores`` is spent)."""
    rows = np.arange(scores.shape[0])
    picked = np.empty((scores.shape[0], count), dtype=np.intp)
    for j in range(count):
        picked[:, j] = scores.argmax(axis=1)
        scores[rows, picked[:, j]] = -np.inf
    return picked


def nearest_distances(
    queries: Points,
    reference: Points,
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
    queries: Points,
    reference: Points,
    bandwidths: npt.ArrayLike,
    *,
    exclude: IndexArray | None = None,
) -> FloatMatrix:
    """Log-density of isotropic Gaussian kernel density estimates at each query row,
    one column per bandwidth ``h`` (shape ``(n_queries, n_bandwidths)``).

    ``log p(x) = logsumexp_j(-|x - r_j|^2 / 2h^2) - log n - (d/2) log(2 pi h^2)``,
    summed chunk by chunk with the nearest row's term factored out exactly, so nothing
    underflows; ``d`` is the width of the equivalent one-hot encoding. Several
    bandwidths share one distance computation (for choosing ``h`` by
    cross-validation). ``exclude`` drops one reference row per query (leave-one-out)."""
    return kde_and_nearest(queries, reference, bandwidths, exclude=exclude)[0]


def kde_and_nearest(
    queries: Points,
    reference: Points,
    bandwidths: npt.ArrayLike,
    *,
    exclude: IndexArray | None = None,
) -> tuple[FloatMatrix, FloatMatrix]:
    """:func:`log_kde` and, from the same pass, each query's distance to its nearest
    reference row (exact float64 for the row float32 ranks first)."""
    h = np.atleast_1d(np.asarray(bandwidths, dtype=np.float64))
    if (h <= 0).any():
        raise ValueError("bandwidths must be positive")
    rows, search = Rows.of(queries), _Search(Rows.of(reference))
    n_used = len(search.reference) - (1 if exclude is not None else 0)
    if n_used < 1:
        raise ValueError("need at least one reference row")
    density = np.empty((len(rows), len(h)), dtype=np.float64)
    nearest = np.empty(len(rows), dtype=np.float64)
    for part, scores in search.chunks(rows, CHUNK_ELEMENTS):
        _exclude(scores, exclude, part)
        best = scores.argmax(axis=1)
        np.subtract(scores, scores[np.arange(len(best)), best][:, None], out=scores)
        d_min_sq = search.exact(rows[part], best[:, None])[:, 0]
        nearest[part] = np.sqrt(d_min_sq)
        density[part] = _log_sums(scores, h) - d_min_sq[:, None] / (2.0 * h**2)
    density -= np.log(n_used) + 0.5 * search.reference.width * np.log(2.0 * np.pi * h**2)
    return density, nearest


def _log_sums(relative: Float32Matrix, h: FloatMatrix) -> FloatMatrix:
    """``log sum_j exp((score_j - score_best) / h^2)`` per row and bandwidth: the kernel
    sum with the nearest row's term factored out (``-|q - r|^2 / 2h^2`` is
    ``(score - score_best) / h^2 - d_min^2 / 2h^2``)."""
    out = np.empty((relative.shape[0], len(h)), dtype=np.float64)
    terms = np.empty_like(relative)
    for j, width in enumerate(h):
        np.multiply(relative, np.float32(1.0 / width**2), out=terms)
        np.maximum(terms, MIN_EXPONENT, out=terms)
        np.exp(terms, out=terms)
        out[:, j] = np.log(terms.sum(axis=1, dtype=np.float64))
    return out
