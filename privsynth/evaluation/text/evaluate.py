"""Run the text metrics and assemble the ``text`` section; read corpora from tables.

:func:`evaluate_text` takes lists of documents; :func:`evaluate_text_column` reads them
from the real, synthetic and holdout tables of the tabular evaluation (the column the
user named, its label from the evaluation's ``target``), which is how ``privsynth
evaluate --text-column`` and ``audit --text-column`` add a ``text`` section. A metric
that cannot run (no labels, no embedding model installed) is listed under ``skipped``
with the reason instead of failing the evaluation, as in the tabular runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from privsynth.errors import ConfigurationError, PrivsynthError
from privsynth.evaluation.base import MetricResult
from privsynth.evaluation.text.data import TextData
from privsynth.evaluation.text.exposure import (
    Canary,
    LogLikelihood,
    canary_exposure,
    verbatim_count,
)
from privsynth.evaluation.text.metrics import TEXT_METRICS, TEXT_SECTIONS
from privsynth.evaluation.text.result import CanaryResult, TextEvaluation, TextInputs

if TYPE_CHECKING:
    from privsynth.evaluation.text.embedder import SentenceEmbedder

Progress = Callable[[str], None]


def metric_names() -> list[str]:
    """Every registered text metric, by section (document order), then by name."""

    def order(name: str) -> tuple[int, str]:
        section = TEXT_METRICS.get(name).section
        return (TEXT_SECTIONS.index(section) if section in TEXT_SECTIONS else 0, name)

    return sorted(TEXT_METRICS.names(), key=order)


def evaluate_text(
    real_train: Sequence[str],
    synthetic: Sequence[str],
    real_test: Sequence[str] | None = None,
    *,
    train_labels: Sequence[object] | None = None,
    synthetic_labels: Sequence[object] | None = None,
    test_labels: Sequence[object] | None = None,
    embedder: SentenceEmbedder | str | Path | None = None,
    metrics: Sequence[str] | None = None,
    canaries: Sequence[Canary] = (),
    log_likelihood: LogLikelihood | None = None,
    seed: int = 0,
    progress: Progress = lambda _: None,
) -> TextEvaluation:
    """Every text metric (or those named) of ``synthetic`` against ``real_train``.

    ``real_test`` is real text the generator never saw: TSTR is tested on it (else on
    ``real_train``) with TRTR as yardstick, and memorisation reports its overlap with
    training as a control. Labels are one per document; ``embedder`` is a
    :class:`SentenceEmbedder`, a local model directory, or None for the bundled MiniLM.
    Each canary is checked for verbatim copies, and its exposure is measured when the
    generator's ``log_likelihood`` is given."""
    data = TextData.build(
        real_train, synthetic, real_test, real_labels=train_labels,
        synthetic_labels=synthetic_labels, test_labels=test_labels, embedder=embedder, seed=seed,
    )  # fmt: skip
    found = _Run()
    for name in metrics if metrics is not None else metric_names():
        found.metric(name, data, progress)
    checked = {c.name: _canary(c, data, log_likelihood, found, progress) for c in canaries}
    inputs = TextInputs(
        real_documents=len(data.real), synthetic_documents=len(data.synthetic),
        test_documents=len(data.test or ()), seed=seed,
        model=data.model.name if "model" in data.__dict__ else None,  # embedded: named
    )  # fmt: skip
    return TextEvaluation(
        inputs, **found.sections, canaries={k: v for k, v in checked.items() if v is not None},
        skipped=found.skipped, seconds=found.seconds,
    )  # fmt: skip


class _Run:
    """Results by section, skipped measurements and timings, in the order they ran."""

    def __init__(self) -> None:
        self.sections: dict[str, dict[str, MetricResult]] = {s: {} for s in TEXT_SECTIONS}
        self.skipped: dict[str, str] = {}
        self.seconds: dict[str, float] = {}

    def metric(self, name: str, data: TextData, progress: Progress) -> None:
        progress(f"evaluating text: {name}")
        started = time.monotonic()
        try:
            metric = TEXT_METRICS.get(name)()
            result = metric.compute(data)
        except PrivsynthError as exc:
            self.skipped[name] = exc.one_line()
            return
        finally:
            self.seconds[name] = round(time.monotonic() - started, 3)
        section = metric.section if metric.section in TEXT_SECTIONS else "lexical"
        self.sections[section][name] = result


