"""The one text classifier the detection and utility measures share.

TF-IDF of word 1- and 2-grams (sublinear term frequency) feeding a logistic regression:
fast on thousands of documents, strong on the surface cues (boilerplate, stock phrases,
word choice) that tell generated text apart, and a standard baseline for document
classification, so its accuracy on the real labels is a meaningful utility yardstick.
The vectoriser is fitted inside each training fold, never on test documents.

The text metrics' numeric steps run with one BLAS/OpenMP thread (:func:`one_thread`):
their matrices are small (384-dimensional embeddings, lbfgs steps of a linear model),
so extra threads cost more than they give, and after the embedding model has run its
OpenMP workers compete with BLAS's for the cores. Measured on 2 cores: TSTR on 1,000
mtsamples notes took 42 s with the default threads and 18 s with one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

#: terms kept by the vectoriser (most frequent first): bounds memory on large corpora
MAX_FEATURES = 100_000


def text_classifier(seed: int = 0, *, balanced: bool = False) -> Any:
    """An unfitted TF-IDF (word 1-2 grams) + logistic regression pipeline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=MAX_FEATURES,
            dtype=np.float32,
        ),
        LogisticRegression(
            max_iter=2000, class_weight="balanced" if balanced else None,
            random_state=seed,
        ),
    )  # fmt: skip


def normalised(texts: Sequence[str]) -> list[str]:
    """Texts with runs of whitespace as one space (so copies differing only in spacing
    count as copies)."""
    return [" ".join(text.split()) for text in texts]


def one_thread() -> Any:
    """Context manager holding BLAS and OpenMP to one thread (see the module)."""
    return threadpool_limits(limits=1)
