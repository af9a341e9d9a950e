"""The evaluation document as a typed value: what ``evaluate`` returns and renderers read.

``to_dict()`` is the JSON document of docs/evaluation.md, key for key: ``schema_version``,
``inputs``, the sections ``fidelity``, ``utility``, ``detection``, ``diversity`` and
``privacy``, then ``text`` (only when a text column was evaluated: a table without one
gives the same document as before), ``skipped`` and ``seconds``. Measurements keep the
order in which they ran, so the JSON is the same whichever way the document is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from privsynth.evaluation.base import (
    DictView,
    MembershipResult,
    MetricResult,
    PrivacyResult,
    RiskResult,
    clean,
)

if TYPE_CHECKING:
    from privsynth.evaluation.data import EvaluationData
    from privsynth.evaluation.text.result import TextEvaluation

SCHEMA_VERSION = 1
#: the metric sections, in document order (``privacy`` follows them)
SECTIONS = ("fidelity", "utility", "detection", "diversity")


@dataclass(frozen=True)
class EvaluationInputs:
    """What was evaluated: row counts, the kind of each evaluated column, the roles."""

    real_rows: int
    synthetic_rows: int
    holdout_rows: int
    columns: dict[str, str]
    target: str | None = None
    quasi_identifiers: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    seed: int = 0

    @classmethod
    def of(cls, data: EvaluationData) -> EvaluationInputs:
        return cls(
            real_rows=len(data.real),
            synthetic_rows=len(data.synthetic),
            holdout_rows=len(data.holdout) if data.holdout is not None else 0,
            columns=dict(data.kinds),
            target=data.target,
            quasi_identifiers=tuple(data.quasi_identifiers),
            sensitive=tuple(data.sensitive),
            seed=data.seed,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "real_rows": self.real_rows,
            "synthetic_rows": self.synthetic_rows,
            "holdout_rows": self.holdout_rows,
            "columns": dict(self.columns),
            "target": self.target,
            "quasi_identifiers": list(self.quasi_identifiers),
            "sensitive": list(self.sensitive),
            "seed": self.seed,
        }


@dataclass(frozen=True)
class EvaluationResult(DictView):
    """Every measurement's result by section; a measurement that could not run is in
    ``skipped`` (name -> one-line reason) instead; ``seconds`` times each one. ``text``
    holds the free-text metrics of the named text column, if there was one."""

    inputs: EvaluationInputs
    fidelity: dict[str, MetricResult] = field(default_factory=dict)
    utility: dict[str, MetricResult] = field(default_factory=dict)
    detection: dict[str, MetricResult] = field(default_factory=dict)
    diversity: dict[str, MetricResult] = field(default_factory=dict)
    privacy: dict[str, PrivacyResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    text: TextEvaluation | None = None

    def section(self, name: str) -> dict[str, MetricResult]:
        """The metric results of section ``name`` (one of :data:`SECTIONS`)."""
        sections = {
            "fidelity": self.fidelity,
            "utility": self.utility,
            "detection": self.detection,
            "diversity": self.diversity,
        }
        return sections[name]

    def metric(self, name: str) -> MetricResult | None:
        """The metric result called ``name`` in whichever section holds it."""
        sections: list[dict[str, PrivacyResult]] = [dict(self.section(s)) for s in SECTIONS]
        for section in (*sections, self.privacy):
            found = section.get(name)
            if isinstance(found, MetricResult):
                return found
        return None

    def risk(self, name: str) -> RiskResult | None:
        """The re-identification risk ``name`` (``singling_out``, ...), if measured."""
        found = self.privacy.get(name)
        return found if isinstance(found, RiskResult) else None

    @property
    def membership(self) -> MembershipResult | None:
        """The membership-inference result, if measured."""
        found = self.privacy.get("membership_inference")
        return found if isinstance(found, MembershipResult) else None

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "inputs": clean(self.inputs.to_dict()),
        }
        for name in SECTIONS:
            document[name] = {key: r.to_dict() for key, r in self.section(name).items()}
        document["privacy"] = {key: r.to_dict() for key, r in self.privacy.items()}
        if self.text is not None:
            document["text"] = self.text.to_dict()
        document["skipped"] = dict(self.skipped)
        document["seconds"] = dict(self.seconds)
        return document
