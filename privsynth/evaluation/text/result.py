"""The text evaluation as a typed value: the ``text`` section of the evaluation document.

``to_dict()`` is what ``eval.json`` and ``report.json`` hold under ``text`` (see
docs/evaluation.md): ``inputs``, the metric sections ``lexical``, ``embedding``,
``detection``, ``utility`` and ``memorisation`` (name -> metric result, the shape every
metric has), ``canaries``, then ``skipped`` and ``seconds``. Everything in it is a count,
a rate or a score: no document, no n-gram, no canary secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privsynth.evaluation.base import DictView, MetricResult, clean
from privsynth.evaluation.text.exposure import CanaryExposure
from privsynth.evaluation.text.metrics import TEXT_SECTIONS


@dataclass(frozen=True)
class TextInputs:
    """What was compared: the column and label (when read from tables), document counts
    (documents with a missing text left out, and counted), the model, the seed."""

    real_documents: int
    synthetic_documents: int
    test_documents: int = 0
    column: str | None = None
    label: str | None = None
    missing_texts: int = 0
    model: str | None = None
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "label": self.label,
            "real_documents": self.real_documents,
            "synthetic_documents": self.synthetic_documents,
            "test_documents": self.test_documents,
            "missing_texts": self.missing_texts,
            "model": self.model,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class CanaryResult:
    """One canary: how often it appears verbatim in the synthetic text, and its exposure
    when the generator's likelihood was given."""

    name: str
    verbatim: int
    exposure: CanaryExposure | None = None

    def to_dict(self) -> dict[str, Any]:
        found = self.exposure.to_dict() if self.exposure is not None else {}
        found.pop("name", None)
        data: dict[str, Any] = clean({"verbatim": self.verbatim, **found})
        return data


@dataclass(frozen=True)
class TextEvaluation(DictView):
    """Every text metric's result by section; one that could not run is in ``skipped``
    (name -> one-line reason); ``seconds`` times each."""

    inputs: TextInputs
    lexical: dict[str, MetricResult] = field(default_factory=dict)
    embedding: dict[str, MetricResult] = field(default_factory=dict)
    detection: dict[str, MetricResult] = field(default_factory=dict)
    utility: dict[str, MetricResult] = field(default_factory=dict)
    memorisation: dict[str, MetricResult] = field(default_factory=dict)
    canaries: dict[str, CanaryResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, MetricResult]:
        """The metric results of section ``name`` (one of ``TEXT_SECTIONS``)."""
        sections = {
            "lexical": self.lexical,
            "embedding": self.embedding,
            "detection": self.detection,
            "utility": self.utility,
            "memorisation": self.memorisation,
        }
        return sections[name]

    def metric(self, name: str) -> MetricResult | None:
        """The result of text metric ``name``, in whichever section holds it."""
        for section in TEXT_SECTIONS:
            found = self.section(section).get(name)
            if found is not None:
                return found
        return None

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"inputs": clean(self.inputs.to_dict())}
        for name in TEXT_SECTIONS:
            document[name] = {key: r.to_dict() for key, r in self.section(name).items()}
        document["canaries"] = {key: c.to_dict() for key, c in self.canaries.items()}
        document["skipped"] = dict(self.skipped)
        document["seconds"] = dict(self.seconds)
        return document
