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

The same search serves the Gower distance of the linkability attack (:class:`Gower`:
``|x - y| / span`` per numeric column plus 1 per category mismatch, an L1 distance no
matrix product gives). There the category mismatches, counted exactly by the one-hot
product and scatter above, bound the distance from below: the exact distances to the
rows with fewest mismatches bound each query's k-th nearest, and only rows whose
mismatches do not exceed that bound are measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]
FloatVector = npt.NDArray[np.float64]
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
#: a Gower chunk holds float64 distances and a buffer (16 bytes an element against a
#: float32 score's 4) and its mismatches: chunks this many times fewer elements
GOWER_CHUNK_DIVISOR = 8
#: the pruned Gower search measures at most this share of the pairs (else all of them)
PRUNED_SHARE = 0.1
#: rows with fewest category mismatches measured to bound a query's Gower distances
GOWER_SEEDS = 32


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


def _exclude(
    scores: Float32Matrix,
    exclude: IndexArray | None,
    part: slice | IndexArray,
    value: float = -np.inf,
) -> None:
    """Make the excluded reference row of each query unpickable (its score ``value``)."""
    if exclude is None:
        return
    own = exclude[part]
    keep = np.flatnonzero(own >= 0)
    scores[keep, own[keep]] = value


def nearest_neighbours(
    queries: Points,
    reference: Points,
    k: int = 1,
    *,
    exclude: IndexArray | None = None,
    chunk_elements: int = CHUNK_ELEMENTS,
    metric: Gower | None = None,
) -> tuple[FloatMatrix, IndexArray]:
    """Distances (ascending, exact float64) and reference positions of the ``k``
    nearest reference rows of every query row, as ``(n_queries, k)`` arrays.

    The distance is Euclidean unless ``metric`` is a :class:`Gower` (exact, ties to the
    lower reference position). ``exclude[i]`` names a reference position query ``i``
    may not pick (its own row when queries are part of the reference; ``-1`` for
    none): excluding by position rather than by distance 0 keeps genuine duplicates as
    neighbours. For the Euclidean distance one candidate more than ``k`` is taken from
    the float32 scores and re-ranked exactly, which absorbs float32 near-ties."""
    rows, reference_rows = Rows.of(queries), Rows.of(reference)
    usable = len(reference_rows) - (1 if exclude is not None else 0)
    if not 1 <= k <= usable:
        raise ValueError(f"k={k} needs at least {k} reference rows, have {usable}")
    if metric is not None:
        return _gower_search(rows, reference_rows, metric, k, exclude, chunk_elements)
    search = _Search(reference_rows)
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


# ------------------------------------------------------------------ Gower distance


@dataclass(frozen=True)
class Gower:
    """The Gower-style distance of anonymeter's linkability attack: ``|x - y| / span``
    per numeric column (one value missing costs 1, both missing 0) plus 1 per category
    mismatch.

    Differences are divided by the span rather than pre-scaled values subtracted, and
    columns are summed in one order everywhere, so equal differences give bit-equal
    distances: ties are exact, and go to the lower reference position."""

    spans: FloatVector

    @classmethod
    def over(cls, *tables: FloatMatrix) -> Gower:
        """Spans of each numeric column over all rows of ``tables`` (1 where a column
        holds fewer than two distinct values)."""
        spans = np.ones(tables[0].shape[1])
        for j in range(len(spans)):
            present = np.concatenate([table[:, j] for table in tables])
            present = present[~np.isnan(present)]
            if present.size and present.max() > present.min():
                spans[j] = present.max() - present.min()
        return cls(spans)

    def check(self, queries: Rows, reference: Rows) -> None:
        """Reject rows whose columns do not match each other or the spans."""
        widths = {len(self.spans), queries.numeric.shape[1], reference.numeric.shape[1]}
        if len(widths) > 1 or queries.codes.shape[1] != reference.codes.shape[1]:
            raise ValueError(
                f"incompatible rows: {queries.numeric.shape[1]} numeric and "
                f"{queries.codes.shape[1]} categorical columns against "
                f"{reference.numeric.shape[1]} and {reference.codes.shape[1]}, "
                f"{len(self.spans)} spans"
            )


