"""Memorisation: how much of the training text the synthetic text reproduces verbatim.

A language model that memorised a note can emit its sentences word for word, and a
reproduced span of a record is disclosed whatever differential privacy promised. Four
figures, all in word tokens (:mod:`.tokens`):

* for each synthetic document, the **longest common substring** with any training
  document (the longest run of words it shares with one training document);
* the **share of synthetic 8-grams found in training**;
* the number of **distinct training 8-grams reproduced**, and the **most times any one
  training 8-gram is reproduced** across the synthetic corpus;
* the same for **record-unique** 8-grams, those that occur in exactly one training
  document: their share of the synthetic 8-grams, how many distinct ones, and the most
  reproductions of one. Clinical notes share boilerplate ("the patient tolerated the
  procedure well"), which any good generator reproduces and which identifies no one; a
  phrase found in one record only is what a privacy policy cares about.

Real text shares phrases with training text too: notes dictated from one template
share long runs of words, so even real notes the generator never saw reproduce
record-unique 8-grams (about 3% of their 8-grams on mtsamples). The text evaluation
therefore measures real holdout text against the training text as a control, and the
excess of the synthetic text over it is what the generator added.

Only counts leave this module: the reproduced text itself is never returned, reported
or logged, because it would be training text.

**How.** Training and synthetic documents are concatenated into one array of word ids,
each document closed by a separator symbol of its own (so no match crosses documents),
and a suffix array is built by prefix doubling with numpy: after round j every position
has the rank of its next 2^j words (``levels[j]``), and rounds stop when all ranks
differ. The training suffix sharing the longest prefix with a synthetic suffix is the
nearest training suffix above or below it in suffix order; the shared length is read
off the rank levels, from the widest down (equal rank at level j = equal next 2^j
words), so every comparison is exact, with no hashing. An n-gram's identity is the pair
of ranks of its first and last 2^⌊log2 n⌋ words. All of it is vectorised: 3,000 training
and 3,000 synthetic documents of 200 words take a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from privsynth.errors import InputDataError
from privsynth.evaluation.base import clean
from privsynth.evaluation.text.tokens import EncodedCorpus, IntArray, encode

#: the n of the n-gram reproduction counts
NGRAM = 8


@dataclass(frozen=True)
class Memorisation:
    """Per synthetic document, its longest run of words shared with one training
    document (and its length in words); corpus-wide n-gram reproduction counts."""

    longest_match: tuple[int, ...]
    document_words: tuple[int, ...]
    training_documents: int
    ngram: int
    synthetic_ngrams: int
    reproduced_ngrams: int
    distinct_reproduced: int
    max_reproductions: int
    unique_reproduced_ngrams: int
    distinct_unique_reproduced: int
    max_unique_reproductions: int

    @property
    def reproduced_share(self) -> float:
        """Share of the synthetic n-grams (occurrences) found in some training document."""
        return self.reproduced_ngrams / self.synthetic_ngrams if self.synthetic_ngrams else 0.0

    @property
    def unique_reproduced_share(self) -> float:
        """Share of the synthetic n-grams (occurrences) that occur in exactly one training
        document: record-specific phrases, not boilerplate."""
        if not self.synthetic_ngrams:
            return 0.0
        return self.unique_reproduced_ngrams / self.synthetic_ngrams

    @property
    def longest(self) -> int:
        return max(self.longest_match, default=0)

    @property
    def longest_document_share(self) -> float:
        """The largest share of a synthetic document covered by one shared run (1: a
        document copied whole from training, or copied into a longer one)."""
        shares = [m / w for m, w in zip(self.longest_match, self.document_words, strict=True) if w]
        return max(shares, default=0.0)

    def summary(self) -> dict[str, Any]:
        """The per-document longest matches as quantiles and counts (no document named)."""
        matches = np.asarray(self.longest_match, dtype=np.float64)
        if matches.size == 0:
            matches = np.zeros(1)
        quantiles = np.quantile(matches, [0.5, 0.95])
        data: dict[str, Any] = clean(
            {
                "max": self.longest, "mean": float(matches.mean()),
                "median": float(quantiles[0]), "p95": float(quantiles[1]),
                "documents_with_ngram_match": int((matches >= self.ngram).sum()),
                "longest_document_share": self.longest_document_share,
            }
        )  # fmt: skip
        return data

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = clean(
            {
                "longest_match": self.summary(), "ngram": self.ngram,
                "training_documents": self.training_documents,
                "synthetic_documents": len(self.longest_match),
                "synthetic_ngrams": self.synthetic_ngrams,
                "reproduced_ngrams": self.reproduced_ngrams,
                "reproduced_share": self.reproduced_share,
                "distinct_reproduced": self.distinct_reproduced,
                "max_reproductions": self.max_reproductions,
                "unique_reproduced_ngrams": self.unique_reproduced_ngrams,
                "unique_reproduced_share": self.unique_reproduced_share,
                "distinct_unique_reproduced": self.distinct_unique_reproduced,
                "max_unique_reproductions": self.max_unique_reproductions,
            }
        )  # fmt: skip
        return data


def measure_memorisation(
    training: Sequence[str], synthetic: Sequence[str], ngram: int = NGRAM
) -> Memorisation:
    """Longest shared runs and n-gram reproduction counts of ``synthetic`` against
    ``training`` (word tokens, lowercased)."""
    if ngram < 1:
        raise ValueError("ngram must be at least 1")
    if not training or not synthetic:
        raise InputDataError("memorisation needs training and synthetic documents")
    (train, synth), vocabulary = encode(training, synthetic)
    index = _Index.build(train, synth, vocabulary)
    matches = index.matching_lengths()
    longest = np.maximum.reduceat(matches, synth.starts[:-1] + np.arange(synth.documents))
    counts = _reproductions(index, matches, ngram)
    return Memorisation(
        tuple(int(m) for m in longest), tuple(int(n) for n in synth.lengths),
        train.documents, ngram, *counts,
    )  # fmt: skip


def longest_training_matches(training: Sequence[str], synthetic: Sequence[str]) -> list[int]:
    """For each synthetic document, the length in words of its longest run of words
    found in one training document."""
    return list(measure_memorisation(training, synthetic).longest_match)


def _with_separators(corpus: EncodedCorpus, first: int) -> IntArray:
    """The corpus's ids with separator ``first + d`` after document ``d``."""
    documents = corpus.documents
    out = np.empty(len(corpus.ids) + documents, dtype=np.int64)
    owner = np.repeat(np.arange(documents, dtype=np.int64), corpus.lengths)
    out[np.arange(len(corpus.ids)) + owner] = corpus.ids
    out[corpus.starts[1:] + np.arange(documents)] = first + np.arange(documents)
    return out


