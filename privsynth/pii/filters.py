"""Post-processing of raw recognizer output: precision filters and overlap resolution.

spaCy's small model, like Presidio's PERSON recognizer on top of it, labels codes,
numbers, drug names and ALL-CAPS section headers as people or organisations
(Presidio issues #1173, #1352). These rules remove spans that cannot be what they
are labelled, then merge overlapping spans so each region is reported once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from privsynth.pii.detection import Detection

_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_MONTHS_AND_DAYS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
    ]
)
_NUMERIC_DATE = re.compile(r"\d{1,4}\s*[/.-]\s*\d{1,2}|\d{1,2}:\d{2}|\b\d{1,2}(?:st|nd|rd|th)\b")
_WORDS = re.compile(r"[a-z]+", re.IGNORECASE)
_ACRONYM = re.compile(r"^[A-Z]{1,4}s?$")
_NAME_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})


def is_plausible(text: str, detection: Detection) -> bool:
    """False for spans that cannot be what they are labelled (see module docstring)."""
    span = text[detection.start : detection.end].strip()
    if not span or (not _LETTER.search(span) and detection.entity_type in _NAME_TYPES):
        return False
    kind = detection.entity_type
    if kind == "DATE_TIME":
        return _names_a_date(span)
    if kind in _NAME_TYPES:
        return _plausible_name(span, kind, detection.recognizer)
    return True


def _names_a_date(span: str) -> bool:
    """A calendar date or time, not a duration ("two weeks"), a relative expression
    ("last summer") or a bare year (years are not identifiers under Safe Harbor)."""
    if _NUMERIC_DATE.search(span):
        return True
    return any(word.casefold() in _MONTHS_AND_DAYS for word in _WORDS.findall(span))


def _plausible_name(span: str, kind: str, recognizer: str) -> bool:
    if _DIGIT.search(span) and kind in ("PERSON", "NRP"):
        return False
    if recognizer != "SpacyRecognizer":
        return True  # lexicon and pattern recognizers carry their own checks
    words = span.split()
    if not any(w[:1].isupper() for w in words):
        return False  # names are capitalised in the original (the model may see lower case)
    return not (kind == "ORGANIZATION" and len(words) == 1 and _ACRONYM.match(span))


def mostly_upper(text: str) -> bool:
    """True for ALL-CAPS text, where the NER model's capitalisation cues are absent."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) > 0.7 * len(letters)


def model_view(text: str) -> str:
    """What the NER model sees: ALL-CAPS lines in lower case, same length and offsets.

    On ALL-CAPS lines the small model calls most headers organisations and misses
    names; in lower case it stays quiet, and the lexicon recognizers find the names."""
    lines = text.splitlines(keepends=True)
    if not any(mostly_upper(line) for line in lines):
        return text
    viewed = "".join(line.lower() if mostly_upper(line) else line for line in lines)
    return viewed if len(viewed) == len(text) else text


def drop_allowed(
    text: str, detections: Iterable[Detection], allow: frozenset[str]
) -> list[Detection]:
    """Detections whose text is not on the allow list (compared case-insensitively)."""
    return [d for d in detections if text[d.start : d.end].strip().casefold() not in allow]


def merge_overlaps(detections: Sequence[Detection]) -> list[Detection]:
    """One detection per overlapping group: the union of the spans, labelled with the
    type of the highest-scoring member (ties: the longest)."""
    merged: list[Detection] = []
    group: list[Detection] = []
    for detection in sorted(detections):
        if group and detection.start >= max(d.end for d in group):
            merged.append(_union(group))
            group = []
        group.append(detection)
    if group:
        merged.append(_union(group))
    return merged


def _union(group: list[Detection]) -> Detection:
    best = max(group, key=lambda d: (d.score, d.length))
    return Detection(
        start=min(d.start for d in group),
        end=max(d.end for d in group),
        entity_type=best.entity_type,
        score=best.score,
        recognizer=best.recognizer,
    )
