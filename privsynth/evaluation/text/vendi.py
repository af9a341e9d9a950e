"""The Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric
for Machine Learning"): the effective number of distinct documents in a corpus.

With ``K`` the n × n cosine-similarity matrix of the documents' embeddings, the score
is ``exp(H)``, ``H`` the Shannon entropy (natural log) of the eigenvalues of ``K / n``:
1 when every document says the same thing, n when all are orthogonal. Unlike n-gram
counts it sees paraphrase, so a generator that rephrases one note many ways scores low.

For unit vectors, ``K / n = X Xᵀ / n`` has the same non-zero eigenvalues as the d × d
matrix ``Xᵀ X / n``; the smaller of the two is decomposed, so 3,000 documents cost a
384 × 384 eigendecomposition, not a 3,000 × 3,000 one. The score is bounded by
``min(n, d)`` and grows with n, so corpora are compared on equal numbers of documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from privsynth.errors import InputDataError
from privsynth.evaluation.text.classifiers import one_thread

if TYPE_CHECKING:
    from privsynth.evaluation.text.embedder import FloatMatrix, SentenceEmbedder


def unit_rows(embeddings: FloatMatrix) -> FloatMatrix:
    """Rows scaled to length 1 (cosine similarity is then a dot product)."""
    x = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    scaled: FloatMatrix = x / np.where(norms > 0, norms, 1.0)
    return scaled


def vendi_score_embeddings(embeddings: FloatMatrix) -> float:
    """exp(entropy of the eigenvalues of K / n), K the cosine similarities of the rows."""
    x = unit_rows(embeddings)
    n = x.shape[0]
    if n == 0:
        raise InputDataError("the Vendi score needs at least one document")
    with one_thread():
        gram = (x.T @ x if x.shape[1] < n else x @ x.T) / n
        eigenvalues = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    shares = eigenvalues[eigenvalues > 1e-12]
    shares = shares / shares.sum()
    return float(np.exp(-(shares * np.log(shares)).sum()))


def vendi_score(texts: Sequence[str], embedder: SentenceEmbedder | None = None) -> float:
    """The Vendi score of ``texts`` embedded by ``embedder`` (default: bundled MiniLM)."""
    from privsynth.evaluation.text.embedder import resolve_embedder

    return vendi_score_embeddings(resolve_embedder(embedder).encode(texts))
