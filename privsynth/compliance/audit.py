"""An audit: the evaluation a set of policies needs, the checks, provenance, verdicts.

The result is an :class:`~privsynth.compliance.document.AuditDocument`; its JSON form
keeps the evaluation's sections at the top level and adds ``checks``, ``provenance``,
``policies`` and the overall ``passed``. Everything in it is an aggregate or public: no
record of the real data.

With a text column, the tabular measurements read the other columns, the text metrics
(``text`` section) read that column, and the residual-PII scan reads every column of
the synthetic table, the free text included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from privsynth.compliance.checks import compliance_checks
from privsynth.compliance.document import AuditDocument
from privsynth.compliance.policy import Policy, judge
from privsynth.compliance.provenance import (
    LedgerPrivacy,
    fingerprints,
    privacy_from_ledger,
    provenance,
)
from privsynth.dp.ledger import Ledger
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.runner import evaluate
from privsynth.fingerprint import PREFIX, env_key
from privsynth.io import fingerprint
from privsynth.schema import Schema

if TYPE_CHECKING:
    from privsynth.evaluation.text.embedder import SentenceEmbedder
    from privsynth.evaluation.text.result import TextEvaluation


@dataclass
class AuditInputs:
    """The tables, what is known about them, and where their privacy was accounted."""

    real: pd.DataFrame
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None = None
    schema: Schema | None = None
    target: str | None = None
    quasi_identifiers: Sequence[str] | None = None
    sensitive: Sequence[str] | None = None
    sources: dict[str, str | Path | pd.DataFrame] = field(default_factory=dict)
    ledger: Ledger | None = None
    dataset: str | None = None
    run_id: str | None = None
    seed: int = 0
    #: the column identifying the person behind each row: attacks then target persons,
    #: and the membership result records it under ``unit``
    privacy_unit: str | None = None
    #: a free-text column: evaluated by the text metrics (labels from ``target``), left
    #: out of the tabular ones
    text_column: str | None = None
    #: the sentence embedder of the text metrics (a model directory; None: bundled MiniLM)
    text_embedder: SentenceEmbedder | str | Path | None = None

    def evaluation_data(self) -> EvaluationData:
        """The tables of the tabular measurements (without the text column)."""
        from privsynth.evaluation.text.evaluate import tabular_tables

        real, synthetic, holdout = tabular_tables(
            self.real, self.synthetic, self.holdout, self.text_column, self.target
        )
        return EvaluationData.build(
            real, synthetic, holdout, schema=self.schema, target=self.target,
            quasi_identifiers=self.quasi_identifiers, sensitive=self.sensitive, seed=self.seed,
            privacy_unit=self.privacy_unit,
        )  # fmt: skip

    def text_evaluation(self, progress: Callable[[str], None]) -> TextEvaluation | None:
        """The text metrics of the text column, if one was named."""
        if self.text_column is None:
            return None
        from privsynth.evaluation.text.evaluate import evaluate_text_column

        return evaluate_text_column(
            self.real, self.synthetic, self.holdout, self.text_column, label=self.target,
            embedder=self.text_embedder, seed=self.seed, progress=progress,
        )  # fmt: skip


def run_audit(
    inputs: AuditInputs,
    policies: Sequence[Policy],
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[AuditDocument, EvaluationData]:
    """The audit document (and the evaluation data, for the report's figures)."""
    data = inputs.evaluation_data()
    evaluation = evaluate(data, progress=progress)
    text = inputs.text_evaluation(progress)
    if text is not None:
        evaluation = replace(evaluation, text=text)
    progress("scanning the synthetic data for residual PII")
    checks = compliance_checks(inputs.synthetic, inputs.schema)
    found = _fingerprints(inputs)
    origin = provenance(found, inputs.schema, _privacy(inputs, found), inputs.seed)
    document = AuditDocument(evaluation, checks, origin)
    evidence = document.evidence()
    verdicts = tuple(judge(policy, evidence) for policy in policies)
    return replace(document, policies=verdicts), data


def _fingerprints(inputs: AuditInputs) -> dict[str, str]:
    """Keyed fingerprints of the real tables (the ledger's key, else the environment's)
    and the synthetic table's SHA-256 (the file when one was read, else the frame)."""
    key = inputs.ledger.fingerprint_key() if inputs.ledger is not None else env_key()
    real: dict[str, str | Path | pd.DataFrame] = {
        name: inputs.sources.get(name, frame)
        for name, frame in (("real", inputs.real), ("holdout", inputs.holdout))
        if frame is not None
    }
    synthetic = inputs.sources.get("synthetic")
    source = synthetic if isinstance(synthetic, str | Path) else inputs.synthetic
    return fingerprints(real, source, key)


def _privacy(inputs: AuditInputs, found: dict[str, str]) -> LedgerPrivacy | None:
    if inputs.ledger is None or inputs.dataset is None:
        return None
    synthetic = inputs.sources.get("synthetic")
    digest = fingerprint(synthetic) if isinstance(synthetic, str | Path) else None
    real = found["real"] if found["real"].startswith(PREFIX) else None
    return privacy_from_ledger(inputs.ledger, inputs.dataset, inputs.run_id, digest, real)
