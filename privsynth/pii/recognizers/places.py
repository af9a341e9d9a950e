"""Countries, and places named after a word of residence or travel.

spaCy's small model misses places it has not seen, above all in capitals or in
other languages ("flew to STAXROITH", "grew up in Chiclana de la Frontera").
:class:`PlaceRecognizer` adds

* country names (:data:`~privsynth.pii.recognizers.gazetteer.COUNTRIES`), in
  Title Case or capitals, or in any case in a text written all in lower case;
* the capitalised words after a phrase of residence, origin or travel ("lives
  in", "grew up in", "moved here from", "flew to", "I am in"), and the place and
  postcode in "in Arendal 4844".

In a text without capitals the words after such a phrase are taken as they come,
up to a function word. Words that name a kind of place rather than a place
("lives in a nursing home", "Assisted Living") are never taken.
"""

from __future__ import annotations

from typing import ClassVar, Final

from presidio_analyzer import EntityRecognizer, RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import (
    GAP,
    ContextRecognizer,
    alternation,
    compile_pattern,
    make_result,
    words,
)
from privsynth.pii.recognizers.gazetteer import AMBIGUOUS_COUNTRIES, COUNTRIES, MONTHS, WEEKDAYS

_COUNTRY_NAMES = [c for c in COUNTRIES if c not in AMBIGUOUS_COUNTRIES]
# country names by first word (casefolded), longest first: found by a scan over
# capitalised words and a dictionary lookup, not a 200-way alternation
_BY_FIRST_WORD: Final[dict[str, tuple[str, ...]]] = {}
for _name in sorted(_COUNTRY_NAMES, key=len, reverse=True):
    _first = _name.split()[0].casefold()
    _BY_FIRST_WORD[_first] = (*_BY_FIRST_WORD.get(_first, ()), _name.casefold())
_CAP_WORD_RE = compile_pattern(r"(?<![\p{L}\d'’-])\p{Lu}[\p{L}.]*(?<![.])")
_ANY_WORD_RE = compile_pattern(r"(?<![\p{L}\d'’-])\p{L}[\p{L}.]*(?<![.])")
_NAME_END_RE = compile_pattern(r"(?![\p{L}\d'’-])")

# Phrases after which a place name follows.
_PLACE_CUES = (
    "lives in", "living in", "lived in", "live in", "resides in", "residing in", "resided in",
    "grew up in", "raised in", "born in", "moved to", "moved from", "moved here from",
    "moved back to", "relocated to", "relocated from", "originally from", "is from",
    "are from", "am from", "was from", "came from", "comes from", "native of",
    "flew to", "flew in from", "flying to", "drove to", "traveled to", "travelled to",
    "trip to", "returned to", "returned from", "arrived at", "arrived in", "arrived from",
    "i am in", "i'm in", "we are in", "based in", "located in", "headquartered in",
    "home city", "hometown", "hometown of", "city of", "town of", "village of",
    "vacation in", "vacationing in", "stationed in", "deployed to",
)  # fmt: skip
_CUE = rf"\b(?i:{alternation(_PLACE_CUES)}){GAP}"
_CAP = r"\p{Lu}[\p{L}'’.-]*"
_CONNECT = r"(?:de|del|della|di|da|do|dos|das|du|la|le|am|an|der|upon|on|sur|en|im)"
# Title Case or ALL CAPS words (Greek and Cyrillic capitals included)
_CAPITALISED_PLACE = rf"{_CAP}(?:{GAP}(?:{_CONNECT}{GAP})?{_CAP}){{0,3}}"
_LOWER_PLACE = rf"\p{{Ll}}[\p{{L}}'’-]*(?:{GAP}{_CONNECT}{GAP}\p{{Ll}}[\p{{L}}'’-]*)?"
_CUE_RE = compile_pattern(rf"{_CUE}\K(?-i:{_CAPITALISED_PLACE})(?![\p{{L}}\d])")
_CUE_LOWER_RE = compile_pattern(rf"{_CUE}\K(?-i:{_LOWER_PLACE})(?![\p{{L}}\d])")
# "in Arendal 4844", "in Tokoza Ext 1426": a place and its postcode
_PLACE_POSTCODE_RE = compile_pattern(
    rf"\b(?i:in){GAP}\K(?P<place>(?-i:{_CAPITALISED_PLACE})){GAP}"
    r"(?P<code>\d{4,5}|\d{3}[ \t]\d{2})(?![\d.,/:-])"
)

