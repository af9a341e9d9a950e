"""Lexical diversity: how varied the words and phrases of a corpus are.

A generator that collapses onto a few stock sentences, or repeats one template, shows
it first in its n-grams: few distinct ones, and a peaked distribution of them.

* ``distinct_n`` (Li et al. 2016, "A diversity-promoting objective function for neural
  conversation models"): distinct n-grams / all n-grams of the corpus, in [0, 1];
* ``ngram_entropy``: the Shannon entropy (bits) of the corpus's n-gram frequencies, in
  [0, log2(number of n-grams)]; it also counts how evenly the n-grams are used.

Both grow with corpus size (a larger corpus repeats itself more but also holds more
rare n-grams), so comparing a synthetic corpus with the real one is only fair on equal
numbers of documents: the text evaluation compares equal-size samples (``relative``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from privsynth.errors import InputDataError
from privsynth.evaluation.text.tokens import EncodedCorpus, IntArray, encode, ngram_codes


def _codes(texts: Sequence[str] | EncodedCorpus, n: int, vocabulary: int = 0) -> IntArray:
    if n < 1:
        raise ValueError("n must be at least 1")
    if isinstance(texts, EncodedCorpus):
        corpus, size = texts, vocabulary
    else:
        (corpus,), size = encode(texts)
    codes = ngram_codes(corpus, n, size)
    if codes.size == 0:
        raise InputDataError(
            f"the texts hold no {n}-gram of words",
            hint="give documents with at least n words",
        )
    return codes


def distinct_n(texts: Sequence[str] | EncodedCorpus, n: int = 1, vocabulary: int = 0) -> float:
    """Distinct n-grams / total n-grams over the corpus (word tokens, lowercased).

    ``texts`` may be a corpus already encoded (with its ``vocabulary`` size), so that
    several measures share one tokenisation."""
    codes = _codes(texts, n, vocabulary)
    return float(np.unique(codes).size / codes.size)


def ngram_entropy(texts: Sequence[str] | EncodedCorpus, n: int = 1, vocabulary: int = 0) -> float:
    """Shannon entropy in bits of the corpus's n-gram distribution."""
    codes = _codes(texts, n, vocabulary)
    counts = np.unique(codes, return_counts=True)[1].astype(np.float64)
    shares = counts / counts.sum()
    return float(-(shares * np.log2(shares)).sum())


def relative(synthetic: float, real: float) -> float:
    """``synthetic / real`` (1 = as diverse as the real text); NaN when real is 0."""
    return synthetic / real if real != 0 else float("nan")
