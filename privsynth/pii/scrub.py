"""Scrubbing: the first stage of every release, usable on its own.

Tables: each column gets a role (:mod:`privsynth.pii.columns`, a schema ``role`` wins);
direct identifiers are replaced (consistent surrogates, tags, masks) or dropped,
free-text columns go through the text scrubber, and under the HIPAA Safe Harbor policy
quasi-identifiers are generalised (ZIP3, ages 90+, dates to the year). Texts: every
detected span is replaced by the chosen operator. The report counts what was found
per column and entity type and never holds a value.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from privsynth.errors import ConfigurationError
from privsynth.pii import entities as E
from privsynth.pii.columns import ColumnClass, classify_columns
from privsynth.pii.engine import DetectorConfig, PIIDetector
from privsynth.pii.operators import OPERATORS, apply_operator
from privsynth.pii.safe_harbor import safe_harbor_column, safe_harbor_text
from privsynth.pii.spans import Detection
from privsynth.pii.surrogates import SurrogateGenerator
from privsynth.pii.text_detection import TextDetector, check_mode

POLICIES = ("none", "hipaa-safe-harbor")
DateMode = Literal["year", "shift"]
_GENERALISED = {E.US_ZIP_CODE: "zip", E.AGE: "age", E.DATE_TIME: "date"}


@dataclass(frozen=True)
class ScrubConfig:
    """How to scrub: operator for identifiers, policy, date handling, detector."""

    operator: str = "surrogate"
    policy: str = "none"
    date_mode: DateMode = "year"
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    #: columns to treat as free text (None: decided by classification)
    text_columns: tuple[str, ...] | None = None
    #: column whose value identifies a person, for consistent per-person date shifts
    person_column: str | None = None
    #: free-text detection: ``precise`` or ``high_recall`` (text_detection.MODES); ``None``
    #: picks ``high_recall`` under the HIPAA Safe Harbor policy (measured on real nursing
    #: notes: PHI recall 0.98 against 0.56, docs/benchmarks.md) and ``precise`` otherwise
    mode: str | None = None

    def __post_init__(self) -> None:
        OPERATORS.get(self.operator)
        if self.policy not in POLICIES:
            raise ConfigurationError(
                f"unknown policy {self.policy!r}", hint=f"choose one of: {', '.join(POLICIES)}"
            )
        if self.date_mode not in ("year", "shift"):
            raise ConfigurationError("date mode must be 'year' or 'shift'")
        if self.mode is None:
            chosen = "high_recall" if self.policy == "hipaa-safe-harbor" else "precise"
            object.__setattr__(self, "mode", chosen)
        check_mode(str(self.mode))


@dataclass
class ScrubReport:
    """Counts of what was found and done, per column and entity type. No values."""

    policy: str
    operator: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    columns: list[ColumnClass] = field(default_factory=list)
    actions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    records: int = 0

    def add(self, where: str, detections: Iterable[Detection]) -> None:
        self.counts.setdefault(where, Counter()).update(d.entity_type for d in detections)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; safe to share (counts, roles and actions only)."""
        return {
            "policy": self.policy,
            "operator": self.operator,
            "records": self.records,
            "entities": {where: dict(sorted(c.items())) for where, c in self.counts.items()},
            "total": dict(sorted(sum(self.counts.values(), Counter()).items())),
            "columns": [self._column_entry(c) for c in self.columns],
            "notes": sorted(set(self.notes)),
        }

    def _column_entry(self, item: ColumnClass) -> dict[str, Any]:
        return {
            "column": item.column,
            "role": item.role,
            "entity": item.entity,
            "reason": item.reason,
            "action": self.actions.get(item.column, "kept"),
        }


