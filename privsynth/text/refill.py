"""Generated placeholder text -> readable text with fake values (the last stage).

A model trained on :mod:`privsynth.text.placeholders` output writes ``<PERSON_2>``
where a name goes. Each placeholder becomes a Faker or random value drawn for that
document only: every ``<PERSON_2>`` of one document gets one fake name, different
placeholders of a type get different values, and documents draw independently (a
document's seed comes from the caller's numpy ``Generator``, so a run is reproducible
and no value links two documents). Nothing here derives from real data: the values
are pure draws, unlike :class:`privsynth.pii.surrogates.SurrogateGenerator`, whose
keyed surrogates are a function of an original.

Formats are the usual ones of US clinical notes: dates MM/DD/YYYY close to one
another within a document, ages 18-89 (HIPAA Safe Harbor never allows more than 89),
phones (ddd) ddd-dddd, record numbers as eight digits. Names, places and facilities
follow the document's case (ALL-CAPS notes get ALL-CAPS names). A sampled text may be
cut off mid-placeholder or name a type that does not exist: a known type with a bad
or missing number (``<PERSON_>``, ``<PERSON_12``, ``<PHONE_NUMBER>``) is filled with a
fresh value of that type, anything else placeholder-like (``<FOO_1>``, a trailing
``<PERS``) is removed, so no angle-bracket token ever survives.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.pii.operators import replace_spans
from privsynth.pii.surrogates import _FACILITY_KINDS
from privsynth.text.placeholders import PLACEHOLDER_TYPES, Tag, find_tags

if TYPE_CHECKING:
    from faker import Faker

#: youngest and oldest age written (Safe Harbor: ages over 89 are identifying)
MIN_AGE: Final = 18
MAX_AGE: Final = 89
#: a document's dates lie within this many days of its own random anchor date
DATE_SPREAD_DAYS: Final = 60
_FIRST_ANCHOR: Final = datetime.date(2000, 1, 1)
_ANCHOR_DAYS: Final = (datetime.date(2024, 12, 31) - _FIRST_ANCHOR).days
ID_DIGITS: Final = 8
#: fills that follow the document's letter case
_CASED: Final = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "OTHER"})
_REDRAWS: Final = 20  # tries for a value not yet used in the document
_MAX_PASSES: Final = 4  # removing a tag can expose another ("<<FOO>" -> "<")


@dataclass(frozen=True)
class RefillResult:
    """Refilled texts and what was done, as counts."""

    texts: list[str]
    #: placeholders replaced by a value, per type (well-formed and repaired alike)
    counts: Mapping[str, int]
    #: malformed placeholders of a known type filled with a fresh value
    repaired: int = 0
    #: placeholder-like strings of no known type removed
    removed: int = 0


class _Draws:
    """Random values of one document: ``rng`` for numbers, ``fake`` for words."""

    def __init__(self, fake: Faker, rng: np.random.Generator) -> None:
        self.fake = fake
        self.rng = rng
        self._anchor: datetime.date | None = None

    def digit(self, low: int = 0) -> str:
        return str(int(self.rng.integers(low, 10)))

    def date(self) -> str:
        if self._anchor is None:
            offset = int(self.rng.integers(0, _ANCHOR_DAYS + 1))
            self._anchor = _FIRST_ANCHOR + datetime.timedelta(days=offset)
        shift = int(self.rng.integers(-DATE_SPREAD_DAYS, DATE_SPREAD_DAYS + 1))
        return f"{self._anchor + datetime.timedelta(days=shift):%m/%d/%Y}"

    def age(self) -> str:
        return str(int(self.rng.integers(MIN_AGE, MAX_AGE + 1)))

    def phone(self) -> str:
        """A North American number: area and exchange codes start 2-9, none is N11."""
        while True:
            area = self.digit(2) + self.digit() + self.digit()
            exchange = self.digit(2) + self.digit() + self.digit()
            if area[1:] != "11" and exchange[1:] != "11":
                return f"({area}) {exchange}-{''.join(self.digit() for _ in range(4))}"

    def identifier(self) -> str:
        return "".join(self.digit() for _ in range(ID_DIGITS))

    def organization(self) -> str:
        kind = _FACILITY_KINDS[int(self.rng.integers(len(_FACILITY_KINDS)))]
        return f"{self.fake.last_name()} {kind}"


_DRAWS: Final[Mapping[str, Callable[[_Draws], str]]] = {
    "PERSON": lambda d: f"{d.fake.first_name()} {d.fake.last_name()}",
    "DATE": _Draws.date,
    "AGE": _Draws.age,
    "LOCATION": lambda d: d.fake.city(),
    "ORGANIZATION": _Draws.organization,
    "PHONE": _Draws.phone,
    "EMAIL": lambda d: d.fake.email(safe=True),
    "ID": _Draws.identifier,
    "URL": lambda d: d.fake.url(),
    "OTHER": lambda d: d.fake.last_name(),  # mostly rare words and names in notes
}


def _letter_case(text: str) -> str:
    """ "upper" or "lower" when the text (placeholders aside) is written so, else "mixed"."""
    letters = [c for c in _without_tags(text) if c.isalpha()]
    if len(letters) < 20:
        return "mixed"
    upper = sum(c.isupper() for c in letters) / len(letters)
    return "upper" if upper >= 0.9 else "lower" if upper <= 0.02 else "mixed"


def _without_tags(text: str) -> str:
    pieces, position = [], 0
    for tag in find_tags(text):
        pieces.append(text[position : tag.start])
        position = tag.end
    return "".join([*pieces, text[position:]])


@dataclass
class _Document:
    """The values of one document, one per (type, index), none repeated within a type."""

    draws: _Draws
    case: str
    values: dict[tuple[str, int | str], str] = field(default_factory=dict)
    used: set[tuple[str, str]] = field(default_factory=set)

    def value(self, kind: str, key: int | str) -> str:
        if (kind, key) not in self.values:
            self.values[(kind, key)] = self._fresh(kind)
        return self.values[(kind, key)]

    def _fresh(self, kind: str) -> str:
        value = ""
        for _ in range(_REDRAWS):
            value = _DRAWS[kind](self.draws)
            if (kind, value) not in self.used:
                break
        self.used.add((kind, value))
        if kind in _CASED and self.case != "mixed":
            return value.upper() if self.case == "upper" else value.lower()
        return value


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    repaired: int = 0
    removed: int = 0


def _fill(tag: Tag, document: _Document, tally: _Tally, fresh: int) -> str:
    """The text that replaces one tag ("" removes it)."""
    if tag.kind is None:
        tally.removed += 1
        return ""
    tally.counts[tag.kind] += 1
    if tag.well_formed and tag.index is not None:
        return document.value(tag.kind, tag.index)
    tally.repaired += 1
    key: int | str = tag.index if tag.index else f"fresh {fresh}"
    return document.value(tag.kind, key)


def _refill_one(text: str, document: _Document, tally: _Tally) -> str:
    """One document with every tag filled or removed (repeated until none is left)."""
    fresh = 0
    for _ in range(_MAX_PASSES):
        tags = find_tags(text)
        if not tags:
            break
        replacements = []
        for tag in tags:
            fresh += 1
            replacements.append((tag.start, tag.end, _fill(tag, document, tally, fresh)))
        text = replace_spans(text, replacements)
    return text


def _faker(locale: str) -> Faker:
    from faker import Faker

    try:
        return Faker(locale)
    except AttributeError:
        raise ConfigurationError(
            f"Faker has no locale {locale!r}", hint="use a Faker locale such as 'en_US'"
        ) from None


def _checked(texts: Sequence[str], rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ConfigurationError(
            f"rng must be a numpy Generator, got {type(rng).__name__}",
            hint="pass numpy.random.default_rng(seed)",
        )
    if isinstance(texts, str):
        raise InputDataError("expected a sequence of texts, got one string", hint="pass [text]")
    for number, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputDataError(
                f"text {number} is {type(text).__name__}, not text",
                hint="pass the generated samples as strings",
            )


def refill_with_counts(
    texts: Sequence[str], rng: np.random.Generator, locale: str = "en_US"
) -> RefillResult:
    """Every placeholder of ``texts`` replaced by a fake value (see the module doc),
    with counts per type of what was filled, repaired and removed."""
    _checked(texts, rng)
    fake = _faker(locale)
    seeds = rng.integers(0, 2**63 - 1, size=len(texts), dtype=np.int64)
    tally = _Tally()
    out = []
    for text, seed in zip(texts, seeds, strict=True):
        fake.seed_instance(int(seed))
        draws = _Draws(fake, np.random.default_rng(int(seed)))
        out.append(_refill_one(text, _Document(draws, _letter_case(text)), tally))
    counts = {**dict.fromkeys(PLACEHOLDER_TYPES, 0), **tally.counts}
    return RefillResult(out, counts, tally.repaired, tally.removed)


def refill(texts: Sequence[str], rng: np.random.Generator, locale: str = "en_US") -> list[str]:
    """Every placeholder of ``texts`` replaced by a fake value, consistent within a
    document, independent across documents, reproducible for a given ``rng``."""
    return refill_with_counts(texts, rng, locale).texts
