"""The audit document as a typed value: the evaluation, the checks, provenance and the
verdicts, which ``report.json`` holds and the report page and figures render.

``to_dict()`` is report.json's content (docs/compliance.md): ``document_version``, the
evaluation's keys at the top level (so a criterion's path ``privacy/singling_out/ci/1``
reads the evaluation directly), then ``checks``, ``provenance``, ``policies`` and the
overall ``passed``. Policies judge :meth:`AuditDocument.evidence`, the same document
before any verdict, so a criterion reads the same value from a file as in memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from privsynth.compliance.checks import ComplianceChecks
from privsynth.compliance.policy import PolicyVerdict
from privsynth.compliance.provenance import Provenance
from privsynth.evaluation.base import DictView, clean
from privsynth.evaluation.result import EvaluationResult

DOCUMENT_VERSION = 1


@dataclass(frozen=True)
class AuditDocument(DictView):
    """An audit: everything in it is an aggregate or public, no record of the real data."""

    evaluation: EvaluationResult
    checks: ComplianceChecks
    provenance: Provenance
    policies: tuple[PolicyVerdict, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every policy's automated criteria were met."""
        return all(policy.passed for policy in self.policies)

    def verdicts(self) -> dict[str, bool]:
        """Policy name -> passed."""
        return {policy.name: policy.passed for policy in self.policies}

    def evidence(self) -> dict[str, Any]:
        """The JSON document before verdicts: what each policy's criteria read."""
        document: dict[str, Any] = {
            "document_version": DOCUMENT_VERSION,
            **self.evaluation.to_dict(),
            "checks": self.checks.to_dict(),
            "provenance": self.provenance.to_dict(),
        }
        cleaned: dict[str, Any] = clean(document)
        return cleaned

    def to_dict(self) -> dict[str, Any]:
        policies = [policy.to_dict() for policy in self.policies]
        return {**self.evidence(), "policies": policies, "passed": self.passed}

    def to_json(self) -> str:
        """report.json's text."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
