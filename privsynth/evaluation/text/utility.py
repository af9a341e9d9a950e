"""Train on synthetic, test on real (TSTR): is the synthetic text useful for learning?

A classifier of a label (the note's specialty, say) is trained on the synthetic
(text, label) pairs and tested on real ones; the same classifier trained on real
training text (TRTR, when a real test split is given) is the yardstick, and
``ratio = TSTR / TRTR`` says how much of the real data's usefulness survived. The
majority-class accuracy (always answering the real test set's most frequent label, the
best any constant answer does) is the floor below which the classifier learned nothing.

Labels need not match: a label seen only in the synthetic corpus is one the classifier
may predict, always wrongly; one seen only in the real test set is one it can never
predict, so its documents count as errors. Macro-F1 averages over the real test set's
labels. Documents whose label is missing are left out. The classifier is TF-IDF +
logistic regression with balanced class weights (:mod:`.classifiers`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.evaluation.base import clean
from privsynth.evaluation.text.classifiers import one_thread, text_classifier

Labelled = tuple[list[str], list[str]]
#: documents and their labels as given (labels of any type, some maybe missing)
RawLabelled = tuple[Sequence[str], Sequence[object]]


@dataclass(frozen=True)
class ClassifierScore:
    """Accuracy and macro-F1 (over the test set's labels) on the real test documents."""

    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class TextUtility:
    """TSTR scores, the TRTR yardstick (if a real split was given), their ratio
    (macro-F1, and accuracy), the majority-class floor and counts of documents and of
    labels seen on one side only (counts, never the labels)."""

    tstr: ClassifierScore
    trtr: ClassifierScore | None
    majority_baseline: float
    train_documents: int
    test_documents: int
    labels_only_in_synthetic: int
    labels_only_in_real: int

    @property
    def ratio(self) -> float | None:
        """TSTR / TRTR macro-F1 (1 = as useful as the real training text)."""
        return _ratio(self.tstr.macro_f1, self.trtr.macro_f1) if self.trtr else None

    @property
    def accuracy_ratio(self) -> float | None:
        return _ratio(self.tstr.accuracy, self.trtr.accuracy) if self.trtr else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = clean(
            {
                "tstr": asdict(self.tstr),
                "trtr": asdict(self.trtr) if self.trtr else None,
                "ratio": self.ratio,
                "accuracy_ratio": self.accuracy_ratio,
                "majority_baseline": self.majority_baseline,
                "train_documents": self.train_documents,
                "test_documents": self.test_documents,
                "labels_only_in_synthetic": self.labels_only_in_synthetic,
                "labels_only_in_real": self.labels_only_in_real,
            }
        )
        return data


def _ratio(value: float, reference: float) -> float | None:
    return value / reference if reference > 0 else None


def _label(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def labelled(texts: Sequence[str], labels: Sequence[object], side: str) -> Labelled:
    """The documents of ``texts`` that have a label, and their labels as text."""
    if len(texts) != len(labels):
        raise ConfigurationError(
            f"the {side} texts and labels differ in length ({len(texts)} and {len(labels)})",
            hint="give one label per document",
        )
    pairs = ((text, _label(raw)) for text, raw in zip(texts, labels, strict=True))
    kept = [(text, label) for text, label in pairs if label is not None]
    if not kept:
        raise InputDataError(f"no {side} document has a label")
    return [text for text, _ in kept], [label for _, label in kept]


def _predict(train: Labelled, test_texts: list[str], seed: int) -> list[str]:
    """Labels predicted for ``test_texts`` by the classifier fitted on ``train``; a
    training set with one label can only answer that label."""
    classes = sorted(set(train[1]))
    if len(classes) == 1:
        return [classes[0]] * len(test_texts)
    with one_thread():
        model = text_classifier(seed, balanced=True).fit(train[0], train[1])
        return [str(label) for label in model.predict(test_texts)]


def _score(predicted: list[str], truth: list[str]) -> ClassifierScore:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(truth))
    macro = f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
    return ClassifierScore(float(accuracy_score(truth, predicted)), float(macro))


def text_tstr(
    synthetic: RawLabelled,
    test: RawLabelled,
    real_train: RawLabelled | None = None,
    *,
    seed: int = 0,
) -> TextUtility:
    """TSTR (and TRTR when ``real_train`` is given) of a label classifier; each argument
    is ``(texts, labels)``; documents without a label are left out."""
    train = labelled(*synthetic, "synthetic")
    truth = labelled(*test, "real test")
    trtr = None
    if real_train is not None:
        trtr = _score(_predict(labelled(*real_train, "real training"), truth[0], seed), truth[1])
    majority = Counter(truth[1]).most_common(1)[0][1] / len(truth[1])
    return TextUtility(
        tstr=_score(_predict(train, truth[0], seed), truth[1]),
        trtr=trtr,
        majority_baseline=float(majority),
        train_documents=len(train[0]),
        test_documents=len(truth[0]),
        labels_only_in_synthetic=len(set(train[1]) - set(truth[1])),
        labels_only_in_real=len(set(truth[1]) - set(train[1])),
    )
