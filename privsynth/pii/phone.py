"""A fast telephone-number recognizer.

Presidio's ``PhoneRecognizer`` runs libphonenumber's matcher over the whole text once
per region, which made it half of all analysis time. This one matches the usual
written formats with compiled expressions, then sends only the remaining phone-shaped
digit runs (7-15 digits, national and international forms) to libphonenumber's
validator, trying the regions in :data:`REGIONS` until one accepts. Context words
raise weak matches.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

import phonenumbers
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

from privsynth.pii.recognizers._base import make_result

_SEP = r"[ .\-]?"
PATTERNS = [
    # (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567, 1-800-555-1234
    Pattern(
        "north_american",
        rf"(?<![\w+])(?:\+?1{_SEP})?(?:\(\d{{3}}\)\s?|\d{{3}}{_SEP})\d{{3}}[ .\-]\d{{4}}(?!\d)",
        0.7,
    ),
    # international: +44 20 7946 0958, 0044 ..., 0489 25 37 29, 001-253-366-9781
    Pattern(
        "international",
        r"(?<![\w+])(?:\+|00)\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?"
        r"\d{1,4}(?:[ .\-]\d{2,4}){1,4}(?!\d)",
        0.6,
    ),
    Pattern("grouped", r"(?<![\w+/])0\d{2,3}(?:[ .\-]\d{2,4}){2,4}(?![\w/])", 0.3),
    # an area code in brackets: (0151) 496 0123, (020) 7946-0958, (02) 9876 5432
    Pattern(
        "bracketed_area",
        r"(?<![\w+)])\(0\d{1,4}\)[ .\-]?\d{2,4}(?:[ .\-]\d{2,4}){1,3}(?![\w/])",
        0.5,
    ),
    # five pairs (French style): 06 12 34 56 78, 01.23.45.67.89
    Pattern("pairs", r"(?<![\w+/.-])0\d(?:([ .\-])\d{2})(?:\1\d{2}){3}(?![\w/]|[.-]\d)", 0.5),
    Pattern("extension", r"(?i)\b(?:ext|x)\.?\s?\d{2,5}\b(?=\s|$)", 0.05),
]
CONTEXT = ["phone", "telephone", "tel", "cell", "mobile", "fax", "call", "contact", "pager", "ph"]

#: regions tried, in order, for a number written without a country code
REGIONS: Final = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "BR", "AU", "IN", "PL", "SE", "CN")
#: a digit run that may be a phone number: optional +/00, brackets, spaces, dots, dashes
_CANDIDATE = re.compile(r"(?<![\w+/.\-])(?:\+|\()?\d[\d ().\-]{5,22}\d(?![\w/]|[.\-]\d)")
#: a date at the start of a run ("2021-03-14", "1970-09-29 20:21" minus the colon part)
_DATE_FIRST = re.compile(
    r"\d{4}[.\-]\d{1,2}[.\-]\d{1,2}(?!\d)|\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}(?!\d)"
)
#: plain quantities: thousands separators and decimals
_QUANTITY = re.compile(r"\d{1,3}(?:\.\d{3}){2,}|\d+\.\d+")
VALID_INTERNATIONAL_SCORE: Final = 0.75
VALID_GROUPED_SCORE: Final = 0.6
VALID_BARE_SCORE: Final = 0.4
POSSIBLE_SCORE: Final = 0.3


class PhoneNumberRecognizer(PatternRecognizer):
    """Written telephone numbers, US formats strongest."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=[p for p in PATTERNS if p.name != "extension"],
            context=CONTEXT,
            name="PhoneNumberRecognizer",
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
    ) -> list[RecognizerResult]:
        """The written formats, then validated phone-shaped digit runs."""
        found = super().analyze(text, entities, nlp_artifacts, regex_flags) or []
        for match in _CANDIDATE.finditer(text):
            score = validated_score(match.group().rstrip(" (").strip())
            if score:
                found.append(make_result(self, match.start(), match.end(), score, "validated"))
        unique: list[RecognizerResult] = EntityRecognizer.remove_duplicates(found)
        return unique


@functools.lru_cache(maxsize=4096)
def validated_score(candidate: str) -> float:
    """How sure libphonenumber lets us be that ``candidate`` is a phone number (0: not)."""
    digits = sum(c.isdigit() for c in candidate)
    if not 7 <= digits <= 15 or _DATE_FIRST.match(candidate) or _QUANTITY.fullmatch(candidate):
        return 0.0
    grouped = any(c in " ().-" for c in candidate)
    international = candidate.startswith(("+", "00"))
    possible = False
    for region in (None,) if international else REGIONS:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            if international:
                return VALID_INTERNATIONAL_SCORE
            return VALID_GROUPED_SCORE if grouped else VALID_BARE_SCORE
        possible = possible or phonenumbers.is_possible_number(number)
    return POSSIBLE_SCORE if possible and grouped else 0.0
