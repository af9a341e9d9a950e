"""Consistent, keyed, format-preserving surrogates for detected PII.

Why keyed: a surrogate is a pure function of (secret key, entity type, normalized
original), so one patient keeps one pseudonym across rows, columns, files and runs,
while anyone without the key can neither recompute the mapping (to test a guessed
name) nor invert it. The key only ever enters HMAC-SHA256; it never appears in an
output, a repr or an error message.

Why format-preserving: parsers, validators and readers downstream expect a phone
number to look like a phone number. Digit-based identifiers keep their exact layout
(separators, length, letter case) and, where the format carries a check digit (NPI,
credit card, DEA, IBAN), a valid one. Names, places and organisations come from a
Faker instance reseeded from the HMAC, so they look real but are not derived from
anything but the key and the original.

Dates live here too because shifting needs the key: :func:`find_dates` parses the
common formats once, and both date shifting and Safe Harbor's year reduction use it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Final

from privsynth.errors import ConfigurationError
from privsynth.pii import entities as E
from privsynth.pii.recognizers.gazetteer import MONTHS, WEEKDAYS

if TYPE_CHECKING:
    from faker import Faker

KEY_ENV_VAR: Final = "PRIVSYNTH_SURROGATE_KEY"
MIN_KEY_BYTES: Final = 16
MAX_SHIFT_DAYS: Final = 365
DATE_TAG: Final = "[DATE]"

#: identifiers replaced character by character (digit -> digit, letter -> letter)
CHARACTER_TYPES: Final = frozenset(
    {
        E.PHONE_NUMBER,
        E.US_SSN,
        E.MEDICAL_RECORD_NUMBER,
        E.HEALTH_PLAN_NUMBER,
        E.ACCOUNT_NUMBER,
        E.NPI,
        E.DEA_NUMBER,
        E.CREDIT_CARD,
        E.US_BANK_NUMBER,
        E.US_DRIVER_LICENSE,
        E.US_PASSPORT,
        E.IBAN_CODE,
        E.DEVICE_ID,
        E.US_ZIP_CODE,
    }
)

_KEY_HINT: Final = (
    "set PRIVSYNTH_SURROGATE_KEY to the hex output of "
    "`python -c 'from privsynth.pii.surrogates import generate_key; print(generate_key())'`"
)


def generate_key(n_bytes: int = 32) -> str:
    """A new random key as hex; ``secrets`` because the key must be unguessable."""
    if n_bytes < MIN_KEY_BYTES:
        raise ConfigurationError(f"a surrogate key needs at least {MIN_KEY_BYTES} bytes")
    return secrets.token_hex(n_bytes)


def normalize(entity_type: str, original: str) -> str:
    """The form two spellings of one value share, so they get one surrogate.

    Numbers drop punctuation and spacing ("(555) 123 4567" == "555-123-4567"); text
    is case-folded with whitespace collapsed ("JOHN  SMITH" == "John Smith").
    """
    folded = original.casefold()
    if entity_type in CHARACTER_TYPES:
        return "".join(c for c in folded if c.isalnum())
    return " ".join(folded.split())


def _match_case(template: str, value: str) -> str:
    """``value`` in ``template``'s letter case when that is ALL CAPS or all lower."""
    letters = [c for c in template if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return value.upper()
    if letters and all(c.islower() for c in letters):
        return value.lower()
    return value


class _KeyedStream:
    """Unbiased keyed random integers from HMAC-SHA256 in counter mode.

    Used instead of a PRNG for digits and date offsets so those surrogates depend
    only on the key and the standard library, never on a Faker or Python version.
    """

    def __init__(self, key: bytes, label: str) -> None:
        self._key = key
        self._label = label.encode()
        self._buffer = b""
        self._counter = 0

    def _bytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = self._label + b"\0" + self._counter.to_bytes(8, "big")
            self._buffer += hmac.digest(self._key, block, "sha256")
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def below(self, n: int) -> int:
        """Uniform in ``range(n)``; rejection sampling keeps it free of modulo bias."""
        width = max(1, ((n - 1).bit_length() + 7) // 8)
        space = 256**width
        limit = space - space % n
        while True:
            value = int.from_bytes(self._bytes(width), "big")
            if value < limit:
                return value % n

    def __repr__(self) -> str:
        return "_KeyedStream(key=<hidden>)"


# --------------------------------------------------------------------------- dates

_WD: Final = (
    r"(?:(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\.?,?\s+)?"
)
_MN: Final = (
    r"(?P<mn>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_SFX: Final = r"(?P<sfx>st|nd|rd|th)?"
_TIME: Final = (
    r"(?P<t>(?:T|,?\s+(?:at\s+)?)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:\s*[ap]\.?m\.?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?)?"
)
#: most specific first: at one start position the longest match wins anyway
_FORMAT_BODIES: Final = (
    r"(?P<y>\d{4})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})" + _TIME,
    r"(?P<m>\d{1,2})(?P<s>[-/])(?P<d>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})" + _TIME,
    _MN + r"\s+(?P<d>\d{1,2})" + _SFX + r",?\s+(?P<y>\d{4})" + _TIME,
    r"(?P<d>\d{1,2})" + _SFX + r"\s+(?:of\s+)?" + _MN + r",?\s+(?P<y>\d{4})" + _TIME,
    _MN + r",?\s+(?P<y>\d{4})",
    r"(?P<m>\d{1,2})/(?P<y>\d{4})",
    _MN + r"\s+(?P<d>\d{1,2})" + _SFX,
    r"(?P<d>\d{1,2})" + _SFX + r"\s+(?:of\s+)?" + _MN,
    r"(?P<m>\d{1,2})/(?P<d>\d{1,2})",
    r"(?P<y>(?:1[89]|20)\d{2})",
)
_FORMATS: Final = tuple(
    re.compile(r"(?<![\w/])" + _WD + body + r"(?![\w/])", re.IGNORECASE) for body in _FORMAT_BODIES
)
_RENDERED_FIELDS: Final = ("wd", "y", "m", "mn", "d", "sfx")
_LEAP_YEAR: Final = 2000  # stands in for a missing year so Feb 29 stays valid


@dataclass(frozen=True)
class DateMatch:
    """One date found in a text, with whichever of year, month and day it states."""

    match: re.Match[str]
    year: int | None
    month: int | None
    day: int | None

    @property
    def start(self) -> int:
        return self.match.start()

    @property
    def end(self) -> int:
        return self.match.end()

    def anchor(self) -> date | None:
        """A calendar date to shift: mid-month without a day, a leap year without a
        year; None for a bare year or fields that form no date (2/30)."""
        if self.month is None:
            return None
        try:
            return date(self.year or _LEAP_YEAR, self.month, self.day or 15)
        except ValueError:
            return None


def _full_year(text: str) -> int:
    """Four digits as is; two digits pivot like POSIX strptime (69-99 -> 1900s)."""
    value = int(text)
    if len(text) > 2:
        return value
    return value + (1900 if value >= 69 else 2000)


def _date_match(match: re.Match[str]) -> DateMatch:
    """Year, month and day of one match (month names and two-digit years resolved)."""
    fields = match.groupdict()
    month: int | None = None
    if fields.get("m"):
        month = int(fields["m"])
    elif fields.get("mn"):
        month = next(i for i, m in enumerate(MONTHS, 1) if m.startswith(fields["mn"].lower()))
    year = _full_year(fields["y"]) if fields.get("y") else None
    day = int(fields["d"]) if fields.get("d") else None
    return DateMatch(match, year, month, day)


def _next_date(text: str, pos: int) -> re.Match[str] | None:
    """The earliest date at or after ``pos``; the longest one when several start there."""
    best: re.Match[str] | None = None
    for pattern in _FORMATS:
        found = pattern.search(text, pos)
        if found is None:
            continue
        if best is None or (found.start(), -found.end()) < (best.start(), -best.end()):
            best = found
    return best


def find_dates(text: str) -> list[DateMatch]:
    """Dates in ``text`` (m/d/yyyy, m/d/yy, yyyy-mm-dd, "July 22, 2019", "22 Jul 2019",
    "Jul 2019", "7/2019", "July 22", "7/22", a bare year), left to right.

    Numeric dates are read month first (US convention), so 07/08/2019 is July 8.
    """
    found: list[DateMatch] = []
    pos = 0
    while (match := _next_date(text, pos)) is not None:
        found.append(_date_match(match))
        pos = match.end()
    return found


def _named(names: tuple[str, ...], index: int, template: str) -> str:
    """Month or weekday name at ``index`` written in the style of ``template``."""
    name = names[index]
    folded = template.casefold()
    if folded not in names:
        name = name[:4] if folded == "sept" and name == "september" else name[:3]
    return _match_case(template, name.capitalize())


def _render_field(field: str, template: str, new: date) -> str:
    """One field of a date (year, month, day, weekday, ordinal) in its old style."""
    if field == "y":
        return str(new.year) if len(template) > 2 else f"{new.year % 100:02d}"
    if field in ("m", "d"):
        value = new.month if field == "m" else new.day
        return f"{value:02d}" if len(template) == 2 else str(value)
    if field == "mn":
        return _named(MONTHS, new.month - 1, template)
    if field == "wd":
        return _named(WEEKDAYS, new.weekday(), template)
    suffix = "th" if 11 <= new.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(new.day % 10, "th")
    return _match_case(template, suffix)


def render_date(found: DateMatch, new: date) -> str:
    """``found``'s text with its fields rewritten to ``new``; separators, name styles,
    zero padding and any time of day stay as they were."""
    text, base = found.match.group(0), found.start
    fields = found.match.groupdict()
    present = [f for f in _RENDERED_FIELDS if fields.get(f)]
    for field in sorted(present, key=found.match.start, reverse=True):
        start, end = found.match.span(field)
        new_text = _render_field(field, fields[field], new)
        text = text[: start - base] + new_text + text[end - base :]
    return text


def _shift_found(found: DateMatch, days: int) -> str:
    """One found date moved by ``days``; a bare year stays, an impossible date goes."""
    if found.month is None and found.year is not None:
        return found.match.group(0)  # a bare year carries no day to shift
    anchor = found.anchor()
    if anchor is None:
        return DATE_TAG
    return render_date(found, anchor + timedelta(days=days))


def shift_text_dates(text: str, days: int) -> str:
    """Every date in ``text`` moved by ``days``; ``[DATE]`` when none parses."""
    dates = find_dates(text)
    if not dates:
        return DATE_TAG
    for found in reversed(dates):
        text = text[: found.start] + _shift_found(found, days) + text[found.end :]
    return text


def _canonical_dates(text: str) -> str:
    """One spelling per date, so "7/22/2019" and "July 22, 2019" shift alike."""
    parts = []
    for found in find_dates(text):
        anchor = found.anchor()
        parts.append(f"{found.year}-{anchor:%m-%d}" if anchor else f"{found.year}")
    return "|".join(parts)


# ------------------------------------------------------------------ check digits


def _luhn_total(digits: str) -> int:
    """Luhn sum with every second digit from the right doubled."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total


def luhn_valid(number: str) -> bool:
    """Whether the digits of ``number`` pass the Luhn (mod 10) check."""
    digits = "".join(c for c in number if c.isdigit())
    return len(digits) > 1 and _luhn_total(digits) % 10 == 0


def luhn_check_digit(payload: str) -> int:
    """The digit that makes ``payload`` + digit Luhn-valid."""
    return (10 - _luhn_total(payload + "0") % 10) % 10


def npi_valid(npi: str) -> bool:
    """NPI check: ten digits, Luhn-valid behind the 80840 health-industry prefix."""
    digits = "".join(c for c in npi if c.isdigit())
    return len(digits) == 10 and luhn_valid("80840" + digits)


def _dea_check(digits: str) -> int:
    """DEA check digit: (d1 + d3 + d5 + 2 * (d2 + d4 + d6)) mod 10."""
    d = [int(c) for c in digits[:6]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def dea_valid(dea: str) -> bool:
    """DEA number check: two letters, six digits and their weighted check digit."""
    chars = "".join(c for c in dea if c.isalnum())
    ok = re.fullmatch(r"[A-Za-z][A-Za-z9]\d{7}", chars) is not None
    return ok and _dea_check(chars[2:]) == int(chars[-1])


def _iban_remainder(text: str) -> int:
    """The IBAN mod-97 remainder, letters counting A=10 ... Z=35."""
    return int("".join(str(int(c, 36)) for c in text.upper())) % 97


def iban_valid(iban: str) -> bool:
    """ISO 13616 check: the rearranged IBAN is 1 modulo 97."""
    chars = "".join(c for c in iban if c.isalnum())
    ascii_ok = re.fullmatch(r"[A-Za-z0-9]{5,}", chars) is not None
    return ascii_ok and _iban_remainder(chars[4:] + chars[:4]) == 1


# ------------------------------------------------------------------ the generator

_TITLE_RE: Final = re.compile(r"^(?:(?:dr|mr|mrs|ms|miss|mx|prof|rev)\.?\s+)+", re.IGNORECASE)
_SUFFIX_RE: Final = re.compile(r"(?:,?\s+(?:Jr|Sr|II|III|IV|MD|M\.D|DO|RN|NP|PA|PhD|DDS)\.?)+$")
_TOKEN_RE: Final = re.compile(r"(\W*)(.*?)(\W*)")
_FACILITY_KINDS: Final = (
    "Medical Center",
    "Hospital",
    "Clinic",
    "Health Center",
    "Infirmary",
    "Medical Group",
    "Health System",
    "Urgent Care",
)


@cache
def _first_names() -> tuple[frozenset[str], frozenset[str]]:
    """Faker's female and male first names, to keep a name's gender and role."""
    from faker.providers.person.en_US import Provider

    female = frozenset(n.casefold() for n in Provider.first_names_female)
    male = frozenset(n.casefold() for n in Provider.first_names_male)
    return female, male


def _name_roles(cores: list[str], titled: bool, comma_first: bool) -> list[str]:
    """ "first" or "last" per name token, so a surname maps alike wherever it stands."""
    if len(cores) == 1:
        female, male = _first_names()
        known_first = cores[0].casefold() in female | male
        return ["first" if known_first and not titled else "last"]
    if comma_first:  # "Smith, John A."
        return ["last"] + ["first"] * (len(cores) - 1)
    return ["first"] * (len(cores) - 1) + ["last"]


def _split_token(token: str) -> tuple[str, str, str]:
    """Leading punctuation, the name itself, trailing punctuation ("Smith," -> ",")."""
    match = _TOKEN_RE.fullmatch(token)
    assert match is not None  # the pattern matches any string
    return match.group(1), match.group(2), match.group(3)


def _last_name(fake: Faker, original: str) -> str:
    """A surname (``original`` unused: surnames carry no gender)."""
    return fake.last_name()


def _first_name(fake: Faker, original: str) -> str:
    female, male = _first_names()
    folded = original.casefold()
    if folded in female:
        return fake.first_name_female()
    if folded in male:
        return fake.first_name_male()
    return fake.first_name()


def _facility(fake: Faker, original: str) -> str:
    """ "<surname> <kind>", keeping the original's kind word (the last one it uses)."""
    folded = original.casefold()
    found = [(folded.rfind(k.casefold()), k) for k in _FACILITY_KINDS]
    position, kind = max(found)
    return f"{fake.last_name()} {kind if position >= 0 else 'Hospital'}"


def _url(fake: Faker, original: str) -> str:
    """A URL with the original's scheme (or none) and trailing slash (or none)."""
    url = fake.url()
    if "://" not in original:
        url = url.split("://", 1)[1]
    return url if original.endswith("/") else url.rstrip("/")


def _ip(fake: Faker, original: str) -> str:
    """An address of the original's family (IPv6 when it has colons)."""
    return fake.ipv6() if ":" in original else fake.ipv4()


_FAKER_DRAWS: Final[dict[str, Callable[[Faker, str], str]]] = {
    E.LOCATION: lambda fake, _: fake.city(),
    E.STREET_ADDRESS: lambda fake, _: fake.street_address(),
    E.FACILITY: _facility,
    E.ORGANIZATION: lambda fake, _: fake.company(),
    E.OCCUPATION: lambda fake, _: fake.job(),
    E.EMAIL_ADDRESS: lambda fake, _: fake.email(),
    E.URL: _url,
    E.IP_ADDRESS: _ip,
}


def _nonzero_offset(stream: _KeyedStream) -> int:
    """Uniform over [-365, -1] and [1, 365]: a zero shift would publish the real date."""
    value = stream.below(2 * MAX_SHIFT_DAYS)
    return value - MAX_SHIFT_DAYS if value < MAX_SHIFT_DAYS else value - MAX_SHIFT_DAYS + 1


class SurrogateGenerator:
    """Keyed surrogates: same key and (type, normalized value) -> same surrogate.

    Thread-safe: one shared Faker instance is reseeded per value under a lock.
    """

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray):
            raise ConfigurationError("a surrogate key must be bytes", hint=_KEY_HINT)
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"a surrogate key needs at least {MIN_KEY_BYTES} bytes, got {len(key)}",
                hint=_KEY_HINT,
            )
        self._key = bytes(key)
        #: True for a throwaway key: surrogates are consistent within this process only
        self.ephemeral = False
        self._faker: Faker | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_hex(cls, hex_key: str) -> SurrogateGenerator:
        """A generator from a hex key (what :func:`generate_key` returns)."""
        try:
            key = bytes.fromhex(hex_key.strip())
        except ValueError:
            raise ConfigurationError("the surrogate key is not valid hex", hint=_KEY_HINT) from None
        return cls(key)

    @classmethod
    def from_env(cls, var: str = KEY_ENV_VAR) -> SurrogateGenerator:
        """A generator from the hex key in ``var``, so the key stays out of configs."""
        value = os.environ.get(var, "")
        if not value.strip():
            raise ConfigurationError(f"environment variable {var} is not set", hint=_KEY_HINT)
        return cls.from_hex(value)

    @classmethod
    def from_env_or_ephemeral(cls, var: str = KEY_ENV_VAR) -> SurrogateGenerator:
        """The key in ``var`` when set, else a random throwaway key (``ephemeral``):
        consistent within this run, unlinkable to any other run."""
        if os.environ.get(var, "").strip():
            return cls.from_env(var)
        generator = cls(secrets.token_bytes(32))
        generator.ephemeral = True
        return generator

    @property
    def fingerprint(self) -> str:
        """A short public id of the key (HMAC of a constant), to tell keys apart in logs."""
        return hmac.digest(self._key, b"privsynth key fingerprint", "sha256")[:6].hex()

    def __repr__(self) -> str:
        return f"SurrogateGenerator(key=<hidden>, fingerprint={self.fingerprint})"

    # -------------------------------------------------------------- public API

    def surrogate(self, entity_type: str, original: str) -> str:
        """A consistent, format-preserving stand-in for ``original``."""
        if not original.strip() or entity_type == E.AGE:
            return original  # ages are generalised by Safe Harbor, not replaced
        if entity_type in CHARACTER_TYPES:
            return self._characters(entity_type, original)
        if entity_type == E.DATE_TIME:
            return self._date(original)
        if entity_type == E.PERSON:
            return self._person(original)
        draw = _FAKER_DRAWS.get(entity_type)
        if draw is None:
            return f"<{entity_type}>"
        return self._fake(entity_type, normalize(entity_type, original), original, draw)

    def date_offset(self, person_key: str) -> int:
        """Days every date of ``person_key`` moves, in [-365, 365] and never 0; one
        offset per person keeps every interval between that person's dates."""
        return _nonzero_offset(_KeyedStream(self._key, f"date-shift\0{person_key}"))

    def shift_date(self, text: str, person_key: str) -> str:
        """``text`` with each date moved by the person's offset, in its own format;
        ``[DATE]`` when no date parses."""
        return shift_text_dates(text, self.date_offset(person_key))

    # -------------------------------------------------------------- internals

    def _mac(self, message: str) -> bytes:
        """HMAC-SHA256 of ``message`` under the key: the only place the key is used."""
        return hmac.digest(self._key, message.encode(), hashlib.sha256)

    def _seeded(self, entity_type: str, normalized: str) -> Faker:
        """The shared Faker reseeded from HMAC(key, type NUL normalized); hold the lock."""
        if self._faker is None:
            from faker import Faker

            self._faker = Faker("en_US")
        seed = int.from_bytes(self._mac(f"{entity_type}\0{normalized}")[:8], "big")
        self._faker.seed_instance(seed)
        return self._faker

    def _fake(
        self, entity_type: str, normalized: str, original: str, draw: Callable[[Faker, str], str]
    ) -> str:
        """A Faker draw for the value, redrawn (deterministically) if it equals it."""
        value = original
        with self._lock:
            for attempt in range(16):
                label = normalized if attempt == 0 else f"{normalized}\0{attempt}"
                value = draw(self._seeded(entity_type, label), original)
                if value.casefold() != original.strip().casefold():
                    break
        return _match_case(original, value)

    def _characters(self, entity_type: str, original: str) -> str:
        """Digits -> digits, letters -> letters of the same case, the rest kept."""
        if not any(c.isalnum() for c in original):
            return original
        label = f"{entity_type}\0{normalize(entity_type, original)}"
        value = original
        for attempt in range(16):
            stream = _KeyedStream(self._key, label if attempt == 0 else f"{label}\0{attempt}")
            value = _fix_check_digits(entity_type, _scramble(original, stream), original, stream)
            if value != original:
                break
        return value

    def _date(self, original: str) -> str:
        """A per-value keyed shift: one date gets one surrogate date in any format."""
        canonical = _canonical_dates(original)
        if not canonical:
            return DATE_TAG
        days = _nonzero_offset(_KeyedStream(self._key, f"{E.DATE_TIME}\0{canonical}"))
        return shift_text_dates(original, days)

    def _person(self, original: str) -> str:
        """Token by token, so "John Smith", "SMITH, JOHN" and "Dr. Smith" share a
        surname; keeps title, credentials, token count, initials and letter case."""
        title_match = _TITLE_RE.match(original)
        title = title_match.group(0) if title_match else ""
        rest = original[len(title) :]
        suffix_match = _SUFFIX_RE.search(rest)
        suffix = suffix_match.group(0) if suffix_match else ""
        parts = re.split(r"(\s+)", rest[: len(rest) - len(suffix)])
        splits = [_split_token(p) for p in parts if p and not p.isspace()]
        if not any(core for _, core, _ in splits):
            return title + self._name_token("x", "last") + suffix
        comma_first = len(splits) > 1 and splits[0][2].startswith(",")
        roles = iter(_name_roles([core for _, core, _ in splits], bool(title), comma_first))
        pieces = iter(splits)
        out = []
        for part in parts:
            if not part or part.isspace():
                out.append(part)
                continue
            lead, core, trail = next(pieces)
            out.append(lead + (self._name_token(core, next(roles)) if core else "") + trail)
        return title + "".join(out) + suffix

    def _name_token(self, core: str, role: str) -> str:
        """One name token; initials ("J", "J.R") are replaced letter by letter."""
        if sum(c.isalpha() for c in core) <= 1 or "." in core:
            return self._characters(f"{E.PERSON}-initial", core)
        draw = _first_name if role == "first" else _last_name
        return self._fake(E.PERSON, f"{role}\0{core.casefold()}", core, draw)


def _scramble(original: str, stream: _KeyedStream) -> str:
    """Each digit -> a keyed digit, each letter -> a keyed letter of the same case."""
    out = []
    for char in original:
        if char.isdigit():
            out.append(str(stream.below(10)))
        elif char.isalpha():
            letter = chr(ord("a") + stream.below(26))
            out.append(letter.upper() if char.isupper() else letter)
        else:
            out.append(char)
    return "".join(out)


def _fix_check_digits(entity_type: str, value: str, original: str, stream: _KeyedStream) -> str:
    """Make NPI, credit-card, DEA and IBAN surrogates pass their validators."""
    if entity_type == E.IBAN_CODE:
        return _fix_iban(value, original)
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    digits = "".join(value[i] for i in positions)
    alnum = "".join(c for c in original if c.isalnum())
    if entity_type == E.NPI and len(digits) == 10:
        body = "12"[stream.below(2)] + digits[1:9]  # 1 = individual, 2 = organisation
        digits = body + str(luhn_check_digit("80840" + body))
    elif entity_type == E.CREDIT_CARD and len(digits) >= 2:
        digits = digits[:-1] + str(luhn_check_digit(digits[:-1]))
    elif entity_type == E.DEA_NUMBER and re.fullmatch(r"[A-Za-z]{2}\d{7}", alnum):
        digits = digits[:6] + str(_dea_check(digits))
    chars = list(value)
    for position, digit in zip(positions, digits, strict=True):
        chars[position] = digit
    return "".join(chars)


def _fix_iban(value: str, original: str) -> str:
    """Keep the country code (a country is not an identifier), recompute the check."""
    spots = [i for i, c in enumerate(value) if c.isalnum()]
    chars = "".join(value[i] for i in spots)
    if len(spots) < 5 or not re.fullmatch(r"[A-Za-z]{2}\d{2}[A-Za-z0-9]+", chars):
        return value
    country = original[spots[0]] + original[spots[1]]
    check = f"{98 - _iban_remainder(chars[4:] + country + '00'):02d}"
    new = list(value)
    new[spots[0]], new[spots[1]], new[spots[2]], new[spots[3]] = *country, *check
    return "".join(new)