def _gower_search(
    queries: Rows,
    reference: Rows,
    gower: Gower,
    k: int,
    exclude: IndexArray | None,
    chunk_elements: int,
) -> tuple[FloatMatrix, IndexArray]:
    """:func:`nearest_neighbours` under ``gower``, exactly: first the queries that their
    category group settles (:func:`_gower_groups`; skipped when rows are excluded), then
    the others against every reference row, pruned by their category mismatches."""
    gower.check(queries, reference)
    budget = max(1, chunk_elements // GOWER_CHUNK_DIVISOR)
    if exclude is None:
        distances, indices = _gower_groups(queries, reference, gower.spans, k, budget)
    else:
        distances = np.zeros((len(queries), k))
        indices = np.full((len(queries), k), -1, dtype=np.intp)
    rest = np.flatnonzero(indices[:, 0] < 0)
    if not len(rest):
        return distances, indices
    counter = MatchCounter(reference.codes)
    step = max(1, budget // max(1, len(reference)))
    for start in range(0, len(rest), step):
        part = rest[start : start + step]
        mismatches = queries.codes.shape[1] - counter.matches(queries.codes[part])
        _exclude(mismatches, exclude, part, np.inf)
        distances[part], indices[part] = _gower_block(
            queries.numeric[part], reference.numeric, gower.spans, mismatches, k
        )
    return distances, indices


def _gower_groups(
    queries: Rows, reference: Rows, spans: FloatVector, k: int, budget: int
) -> tuple[FloatMatrix, IndexArray]:
    """The ``k`` nearest reference rows of the queries their category group settles
    (position -1 for the others).

    Most queries share all their categories with some reference rows (their group); the
    numeric part of a distance is below 1 there, and any row outside the group is at
    least 1 away, so when the ``k``-th nearest in the group is closer than 1 the group
    alone decides, at the cost of measuring the group only."""
    distances = np.zeros((len(queries), k))
    indices = np.full((len(queries), k), -1, dtype=np.intp)
    ids = _row_ids(np.vstack([reference.codes, queries.codes]))
    s_group, t_group = ids[: len(reference)], ids[len(reference) :]
    s_order = np.argsort(s_group, kind="stable")
    s_sorted = s_group[s_order]
    t_order = np.argsort(t_group, kind="stable")
    cuts = np.flatnonzero(np.diff(t_group[t_order])) + 1
    for group in np.split(t_order, cuts) if len(t_order) else []:
        start = np.searchsorted(s_sorted, t_group[group[0]], side="left")
        members = s_order[start : np.searchsorted(s_sorted, t_group[group[0]], side="right")]
        if len(members) < k:
            continue
        step = max(1, budget // len(members))
        for first in range(0, len(group), step):
            chunk = group[first : first + step]
            distance = _gower_numeric(queries.numeric[chunk], reference.numeric[members], spans)
            nearest, picked = _k_smallest(distance, k)
            settled = (nearest[:, -1] < 1.0) | (len(members) == len(reference))
            distances[chunk[settled]] = nearest[settled]
            indices[chunk[settled]] = members[picked[settled]]
    return distances, indices


def _row_ids(codes: CodeMatrix) -> IndexArray:
    """A number per row of ``codes``, equal for equal rows only: the row's position in
    the grid of its columns' codes where that fits in 62 bits (a sort of integers),
    else a rank among the distinct rows."""
    if codes.shape[1] == 0:
        return np.zeros(len(codes), dtype=np.intp)
    sizes = codes.max(axis=0, initial=0) + 1
    if codes.min(initial=0) >= 0 and float(np.prod(sizes.astype(np.float64))) < 2.0**62:
        flat: IndexArray = np.ravel_multi_index(tuple(codes.T), tuple(sizes.tolist()))
        return flat
    ranks: IndexArray = np.unique(codes, axis=0, return_inverse=True)[1].ravel()
    return ranks


def _gower_block(
    t_num: FloatMatrix, s_num: FloatMatrix, spans: FloatVector, mismatches: Float32Matrix, k: int
) -> tuple[FloatMatrix, IndexArray]:
    """The ``k`` nearest reference rows of one chunk of queries, given their category
    mismatches with every reference row, ordered by distance then position.

    Rows whose mismatches exceed a bound on the ``k``-th nearest distance cannot be
    nearer nor tie, so only the others are measured, unless too many qualify."""
    bound = _gower_bound(t_num, s_num, spans, mismatches, k)
    rows, columns = np.nonzero(mismatches <= bound[:, None])
    if len(rows) > PRUNED_SHARE * mismatches.size:
        distance = _gower_numeric(t_num, s_num, spans)
        distance += mismatches
        return _k_smallest(distance, k)
    distance = _gower_pairs(t_num[rows], s_num[columns], spans)
    distance += mismatches[rows, columns]
    order = np.lexsort((columns, distance, rows))
    firsts = np.searchsorted(rows[order], np.arange(len(t_num)))
    take = order[firsts[:, None] + np.arange(k)]
    return distance[take], columns[take].astype(np.intp)


def _gower_bound(
    t_num: FloatMatrix, s_num: FloatMatrix, spans: FloatVector, mismatches: Float32Matrix, k: int
) -> FloatVector:
    """An upper bound on each query's ``k``-th nearest distance: the ``k``-th smallest
    exact distance among the :data:`GOWER_SEEDS` rows with fewest mismatches (any rows
    bound it; these usually bound it tightly, which is what keeps the candidates few)."""
    seeds = min(max(k, GOWER_SEEDS), mismatches.shape[1])
    picks = np.argpartition(mismatches, seeds - 1, axis=1)[:, :seeds].ravel()
    rows = np.repeat(np.arange(len(t_num)), seeds)
    distance = _gower_pairs(t_num[rows], s_num[picks], spans) + mismatches[rows, picks]
    bound: FloatVector = np.sort(distance.reshape(-1, seeds), axis=1)[:, k - 1]
    return bound


def _gower_numeric(targets: FloatMatrix, reference: FloatMatrix, spans: FloatVector) -> FloatMatrix:
    """Summed ``|x - y| / span`` over numeric columns of every query and reference row,
    in place in one buffer: a few passes per column."""
    total = np.zeros((len(targets), len(reference)))
    buffer = np.empty_like(total)
    for j in range(targets.shape[1]):
        np.subtract.outer(targets[:, j], reference[:, j], out=buffer)
        np.abs(buffer, out=buffer)
        buffer /= spans[j]
        t_missing, s_missing = np.isnan(targets[:, j]), np.isnan(reference[:, j])
        if t_missing.any() or s_missing.any():
            buffer[t_missing] = 1.0  # one value missing costs 1, both missing 0
            buffer[:, s_missing] = 1.0
            buffer[np.ix_(t_missing, s_missing)] = 0.0
        total += buffer
    return total


def _gower_pairs(targets: FloatMatrix, reference: FloatMatrix, spans: FloatVector) -> FloatVector:
    """:func:`_gower_numeric` of aligned pairs (row ``i`` with row ``i``), with the same
    operations in the same order, so both give bit-identical distances."""
    total = np.zeros(len(targets))
    for j in range(targets.shape[1]):
        diff = np.abs(targets[:, j] - reference[:, j]) / spans[j]
        t_missing, s_missing = np.isnan(targets[:, j]), np.isnan(reference[:, j])
        diff = np.where(t_missing | s_missing, np.where(t_missing & s_missing, 0.0, 1.0), diff)
        total += diff
    return total


def _k_smallest(distance: FloatMatrix, k: int) -> tuple[FloatMatrix, IndexArray]:
    """The ``k`` smallest entries per row and their column positions, ordered by value
    then position (ties go to the lower position)."""
    if k == 1:
        picked = np.argmin(distance, axis=1)[:, None].astype(np.intp)
    else:
        kth = np.partition(distance, k - 1, axis=1)[:, k - 1 : k]
        below = distance < kth
        tied = distance == kth
        room = k - below.sum(axis=1, keepdims=True)
        take = below | (tied & (np.cumsum(tied, axis=1) <= room))
        picked = np.nonzero(take)[1].reshape(len(distance), k).astype(np.intp)
    nearest = np.take_along_axis(distance, picked, axis=1)
    order = np.argsort(nearest, axis=1, kind="stable")  # picked is in position order
    return np.take_along_axis(nearest, order, axis=1), np.take_along_axis(picked, order, axis=1)


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