def _doubling_ranks(symbols: IntArray) -> list[IntArray]:
    """``levels[j][i]``: the rank of ``symbols[i : i + 2**j]`` among all such windows
    (past the end counts as smallest), until every position's rank differs."""
    n = len(symbols)
    rank = np.unique(symbols, return_inverse=True)[1].astype(np.int64)
    levels = [rank]
    width = 1
    while n and int(rank.max()) < n - 1:
        following = np.zeros(n, dtype=np.int64)
        following[: n - width] = rank[width:] + 1  # 0: past the end
        rank = np.unique(rank * (n + 1) + following, return_inverse=True)[1].astype(np.int64)
        levels.append(rank)
        width *= 2
    return levels


@dataclass(frozen=True)
class _Index:
    """The rank levels of training + synthetic symbols, and where each part lies."""

    levels: list[IntArray]
    symbols: IntArray
    vocabulary: int
    train_length: int
    train: EncodedCorpus
    synthetic: EncodedCorpus

    @classmethod
    def build(cls, train: EncodedCorpus, synthetic: EncodedCorpus, vocabulary: int) -> _Index:
        first = _with_separators(train, vocabulary)
        second = _with_separators(synthetic, vocabulary + train.documents)
        symbols = np.concatenate([first, second])
        return cls(_doubling_ranks(symbols), symbols, vocabulary, len(first), train, synthetic)

    def common_prefix(self, a: IntArray, b: IntArray) -> IntArray:
        """Words shared at the start of the suffixes at ``a`` and ``b`` (``a != b``)."""
        shared = np.zeros(len(a), dtype=np.int64)
        for j in range(len(self.levels) - 1, -1, -1):
            rank = self.levels[j]
            equal = rank[a + shared] == rank[b + shared]
            shared += equal.astype(np.int64) << j
        return shared

    def matching_lengths(self) -> IntArray:
        """For each position of the synthetic part (separators included, as 0), the
        longest run of words starting there that occurs in a training document."""
        n = len(self.symbols)
        rank = self.levels[-1]
        order = np.empty(n, dtype=np.int64)
        order[rank] = np.arange(n)
        words = self.symbols < self.vocabulary
        training = words & (np.arange(n) < self.train_length)
        marked = training[order]
        slots = np.arange(n)
        before = np.maximum.accumulate(np.where(marked, slots, -1))
        after = np.minimum.accumulate(np.where(marked, slots, n)[::-1])[::-1]
        queries = np.flatnonzero(words[self.train_length :]) + self.train_length
        best = np.zeros(len(queries), dtype=np.int64)
        for neighbour in (before[rank[queries]], after[rank[queries]]):
            valid = (neighbour >= 0) & (neighbour < n)
            shared = self.common_prefix(queries[valid], order[neighbour[valid]])
            best[valid] = np.maximum(best[valid], shared)
        lengths = np.zeros(n - self.train_length, dtype=np.int64)
        lengths[queries - self.train_length] = best
        return lengths

    def ngram_ids(self, positions: IntArray, ngram: int) -> IntArray:
        """One id per n-gram starting at ``positions`` (equal n-grams, equal ids): the
        ranks of its first and its last 2^⌊log2 n⌋ words."""
        level = min(ngram.bit_length() - 1, len(self.levels) - 1)
        rank = self.levels[level]
        last = positions + ngram - (1 << level)
        ids: IntArray = rank[positions] * (len(self.symbols) + 1) + rank[last]
        return ids

    def part_positions(self, corpus: EncodedCorpus, ngram: int, offset: int) -> IntArray:
        """Positions in the symbol array of the n-grams of ``corpus`` (a part starting
        at ``offset``)."""
        starts = corpus.ngram_starts(ngram)
        owner = np.searchsorted(corpus.starts, starts, side="right") - 1
        positions: IntArray = starts + owner + offset
        return positions


