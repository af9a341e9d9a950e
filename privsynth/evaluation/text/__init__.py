"""Metrics for synthetic free text: diversity, distribution, detection, utility,
memorisation and canary exposure (docs/evaluation.md, "Text").

Every metric is a pure function over lists of documents (strings); each is also a
registered measurement with a goal and a range (:mod:`.metrics`), which
:func:`evaluate_text` runs into a typed :class:`TextEvaluation`. One concept per module:
:mod:`.tokens`, :mod:`.lexical`, :mod:`.embedder`, :mod:`.vendi`, :mod:`.distribution`,
:mod:`.detection`, :mod:`.utility`, :mod:`.memorisation`, :mod:`.exposure`.
"""

from __future__ import annotations

from privsynth.evaluation.text.detection import TextDetection, detection_auc
from privsynth.evaluation.text.distribution import (
    frechet_distance,
    frechet_distance_embeddings,
    mauve_style,
    mauve_style_embeddings,
)
from privsynth.evaluation.text.embedder import SentenceEmbedder
from privsynth.evaluation.text.evaluate import evaluate_text, evaluate_text_column
from privsynth.evaluation.text.exposure import (
    Canary,
    CanaryExposure,
    CanaryFormat,
    canary_exposure,
    verbatim_count,
)
from privsynth.evaluation.text.lexical import distinct_n, ngram_entropy
from privsynth.evaluation.text.memorisation import (
    Memorisation,
    longest_training_matches,
    measure_memorisation,
)
from privsynth.evaluation.text.metrics import TEXT_METRICS, TEXT_SECTIONS, TextMetric
from privsynth.evaluation.text.result import CanaryResult, TextEvaluation, TextInputs
from privsynth.evaluation.text.utility import TextUtility, labelled, text_tstr
from privsynth.evaluation.text.vendi import vendi_score, vendi_score_embeddings

__all__ = [
    "TEXT_METRICS",
    "TEXT_SECTIONS",
    "Canary",
    "CanaryExposure",
    "CanaryFormat",
    "CanaryResult",
    "Memorisation",
    "SentenceEmbedder",
    "TextDetection",
    "TextEvaluation",
    "TextInputs",
    "TextMetric",
    "TextUtility",
    "canary_exposure",
    "detection_auc",
    "distinct_n",
    "evaluate_text",
    "evaluate_text_column",
    "frechet_distance",
    "frechet_distance_embeddings",
    "labelled",
    "longest_training_matches",
    "mauve_style",
    "mauve_style_embeddings",
    "measure_memorisation",
    "ngram_entropy",
    "text_tstr",
    "vendi_score",
    "vendi_score_embeddings",
    "verbatim_count",
]