# Words that follow the cues but are not places, or not places that identify.
_NOT_PLACE_WORDS: Final[frozenset[str]] = frozenset(
    w.lower()
    for w in words(
        """
        a an the this that these those his her their our my your its one some any each
        every no another other same such which what where when who here there home house
        apartment apt room unit floor ward hospital clinic office facility center centre
        nursing assisted living group foster care shelter jail prison rehab rehabilitation
        hospice icu ed er or pacu snf ltc ltac bed bedroom car town city village area
        country state county region place school college university work church
        morning evening afternoon night today tonight tomorrow yesterday
        and or but with by for from of to at on in is was were be been has had have
        i me he she it we they him them us you
        mg mcg ml kg cm mm units tablet tablets
        stage grade type level phase class step week weeks day days month months year years
        """
    )
) | frozenset((*MONTHS, *WEEKDAYS))
_FUNCTION_WORDS: Final[frozenset[str]] = _NOT_PLACE_WORDS


class PlaceRecognizer(ContextRecognizer):
    """Countries and places named after a residence, origin or travel phrase (LOCATION),
    with the postcode after "in PLACE 1234" (US_ZIP_CODE)."""

    ENTITY: ClassVar[str] = entities.LOCATION
    COUNTRY_SCORE: ClassVar[float] = 0.6
    CUE_SCORE: ClassVar[float] = 0.6
    POSTCODE_SCORE: ClassVar[float] = 0.5

    EXTRA_ENTITIES: ClassVar[tuple[str, ...]] = (entities.US_ZIP_CODE,)
    CONTEXT: ClassVar[tuple[str, ...]] = ("lives", "from", "city", "country")

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Countries, cued places and "in PLACE 1234" postcodes of ``text``."""
        lower_text = not any(c.isupper() for c in text)
        results: list[RecognizerResult] = []
        for start, end in _countries(text, any_case=lower_text):
            results.append(self._make(start, end, self.COUNTRY_SCORE, "country"))
        cue_re = _CUE_LOWER_RE if lower_text else _CUE_RE
        for match in cue_re.finditer(text):
            span = _trim(text, match.start(), match.end())
            if span is not None:
                results.append(self._make(*span, self.CUE_SCORE, "place_cue"))
        if not lower_text:
            for match in _PLACE_POSTCODE_RE.finditer(text):
                span = _trim(text, *match.span("place"))
                if span is None:
                    continue
                results.append(self._make(*span, self.CUE_SCORE, "place_postcode"))
                code = self._make(
                    match.start("code"), match.end("code"), self.POSTCODE_SCORE, "place_postcode"
                )
                code.entity_type = entities_zip()
                results.append(code)
        wanted = set(entities) if entities else None
        kept = [r for r in results if wanted is None or r.entity_type in wanted]
        deduplicated: list[RecognizerResult] = EntityRecognizer.remove_duplicates(kept)
        return deduplicated

    def _make(self, start: int, end: int, score: float, reason: str) -> RecognizerResult:
        return make_result(self, start, end, score, reason)


def _countries(text: str, any_case: bool) -> list[tuple[int, int]]:
    """Spans of country names: Title Case or capitals, or any case if ``any_case``."""
    found: list[tuple[int, int]] = []
    folded = text.casefold() if len(text.casefold()) == len(text) else None
    for match in (_ANY_WORD_RE if any_case else _CAP_WORD_RE).finditer(text):
        candidates = _BY_FIRST_WORD.get(match.group().casefold())
        if candidates is None:
            continue
        start = match.start()
        for name in candidates:
            end = start + len(name)
            piece = folded[start:end] if folded is not None else text[start:end].casefold()
            if piece == name and _NAME_END_RE.match(text, end):
                words_in = text[start:end].split()
                if any_case or all(w[0].isupper() or w in ("and", "of", "the") for w in words_in):
                    found.append((start, end))
                break
    return found


def entities_zip() -> str:
    """The postcode entity."""
    return entities.US_ZIP_CODE


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span cut before its first function word ("SEATTLE BUT SHE" -> "SEATTLE");
    None when it starts with a word that names no place."""
    tokens = text[start:end].split()
    kept: list[str] = []
    for token in tokens:
        if token.lower().strip(".,") in _FUNCTION_WORDS:
            break
        kept.append(token)
    if not kept:
        return None
    position = start
    for token in kept:
        position = text.index(token, position) + len(token)
    return start, position - (1 if kept[-1].endswith(".") else 0)
