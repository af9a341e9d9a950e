"""Span-level PII metrics: coverage-based recall and precision, F2, over-scrubbing.

Pure Python with no detector imports, so the tests can check the arithmetic and any
system (Presidio, privsynth, a regex baseline) is scored by exactly this code.

Definitions (character coverage, micro-averaged over the whole set):

* a gold span is *found* when predicted spans of any type cover >= 50% of its
  characters (type-agnostic: scrubbing a name as a LOCATION still removes it);
* a predicted span is a *true positive* when >= 50% of its characters lie inside gold
  spans, else a false positive; overlapping predictions are each counted;
* *typed* variants count only predictions whose type is compatible with the gold
  type (``COMPATIBLE``), which is what matters for type-specific operators
  (date shifting, age generalisation);
* F2 weights recall four times as much as precision (a missed identifier is a privacy
  failure, an extra redaction only costs utility);
* *words kept*: of the ``\\w+`` tokens that touch no gold span, the share that no
  prediction touches either (1.0 = no over-scrubbing).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

COVERAGE = 0.5
BETA = 2.0
WORD = re.compile(r"\w+")

COMPATIBLE: dict[str, frozenset[str]] = {
    "LOCATION": frozenset({"LOCATION", "STREET_ADDRESS", "FACILITY"}),
    "STREET_ADDRESS": frozenset({"STREET_ADDRESS", "LOCATION"}),
    "US_ZIP_CODE": frozenset({"US_ZIP_CODE", "STREET_ADDRESS", "LOCATION"}),
    "FACILITY": frozenset({"FACILITY", "ORGANIZATION", "LOCATION"}),
    "ORGANIZATION": frozenset({"ORGANIZATION", "FACILITY"}),
}
"""Predicted types accepted for a gold type in typed scores (default: the type itself).

Places nest (a facility names a place, a ZIP is part of an address), so a place
predicted under a neighbouring place type gets the same anonymisation operator.
"""

PREDICTED_ALIASES: dict[str, str] = {
    "EMAIL": "EMAIL_ADDRESS",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "ORG": "ORGANIZATION",
    "PER": "PERSON",
    "DATE": "DATE_TIME",
}
"""Detector type names that mean one of privsynth's types."""


@dataclass(frozen=True)
class Span:
    """A character span with its type (gold: privsynth type; predicted: detector type)."""

    start: int
    end: int
    entity_type: str
    label: str = ""
    source: str = ""


def compatible(gold_type: str, predicted_type: str) -> bool:
    """Whether a prediction of ``predicted_type`` counts as typed for ``gold_type``."""
    predicted_type = PREDICTED_ALIASES.get(predicted_type, predicted_type)
    return predicted_type in COMPATIBLE.get(gold_type, frozenset({gold_type}))


def mask(length: int, spans: Iterable[Span]) -> bytearray:
    """1 for every character covered by at least one span."""
    mask = bytearray(length)
    for span in spans:
        mask[span.start : span.end] = b"\x01" * (span.end - span.start)
    return mask


def covered(mask: bytearray, span: Span) -> bool:
    """Whether >= COVERAGE of the span's characters are set in ``mask``."""
    width = span.end - span.start
    return width > 0 and mask[span.start : span.end].count(1) >= COVERAGE * width


@dataclass
class Tally:
    """Counts behind one ratio: ``hits`` out of ``total``."""

    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        """Count one item."""
        self.hits += int(hit)
        self.total += 1

    @property
    def ratio(self) -> float | None:
        """hits / total, None when nothing was counted (not 0: nothing to report)."""
        return self.hits / self.total if self.total else None