class Scrubber:
    """Scrubs texts and tables with one detector and one surrogate key."""

    def __init__(self, config: ScrubConfig, surrogates: SurrogateGenerator | None = None) -> None:
        self.config = config
        #: for columns (names, places: the model's context matters there)
        self.detector = PIIDetector(config.detector)
        #: for free text, in the configured mode (the residual scan uses the same)
        self.text_detector = TextDetector(str(config.mode), shared=self.detector)
        if surrogates is None and config.operator == "surrogate":
            surrogates = SurrogateGenerator.from_env_or_ephemeral()
        self.surrogates = surrogates

    def scrub_texts(
        self,
        texts: Iterable[str],
        report: ScrubReport,
        where: str = "text",
        person_keys: Iterable[str | None] | None = None,
    ) -> Iterator[str]:
        """Each text with its PII replaced; counts go to ``report`` under ``where``."""
        keys = iter(person_keys) if person_keys is not None else None
        for_output, for_detector = itertools.tee(_texts(texts))
        for text, detections in zip(
            for_output, self.text_detector.iter_analyze(for_detector), strict=True
        ):
            report.add(where, detections)
            person = next(keys) if keys is not None else None
            yield self._replace(text, detections, person, report)

    def _replace(
        self, text: str, detections: Sequence[Detection], person: str | None, report: ScrubReport
    ) -> str:
        if self.config.policy == "hipaa-safe-harbor":
            surrogates = self.surrogates if self.config.operator == "surrogate" else None
            new, notes = safe_harbor_text(
                text, detections, surrogates, date_mode=self.config.date_mode, person_key=person
            )
            report.notes.extend(notes)
            return new
        return apply_operator(
            text, detections, self.config.operator, surrogates=self.surrogates, person_key=person
        )

    def scrub_frame(
        self, frame: pd.DataFrame, roles: Mapping[str, str] | None = None
    ) -> tuple[pd.DataFrame, ScrubReport]:
        """A scrubbed copy of ``frame`` and its report. ``roles`` (e.g. from the schema)
        override the classification of the columns they name."""
        report = ScrubReport(self.config.policy, self.config.operator, records=len(frame))
        report.columns = self._classes(frame, roles or {})
        out = frame.copy()
        persons = self._person_keys(frame)
        for column_class in report.columns:
            self._scrub_column(out, column_class, persons, report)
        dropped = [c for c, action in report.actions.items() if action == "dropped"]
        return out.drop(columns=dropped), report

    def _classes(self, frame: pd.DataFrame, roles: Mapping[str, str]) -> list[ColumnClass]:
        found = classify_columns(frame, self.detector)
        text_columns = set(self.config.text_columns or ())
        for index, item in enumerate(found):
            if item.column in text_columns:
                found[index] = ColumnClass(item.column, "free_text", None, "declared free text")
            elif item.column in roles:
                role = roles[item.column]
                found[index] = ColumnClass(item.column, role, item.entity, "declared in schema")  # type: ignore[arg-type]
        return found

    def _person_keys(self, frame: pd.DataFrame) -> list[str | None]:
        column = self.config.person_column
        if column is None:
            return [None] * len(frame)
        if column not in frame:
            raise ConfigurationError(f"person column {column!r} is not in the input")
        return [None if pd.isna(v) else str(v) for v in frame[column]]

    def _scrub_column(
        self,
        out: pd.DataFrame,
        item: ColumnClass,
        persons: list[str | None],
        report: ScrubReport,
    ) -> None:
        name = item.column
        if item.role == "direct_identifier":
            self._replace_identifier_column(out, item, report)
        elif item.role == "free_text":
            values = out[name]
            present = values.notna().to_numpy()
            texts = values[present].astype(str).tolist()
            keys = [p for p, keep in zip(persons, present, strict=True) if keep]
            scrubbed = list(self.scrub_texts(texts, report, where=name, person_keys=keys))
            out.loc[present, name] = scrubbed
            report.actions[name] = f"text scrubbed ({self.config.operator})"
        elif self.config.policy == "hipaa-safe-harbor" and item.entity in _GENERALISED:
            out[name] = safe_harbor_column(out[name], _GENERALISED[item.entity])
            report.actions[name] = f"generalised ({_GENERALISED[item.entity]}, Safe Harbor)"
            report.add(name, [])

    def _replace_identifier_column(
        self, out: pd.DataFrame, item: ColumnClass, report: ScrubReport
    ) -> None:
        name, entity = item.column, item.entity or "ID"
        present = out[name].notna()
        report.counts.setdefault(name, Counter())[entity] += int(present.sum())
        operator = self.config.operator
        if operator == "redact" or (
            self.config.policy == "hipaa-safe-harbor" and operator != "surrogate"
        ):
            report.actions[name] = "dropped"
            return
        values = out.loc[present, name].astype(str)
        out.loc[present, name] = [
            apply_operator(v, [Detection(0, len(v), entity, 1.0)], operator, self.surrogates)
            if v
            else v
            for v in values
        ]
        report.actions[name] = f"replaced ({operator})"


def _texts(texts: Iterable[str]) -> Iterator[str]:
    for text in texts:
        if not isinstance(text, str):
            raise ConfigurationError(f"expected text, got {type(text).__name__}")
        yield text
