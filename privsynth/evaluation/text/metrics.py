"""The text metrics as registered measurements, each with its goal and range.

As the tabular metrics do (:mod:`privsynth.evaluation.base`), every text metric declares
which way is better and what it can range over, belongs to one section of the ``text``
document (``lexical``, ``embedding``, ``detection``, ``utility``, ``memorisation``),
and registers under its name in :data:`TEXT_METRICS`, so a new one is one decorator
away. Metrics whose ideal is a value rather than an end of their range (a ratio to the
real text, an AUC of 0.5) say so in ``details["ideal"]``, which the report shows.

Each metric reads :class:`~privsynth.evaluation.text.data.TextData`, where the costly
parts (embeddings, the memorisation index, the classifiers) are computed once.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from privsynth.evaluation.base import Goal, MetricResult
from privsynth.evaluation.text.data import TextData
from privsynth.evaluation.text.distribution import (
    frechet_distance_embeddings,
    mauve_style_embeddings,
)
from privsynth.evaluation.text.lexical import distinct_n, ngram_entropy, relative
from privsynth.evaluation.text.memorisation import NGRAM
from privsynth.evaluation.text.vendi import vendi_score_embeddings
from privsynth.registry import Registry

#: the sections of the ``text`` document, in order
TEXT_SECTIONS = ("lexical", "embedding", "detection", "utility", "memorisation")
INF = math.inf


class TextMetric(ABC):
    """A measurement of synthetic text against real text."""

    name: ClassVar[str]
    goal: ClassVar[Goal]
    low: ClassVar[float] = 0.0
    high: ClassVar[float] = 1.0
    section: ClassVar[str]

    @abstractmethod
    def compute(self, data: TextData) -> MetricResult:
        """Measure ``data``."""

    def result(self, value: float, *, high: float | None = None, **details: Any) -> MetricResult:
        """A result with this metric's goal and range (``high`` when it depends on the
        data, such as the Vendi score's number of documents)."""
        top = self.high if high is None else high
        return MetricResult(self.name, float(value), self.goal, self.low, top, details)


TEXT_METRICS: Registry[type[TextMetric]] = Registry("text metric")


# --- lexical ---------------------------------------------------------------------------


class _Lexical(TextMetric):
    """distinct-n or n-gram entropy of the synthetic text, or its ratio to the real
    text's, on equal numbers of documents."""

    section = "lexical"
    goal = "maximize"
    n: ClassVar[int]
    entropy: ClassVar[bool] = False
    ratio: ClassVar[bool] = False

    def compute(self, data: TextData) -> MetricResult:
        measure = ngram_entropy if self.entropy else distinct_n
        real_docs, synthetic_docs, size = data.equal_size_encoded
        synthetic = measure(synthetic_docs, self.n, size)
        real = measure(real_docs, self.n, size)
        details = {"synthetic": synthetic, "real": real, "documents": synthetic_docs.documents}
        if self.ratio:
            return self.result(relative(synthetic, real), ideal=1.0, **details)
        return self.result(synthetic, **details)


def _register_lexical() -> None:
    """distinct_{n}, entropy_{n} and their ``_relative`` forms for n = 1, 2, 3."""
    for n in (1, 2, 3):
        for kind, entropy in (("distinct", False), ("entropy", True)):
            for suffix, ratio in (("", False), ("_relative", True)):
                name = f"{kind}_{n}{suffix}"
                attributes = {"name": name, "n": n, "entropy": entropy, "ratio": ratio,
                              "high": INF if (entropy or ratio) else 1.0,
                              "__doc__": _Lexical.__doc__}  # fmt: skip
                TEXT_METRICS.register(name)(type(f"Lexical_{name}", (_Lexical,), attributes))


_register_lexical()


# --- embeddings ------------------------------------------------------------------------


@TEXT_METRICS.register("vendi_score")
class VendiScore(TextMetric):
    """Effective number of distinct synthetic documents (Friedman & Dieng 2023), on
    as many documents as the real side has; range [1, documents]."""

    name = "vendi_score"
    section = "embedding"
    goal = "maximize"
    low = 1.0
    high = INF  # each result's is its number of documents

    def compute(self, data: TextData) -> MetricResult:
        real, synthetic = data.equal_size_embeddings
        value = vendi_score_embeddings(synthetic)
        return self.result(
            value, high=float(len(synthetic)), real=vendi_score_embeddings(real),
            documents=len(synthetic), model=data.model.name,
        )  # fmt: skip


@TEXT_METRICS.register("vendi_score_relative")
class VendiScoreRelative(TextMetric):
    """Synthetic / real Vendi score on equal numbers of documents (1 ideal; below 1:
    the generator says fewer distinct things than the real notes)."""

    name = "vendi_score_relative"
    section = "embedding"
    goal = "maximize"
    high = INF

    def compute(self, data: TextData) -> MetricResult:
        real, synthetic = (vendi_score_embeddings(x) for x in data.equal_size_embeddings)
        return self.result(relative(synthetic, real), ideal=1.0, synthetic=synthetic, real=real)


@TEXT_METRICS.register("frechet_distance")
class FrechetDistance(TextMetric):
    """Fréchet distance between Gaussian fits of real and synthetic embeddings (0 ideal)."""

    name = "frechet_distance"
    section = "embedding"
    goal = "minimize"
    high = INF

    def compute(self, data: TextData) -> MetricResult:
        value = frechet_distance_embeddings(data.real_embeddings, data.synthetic_embeddings)
        return self.result(
            value, real_documents=len(data.real_embeddings),
            synthetic_documents=len(data.synthetic_embeddings), model=data.model.name,
            truncated_share=data.truncated_share,
        )  # fmt: skip


