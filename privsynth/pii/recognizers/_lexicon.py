"""Offline first-name and surname lexicon for the name recognizers.

The names come from Faker's person providers for Latin-script locales (Faker is
installed with privsynth and ships these lists, so nothing is downloaded). The
lexicon is built once per process, on first use.

Many names are also ordinary words ("Will", "May", "Grace", "Brown", "Long") or
clinical abbreviations ("ANA", "IDA"); :data:`COMMON_WORDS` lists those so the
recognizer can demand stronger evidence before calling them a name.
"""

from __future__ import annotations

import functools
import importlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from privsynth.pii import entities
from privsynth.pii.recognizers._base import ContextRecognizer, words

#: Faker person providers whose names are written in Latin script and are common
#: among US patients and clinicians: every name counts.
LOCALES: tuple[str, ...] = (
    "en_US",
    "en_GB",
    "en_IE",
    "en_IN",
    "es_ES",
    "es_MX",
    "fr_FR",
    "de_DE",
    "it_IT",
    "pt_BR",
    "nl_NL",
)

#: the other Latin-script person providers (patients come from everywhere): their
#: names count only when they are no English word, so "Wash" or "Trace" does not
#: become a name because it is one somewhere
OTHER_LOCALES: tuple[str, ...] = words(
    """
    cs_CZ da_DK de_AT de_CH en_KE en_NG en_NZ en_PK es_AR es_CL es_CO et_EE fi_FI fr_CA
    fr_CH ga_IE ha_NG hr_HR hu_HU id_ID ig_NG is_IS lt_LT lv_LV nl_BE no_NO pl_PL pt_PT
    ro_RO sk_SK sl_SI sv_SE sw tr_TR tw_GH yo_NG zu_ZA
    """
)

#: Surname particles that may sit between a first name and a surname
#: ("Vincent van Gogh", "Maria de la Cruz").
PARTICLES: frozenset[str] = frozenset(
    words("van von der den de del della la le da das do dos di du st ter ten")
)

# Names that are also everyday or clinical English words. A name lexicon match
# on one of these is weak evidence: "Will Brown be discharged?", "MARK LONG
# SEGMENT". Curated from the overlap of the name lists with English dictionaries.
_COMMON_WORDS_TEXT = """
abate amber amble angel april arts art august autumn bail baker ball banks baron bass bath
bean beard beer bell berry best bill bird birch bishop black bliss blue bond bones bonnet
booth branch brandy bravo brick bridge bridges bright brook brooks brown buck bud bull bush
butcher butler cannon canny cant care carry case chance chase cherry chester church clay
clear company cook cord coral cousin cross crystal curry dale dash date dawn day deacon dean
deep destiny diamond divine doctor dodge don drew drum duke early earl ebony edit faith fair
fall fee field fields finch fisher flood floor font ford fox frank freely french fresh frost
gamble gates gay gene german gift glass glasses glen gold golden good grace grant gray
green grey grit gross guy hale hall hand hardy hare harm harsh hart hasty haven hazel head
hearty heart heath heather heron hill holder holly honey hood hope horn house huff hunt
hunter iris ivory ivy jack jade jasmine jet jewel job joy judge june junk just key kick
kidney killer kind king knight lad lake lamb lance land lane law lawless leach lee leech
lily little long lord lot love low loyal lucid lucky luster mace major mall mallet mane
march marine mark marks marry marsh mart mason mass master mate max may meadow melody
merchant merry mesa mill miller mills miner mint misty moan monday monk moody moon more
moss mountain nary nee noble north oak ocean pace page pal pall palmer parent park parks
pastor pat patience peace peacock pearl peck peer penny pepper petty pike pine plaza pope
porter post potter pound power price prince proctor queen rain rails rattan raven ray read
real reed rich riddle ridge ring river rivers roach robin rock roe room rose rosemary rout
ruby ruddy rush rust sage sales salmon salt sandy sane savage savant scott shade sharp
shepherd sherry shine short silk silver sky small smart snow sole spring stack stark steel
sterling steward stone storm story stout street strong sue summer sunny supple sweet swift
tailor tank tanner temple thorn till toner torrent tower true trust tucker unity urban
vial victory vigil villa viola wade walker wall ward ware warmer warrior waters watts
weaver wells west white will winter wise wolf wood woods worth wren young zimmer
back bed blood bone cast chest foot hands labor lung nurse pain patient rash scar sick side
stable stool sugar vision walker wheeler lower foley post
ana ida ali alt ast amy eva max don dex cas ira ina lea ute uta bo jo le li mar sat sol
"""