def _canary(
    canary: Canary,
    data: TextData,
    log_likelihood: LogLikelihood | None,
    found: _Run,
    progress: Progress,
) -> CanaryResult | None:
    """A canary's verbatim count and (with a likelihood) its exposure; a malformed
    canary is skipped with the reason."""
    progress(f"measuring canary {canary.name}")
    key = f"canary:{canary.name}"
    started = time.monotonic()
    try:
        verbatim = verbatim_count(canary.text, data.synthetic)
        exposure = None
        if log_likelihood is not None:
            exposure = canary_exposure(
                canary.format, canary.secret, log_likelihood, seed=data.seed, name=canary.name
            )
    except PrivsynthError as exc:
        found.skipped[key] = exc.one_line()
        return None
    finally:
        found.seconds[key] = round(time.monotonic() - started, 3)
    return CanaryResult(canary.name, verbatim, exposure)


# --- from tables -----------------------------------------------------------------------


def check_text_column(
    column: str, tables: dict[str, pd.DataFrame | None], target: str | None = None
) -> None:
    """The text column is in every table given and is not the label itself, and the
    tables hold another column for the tabular evaluation."""
    for name, frame in tables.items():
        if frame is not None and column not in frame.columns:
            raise ConfigurationError(
                f"the text column {column!r} is not in the {name} table",
                hint="check `text_column` against the tables' headers",
            )
    if target is not None and target == column:
        raise ConfigurationError(
            f"the text column {column!r} cannot also be the target (label)",
            hint="name the label column as the target, and the text column apart",
        )
    real = tables.get("real")
    if real is not None and not [c for c in real.columns if c != column]:
        raise ConfigurationError(
            f"the tables hold no column besides the text column {column!r}",
            hint="keep a label or other column, or evaluate the texts alone with "
            "privsynth.evaluation.text.evaluate_text",
        )


def without_text(frame: pd.DataFrame | None, column: str | None) -> pd.DataFrame | None:
    """``frame`` without the text column (what the tabular metrics evaluate)."""
    if frame is None or column is None or column not in frame.columns:
        return frame
    return frame.drop(columns=[column])


def tabular_tables(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    column: str | None,
    target: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The tables the tabular metrics evaluate: without the text column (checked by
    :func:`check_text_column`), or as given when there is none."""
    if column is None:
        return real, synthetic, holdout
    check_text_column(column, {"real": real, "synthetic": synthetic, "holdout": holdout}, target)
    return (
        real.drop(columns=[column]),
        synthetic.drop(columns=[column]),
        without_text(holdout, column),
    )


def _documents(
    frame: pd.DataFrame, column: str, label: str | None
) -> tuple[list[str], list[object] | None, int]:
    """The texts of ``frame`` that are present and not blank, their labels (if the
    label column is there), and how many were left out."""
    values = frame[column]
    present = values.notna() & values.astype(str).str.strip().ne("")
    texts = [str(t) for t in values[present]]
    labels = list(frame.loc[present, label]) if label and label in frame.columns else None
    return texts, labels, int((~present).sum())


def evaluate_text_column(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    column: str,
    *,
    label: str | None = None,
    embedder: SentenceEmbedder | str | Path | None = None,
    seed: int = 0,
    progress: Progress = lambda _: None,
) -> TextEvaluation:
    """The text evaluation of column ``column`` of the tables (labels from ``label``)."""
    check_text_column(column, {"real": real, "synthetic": synthetic, "holdout": holdout}, label)
    real_texts, real_labels, real_missing = _documents(real, column, label)
    synthetic_texts, synthetic_labels, synthetic_missing = _documents(synthetic, column, label)
    test_texts, test_labels, test_missing = (
        _documents(holdout, column, label) if holdout is not None else (None, None, 0)
    )
    result = evaluate_text(
        real_texts, synthetic_texts, test_texts or None, train_labels=real_labels,
        synthetic_labels=synthetic_labels, test_labels=test_labels, embedder=embedder,
        seed=seed, progress=progress,
    )  # fmt: skip
    inputs = result.inputs
    missing = real_missing + synthetic_missing + test_missing
    return replace(
        result, inputs=replace(inputs, column=column, label=label, missing_texts=missing)
    )