def _reproductions(index: _Index, matches: IntArray, ngram: int) -> tuple[int, ...]:
    """(synthetic n-grams, those found in training, distinct ones found, most
    reproductions of one, then the same three for record-unique n-grams)."""
    synthetic = index.part_positions(index.synthetic, ngram, index.train_length)
    found = synthetic[matches[synthetic - index.train_length] >= ngram]
    if found.size == 0:
        return (len(synthetic), 0, 0, 0, 0, 0, 0)
    found_ids = index.ngram_ids(found, ngram)
    reproduced, times = np.unique(found_ids, return_counts=True)
    unique = np.isin(reproduced, _record_unique(index, ngram))
    return (
        len(synthetic), len(found), len(reproduced), int(times.max()),
        int(times[unique].sum()), int(unique.sum()), int(times[unique].max(initial=0)),
    )  # fmt: skip


def _record_unique(index: _Index, ngram: int) -> IntArray:
    """Ids of the training n-grams that occur in exactly one training document."""
    train_ids = index.ngram_ids(index.part_positions(index.train, ngram, 0), ngram)
    owner = np.searchsorted(index.train.starts, index.train.ngram_starts(ngram), side="right")
    held = np.unique(np.stack([train_ids, owner]), axis=1)[0]  # one entry per (n-gram, doc)
    ids, documents = np.unique(held, return_counts=True)
    unique: IntArray = ids[documents == 1]
    return unique
