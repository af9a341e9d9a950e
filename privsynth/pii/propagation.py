"""Other mentions of a name already found in the same text.

A note names a person in full once ("Maciej Borkowski", "Dr. Anna Weiss") and then
by one part of the name ("Borkowski was seen", "WEISS"): the later mention has
none of the evidence that found the first (no title, no first name, no label), so
each recognizer misses it alone. Once one mention is found, the rest of the text
is searched for the same name words, the way human de-identifiers work.

Only distinctive words spread: 3+ letters, written capitalised where the text
has capitals, and neither an everyday or dictionary word ("Hill", "Will"), a
title or credential, nor a medical eponym in this position ("Parkinson's
disease"). Organisations, facilities and places spread only as whole repeats of
the span found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex

from privsynth.pii import entities as E
from privsynth.pii.recognizers._lexicon import PARTICLES, name_lexicon
from privsynth.pii.recognizers.eponyms import is_clinical_eponym
from privsynth.pii.recognizers.gazetteer import is_english_word
from privsynth.pii.recognizers.names import NOT_NAME_WORDS
from privsynth.pii.spans import Detection

#: the recognizer name of detections added here
RECOGNIZER = "NamePropagation"
#: score of a later mention: it is as sure as the first, but never outranks a type
#: that a specific recognizer gave the same region
SCORE = 0.5
_WHOLE_SPAN_TYPES = frozenset({E.ORGANIZATION, E.LOCATION, E.FACILITY})
_NAME_WORD = regex.compile(r"\p{L}[\p{L}'’]*\p{L}")
_MIN_LETTERS = 3


def propagate(text: str, detections: Sequence[Detection]) -> list[Detection]:
    """Detections for the other mentions, in ``text``, of names in ``detections``.

    None of the returned spans overlaps ``detections``."""
    person_words = _person_words(text, detections)
    spans = _whole_spans(text, detections)
    if not person_words and not spans:
        return []
    candidates = _word_mentions(text, person_words) if person_words else []
    folded = text.casefold()
    if len(folded) == len(text):  # else casefolding moved offsets ("ß" -> "ss"): skip
        for span, kind in spans.items():
            candidates += _repeats(text, folded, span, kind)
    cased = any(c.isupper() for c in text)
    found: list[Detection] = []
    taken = bytearray(len(text))  # characters already covered: linear, not pairwise
    for d in detections:
        taken[d.start : d.end] = b"\x01" * (d.end - d.start)
    for candidate in sorted(candidates):
        if cased and not text[candidate.start].isupper():
            continue  # "smith" in a text with capitals is a word, not the name
        if taken.find(1, candidate.start, candidate.end) != -1:
            continue
        if candidate.entity_type == E.PERSON and is_clinical_eponym(
            text, candidate.start, candidate.end
        ):
            continue
        found.append(candidate)
        taken[candidate.start : candidate.end] = b"\x01" * (candidate.end - candidate.start)
    return found


def _word_mentions(text: str, person_words: set[str]) -> list[Detection]:
    """Every word of ``text`` that is one of ``person_words`` (a possessive aside)."""
    mentions = []
    for match in _NAME_WORD.finditer(text):
        word = _without_possessive(match.group())
        if word.casefold() in person_words:
            end = match.start() + len(word)
            mentions.append(Detection(match.start(), end, E.PERSON, SCORE, RECOGNIZER))
    return mentions


def _repeats(text: str, folded: str, span: str, kind: str) -> list[Detection]:
    """Whole-word repeats of ``span`` in ``text`` (``span`` and ``folded`` casefolded)."""
    found = []
    start = folded.find(span)
    while start >= 0:
        end = start + len(span)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or after.isalnum()):
            found.append(Detection(start, end, kind, SCORE, RECOGNIZER))
        start = folded.find(span, end)
    return found


def _person_words(text: str, detections: Iterable[Detection]) -> set[str]:
    """The distinctive words of the people found, casefolded."""
    return {
        _without_possessive(word).casefold()
        for d in detections
        if d.entity_type == E.PERSON
        for word in _NAME_WORD.findall(text, d.start, d.end)
        if _distinctive(word)
    }


def _whole_spans(text: str, detections: Iterable[Detection]) -> dict[str, str]:
    """Organisations, facilities and places found (casefolded) -> their type."""
    spans: dict[str, str] = {}
    for d in detections:
        span = text[d.start : d.end].strip()
        if d.entity_type in _WHOLE_SPAN_TYPES and len(span) > _MIN_LETTERS and span[0].isupper():
            spans[span.casefold()] = d.entity_type
    return spans


def _without_possessive(word: str) -> str:
    """ "Borkowski" for "Borkowski's"."""
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _distinctive(word: str) -> bool:
    """Whether a word of a name is rare enough to mark other mentions as the person."""
    key = word.casefold()
    if len(key) < _MIN_LETTERS or not word[0].isupper():
        return False
    if key in NOT_NAME_WORDS or key in PARTICLES or name_lexicon().is_common(word):
        return False
    return not is_english_word(word)
