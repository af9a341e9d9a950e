"""Recognizers for US street addresses, cities and ZIP codes (HIPAA Safe Harbor B).

All lean on structure rather than word lists: an address is a house number,
capitalised street words and a street-type suffix; a city is capitalised words
before ", STATE"; a ZIP code is five digits that a state, a "ZIP" label or an
address puts in context. Bare five-digit
numbers are everywhere in clinical text (lab values, codes, ids), so on their
own they only get a token score for Presidio's context enhancement to lift.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from presidio_analyzer import RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import (
    DIGIT,
    GAP,
    OPT_GAP,
    US_STATE_CODES,
    US_STATE_NAMES,
    ContextRecognizer,
    RegexRecognizer,
    alternation,
    case_sensitive,
    compile_pattern,
    labelled,
    make_result,
    title_and_upper,
    window_before,
    words,
)
from privsynth.pii.recognizers._lexicon import name_lexicon
from privsynth.pii.recognizers.gazetteer import AMBIGUOUS_COUNTRIES, COUNTRIES

_ZIP = r"(?<![\d-])\d{5}(?:-\d{4})?(?![\d-])"
_STATE_CODE = case_sensitive(alternation(US_STATE_CODES))
_STATE_NAME = "(?i:" + alternation(US_STATE_NAMES) + ")"
_COUNTRY = "(?i:" + alternation(c for c in COUNTRIES if c not in AMBIGUOUS_COUNTRIES) + ")"


class UsZipCodeRecognizer(RegexRecognizer):
    """US ZIP and ZIP+4 codes.

    "Boston, MA 02114" and "ZIP: 02114" are strong (the state code must be in
    capitals: "in 12345" is not Indiana); ZIP+4 alone is weak, a bare 5-digit
    number very weak.
    """

    REQUIRES: ClassVar[re.Pattern[str] | None] = DIGIT

    ENTITY: ClassVar[str] = entities.US_ZIP_CODE
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        (
            "zip_labelled",
            labelled(rf"zip(?:{OPT_GAP}code)?|zip\+4|postal{OPT_GAP}code|post{OPT_GAP}code", _ZIP),
            0.9,
        ),
        (
            "zip_after_state",
            # digits first, then the state behind them: cheaper than scanning for
            # 110 state names and codes at every position
            rf"(?=\d{{5}})(?<=(?<![\p{{L}}])(?:{_STATE_CODE}|{_STATE_NAME})\.?,?{GAP}){_ZIP}",
            0.8,
        ),
        (
            # postcodes of other countries after the same labels: "ZIP: 3962",
            # "Postcode: 394 13", "ZIP: 7412 SL", "ZIP: B0J 2H0", "ZIP: 75534-030"
            "postcode_labelled",
            labelled(
                rf"zip(?:{OPT_GAP}code)?|postal{OPT_GAP}code|post{OPT_GAP}code|postcode|plz",
                r"(?:\d{3,5}(?:[ -]\d{2,4})?(?:[ \t]?[A-Z]{2})?"
                r"|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|[A-Z]{1,2}\d[\dA-Z]?[ \t]\d[A-Z]{2})(?![\w-])",
            ),
            0.8,
        ),
        (
            # the postcode after the country at the end of an address line:
            # "Ljubljana, Slovenia 15755", "DOLE, France 35910", "Warszawa, Poland 53-320"
            "postcode_after_country",
            rf"(?=\d{{2}})(?<![\d-])(?<=(?<![\p{{L}}])(?:{_COUNTRY}),?{GAP})"
            r"(?:\d{5}|(?!19|20)\d{4}|\d{2}-\d{3}|\d{3}[ ]\d{2})(?=[ \t]*(?:$|[.,;)]))",
            0.6,
        ),
        ("zip_plus4", r"(?<![\d-])\d{5}-\d{4}(?![\d-])", 0.3),
        ("zip5", r"(?<![\d.,/-])\d{5}(?![\d-]|[.,]\d)", 0.05),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("zip", "postal", "address", "city", "state")

    def invalidate_result(self, pattern_text: str) -> bool:
        """ZIP 00000 is not assigned; it is a placeholder in forms."""
        return pattern_text.startswith("00000")


_STREET_SUFFIXES = (
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Av",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Court",
    "Ct",
    "Way",
    "Place",
    "Pl",
    "Terrace",
    "Ter",
    "Terr",
    "Parkway",
    "Pkwy",
    "Highway",
    "Hwy",
    "Circle",
    "Cir",
    "Square",
    "Sq",
    "Trail",
    "Trl",
    "Alley",
    "Crescent",
    "Row",
    "Pike",
    "Turnpike",
    "Tpke",
    "Expressway",
    "Expy",
    "Freeway",
    "Fwy",
    "Plaza",
    "Plz",
    "Loop",
    "Crossing",
    "Heights",
    "Hts",
    "Commons",
    "Mews",
    "Wharf",
    "Landing",
    "Park",
    "Cove",
    "Grove",
    "Manor",
)

# Capitalised words that, after a number, are counts of things rather than street
# names: keeps "2 WEEKS WITH DR. SMITH" and "2 HEAD CT" from reading as addresses.
_NOT_STREET_WORDS = words(
    "a an and as at be by for from in into is it of on or per the to with was were x "
    "mg mcg ml kg lb lbs cm mm units times days weeks months years hours hrs minutes mins "
    "minute doses tabs tablets caps capsules puffs drops sprays sets reps steps blocks flights "
    "head chest abdomen abd abdominal pelvis pelvic brain spine neck sinus renal cardiac "
    "contrast noncontrast repeat prior serial stat spiral helical cta pe view views"
)

_DIRECTION = r"(?:[NSEW]|NE|NW|SE|SW|North|South|East|West|NORTH|SOUTH|EAST|WEST)\.?"
_HOUSE_NUMBER = r"(?=\d)(?<![\w#/.-])\d{1,6}[A-Z]?(?:-\d{1,5}[A-Z]?)?"
_STREET_WORD = (
    rf"(?!(?i:{alternation(_NOT_STREET_WORDS)})(?![\p{{L}}'’-]))"
    r"(?:(?:Mt|St|Ft|MT|ST|FT)\.|\p{Lu}[\p{L}'’-]*|\d{1,3}(?:st|nd|rd|th|ST|ND|RD|TH))"
)
_SUFFIX = alternation(title_and_upper(_STREET_SUFFIXES)) + r"\.?"
_UNIT_ID = r"(?:(?=[A-Za-z-]*\d)[A-Za-z0-9-]{1,6}|[A-Z])(?![\p{L}\d])"
_UNIT_WORD = r"(?i:apt|apartment|suite|ste|unit|rm|room|floor|fl|bldg|building|lot|trlr|dept)"
_UNIT = rf"(?:,?{OPT_GAP}(?:{_UNIT_WORD}\.?{OPT_GAP}#?|#){OPT_GAP}{_UNIT_ID})"
_CITY_WORD = r"\p{Lu}[\p{L}'’.-]*"
_CITY_STATE_ZIP = (
    rf"(?:(?:,{OPT_GAP}|{GAP}){_CITY_WORD}(?:{GAP}{_CITY_WORD}){{0,2}},?{GAP}{_STATE_CODE}"
    rf"(?:{GAP}\d{{5}}(?:-\d{{4}})?)?(?![\p{{L}}\d]))"
)

_STREET_ADDRESS = case_sensitive(
    rf"{_HOUSE_NUMBER}{GAP}(?:{_DIRECTION}{GAP})?(?:{_STREET_WORD}{GAP}){{1,4}}{_SUFFIX}"
    rf"(?:{GAP}{_DIRECTION})?(?![\p{{L}}\d]){_UNIT}?{_CITY_STATE_ZIP}?"
)
_NUMBERED_ROUTE = case_sensitive(
    rf"{_HOUSE_NUMBER}{GAP}(?:(?:State|County|US|U\.S\.|STATE|COUNTY){GAP})?"
    rf"(?:Route|Rte\.?|Highway|Hwy\.?|Road|ROUTE|RTE\.?|HIGHWAY|HWY\.?|ROAD){GAP}\d{{1,4}}[A-Z]?"
    rf"(?![\p{{L}}\d]){_UNIT}?{_CITY_STATE_ZIP}?"
)


class StreetAddressRecognizer(RegexRecognizer):
    """US street addresses, PO boxes and apartment/suite designators.

    Street words must be capitalised (Title Case or ALL CAPS) and end in a
    street-type suffix, which is what keeps "5 mg" and "2 times daily" out. A unit
    ("Apt. 117", "Suite 464", "#12") and ", City, ST 02114" extend the span when
    they follow on the same line; "Apt 4B" alone is kept at a moderate score and
    "Suite 200" at a low one ("Unit 5B" alone is a hospital ward, so not flagged).
    """

    ENTITY: ClassVar[str] = entities.STREET_ADDRESS
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("street_address", _STREET_ADDRESS, 0.75),
        ("numbered_route", _NUMBERED_ROUTE, 0.7),
        (
            "po_box",
            rf"\b(?i:p\.?{OPT_GAP}o\.?{OPT_GAP}box|post{GAP}office{GAP}box){OPT_GAP}#?{OPT_GAP}"
            r"\d{1,8}(?![\p{L}\d])",
            0.8,
        ),
        ("apartment", rf"\b(?i:apt\.?|apartment){OPT_GAP}#?{OPT_GAP}{_UNIT_ID}", 0.6),
        ("suite", rf"\b(?i:suite|ste\.){OPT_GAP}#?{OPT_GAP}{_UNIT_ID}", 0.4),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("address", "street", "lives", "resides", "home")


# ------------------------------------------------------------------ cities

# Words around a city that are not part of it ("MAN FROM WORCESTER, MA").
_NOT_CITY_WORDS = words(
    "the of and for a an at by from in into is on or per to with was were who lives living "
    "resides resided residing moved born near via patient pt home address city state town "
    "man woman male female boy girl visiting visited travel traveled returned"
)
_CITY_NAME_WORD = (
    rf"(?!(?i:{alternation(_NOT_CITY_WORDS)})(?![\p{{L}}'’-]))"
    r"(?:(?:St|Ft|Mt|ST|FT|MT)\.|\p{Lu}[\p{L}'’-]*)"
)
_STATE_AFTER_CITY_RE = compile_pattern(
    rf"(?<=[\p{{L}}.]),{OPT_GAP}(?:(?P<code>{_STATE_CODE})\b|(?P<name>{_STATE_NAME})(?![\p{{L}}]))"
    rf"(?:{GAP}(?P<zip>\d{{5}}(?:-\d{{4}})?)(?![\d-]))?"
)
_CITY_BEFORE_STATE_RE = compile_pattern(
    case_sensitive(rf"(?<![\p{{L}}'’.-]){_CITY_NAME_WORD}(?:{GAP}{_CITY_NAME_WORD}){{0,2}}\Z")
)
# State codes that are also clinician credentials: "Smith, MD" is a doctor.
_CREDENTIAL_STATE_CODES = frozenset({"MD", "PA", "MA"})
# a preposition of place right before "CITY, ST" settles that the code is a state
_PLACE_PREPOSITION_RE = compile_pattern(r"\b(?i:in|from|to|near|of|outside)[ \t]+\Z")
# State codes that are also words or common abbreviations in ALL-CAPS text
# ("FEELS FINE, OK", "ALLERGIES, ME", "CT, MRI"); the others are taken after an
# ALL-CAPS city too ("JACKSONVILLE, FL").
_WORD_STATE_CODES = frozenset(
    words("IN OR ME OK HI OH ID AS DE LA PA MA MD CO AL MS GA MO CT NE VA SC PR GU VI MP")
)


class UsCityRecognizer(ContextRecognizer):
    """A US city written before its state: "Boston, MA 02114", "WORCESTER, MA".

    The span is the city only (Safe Harbor keeps states). spaCy's NER misses most
    cities in ALL-CAPS notes; the state after a comma is the evidence here. A
    ZIP code after the state makes it strong (0.85); without one it scores 0.6
    and is skipped where the code may be a word ("FEELS FINE, OK" in ALL CAPS) or
    a credential after a name ("John Smith, MD").
    """

    ENTITY: ClassVar[str] = entities.LOCATION
    WITH_ZIP_SCORE: ClassVar[float] = 0.85
    SCORE: ClassVar[float] = 0.6
    #: how far before the state a city name may start
    WINDOW_CHARS: ClassVar[int] = 60

    CONTEXT: ClassVar[tuple[str, ...]] = ("lives", "city", "address", "from")

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Cities before each ", STATE" of ``text``."""
        results: list[RecognizerResult] = []
        for state in _STATE_AFTER_CITY_RE.finditer(text):
            end = state.start()
            window = window_before(text, end, self.WINDOW_CHARS)
            city = _CITY_BEFORE_STATE_RE.search(text, window, end)
            if city is None:
                continue
            code = state.group("code")
            if state.group("zip") is None and code and self._ambiguous(text, city, code):
                continue
            has_zip = state.group("zip") is not None
            score = self.WITH_ZIP_SCORE if has_zip else self.SCORE
            results.append(make_result(self, city.start(), end, score, "city_state"))
        return results

    @staticmethod
    def _ambiguous(text: str, city_match: Any, code: str) -> bool:
        """Whether "CITY, ST" without a ZIP may be something else.

        In ALL CAPS, ", IN", ", OR", ", ME", ", OK" are as likely words as states
        ("FEELS FINE, OK"), unless a preposition of place precedes the city ("FELL AT
        HOME IN REVERE, MA"); after a person's name, ", MD", ", PA", ", MA" are
        credentials.
        """
        city = city_match.group()
        if city.isupper():
            start = city_match.start()
            after_preposition = _PLACE_PREPOSITION_RE.search(text, max(0, start - 12), start)
            return code in _WORD_STATE_CODES and after_preposition is None
        last_word = city.rsplit(maxsplit=1)[-1]
        lexicon = name_lexicon()
        return code in _CREDENTIAL_STATE_CODES and (
            lexicon.is_last(last_word) or lexicon.is_first(last_word)
        )