@dataclass
class Scores:
    """Accumulated counts over documents; ``report`` turns them into ratios."""

    recall: Tally = field(default_factory=Tally)
    precision: Tally = field(default_factory=Tally)
    recall_typed: Tally = field(default_factory=Tally)
    precision_typed: Tally = field(default_factory=Tally)
    words_kept: Tally = field(default_factory=Tally)
    by_label: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(dict))
    by_source: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_predicted: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(dict))

    def add_document(self, text: str, gold: Sequence[Span], predicted: Sequence[Span]) -> None:
        """Score one document and add its counts."""
        predicted_mask = mask(len(text), predicted)
        gold_mask = mask(len(text), gold)
        for span in gold:
            self._add_gold(span, predicted_mask, _typed_mask(len(text), span, predicted))
        for span in predicted:
            typed_gold = [g for g in gold if compatible(g.entity_type, span.entity_type)]
            self._add_predicted(span, gold_mask, mask(len(text), typed_gold))
        for word in WORD.finditer(text):
            if gold_mask[word.start() : word.end()].count(1) == 0:
                self.words_kept.add(predicted_mask[word.start() : word.end()].count(1) == 0)

    def _add_gold(self, span: Span, predicted_mask: bytearray, typed_mask: bytearray) -> None:
        """Recall counts of one gold span, overall and per label / source."""
        found, typed = covered(predicted_mask, span), covered(typed_mask, span)
        self.recall.add(found)
        self.recall_typed.add(typed)
        row = self.by_label[span.label or span.entity_type]
        row.setdefault("recall", Tally()).add(found)
        row.setdefault("recall_typed", Tally()).add(typed)
        if span.source:
            self.by_source[span.source].add(found)

    def _add_predicted(self, span: Span, gold_mask: bytearray, typed_mask: bytearray) -> None:
        """Precision counts of one predicted span, overall and per predicted type."""
        correct, typed = covered(gold_mask, span), covered(typed_mask, span)
        self.precision.add(correct)
        self.precision_typed.add(typed)
        row = self.by_predicted[span.entity_type]
        row.setdefault("precision", Tally()).add(correct)
        row.setdefault("precision_typed", Tally()).add(typed)

    def report(self) -> dict[str, object]:
        """Ratios and counts, JSON-ready."""
        return {
            "precision": self.precision.ratio,
            "recall": self.recall.ratio,
            "f2": f_beta(self.precision.ratio, self.recall.ratio),
            "precision_typed": self.precision_typed.ratio,
            "recall_typed": self.recall_typed.ratio,
            "f2_typed": f_beta(self.precision_typed.ratio, self.recall_typed.ratio),
            "n_gold": self.recall.total,
            "n_found": self.recall.hits,
            "n_predicted": self.precision.total,
            "n_true_positive": self.precision.hits,
            "words_kept": self.words_kept.ratio,
            "non_pii_words": self.words_kept.total,
            "per_label": _ratios(self.by_label),
            "per_predicted_type": _ratios(self.by_predicted),
            "per_source": {
                name: {"n": t.total, "recall": t.ratio} for name, t in self.by_source.items()
            },
        }


def _typed_mask(length: int, gold: Span, predicted: Sequence[Span]) -> bytearray:
    """Characters covered by predictions whose type is compatible with ``gold``'s type."""
    overlapping = [
        p
        for p in predicted
        if p.start < gold.end and gold.start < p.end and compatible(gold.entity_type, p.entity_type)
    ]
    return mask(length, overlapping)


def _ratios(rows: dict[str, dict[str, Tally]]) -> dict[str, dict[str, float | int | None]]:
    """Per-key ratios plus the count they are over, sorted by count."""
    out: dict[str, dict[str, float | int | None]] = {}
    for key in sorted(rows, key=lambda k: -next(iter(rows[k].values())).total):
        tallies = rows[key]
        out[key] = {"n": next(iter(tallies.values())).total}
        out[key].update({name: tally.ratio for name, tally in tallies.items()})
    return out


def f_beta(precision: float | None, recall: float | None, beta: float = BETA) -> float | None:
    """F-beta; None when either input is undefined, 0 when both are 0."""
    if precision is None or recall is None:
        return None
    if precision == 0 and recall == 0:
        return 0.0
    weight = beta * beta
    return (1 + weight) * precision * recall / (weight * precision + recall)
