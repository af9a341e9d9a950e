"""One-call Python API for the stages after synthesis: scrub, evaluate, audit.

Each function mirrors its CLI command (``privsynth scrub|evaluate|audit``) and takes
DataFrames, so a pipeline can run the whole path without files. The classes they
wrap (:class:`~privsynth.pii.scrub.Scrubber`, :func:`~privsynth.evaluation.runner.evaluate`,
:func:`~privsynth.compliance.audit.run_audit`) stay available for finer control.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from privsynth.compliance.policy import Policy, load_policy
from privsynth.dp.ledger import Ledger
from privsynth.pii.engine import DetectorConfig
from privsynth.pii.scrub import DateMode, Scrubber, ScrubConfig, ScrubReport
from privsynth.pii.surrogates import SurrogateGenerator
from privsynth.schema import Schema, load_schema

if TYPE_CHECKING:
    from privsynth.compliance.document import AuditDocument
    from privsynth.evaluation.result import EvaluationResult
    from privsynth.evaluation.text.embedder import SentenceEmbedder


def scrub(
    data: pd.DataFrame | Iterable[str],
    *,
    operator: str = "surrogate",
    policy: str = "none",
    schema: Schema | str | Path | None = None,
    text_columns: Sequence[str] | None = None,
    key: str | None = None,
    date_mode: DateMode = "year",
    person_column: str | None = None,
    detector: DetectorConfig | None = None,
) -> tuple[pd.DataFrame | list[str], ScrubReport]:
    """PII replaced in a table (columns classified, identifiers replaced or dropped,
    free text scrubbed) or in a list of texts; with a report of counts, never values.

    ``key`` is the hex surrogate key (``privsynth scrub --new-key``): the same key gives
    the same surrogates across runs and files. Without one, ``$PRIVSYNTH_SURROGATE_KEY``
    is used, else a throwaway key (consistent within this process only).
    """
    config = ScrubConfig(
        operator=operator, policy=policy, date_mode=date_mode,
        detector=detector or DetectorConfig(),
        text_columns=tuple(text_columns) if text_columns is not None else None,
        person_column=person_column,
    )  # fmt: skip
    surrogates = SurrogateGenerator.from_hex(key) if key is not None else None
    scrubber = Scrubber(config, surrogates)
    if isinstance(data, pd.DataFrame):
        loaded = _schema(schema)
        return scrubber.scrub_frame(data, loaded.roles() if loaded else None)
    texts = [data] if isinstance(data, str) else list(data)
    report = ScrubReport(config.policy, config.operator, records=len(texts))
    return list(scrubber.scrub_texts(texts, report)), report


@dataclass
class AuditResult:
    """The typed audit document and, if written, the report files; ``to_dict()`` is
    ``report.json``'s content."""

    document: AuditDocument
    json_path: Path | None = None
    html_path: Path | None = None

    @property
    def passed(self) -> bool:
        """Whether every policy's automated criteria were met."""
        return self.document.passed

    def verdicts(self) -> dict[str, bool]:
        """Policy name -> passed."""
        return self.document.verdicts()

    def to_dict(self) -> dict[str, Any]:
        """The audit document as JSON data (what ``report.json`` holds)."""
        return self.document.to_dict()


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    schema: Schema | str | Path | None = None,
    target: str | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    seed: int = 0,
    privacy_unit: str | None = None,
    text_column: str | None = None,
    text_model: SentenceEmbedder | str | Path | None = None,
) -> EvaluationResult:
    """The evaluation (fidelity, utility, detection, diversity, privacy), typed; its
    ``to_dict()`` is the JSON document of docs/evaluation.md.

    ``privacy_unit`` names the column identifying the person behind each row (as given
    to synthesis): membership inference then attacks persons, not rows, and a person in
    both ``real`` and ``holdout`` is refused (split with
    :func:`~privsynth.evaluation.split.split_holdout`).

    ``text_column`` names a free-text column: the text metrics (diversity, embedding
    distance, detection, memorisation, and TSTR of ``target`` as the label) fill the
    document's ``text`` section, and the tabular metrics read the other columns.
    ``text_model`` is the sentence embedder or a local model directory (default: the
    bundled all-MiniLM-L6-v2)."""
    from dataclasses import replace

    from privsynth.evaluation.data import EvaluationData
    from privsynth.evaluation.runner import evaluate as run_evaluation
    from privsynth.evaluation.text.evaluate import evaluate_text_column, tabular_tables

    tables = tabular_tables(real, synthetic, holdout, text_column, target)
    data = EvaluationData.build(
        *tables, schema=_schema(schema), target=target,
        quasi_identifiers=quasi_identifiers, sensitive=sensitive, seed=seed,
        privacy_unit=privacy_unit,
    )  # fmt: skip
    result = run_evaluation(data)
    if text_column is None:
        return result
    text = evaluate_text_column(
        real, synthetic, holdout, text_column, label=target, embedder=text_model, seed=seed
    )
    return replace(result, text=text)


def audit(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    policies: Sequence[str | Path | Policy],
    output: str | Path | None = None,
    schema: Schema | str | Path | None = None,
    target: str | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    ledger: Ledger | str | Path | None = None,
    dataset: str | None = None,
    run_id: str | None = None,
    seed: int = 0,
    privacy_unit: str | None = None,
    text_column: str | None = None,
    text_model: SentenceEmbedder | str | Path | None = None,
) -> AuditResult:
    """Judge synthetic data against policies (built-in names or YAML files); with
    ``output``, write ``report.json`` and ``report.html`` there (docs/compliance.md).

    The privacy section of the provenance comes from ``ledger`` and ``dataset``; without
    them the differential-privacy criteria read "not measured" and fail. With
    ``privacy_unit`` the evaluation attacks persons, and with ``text_column`` the text
    metrics fill a ``text`` section (judged by the policies' text criteria), as in
    :func:`evaluate`.
    """
    from privsynth.compliance.audit import AuditInputs, run_audit
    from privsynth.compliance.report import write_report

    loaded = [p if isinstance(p, Policy) else load_policy(p) for p in policies]
    inputs = AuditInputs(
        real=real, synthetic=synthetic, holdout=holdout, schema=_schema(schema), target=target,
        quasi_identifiers=quasi_identifiers, sensitive=sensitive,
        ledger=Ledger(ledger) if isinstance(ledger, str | Path) else ledger,
        dataset=dataset, run_id=run_id, seed=seed, privacy_unit=privacy_unit,
        text_column=text_column, text_embedder=text_model,
    )  # fmt: skip
    document, data = run_audit(inputs, loaded)
    if output is None:
        return AuditResult(document)
    json_path, html_path = write_report(document, data, output)
    return AuditResult(document, json_path, html_path)


def _schema(schema: Schema | str | Path | None) -> Schema | None:
    return load_schema(schema) if isinstance(schema, str | Path) else schema
