"""High-recall scrubbing: keep a word only when it is known to be safe.

Recall is the safety property of a scrubber; the precise detector (Presidio, spaCy and
our recognizers) finds what it can name, and misses what it has never seen: surnames
outside any list, ward and hospital abbreviations, towns. In the spirit of philter, the
high-recall mode inverts the question for free text: every word that is not known to
be safe is masked, on top of the detector's findings. Safe words are

* clinical vocabulary: words frequent in public transcriptions (mtsamples, CC0, built
  by ``benchmarks/pii/build_vocabulary.py``) and common charting abbreviations;
* common English (WordNet, shipped with spaCy), minus every first name and surname of
  the name lexicon that is not also an everyday word, and minus places: countries, US
  states, US towns of 20,000+ people and other cities of 200,000+ (GeoNames), which are
  also found as phrases ("New Haven", "WEST HARTFORD").

Numbers are kept, except the shapes PHI takes in notes: month/day dates ("7/22",
"10/3/19") and long digit runs or digit groups of telephones and pagers. The price is
usability: misspellings and rare terms are masked too. Use it for HIPAA scrubbing of
notes; the precise mode suits general text.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from importlib import resources
from typing import Final

from privsynth.pii.gazetteers import census_first_names, census_surnames, place_names, place_phrases
from privsynth.pii.note_patterns import pattern_spans
from privsynth.pii.spans import Detection

#: entity of a word masked because it is not known to be safe
POSSIBLE_PHI: Final = "POSSIBLE_PHI"
_WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]{2}")
#: words after which a name follows in notes ("dr green", "son rob", "NP grace", "wife, rose")
_CUES: Final[frozenset[str]] = frozenset(
    [
        "dr",
        "dr.",
        "mr",
        "mr.",
        "mrs",
        "mrs.",
        "ms",
        "ms.",
        "miss",
        "np",
        "pa",
        "md",
        "rn",
        "son",
        "daughter",
        "dtr",
        "wife",
        "husband",
        "sister",
        "brother",
        "mother",
        "father",
        "mom",
        "dad",
        "niece",
        "nephew",
        "friend",
        "grandson",
        "granddaughter",
    ]
)
_CUE_NAME = re.compile(
    r"\b(?P<cue>[A-Za-z]+\.?)[,:]?\s+\(?(?:[A-Za-z]\.?[ \t]+)?"
    r"(?=(?P<name>[A-Za-z][A-Za-z'-]+)(?:[ \t]+(?P<last>[A-Za-z][A-Za-z'-]+))?)",
    re.IGNORECASE,
)
#: the words before these name a facility ("Good Shepherd Hospital", "st anselm hosp")
_FACILITY = re.compile(
    r"\b(?P<name>(?:[A-Za-z][A-Za-z'-]*\s+){1,2})(?P<keyword>hospital|hosp|medical\s+center|"
    r"med\s+center|(?:heart|cancer|surgical|care|trauma|rehabilitation)\s+center|health|"
    r"campus|clinic|rehab|nursing\s+home|memorial)\b",
    re.IGNORECASE,
)
#: an initial, then a surname ("E. HARGROVE", "t. pettigrew"; a lower-case "a." or "i." is no
#: initial), perhaps after a first name ("ELMER J. HARGROVE")
_INITIAL = re.compile(
    r"(?:\b(?P<first>[A-Za-z][A-Za-z'-]+)[ \t]+)?"
    r"(?<![A-Za-z])(?:[A-Z]|[b-hj-z])\.\s*(?=(?P<name>[A-Za-z][A-Za-z'-]+))"
)
#: one or two words before a clinician's credential ("Mabel Joy, MSW", "HARGROVE, RRT")
_CREDENTIAL = re.compile(
    r"\b(?P<name>(?:[A-Za-z][A-Za-z'-]+[ \t]+(?:[A-Za-z]\.[ \t]*)?)?[A-Za-z][A-Za-z'-]+),?"
    r"[ \t]+\(?(?:md|rn|np|msw|licsw|lcsw|rrt|crnp|acnp|aprn|pharmd|phd|lpn|bsn)\b",
    re.IGNORECASE,
)
#: words before which a name stands ("E. HARGROVE AWARE", "dr green aware")
_AWARE = re.compile(r"\b(?P<name>[A-Za-z][A-Za-z'-]+)\s+(?:made\s+)?aware\b", re.IGNORECASE)


def _data_words(name: str) -> set[str]:
    text = resources.files("privsynth.pii").joinpath("data", name).read_text("utf-8")
    return {w for line in text.splitlines() if not line.startswith("#") for w in line.split()}


@functools.cache
def safe_vocabulary() -> frozenset[str]:
    """Lower-case words the high-recall mode keeps (see the module docstring)."""
    from faker.providers.address.en_US import Provider as Address

    from privsynth.pii.recognizers._lexicon import name_lexicon
    from privsynth.pii.recognizers.gazetteer import COUNTRIES, english_words

    lexicon = name_lexicon()
    places = {c.casefold() for c in COUNTRIES} | {s.casefold() for s in Address.states}
    places |= {name for name in place_names() if " " not in name}
    english = {
        w
        for w in english_words()
        if lexicon.is_common(w) or not (lexicon.is_first(w) or lexicon.is_last(w))
    }
    clinical = _data_words("clinical_vocabulary.txt") | _data_words("clinical_abbreviations.txt")
    # clinical words are written in lower case in transcriptions, so no place name is one
    # unless it is an ordinary word there too ("normal", "mobile", "reading")
    return frozenset((english - places) | clinical | lexicon.common_words)


def clinical_vocabulary() -> frozenset[str]:
    """The clinical part of the safe vocabulary (transcription words, abbreviations)."""
    return _clinical()


@functools.cache
def _clinical() -> frozenset[str]:
    return frozenset(
        _data_words("clinical_vocabulary.txt") | _data_words("clinical_abbreviations.txt")
    )


def _place_phrases(text: str) -> list[tuple[int, int]]:
    """Multi-word place names ("new haven", "WEST HARTFORD"), whatever their case."""
    phrases = place_phrases()
    words = list(_WORD.finditer(text))
    found = []
    for index in range(len(words)):
        for size in (2, 3):
            group = words[index : index + size]
            if len(group) == size and " ".join(m.group(0).casefold() for m in group) in phrases:
                found.append((group[0].start(), group[-1].end()))
    return found


def _cued_names(text: str) -> list[tuple[int, int]]:
    """Words that context marks as names even when they are English words: after a title
    or kinship word, around initials, before "aware" or a credential (any case; function
    words are never names)."""
    from privsynth.pii.recognizers._lexicon import name_lexicon

    lexicon = name_lexicon()
    found = []
    for match in _CUE_NAME.finditer(text):
        if match.group("cue").lower() in _CUES:
            found.append(match.span("name"))
            last = match.group("last")  # "dtr Agnes Baker": a surname may follow
            if last and (_is_surname(last) or not is_safe_word(last)):
                found.append(match.span("last"))
    found += [match.span("name") for match in _AWARE.finditer(text)]
    for match in _INITIAL.finditer(text):
        found.append(match.span("name"))
        if match.group("first") and lexicon.is_first(match.group("first")):
            found.append(match.span("first"))
    found += [w.span() for m in _CREDENTIAL.finditer(text) for w in _words_of(m, "name")]
    found += _names_beside_first_names(text)
    clinical, stop = clinical_vocabulary(), _stop_words()
    names = [
        (a, b)
        for a, b in found
        if (word := text[a:b].lower()) not in _NOT_NAMES
        and word not in stop
        and not (word in clinical and not _is_name(word))  # "E. COLI"
    ]  # facility names are often clinical words: "Good Shepherd", "General Hospital"
    return names + [(a, b) for a, b in _facility_words(text) if text[a:b].lower() not in stop]


def _words_of(match: re.Match[str], group: str) -> Iterator[re.Match[str]]:
    return _WORD.finditer(match.string, match.start(group), match.end(group))


def _facility_words(text: str) -> list[tuple[int, int]]:
    """Each word of the one or two words before a facility keyword, and the keyword when
    it is part of a name ("Eastbrook Memorial")."""
    found = []
    for match in _FACILITY.finditer(text):
        found += [word.span() for word in _words_of(match, "name")]
        if match.group("keyword").lower() == "memorial":
            found.append(match.span("keyword"))
    return found


def _names_beside_first_names(text: str) -> list[tuple[int, int]]:
    """A first name next to an unknown word or a surname is a name, both words
    ("grace kowalczyk", "VERNON PETTIGREW", "Agnes Thornbury"), even when they are words. After
    a first name that is itself an everyday word, only a surname that is not one counts."""
    words = list(_WORD.finditer(text))
    found = []
    for first, second in itertools.pairwise(words):
        given, other = first.group(0), second.group(0)
        if text[first.end() : second.start()].strip() or not _is_first_name(given):
            continue
        if not is_safe_word(other) or _is_surname(other, strict=is_safe_word(given)):
            found += [first.span(), second.span()]
    return found


def _is_first_name(word: str) -> bool:
    """In the name lexicon, or a census first name that is no clinical or function word."""
    from privsynth.pii.recognizers._lexicon import name_lexicon

    if name_lexicon().is_first(word):
        return True
    key = word.lower()
    known = key in clinical_vocabulary() or key in _stop_words()
    return key in census_first_names() and not known


def _is_surname(word: str, strict: bool = False) -> bool:
    """A surname; ``strict``: one of the name lexicon that is no everyday word, else any
    lexicon or census surname that is no clinical or function word."""
    from privsynth.pii.recognizers._lexicon import name_lexicon

    lexicon = name_lexicon()
    if strict:
        return lexicon.is_last(word) and not lexicon.is_common(word)
    key = word.lower()
    if key in clinical_vocabulary() or key in _stop_words():
        return False
    return lexicon.is_last(word) or key in census_surnames()


#: words that follow cues or precede "aware" in notes without being names
_NOT_NAMES: Final[frozenset[str]] = frozenset(
    [
        "aware",
        "made",
        "team",
        "staff",
        "notified",
        "paged",
        "called",
        "updated",
        "present",
        "here",
        "visited",
        "visiting",
        "resident",
        "fellow",
        "attending",
        "nurse",
        "team's",
        "family",
        "patient",
        "pt",
        "pt's",
        "at",
        "bedside",
    ]
)


@functools.cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@functools.lru_cache(maxsize=200_000)
def is_safe_word(word: str) -> bool:
    """Whether ``word`` (any case) is known to be safe: itself, an inflection of a safe
    word ("trending", "dampened", "cultures", "pt's"), or a long word one typing error
    away from a long safe word ("recieved", "extremeties") that is no known name."""
    key = word.lower().removesuffix("'s")
    vocabulary = safe_vocabulary()
    if key in vocabulary:
        return True
    if _is_name(key):  # "holmes" is no plural of "holm", "hodges" none of "hodge"
        return False
    return any(stem in vocabulary for stem in _stems(key)) or (
        len(key) >= _MIN_TYPO_LENGTH and _one_typo_away(key)
    )


_MIN_TYPO_LENGTH = 7
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _stems(word: str) -> list[str]:
    """Candidate base forms of an English inflection (no dictionary of its own)."""
    stems = []
    for suffix, endings in (
        ("ies", ("y",)), ("es", ("", "e")), ("s", ("",)), ("ing", ("", "e")),
        ("ed", ("", "e")), ("ly", ("",)), ("er", ("", "e")), ("est", ("", "e")),
    ):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            stems += [base + ending for ending in endings]
            if len(base) >= 4 and base[-1] == base[-2]:
                stems.append(base[:-1])  # "stopped" -> "stop"
    return stems


def _is_name(word: str) -> bool:
    from privsynth.pii.recognizers._lexicon import name_lexicon

    lexicon = name_lexicon()
    return lexicon.is_first(word) or lexicon.is_last(word)


def _one_typo_away(word: str) -> bool:
    """Whether one deletion, insertion, substitution or transposition makes ``word`` a
    safe word of 7+ letters (Damerau-Levenshtein distance 1)."""
    vocabulary = safe_vocabulary()
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    candidates = {a + b[1:] for a, b in splits if b}
    candidates |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    candidates |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    candidates |= {a + c + b for a, b in splits for c in _LETTERS}
    return any(len(c) >= _MIN_TYPO_LENGTH and c in vocabulary for c in candidates - {word})


#: detector entities that are words (names, places, groups), not number patterns
_WORD_ENTITIES: Final[frozenset[str]] = frozenset(
    {"PERSON", "ORGANIZATION", "LOCATION", "FACILITY", "NRP", "OCCUPATION"}
)


def high_recall_detections(text: str, found: list[Detection]) -> list[Detection]:
    """The detector's findings, less names and places made only of clinical words (the
    precise detector mistakes ALL-CAPS headings such as "NEURO:" or "FOLEY" for names),
    plus every span :func:`unsafe_spans` masks."""
    clinical = clinical_vocabulary()

    def clinical_only(d: Detection) -> bool:
        words = _WORD.findall(text[d.start : d.end])
        return bool(words) and all(w.lower() in clinical for w in words)

    kept = [d for d in found if not (d.entity_type in _WORD_ENTITIES and clinical_only(d))]
    return _union(kept + unsafe_spans(text, kept))


def _union(detections: list[Detection]) -> list[Detection]:
    """Overlapping detections merged into one span covering them all (typed as the most
    confident): masking must cover every character any of them covers, where the
    operators' overlap resolution would keep only one."""
    merged: list[Detection] = []
    for d in sorted(detections, key=lambda d: (d.start, -d.end)):
        if merged and d.start < merged[-1].end:
            last = merged[-1]
            best = last if last.score >= d.score else d
            merged[-1] = Detection(
                last.start, max(last.end, d.end), best.entity_type, best.score, best.recognizer
            )
        else:
            merged.append(d)
    return merged


def unsafe_spans(text: str, found: list[Detection]) -> list[Detection]:
    """Words not known to be safe, names cued by context and multi-word places, outside
    ``found`` (a nationality found there does not stop a cued name: "e. irish aware"),
    and date- or phone-shaped numbers anywhere."""
    taken = bytearray(len(text))  # 1 where ``found`` already covers the text: linear time
    for d in found:
        if d.entity_type != "NRP":
            taken[d.start : d.end] = b"\x01" * (d.end - d.start)

    def free(start: int, end: int) -> bool:
        return taken.find(1, start, end) == -1

    spans = [
        Detection(m.start(), m.end(), POSSIBLE_PHI, 0.5, "high_recall")
        for m in _WORD.finditer(text)
        if not is_safe_word(m.group(0)) and free(m.start(), m.end())
    ]
    for entity, cued in (("PERSON", _cued_names(text)), ("LOCATION", _place_phrases(text))):
        # context outranks a lexicon's nationality (0.6) when the two overlap
        spans += [Detection(a, b, entity, 0.7, "high_recall") for a, b in cued if free(a, b)]
    spans += [Detection(a, b, entity, 0.5, "high_recall") for a, b, entity in pattern_spans(text)]
    return spans
