"""Can a classifier tell synthetic documents from real ones?

If a plain TF-IDF + logistic regression classifier (:mod:`.classifiers`) separates the
two corpora, the generator left a surface signature (a tic, a missing register, wrong
lengths) that downstream users would trip over too. Reported as the 5-fold
cross-validated ROC AUC, folded to ``max(auc, 1 − auc)`` as the tabular
``detection_auc`` is: 0.5 = indistinguishable (best), 1 = every document told apart.

Identical documents (after whitespace normalisation) are kept in one fold: otherwise a
training document copied into the synthetic corpus sits in training with one label and
in testing with the other, and the classifier's memory of it, not any difference
between the corpora, would pull the AUC around.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from privsynth.errors import InputDataError
from privsynth.evaluation.base import clean
from privsynth.evaluation.text.classifiers import normalised, one_thread, text_classifier

FOLDS = 5
#: documents per corpus the classifier sees at most (a seeded sample beyond that)
MAX_DOCUMENTS = 5_000


@dataclass(frozen=True)
class TextDetection:
    """The folded cross-validated AUC, the raw one and each fold's, and the sample."""

    auc: float
    raw_auc: float
    fold_aucs: tuple[float, ...]
    real_documents: int
    synthetic_documents: int

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = clean(
            {
                "auc": self.auc, "raw_auc": self.raw_auc, "fold_aucs": list(self.fold_aucs),
                "real_documents": self.real_documents,
                "synthetic_documents": self.synthetic_documents,
            }
        )  # fmt: skip
        return data


def _sample(texts: list[str], limit: int, rng: np.random.Generator) -> list[str]:
    if len(texts) <= limit:
        return texts
    return [texts[i] for i in sorted(rng.choice(len(texts), limit, replace=False))]


def detection_auc(
    real: Sequence[str], synthetic: Sequence[str], *, seed: int = 0,
    max_documents: int = MAX_DOCUMENTS,
) -> TextDetection:  # fmt: skip
    """Cross-validated AUC of TF-IDF + logistic regression separating the corpora."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    rng = np.random.default_rng([seed, 31])
    real_docs = _sample(normalised(real), max_documents, rng)
    synthetic_docs = _sample(normalised(synthetic), max_documents, rng)
    if min(len(real_docs), len(synthetic_docs)) < FOLDS:
        raise InputDataError(f"text detection needs at least {FOLDS} documents on each side")
    texts = np.asarray(real_docs + synthetic_docs, dtype=object)
    labels = np.repeat([0, 1], [len(real_docs), len(synthetic_docs)])
    groups = np.unique(texts, return_inverse=True)[1]
    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    aucs = []
    for train, test in splitter.split(texts, labels, groups):
        if len(np.unique(labels[train])) < 2 or len(np.unique(labels[test])) < 2:
            continue  # a fold of copies only: nothing to learn or to score
        with one_thread():
            model = text_classifier(seed).fit(list(texts[train]), labels[train])
            scores = model.predict_proba(list(texts[test]))[:, 1]
        aucs.append(float(roc_auc_score(labels[test], scores)))
    if not aucs:
        raise InputDataError("no fold held both real and synthetic documents")
    raw = float(np.mean(aucs))
    return TextDetection(max(raw, 1.0 - raw), raw, tuple(aucs), len(real_docs), len(synthetic_docs))
