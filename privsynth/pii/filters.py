"""Post-processing of raw recognizer output: precision filters and overlap resolution.

spaCy's small model, like Presidio's PERSON recognizer on top of it, labels codes,
numbers, drug names and ALL-CAPS section headers as people or organisations
(Presidio issues #1173, #1352). These rules remove spans that cannot be what they
are labelled, then merge overlapping spans so each region is reported once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from privsynth.pii.recognizers._lexicon import name_lexicon
from privsynth.pii.recognizers.clinical import is_generic_facility
from privsynth.pii.recognizers.contextual import is_event_year
from privsynth.pii.recognizers.descriptors import is_nrp_word, is_occupation
from privsynth.pii.recognizers.eponyms import is_clinical_eponym
from privsynth.pii.recognizers.gazetteer import (
    DOSE_UNITS,
    MONTH_AND_DAY_WORDS,
    is_country,
    is_english_word,
)
from privsynth.pii.spans import Detection

_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
# a month/day (not "118/72", a blood pressure), a year-month, a clock time, "3rd"
_NUMERIC_DATE = re.compile(
    r"(?<!\d)(?:0?[1-9]|1[0-2])\s*[/.-]\s*(?:0?[1-9]|[12]\d|3[01])(?!\d)"
    r"|(?<!\d)(?:1[89]|20)\d\d\s*[/.-]\s*\d{1,2}(?!\d)|\d{1,2}:\d{2}|\b\d{1,2}(?:st|nd|rd|th)\b"
)
# a year after a dating word ("in 1998", "dx 1989", "the summer of 2011", "the 1980s",
# "1990 to 1995"), not a measurement ("Hemoglobin 1977", "in 2000 mL of saline")
_DATED_YEAR = re.compile(
    r"(?i:\b(?:in|since|from|to|until|till|through|during|by|of|circa|year|dx|the|early|late"
    r"|mid|and|or|summer|winter|spring|fall|autumn)[ \t]*-?[ \t]*)"
    rf"(?:1[89]|20)\d\d(?:['’]?s)?(?![\d.,]?\d)(?![ \t]*(?i:{DOSE_UNITS}))"
)
_WORDS = re.compile(r"[a-z]+", re.IGNORECASE)
_ACRONYM = re.compile(r"^[A-Z]{1,4}s?$")
_NAME_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})
#: the NER model's recognizer name (Presidio's SpacyRecognizer)
MODEL_RECOGNIZER = "SpacyRecognizer"
_TITLED = "TitledPersonRecognizer"  # "Dr. Foley" is a person, whatever follows
# what precedes a span that starts a sentence, a line, a list item or a field
_SENTENCE_START = re.compile(r"(?:\A|[\n.:;!?>]|\d[.)])[ \t\"'(\[]*\Z")
_LABEL_AFTER = re.compile(r"[ \t]*:")
_UNIT_AFTER = re.compile(rf"[ \t]*{DOSE_UNITS}", re.I)
_DOSE_AFTER = re.compile(rf"[ \t]*\d+(?:\.\d+)?{_UNIT_AFTER.pattern}", re.I)
_SPECIALTY_ENDINGS = ("ology", "iatry", "iatrics", "surgery", "medicine")
_DEPARTMENT_WORDS = frozenset(
    {
        "department", "dept", "service", "unit", "room", "ward", "floor", "division",
        "section", "team", "lab", "laboratory", "center", "centre", "facility", "program",
        "clinic", "suite", "bay", "icu",
    }
)  # fmt: skip


def is_plausible(text: str, detection: Detection) -> bool:
    """False for spans that cannot be what they are labelled (see module docstring)."""
    span = text[detection.start : detection.end].strip()
    if not span or (not _LETTER.search(span) and detection.entity_type in _NAME_TYPES):
        return False
    kind = detection.entity_type
    if kind == "DATE_TIME":
        if detection.recognizer == MODEL_RECOGNIZER and _UNIT_AFTER.match(text, detection.end):
            return False  # "1/2 1000 mg": a dose
        return (
            detection.recognizer != MODEL_RECOGNIZER
            or _names_a_date(span)
            or _dated_year(text, detection.start, detection.end)
            or is_event_year(text, detection.start, detection.end)
        )
    if kind in _NAME_TYPES:
        if not _plausible_name(span, kind, detection.recognizer):
            return False
        if detection.recognizer != _TITLED and is_clinical_eponym(
            text, detection.start, detection.end
        ):
            return False  # "Crohn's disease", "Foley catheter", "Gleason score"
        return detection.recognizer != MODEL_RECOGNIZER or _plausible_in_context(
            text, detection, span
        )
    return True


def _plausible_in_context(text: str, detection: Detection, span: str) -> bool:
    """Context checks for a name the NER model found (it has no scores to threshold).

    The small model labels capitalised clinical words as people, places and
    organisations: section labels ("Placenta: Anterior"), sentence-initial nouns
    ("Bowel sounds are active"), drugs before a dose ("Zocor 20 mg"), departments
    ("the Emergency Department") and ALL-CAPS words it saw in lower case. A name in
    the person lexicon or a country is kept whatever its context.
    """
    kind = detection.entity_type
    tokens = span.split()
    if _described(text, detection, span, tokens):
        return True
    lexicon = name_lexicon()
    known = any(lexicon.is_first(t.strip(".,'’")) or lexicon.is_last(t.strip(".,'’"))
                for t in tokens)  # fmt: skip
    starts = _SENTENCE_START.search(text, max(0, detection.start - 6), detection.start) is not None
    if starts and _LABEL_AFTER.match(text, detection.end) and not (kind == "PERSON" and known):
        return False  # a field label or section header
    if _DOSE_AFTER.match(text, detection.end):
        return False  # a drug before its dose
    if not known and mostly_upper(_line_of(text, detection.start)):
        return False  # seen in lower case by the model (model_view); no name evidence
    if not known and span.isupper() and all(is_english_word(t) for t in tokens):
        return False  # "CARDIAC STENT", "NEGATIVE FINDINGS": a shouted phrase
    if kind in ("ORGANIZATION", "LOCATION") and len(tokens) > 1:
        rest = [t for t in tokens if t.lower() not in _DEPARTMENT_WORDS]
        if len(rest) < len(tokens) and is_generic_facility(" ".join(rest)):
            return False  # "the Emergency Department", "Anesthesia Department"
    if len(tokens) == 1 and len(tokens[0].strip(".,")) <= 3 and (tokens[0].isupper() or not known):
        return False  # "LOF", "PMH", "Fam": abbreviations
    return len(tokens) != 1 or known or _plausible_single_word(text, kind, tokens[0], starts)


def _described(text: str, detection: Detection, span: str, tokens: list[str]) -> bool:
    """A country, a nationality or a job title: kept whatever the context."""
    if is_country(span.removeprefix("the ").removeprefix("The ")):
        return True
    kind = detection.entity_type
    if kind == "NRP" and all(is_nrp_word(t) for t in tokens):
        return True  # "American", "Muslims": sentence-initial or also lower case elsewhere
    # "the Cinematographer, said": a job title, reported with the person
    return kind == "PERSON" and is_occupation(text, detection.start, detection.end)


def _plausible_single_word(text: str, kind: str, word: str, starts: bool) -> bool:
    """One word the lexicon does not know: not an abbreviation nor a common word."""
    if word.lower().endswith(_SPECIALTY_ENDINGS):
        return False  # "Pulmonology", "Psychiatry": a service, not an organisation
    if re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", text):
        return False  # the same word in lower case elsewhere: a common word
    # "Muscle", "Trace", "Cultures", "Ultrasound": everyday or clinical words
    return not (is_english_word(word) and (kind in ("PERSON", "ORGANIZATION") or starts))


def _line_of(text: str, position: int) -> str:
    """The line of ``text`` that holds ``position``."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start : len(text) if end < 0 else end]


