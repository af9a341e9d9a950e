"""Addresses written outside the US pattern, and the rest of an address block.

:class:`StreetAddressRecognizer` finds US street lines ("44 Baker Street"); most of
the world writes the street type first ("Via dei Fiorentini 17", "29 Rue de
Tanger", "ul. Narewska 94"), glues it to the name ("Wingertweg 126",
"Kiannonkatu 98") or puts the number last with no type at all after a postcode
("20789 Allika 46"). US military mail has its own form ("PSC 3294, Box 9168 APO AA
61487"). And an address rarely stops at the street: a unit, a city, a region or
country and a postcode follow, on the same line after commas or on the next lines
of a block ("Suite 501\\n Riisa\\n\\n Estonia 62488").

:class:`AddressBlockRecognizer` finds street lines of all these kinds, plus units
("Apt. 656") whose street is on the line before, and then walks the block: the
street and its units are a STREET_ADDRESS, the place names after them LOCATION,
and the postcode a US_ZIP_CODE (the postcode entity of this detector). The walk
stops at the first piece that is not an address part, at a label ("PHONE:") or
after a few lines, so that a note's next field is never swallowed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from presidio_analyzer import EntityRecognizer, RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import (
    GAP,
    OPT_GAP,
    US_STATE_CODES,
    ContextRecognizer,
    alternation,
    compile_pattern,
    make_result,
    words,
)
from privsynth.pii.recognizers.gazetteer import is_country, is_english_word
from privsynth.pii.recognizers.location import _NUMBERED_ROUTE, _STREET_ADDRESS

# Street types written before the name, in the major European languages
# (Italian, French, Spanish, Catalan, Portuguese, Polish, Czech, Slovak, Romanian,
# Albanian, Slovenian/Croatian) and English words used the same way.
_PREFIX_TYPES = words(
    """
    Via Viale Vicolo Piazza Piazzale Piazzetta Corso Largo Contrada Strada Lungomare
    Rue Avenue Av. Av Avda. Avda Avenida Boulevard Bd. Bd Chemin Chaussée Place Quai Allée
    Impasse Route Calle Carrer Camino Paseo Plaza Praça Rua Travessa Estrada Alameda
    Rambla Ronda Passeig Avinguda Carretera ul. ulica al. aleja os. pl. plac ulice
    náměstí třída nám. Str. Strada Calea Bulevardul Aleea Splaiul Rruga Trg Cesta
    Ulitsa Prospekt Odos
    """
)
# Street types glued to the end of the name ("Wingertweg", "Kiannonkatu"), in the
# Germanic, Nordic, Finnish, Estonian, Dutch, Hungarian and Slavic languages.
_SUFFIX_TYPES = words(
    """
    weg straße strasse str. gasse allee platz damm ufer chaussee
    gade vej vænget stræde gata gatan vägen väg veien vei vegen gränd torget
    katu tie kuja polku
    tänav maantee puiestee
    laan straat plein gracht kade dreef singel
    utca út tér körút
    ulica cesta ulice
    """
)
# The same words as separate words after the name ("Augsburger Strasse 36",
# "Trenerys gate 232", "Wesselényi u. 94."), Hungarian abbreviations included.
_AFTER_TYPES = words(
    """
    Strasse Straße Str. Weg Gasse Allee Platz Ring gate gata vei vej gade
    utca u. út krt. körút tér rkp. rakpart sor köz sétány
    """
)

_WORD = r"[\p{L}][\p{L}'’.-]*"
_CAP_WORD = r"\p{Lu}[\p{L}'’.-]*"
_CONNECTOR = (
    r"(?i:de|del|della|delle|dei|degli|di|da|do|dos|das|des|du|la|le|les|el|al|van|von|der"
    r"|den|y|e|i)(?![\p{L}'’-])"
)
_UNIT_WORD = r"(?i:apt|apartment|suite|ste|flat|unit|bldg|building|floor|fl|room|rm|box)"
_HOUSE = r"\d{1,5}[A-Za-z]?(?:[/-]\d{1,4}[A-Za-z]?)?\.?"
_NUMBER_AHEAD = rf"(?=(?:{GAP}{_WORD}){{0,3}}{GAP}\d)"
_NAME_WORD = rf"(?:{_CAP_WORD}|{_CONNECTOR}|\p{{Ll}}[\p{{L}}'’-]*{_NUMBER_AHEAD})"
_PREFIX_KEYS: Final[frozenset[str]] = frozenset(t.lower() for t in _PREFIX_TYPES)
# written in lower case in the middle of an address too ("26 rue des Lilas")
_LOWER_PREFIXES: Final[frozenset[str]] = frozenset(
    words("ul. al. os. pl. rue rua calle avenida strada avda. av. str.")
)
_SUFFIX_KEYS: Final[tuple[str, ...]] = tuple(t.lower() for t in _SUFFIX_TYPES)
_AFTER_KEYS: Final[frozenset[str]] = frozenset(_AFTER_TYPES)
_START = r"(?<![\p{L}\d'’.-])"

# candidates, found cheaply, then checked in Python
_WORD_RE = compile_pattern(r"(?<![\p{L}\d'’-])\p{L}[\p{L}'’-]*\.?")
_NUMBER_AFTER_WORD_RE = compile_pattern(r"(?<=\p{L}\.?)[ \t]+\d{1,5}[A-Za-z]?\.?(?![\p{L}\d])")
_PREFIX_REST_RE = compile_pattern(
    rf"{OPT_GAP}{_NAME_WORD}(?:{GAP}{_NAME_WORD}){{0,4}}(?:,?{GAP}{_HOUSE}(?![\p{{L}}\d]))?"
)
_WORDS_BEFORE_RE = compile_pattern(rf"(?:{_CAP_WORD}{GAP}){{0,3}}(?P<last>{_WORD})\Z")
# "20789 Allika 46": a postcode or house number, a name, a number, then the end
# of the line or of the part ("," "Apt"/"Suite").
_NUMBERED_NAME = (
    rf"{_START}\d{{3,6}}{GAP}(?:(?!{_UNIT_WORD}\b){_CAP_WORD}{GAP}){{1,3}}\d{{1,5}}[A-Za-z]?\.?"
    r"(?=[ \t]*(?:$|,|>|\?\?|(?i:apt|apartment|suite|ste)\b))"
)
_MILITARY = (
    r"\b(?i:(?:psc|cmr|unit)\s+\d{3,5},?\s+box\s+\d{3,5}"
    r"|(?:usns|usnv|uss|uscgc)\s+\p{L}+(?:[ \t]+\p{L}+)?),?\s+"
    r"(?i:apo|fpo|dpo)\s+(?i:aa|ae|ap)\s+\d{5}(?!\d)"
)
_POST_BOX = r"\b(?i:postbox|postfach|post box|apartado|caixa postal|boîte postale)[ \t]*\d{1,6}\b"

# (name, compiled pattern, cheap pre-test on the lower-cased text or None)
_CORE_PATTERNS: Final = (
    ("military", compile_pattern(_MILITARY), ("apo", "fpo", "dpo")),
    ("box", compile_pattern(_POST_BOX), ("postbox", "postfach", "post box", "apartado",
                                        "caixa", "boîte")),
    ("numbered", compile_pattern(_NUMBERED_NAME), None),
    ("us", compile_pattern(_STREET_ADDRESS), None),
    ("route", compile_pattern(_NUMBERED_ROUTE), None),
)  # fmt: skip
_UNIT_RE = compile_pattern(
    r"(?<![\p{L}])(?i:apt|apartment|suite|ste|flat)\.?[ \t]*#?[ \t]*"
    r"(?=[A-Za-z-]*\d)[A-Za-z0-9-]{1,6}(?![\p{L}\d])"
)

# Between the parts of one address: a comma, a line break (at most two), or the
# markers of quoted or flattened blocks (">", "???", "|").
_SEPARATOR = r"(?:[ \t]*(?:,|\n|>|\?{2,}|\|)[ \t>|]*){1,3}"
_PIECE_SEP_RE = compile_pattern(rf"(?:{_SEPARATOR}|{GAP})")
_UNIT_PIECE_RE = compile_pattern(
    r"(?i:apt|apartment|suite|ste|flat|unit|bldg|building|floor|fl|room|rm)\.?[ \t]*#?[ \t]*"
    r"(?=[A-Za-z-]*\d)[A-Za-z0-9-]{1,6}(?![\p{L}\d])"
)
_POSTCODE = (
    r"(?:\d{5}(?:-\d{3,4})?|\d{4}(?:[ \t]?\p{Lu}{2}(?![\p{L}]))?|\d{3}[ \t]\d{2}|\d{2}-\d{3}"
    r"|\p{Lu}\d\p{Lu}[ \t]?\d\p{Lu}\d|\p{Lu}{1,2}\d[\dA-Z]?[ \t]\d\p{Lu}{2})(?![\p{L}\d-])"
)
_POSTCODE_RE = compile_pattern(_POSTCODE)
_STATE_RE = compile_pattern(rf"(?-i:{alternation(US_STATE_CODES)}|\p{{Lu}}{{2}})(?![\p{{L}}\d])")
_PLACE_WORD = rf"(?:{_CAP_WORD}|{_CONNECTOR}(?=[ \t]+\p{{Lu}})|\d{{1,2}}(?=[ \t]*(?:$|,|>)))"
_PLACE_RE = compile_pattern(rf"(?:{_CAP_WORD}|\p{{Lu}}\.)(?:[ \t]+{_PLACE_WORD}){{0,3}}")
# what may follow a place name of a block: a separator, a postcode, the end
_PLACE_END_RE = compile_pattern(
    rf"(?={_SEPARATOR}|[ \t]*$|[ \t]+{_POSTCODE}|[ \t]*[.?!]?[ \t]*$|\Z|[ \t]*[.?!](?:[ \t]|$))"
)
_LABEL_AHEAD_RE = compile_pattern(r"[ \t]*[:=]")
# words that end an address block: labels and sentence words, never places
_STOP_WORDS: Final[frozenset[str]] = frozenset(
    w.lower()
    for w in words(
        """
        the a an and or but for with from to of in on at by is are was were be been it its
        this that these those he she his her they them their we our you your i my me
        phone tel fax email e-mail mobile cell office home work dob mrn ssn npi acct account
        apt apartment suite ste flat unit bldg building floor fl room rm box bed bay
        patient pt name date time age sex visit location provider physician attending
        referring pcp dictated transcribed signed cc re subject dear regards sincerely
        please thanks thank hello hi
        """
    )
)
#: how many pieces (unit, place, region, postcode) may follow a street
MAX_PIECES: Final = 6


class AddressBlockRecognizer(ContextRecognizer):
    """International and military street addresses and the rest of their block.

    Reports several entities: STREET_ADDRESS (street and unit), LOCATION (city,
    region, country of the block) and US_ZIP_CODE (its postcode).
    """

    ENTITY: ClassVar[str] = entities.STREET_ADDRESS
    STREET_SCORE: ClassVar[float] = 0.7
    PIECE_SCORE: ClassVar[float] = 0.6
    MILITARY_SCORE: ClassVar[float] = 0.85

    EXTRA_ENTITIES: ClassVar[tuple[str, ...]] = (entities.LOCATION, entities.US_ZIP_CODE)
    CONTEXT: ClassVar[tuple[str, ...]] = ("address", "street", "lives")

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Street lines, units with their street, and the places and postcode after them."""
        found: list[tuple[int, int, str, float]] = []
        for start, end, score in self._streets(text):
            found.append((_leading_number(text, start), end, entities_street(), score))
            found.extend(self._rest_of_block(text, end))
        for match in _UNIT_RE.finditer(text):
            if any(s <= match.start() < e for s, e, _, _ in found):
                continue
            street = _street_before(text, match.start())
            if street is None:
                continue
            found.append((street, match.end(), entities_street(), self.STREET_SCORE))
            found.extend(self._rest_of_block(text, match.end()))
        wanted = set(entities) if entities else None
        results = [
            self._result(start, end, kind, score)
            for start, end, kind, score in found
            if end > start and (wanted is None or kind in wanted)
        ]
        deduplicated: list[RecognizerResult] = EntityRecognizer.remove_duplicates(results)
        return deduplicated

    def _streets(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of each street line of ``text``, of any kind."""
        streets: list[tuple[int, int, float]] = []
        lowered = text.lower()
        for name, pattern, pretest in _CORE_PATTERNS:
            if pretest is not None and not any(p in lowered for p in pretest):
                continue
            score = self.MILITARY_SCORE if name == "military" else self.STREET_SCORE
            for match in pattern.finditer(text):
                if name == "numbered" and _mostly_digits(match.group()):
                    continue
                streets.append((match.start(), match.end(), score))
        for match in _WORD_RE.finditer(text):  # "Via dei Fiorentini 17", "ul. Narewska 94"
            word = match.group()
            key = word.lower()
            if key not in _PREFIX_KEYS or (word[0].islower() and key not in _LOWER_PREFIXES):
                continue
            rest = _PREFIX_REST_RE.match(text, match.end())
            if rest is not None and rest.end() > match.end():
                streets.append((match.start(), rest.end(), self.STREET_SCORE))
        for match in _NUMBER_AFTER_WORD_RE.finditer(text):  # "Wingertweg 126", "Strasse 36"
            start = _street_name_before(text, match.start())
            if start is not None:
                streets.append((start, match.end(), self.STREET_SCORE))
        return streets

    def _result(self, start: int, end: int, kind: str, score: float) -> RecognizerResult:
        result = make_result(self, start, end, score, "address_block")
        result.entity_type = kind
        return result

    def _rest_of_block(self, text: str, position: int) -> list[tuple[int, int, str, float]]:
        """Units, places and the postcode that follow a street at ``position``."""
        pieces: list[tuple[int, int, str, float]] = []
        score = self.PIECE_SCORE
        for _ in range(MAX_PIECES):
            gap = _PIECE_SEP_RE.match(text, position)
            if gap is None or gap.end() >= len(text):
                break
            at = gap.end()
            if gap.group().count("\n") > 2:
                break
            unit = _UNIT_PIECE_RE.match(text, at)
            if unit is not None:
                pieces.append((at, unit.end(), entities_street(), score))
                position = unit.end()
                continue
            postcode = _POSTCODE_RE.match(text, at)
            if postcode is not None and not _LABEL_AHEAD_RE.match(text, postcode.end()):
                pieces.append((at, postcode.end(), entities.US_ZIP_CODE, score))
                position = postcode.end()
                continue
            place = _PLACE_RE.match(text, at)
            if place is None or not _is_place(text, place):
                break
            position = place.end()
            if _STATE_RE.fullmatch(place.group()) is not None:
                continue  # a state or region code: kept, like states under Safe Harbor
            if not is_country(place.group()) and _is_stop(place.group()):
                break
            pieces.append((at, place.end(), entities.LOCATION, score))
        return pieces


def entities_street() -> str:
    """The street entity (a function so that the module reads top-down)."""
    return entities.STREET_ADDRESS


def _street_name_before(text: str, number_start: int) -> int | None:
    """Start of a street name that ends in a street type before a house number:
    "Wingertweg" (glued type) or "Augsburger Strasse" (separate type)."""
    match = _WORDS_BEFORE_RE.search(text, max(0, number_start - 60), number_start)
    if match is None:
        return None
    last = match.group("last")
    if last in _AFTER_KEYS and match.start("last") > match.start():
        return int(match.start())
    key = last.lower()
    if (
        last[:1].isupper()
        and len(last) > 4
        and key.endswith(_SUFFIX_KEYS)
        and not is_english_word(last)
    ):
        return int(match.start("last"))
    return None


def _mostly_digits(span: str) -> bool:
    """ "20789 12 46": numbers only, not a street name."""
    return sum(c.isalpha() for c in span) < 3


def _leading_number(text: str, start: int) -> int:
    """Start of a number written before the street on its line ("20789 Allika 46")."""
    match = _LEADING_NUMBER_RE.search(text, max(0, start - 12), start)
    return match.start() if match is not None else start


_LEADING_NUMBER_RE = compile_pattern(r"(?<![\w,.:/-])\d{1,6}[ \t]+\Z")
# the street part before a unit: "Kiannonkatu 98", "4844 Søndergade 52", "Allika 46"
_STREET_BEFORE_RE = compile_pattern(
    rf"(?<=^|[\n>|:?]|[ \t]{{2}})[ \t]*\K(?:\d{{1,6}}{GAP})?(?:{_WORD}{GAP}){{0,3}}{_CAP_WORD}{GAP}"
    rf"{_HOUSE}(?:,)?{_SEPARATOR.replace('{1,3}', '{0,1}')}[ \t]*\Z"
)


def _street_before(text: str, unit_start: int) -> int | None:
    """Start of the street line that a unit ("Apt. 656") follows, if there is one."""
    window = max(0, unit_start - 80)
    match = _STREET_BEFORE_RE.search(text, window, unit_start)
    if match is None:
        return None
    words_before = match.group().split()
    if any(w.lower() in _STOP_WORDS for w in words_before):
        return None
    return int(match.start())


def _is_place(text: str, place: Any) -> bool:
    """Whether a capitalised run is a place of the block, not the next field or sentence."""
    if _LABEL_AHEAD_RE.match(text, place.end()):
        return False
    return _PLACE_END_RE.match(text, place.end()) is not None


def _is_stop(span: str) -> bool:
    """Whether any word of ``span`` is a label or sentence word."""
    return any(w.lower().strip(".,") in _STOP_WORDS for w in span.split())