#: names that are also common English words or clinical abbreviations (casefolded)
COMMON_WORDS: frozenset[str] = frozenset(words(_COMMON_WORDS_TEXT))


@dataclass(frozen=True)
class NameLexicon:
    """Casefolded, accent-stripped first names and surnames, and the risky words."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    common_words: frozenset[str]

    def is_first(self, token: str) -> bool:
        """Whether ``token`` is a known first name (any case, accents optional)."""
        return normalize_name(token) in self.first_names

    def is_last(self, token: str) -> bool:
        """Whether ``token``, or each part of a hyphenated ``token``, is a surname."""
        key = normalize_name(token)
        if key in self.last_names:
            return True
        parts = key.split("-")
        return len(parts) > 1 and all(p in self.last_names for p in parts)

    def may_start_name(self, token: str) -> bool:
        """Cheap pre-test: could ``token`` be the first word of a name (either order)?"""
        key = normalize_name(token)
        return key in self.first_names or key in self.last_names or "-" in key

    def is_common(self, token: str) -> bool:
        """Whether ``token`` is also an everyday word, so weak evidence of a name."""
        return normalize_name(token) in self.common_words


def normalize_name(token: str) -> str:
    """Casefold and strip accents, so "JOSÉ", "José" and "Jose" look the same."""
    if token.isascii():
        return token.lower()
    decomposed = unicodedata.normalize("NFKD", token.casefold().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _provider_names(locale: str, attributes: Iterable[str]) -> set[str]:
    """Names from one Faker person provider; weighted lists are dicts of name -> weight."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    names: set[str] = set()
    for attribute in attributes:
        value = getattr(provider, attribute, ())
        if not isinstance(value, property):  # some providers compute a list per instance
            names.update(str(n) for n in value)
    return names


def _single_tokens(names: Iterable[str]) -> frozenset[str]:
    """Normalised one-word names of 2+ letters; multi-word entries ("van de Berg") are
    left to the particle rule, and initials are not names on their own."""
    out = set()
    for name in names:
        key = normalize_name(name.strip())
        if len(key) >= 2 and " " not in key and not key.endswith("."):
            out.add(key)
    return frozenset(out)


def _everyday_words() -> frozenset[str]:
    """Function words and common words from libraries already installed with Presidio."""
    from faker.providers.lorem.en_US import Provider as LoremProvider
    from spacy.lang.en.stop_words import STOP_WORDS

    words = {str(w).lower() for w in LoremProvider.word_list}
    words.update(str(w).lower() for w in STOP_WORDS)
    return frozenset(words)


@functools.cache
def name_lexicon() -> NameLexicon:
    """The process-wide lexicon, built on first use (about 0.3 s) and then shared."""
    first, last = _locale_names(LOCALES)
    other_first, other_last = _locale_names(OTHER_LOCALES)
    from privsynth.pii.recognizers.gazetteer import is_english_word

    first |= {name for name in other_first if not is_english_word(name)}
    last |= {name for name in other_last if not is_english_word(name)}
    return NameLexicon(
        first_names=first - PARTICLES,
        last_names=last - PARTICLES,
        common_words=COMMON_WORDS | _everyday_words(),
    )


def _locale_names(locales: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Normalised (first names, surnames) of the Faker person providers ``locales``."""
    first: set[str] = set()
    last: set[str] = set()
    for locale in locales:
        first |= _provider_names(locale, ("first_names", "first_names_male", "first_names_female"))
        last |= _provider_names(locale, ("last_names",))
    return _single_tokens(first), _single_tokens(last)


class LexiconRecognizer(ContextRecognizer):
    """A PERSON recognizer backed by the shared name lexicon (built on first use)."""

    ENTITY: ClassVar[str] = entities.PERSON

    def __init__(
        self,
        supported_language: str = "en",
        context: list[str] | None = None,
        lexicon: NameLexicon | None = None,
    ) -> None:
        self._lexicon = lexicon
        super().__init__(supported_language, context)

    @property
    def lexicon(self) -> NameLexicon:
        """The name lexicon, shared process-wide unless one was given."""
        if self._lexicon is None:
            self._lexicon = name_lexicon()
        return self._lexicon