def _names_a_date(span: str) -> bool:
    """A calendar date or time, not a duration ("two weeks"), a relative expression
    ("last summer") or a bare number (see :func:`_dated_year` for years)."""
    if _NUMERIC_DATE.search(span):
        return True
    return any(word.casefold() in MONTH_AND_DAY_WORDS for word in _WORDS.findall(span))


def _dated_year(text: str, start: int, end: int) -> bool:
    """Whether the model's span holds a year that a dating word precedes (a year
    is a date in Presidio's and GDPR's sense; Safe Harbor scrubbing keeps it)."""
    window = _DATED_YEAR.finditer(text, max(0, start - 12), min(len(text), end + 8))
    return any(start < m.end() <= end for m in window)


def _plausible_name(span: str, kind: str, recognizer: str) -> bool:
    if _DIGIT.search(span) and kind in ("PERSON", "NRP"):
        return False
    if recognizer != "SpacyRecognizer":
        return True  # lexicon and pattern recognizers carry their own checks
    words = span.split()
    if not any(w[:1].isupper() for w in words):
        return False  # names are capitalised in the original (the model may see lower case)
    # "ASA", "cont ASA", "NT/ND", "II-XII": abbreviations are no organisation's name
    capitalised = [w for w in re.split(r"[\s/-]+", span) if w[:1].isupper()]
    return not (kind == "ORGANIZATION" and all(_ACRONYM.match(w) for w in capitalised))


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
