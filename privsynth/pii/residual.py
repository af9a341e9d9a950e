"""Residual PII scan: what a detector still finds in an output (synthetic or scrubbed).

Columns of free text are scanned as the scrubber scans text (:class:`TextDetector`, high
recall by default: names cued by context, places, dates and phones in the shapes of
clinical notes), the others with the precise detector (a category label the safe
vocabulary does not know is no finding). Only the HIPAA identifier types are counted
(a word merely not known to be safe is not), and neither places HIPAA lets through (US
states, countries) nor bare years are. Hits inside values that were public by
construction (a declared category list, or categories released with DP) are counted
apart: they are not leaks, but a reviewer should know they look like PII. Distinct values
are scanned once and weighted by frequency, so large tables scan in seconds. No values
are kept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from privsynth.pii.columns import is_free_text
from privsynth.pii.engine import PIIDetector
from privsynth.pii.entities import DATE_TIME, HIPAA_IDENTIFIER, LOCATION
from privsynth.pii.safe_harbor import is_allowed_location
from privsynth.pii.spans import Detection
from privsynth.pii.text_detection import TextDetector

#: at most this many distinct values are scanned per column (the most frequent)
MAX_DISTINCT = 2000


@dataclass
class ResidualReport:
    """Cells in which each identifier type was found, per column."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    public: dict[str, Counter[str]] = field(default_factory=dict)
    cells: int = 0

    @property
    def total(self) -> int:
        """Hits outside public values: what deserves a warning."""
        return sum(sum(c.values()) for c in self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells_scanned": self.cells,
            "total_hits": self.total,
            "hits": _nonempty(self.counts),
            "hits_in_public_values": _nonempty(self.public),
        }

    def summary(self) -> str:
        """One line, e.g. ``12 cells with possible PII (PERSON 10, PHONE_NUMBER 2)``."""
        merged: Counter[str] = sum(self.counts.values(), Counter())
        items = ", ".join(f"{entity} {n}" for entity, n in merged.most_common())
        return f"{self.total} cells with possible PII ({items})" if items else "no PII found"


def _nonempty(counts: Mapping[str, Counter[str]]) -> dict[str, dict[str, int]]:
    return {column: dict(sorted(c.items())) for column, c in counts.items() if c}


_YEAR_ONLY = re.compile(r"\s*(?:19|20)\d{2}\s*")


def _identifiers(text: str, detections: Sequence[Detection]) -> set[str]:
    kinds = set()
    for detection in detections:
        kind, found = detection.entity_type, text[detection.start : detection.end]
        if kind not in HIPAA_IDENTIFIER:
            continue
        if kind == LOCATION and is_allowed_location(found):
            continue
        if kind == DATE_TIME and _YEAR_ONLY.fullmatch(found):
            continue  # Safe Harbor keeps years
        kinds.add(kind)
    return kinds


def residual_scan(
    data: pd.DataFrame | Sequence[str],
    detector: PIIDetector | None = None,
    public_values: Mapping[str, frozenset[str]] | None = None,
    text_mode: str = "high_recall",
) -> ResidualReport:
    """Scan every text-valued column of ``data`` (or a list of texts, as free text)."""
    detector = detector or PIIDetector()
    text_detector = TextDetector(text_mode, shared=detector)
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame({"text": list(data)})
    report = ResidualReport()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        frequencies = values.dropna().astype(str).value_counts().head(MAX_DISTINCT)
        report.cells += int(frequencies.sum())
        public = (public_values or {}).get(str(column), frozenset())
        texts = [str(v) for v in frequencies.index]
        free_text = not isinstance(data, pd.DataFrame) or is_free_text(texts)
        found, found_public = Counter[str](), Counter[str]()
        scanner = text_detector if free_text else detector
        for text, count, detections in zip(
            texts, frequencies, scanner.analyze_batch(texts), strict=True
        ):
            target = found_public if text in public else found
            for entity in _identifiers(text, detections):
                target[entity] += int(count)
        report.counts[str(column)], report.public[str(column)] = found, found_public
    return report