@TEXT_METRICS.register("mauve_style")
class MauveStyle(TextMetric):
    """MAUVE-style divergence-frontier score of the embeddings (our implementation of
    Pillutla et al. 2021; 1 = same distribution)."""

    name = "mauve_style"
    section = "embedding"
    goal = "maximize"

    def compute(self, data: TextData) -> MetricResult:
        real, synthetic = data.real_embeddings, data.synthetic_embeddings
        value = mauve_style_embeddings(real, synthetic, data.seed)
        return self.result(
            value, clusters=max(2, round(min(len(real), len(synthetic)) / 10)),
            scaling=5.0, implementation="privsynth (MAUVE-style, not the mauve package)",
        )  # fmt: skip


# --- detection and utility -------------------------------------------------------------


@TEXT_METRICS.register("text_detection_auc")
class TextDetectionAUC(TextMetric):
    """5-fold AUC of TF-IDF + logistic regression telling synthetic from real documents,
    folded to max(auc, 1 − auc): 0.5 = indistinguishable (ideal)."""

    name = "text_detection_auc"
    section = "detection"
    goal = "minimize"
    low = 0.5

    def compute(self, data: TextData) -> MetricResult:
        found = data.detection
        return self.result(found.auc, ideal=0.5, **found.to_dict())


@TEXT_METRICS.register("text_tstr")
class TextTSTR(TextMetric):
    """Macro-F1 on real documents of a label classifier trained on synthetic text, with
    accuracy, the majority-class floor, TRTR and the TSTR / TRTR ratio in details."""

    name = "text_tstr"
    section = "utility"
    goal = "maximize"

    def compute(self, data: TextData) -> MetricResult:
        found = data.utility
        return self.result(found.tstr.macro_f1, tested_on=data.tested_on, **found.to_dict())


# --- memorisation ----------------------------------------------------------------------


class _Memorised(TextMetric):
    """A memorisation figure (:mod:`~privsynth.evaluation.text.memorisation`): counts
    and shares only, never the reproduced text."""

    section = "memorisation"
    goal = "minimize"
    high = INF
    field: ClassVar[str]

    def compute(self, data: TextData) -> MetricResult:
        found = data.memorisation
        value = getattr(found, self.field)
        return self.result(value, ngram=found.ngram, **self.extra(data))

    def extra(self, data: TextData) -> dict[str, Any]:
        return {}


@TEXT_METRICS.register("longest_training_match")
class LongestTrainingMatch(_Memorised):
    """The longest run of words any synthetic document shares with one training
    document; quantiles over documents and the holdout's (real unseen text) alongside."""

    name = "longest_training_match"
    field = "longest"

    def extra(self, data: TextData) -> dict[str, Any]:
        control = data.holdout_memorisation
        return {
            "per_document": data.memorisation.summary(),
            "holdout": control.summary() if control is not None else None,
        }


def _against_holdout(value: float, control: float | None) -> dict[str, Any]:
    """The holdout's share (real text the generator never saw, against the same
    training text) and the synthetic text's excess over it (None without a holdout)."""
    return {
        "holdout_share": control,
        "excess_over_holdout": value - control if control is not None else None,
    }


@TEXT_METRICS.register(f"training_{NGRAM}gram_share")
class TrainingNgramShare(_Memorised):
    """Share of synthetic 8-grams found in some training document; the holdout's share
    is the level that shared boilerplate alone reaches."""

    name = f"training_{NGRAM}gram_share"
    field = "reproduced_share"
    high = 1.0

    def extra(self, data: TextData) -> dict[str, Any]:
        control = data.holdout_memorisation
        found = data.memorisation
        return {
            "synthetic_ngrams": found.synthetic_ngrams,
            **_against_holdout(
                found.reproduced_share, control.reproduced_share if control else None
            ),
        }


@TEXT_METRICS.register(f"unique_training_{NGRAM}gram_share")
class UniqueNgramShare(_Memorised):
    """Share of synthetic 8-grams that occur in exactly one training document (a
    record's own phrasing); its excess over the holdout's share is what a generator
    copied from individual records beyond what templates explain."""

    name = f"unique_training_{NGRAM}gram_share"
    field = "unique_reproduced_share"
    high = 1.0

    def extra(self, data: TextData) -> dict[str, Any]:
        control = data.holdout_memorisation
        found = data.memorisation
        share = control.unique_reproduced_share if control is not None else None
        return {
            "synthetic_ngrams": found.synthetic_ngrams,
            **_against_holdout(found.unique_reproduced_share, share),
        }


@TEXT_METRICS.register(f"distinct_training_{NGRAM}grams_reproduced")
class DistinctReproduced(_Memorised):
    """Distinct training 8-grams that appear in the synthetic text."""

    name = f"distinct_training_{NGRAM}grams_reproduced"
    field = "distinct_reproduced"


@TEXT_METRICS.register(f"max_training_{NGRAM}gram_reproductions")
class MaxReproductions(_Memorised):
    """The most times one training 8-gram appears across the synthetic text."""

    name = f"max_training_{NGRAM}gram_reproductions"
    field = "max_reproductions"


@TEXT_METRICS.register(f"unique_training_{NGRAM}grams_reproduced")
class UniqueReproduced(_Memorised):
    """Distinct record-unique training 8-grams (in one training document only) that
    appear in the synthetic text."""

    name = f"unique_training_{NGRAM}grams_reproduced"
    field = "distinct_unique_reproduced"


@TEXT_METRICS.register(f"max_unique_training_{NGRAM}gram_reproductions")
class MaxUniqueReproductions(_Memorised):
    """The most times one record-unique training 8-gram appears in the synthetic text."""

    name = f"max_unique_training_{NGRAM}gram_reproductions"
    field = "max_unique_reproductions"
