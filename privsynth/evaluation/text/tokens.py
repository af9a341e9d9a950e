"""Word tokens, as every lexical and memorisation measure counts them.

One tokenizer for all of them, so that "distinct 2-grams" and "8-grams reproduced from
training" count the same units: runs of word characters (letters, digits, underscore),
lowercased; punctuation and spacing are not tokens. Transcriptions differ from each other
far more in words than in commas, and lowercasing keeps a heading in capitals ("HISTORY
OF PRESENT ILLNESS") the same words as in a sentence.

Corpora are encoded to integer ids over one shared vocabulary so n-grams can be counted
and compared with numpy instead of Python tuples.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+")

IntArray = npt.NDArray[np.int64]


def words(text: str) -> list[str]:
    """The lowercased word tokens of ``text``."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class EncodedCorpus:
    """A corpus as one array of token ids and where each document starts in it.

    ``ids[starts[d]:starts[d + 1]]`` are document ``d``'s tokens (``starts`` has one more
    entry than there are documents); n-grams never cross a document boundary."""

    ids: IntArray
    starts: IntArray

    @property
    def documents(self) -> int:
        return len(self.starts) - 1

    @property
    def lengths(self) -> IntArray:
        lengths: IntArray = np.diff(self.starts)
        return lengths

    def ngram_starts(self, n: int) -> IntArray:
        """Positions in ``ids`` where an n-gram lies wholly inside one document."""
        ends = np.repeat(self.starts[1:], self.lengths)
        positions = np.arange(len(self.ids), dtype=np.int64)
        found: IntArray = positions[positions + n <= ends]
        return found


def encode(*corpora: Sequence[str]) -> tuple[list[EncodedCorpus], int]:
    """Each corpus encoded over one shared vocabulary, and the vocabulary's size."""
    vocabulary: dict[str, int] = {}
    encoded = []
    for texts in corpora:
        ids: list[int] = []
        starts = [0]
        for text in texts:
            ids.extend(vocabulary.setdefault(token, len(vocabulary)) for token in words(text))
            starts.append(len(ids))
        encoded.append(
            EncodedCorpus(np.asarray(ids, dtype=np.int64), np.asarray(starts, dtype=np.int64))
        )
    return encoded, len(vocabulary)


def ngram_codes(corpus: EncodedCorpus, n: int, vocabulary_size: int) -> IntArray:
    """One integer per n-gram of ``corpus`` (equal n-grams, equal codes), for small n.

    A code is the n ids as digits in base ``vocabulary_size``; when that would overflow
    64 bits, codes are built column by column and re-numbered densely instead."""
    starts = corpus.ngram_starts(n)
    base = max(vocabulary_size, 1)
    if n * np.log2(base + 1) < 62:
        codes = np.zeros(len(starts), dtype=np.int64)
        for offset in range(n):
            codes = codes * base + corpus.ids[starts + offset]
        return codes
    codes = np.zeros(len(starts), dtype=np.int64)
    for offset in range(n):
        pairs = codes * base + corpus.ids[starts + offset]
        codes = np.unique(pairs, return_inverse=True)[1].astype(np.int64)
    return codes
