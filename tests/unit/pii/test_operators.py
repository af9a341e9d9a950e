"""Keyed surrogates (consistency, secrecy, format preservation, date shifting) and the
replacement operators applied to detected spans."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privsynth.errors import ConfigurationError
from privsynth.pii.operators import OPERATORS, apply_operator, resolve_overlaps
from privsynth.pii.spans import Detection
from privsynth.pii.surrogates import (
    CHARACTER_TYPES,
    KEY_ENV_VAR,
    MAX_SHIFT_DAYS,
    SurrogateGenerator,
    dea_valid,
    find_dates,
    generate_key,
    iban_valid,
    luhn_valid,
    npi_valid,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture(scope="module")
def gen() -> SurrogateGenerator:
    return SurrogateGenerator(KEY)


@pytest.fixture(scope="module")
def other() -> SurrogateGenerator:
    return SurrogateGenerator(OTHER_KEY)


# ------------------------------------------------------------------ the key


def test_short_or_bad_keys_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        SurrogateGenerator(b"short")
    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    with pytest.raises(ConfigurationError, match=KEY_ENV_VAR):
        SurrogateGenerator.from_env()
    monkeypatch.setenv(KEY_ENV_VAR, "zz-not-hex-secretvalue")
    with pytest.raises(ConfigurationError) as caught:
        SurrogateGenerator.from_env()
    assert "secretvalue" not in caught.value.one_line()


def test_from_env_reads_a_generated_hex_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    assert len(bytes.fromhex(key)) == 32 and key != generate_key()
    monkeypatch.setenv(KEY_ENV_VAR, key)
    from_env = SurrogateGenerator.from_env()
    direct = SurrogateGenerator(bytes.fromhex(key))
    assert from_env.surrogate("US_SSN", "123-45-6789") == direct.surrogate("US_SSN", "123-45-6789")


def test_ephemeral_key_only_without_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    first, second = (
        SurrogateGenerator.from_env_or_ephemeral(),
        SurrogateGenerator.from_env_or_ephemeral(),
    )
    assert first.ephemeral and second.ephemeral and first.fingerprint != second.fingerprint
    monkeypatch.setenv(KEY_ENV_VAR, KEY.hex())
    stable = SurrogateGenerator.from_env_or_ephemeral()
    assert not stable.ephemeral and stable.fingerprint == SurrogateGenerator(KEY).fingerprint


def test_key_never_shows_in_repr_or_str(gen: SurrogateGenerator) -> None:
    for text in (repr(gen), str(gen), f"{gen}"):
        assert KEY.hex() not in text and repr(KEY) not in text and "hidden" in text
    assert gen.fingerprint != SurrogateGenerator(OTHER_KEY).fingerprint


# ------------------------------------------------------------------ consistency

VALUES = [
    ("PERSON", "John Smith"),
    ("LOCATION", "Springfield"),
    ("STREET_ADDRESS", "12 Elm Street"),
    ("FACILITY", "Massachusetts General Hospital"),
    ("ORGANIZATION", "Acme Corporation"),
    ("EMAIL_ADDRESS", "john.smith@gmail.com"),
    ("URL", "https://www.johnsmith.org/"),
    ("IP_ADDRESS", "192.168.10.20"),
    ("PHONE_NUMBER", "617-555-0199"),
    ("US_SSN", "123-45-6789"),
    ("MEDICAL_RECORD_NUMBER", "MRN0012345"),
    ("NPI", "1234567893"),
    ("CREDIT_CARD", "4111 1111 1111 1111"),
    ("DATE_TIME", "07/22/2019"),
]


@pytest.mark.parametrize(("entity", "value"), VALUES)
def test_same_key_same_value_same_surrogate(entity: str, value: str) -> None:
    first, second = SurrogateGenerator(KEY), SurrogateGenerator(KEY)  # two "runs"
    assert first.surrogate(entity, value) == second.surrogate(entity, value)
    assert first.surrogate(entity, value) == first.surrogate(entity, value)


@pytest.mark.parametrize(("entity", "value"), VALUES)
def test_surrogate_differs_from_and_does_not_contain_the_original(
    gen: SurrogateGenerator, entity: str, value: str
) -> None:
    out = gen.surrogate(entity, value)
    assert out != value
    assert value.casefold() not in out.casefold()


def test_normalized_variants_share_a_surrogate(gen: SurrogateGenerator) -> None:
    phone = gen.surrogate("PHONE_NUMBER", "555-123-4567")
    assert re.sub(r"\D", "", phone) == re.sub(
        r"\D", "", gen.surrogate("PHONE_NUMBER", "(555) 123 4567")
    )
    assert (
        gen.surrogate("LOCATION", "  new   york ") == gen.surrogate("LOCATION", "New York").lower()
    )
    assert (
        gen.surrogate("PERSON", "JOHN  SMITH").split()
        == gen.surrogate("PERSON", "John Smith").upper().split()
    )


def test_person_tokens_map_alike_in_any_arrangement(gen: SurrogateGenerator) -> None:
    first, last = gen.surrogate("PERSON", "John Smith").split()
    assert gen.surrogate("PERSON", "Smith, John") == f"{last}, {first}"
    assert gen.surrogate("PERSON", "Dr. Smith") == f"Dr. {last}"
    assert gen.surrogate("PERSON", "John") == first


def test_different_keys_give_different_surrogates(
    gen: SurrogateGenerator, other: SurrogateGenerator
) -> None:
    mrns = [f"MRN{n:08d}" for n in range(20)]
    assert all(
        gen.surrogate("MEDICAL_RECORD_NUMBER", m) != other.surrogate("MEDICAL_RECORD_NUMBER", m)
        for m in mrns
    )
    names = ["John Smith", "Mary Jones", "Ann Lee", "Peter Brown", "Carl Olsen", "Rosa Diaz"]
    differing = sum(gen.surrogate("PERSON", n) != other.surrogate("PERSON", n) for n in names)
    assert differing >= len(names) - 1
    assert gen.date_offset("patient-1") != other.date_offset("patient-1")


# ------------------------------------------------------------------ formats

_ID_TEXT = st.text(
    alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-() ./#",
    min_size=1,
    max_size=30,
)


def _char_class(c: str) -> str:
    return "9" if c.isdigit() else "A" if c.isupper() else "a" if c.islower() else c


@settings(max_examples=150, deadline=None)
@given(entity=st.sampled_from(sorted(CHARACTER_TYPES)), value=_ID_TEXT)
def test_identifier_surrogates_keep_the_exact_format(entity: str, value: str) -> None:
    out = SurrogateGenerator(KEY).surrogate(entity, value)
    assert len(out) == len(value)
    assert [_char_class(c) for c in out] == [_char_class(c) for c in value]
    if any(c.isalnum() for c in value):
        assert out != value


@settings(max_examples=100, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_npi_surrogates_pass_the_80840_luhn_check(digits: str) -> None:
    out = SurrogateGenerator(KEY).surrogate("NPI", digits)
    assert npi_valid(out) and out[0] in "12"


@settings(max_examples=100, deadline=None)
@given(
    groups=st.lists(st.text(alphabet="0123456789", min_size=4, max_size=4), min_size=4, max_size=4)
)
def test_credit_card_surrogates_pass_luhn(groups: list[str]) -> None:
    card = " ".join(groups)
    out = SurrogateGenerator(KEY).surrogate("CREDIT_CARD", card)
    assert luhn_valid(out) and out.count(" ") == 3


def test_check_digit_validators_and_other_checked_formats(gen: SurrogateGenerator) -> None:
    assert npi_valid("1234567893") and not npi_valid("1234567890")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert dea_valid("AB1234563") and not dea_valid("AB1234564")
    iban = "GB82 WEST 1234 5698 7654 32"
    assert iban_valid(iban) and not iban_valid("GB83 WEST 1234 5698 7654 32")
    out = gen.surrogate("IBAN_CODE", iban)
    assert iban_valid(out) and out.startswith("GB") and out != iban
    assert dea_valid(gen.surrogate("DEA_NUMBER", "AB1234563"))


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("JOHN SMITH", r"[A-Z' -]+ [A-Z' -]+"),
        ("John Smith", r"[A-Z][a-z'A-Z-]+ [A-Z][a-z'A-Z-]+"),
        ("SMITH", r"[A-Z' -]+"),
        ("Dr. John Smith", r"Dr\. [A-Z]\w+ [A-Z][\w'-]+"),
        ("Mr. J. Smith", r"Mr\. [A-Z]\. [A-Z][\w'-]+"),
        ("Mary Ann Smith, MD", r"\w+ \w+ [\w'-]+, MD"),
    ],
)
def test_person_surrogates_keep_case_title_and_token_count(
    gen: SurrogateGenerator, name: str, pattern: str
) -> None:
    out = gen.surrogate("PERSON", name)
    assert re.fullmatch(pattern, out), out
    assert len(out.split()) == len(name.split())


def test_facility_keeps_its_kind_and_other_types(gen: SurrogateGenerator) -> None:
    assert gen.surrogate("FACILITY", "Mayo Clinic").endswith(" Clinic")
    assert gen.surrogate("FACILITY", "St. Elsewhere Medical Center").endswith(" Medical Center")
    assert gen.surrogate("FACILITY", "MASS GENERAL HOSPITAL").endswith(" HOSPITAL")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", gen.surrogate("EMAIL_ADDRESS", "a.b@c.org"))
    assert re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", gen.surrogate("IP_ADDRESS", "10.0.0.1"))
    assert gen.surrogate("AGE", "92") == "92"
    assert gen.surrogate("NRP", "Catholic") == "<NRP>"


# ------------------------------------------------------------------ dates


def test_shift_keeps_intervals_and_formats_within_one_person(gen: SurrogateGenerator) -> None:
    admitted = gen.shift_date("03/04/2020", "patient-7")
    discharged = gen.shift_date("March 9, 2020", "patient-7")
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", admitted)
    assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", discharged)
    a, d = (find_dates(x)[0].anchor() for x in (admitted, discharged))
    assert a is not None and d is not None and (d - a).days == 5
    assert a != date(2020, 3, 4)


def test_shift_keeps_intervals_inside_one_text(gen: SurrogateGenerator) -> None:
    out = gen.shift_date("admitted 2019-12-30, seen 1/2/2020 and 15 Jan 2020", "p")
    got = [f.anchor() for f in find_dates(out)]
    assert out.startswith("admitted ") and len(got) == 3 and all(got)
    days = [(g - got[0]).days for g in got if g and got[0]]
    assert days == [0, 3, 16]


@settings(max_examples=100, deadline=None)
@given(person=st.text(max_size=20))
def test_offsets_are_nonzero_and_within_a_year(person: str) -> None:
    offset = SurrogateGenerator(KEY).date_offset(person)
    assert 1 <= abs(offset) <= MAX_SHIFT_DAYS


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("7/22/2019", r"\d{1,2}/\d{1,2}/\d{4}"),
        ("7/22/19", r"\d{1,2}/\d{1,2}/\d\d"),
        ("2019-07-22", r"\d{4}-\d\d-\d\d"),
        ("July 22, 2019", r"[A-Z][a-z]+ \d{1,2}, \d{4}"),
        ("22 Jul 2019", r"\d{1,2} [A-Z][a-z]{2,3} \d{4}"),
        ("Jul 2019", r"[A-Z][a-z]{2,3} \d{4}"),
        ("7/22", r"\d{1,2}/\d{1,2}"),
        ("JULY 22ND, 2019", r"[A-Z]+ \d{1,2}(ST|ND|RD|TH), \d{4}"),
    ],
)
def test_shift_keeps_each_format(gen: SurrogateGenerator, text: str, shape: str) -> None:
    out = gen.shift_date(text, "patient-1")
    assert re.fullmatch(shape, out), out
    assert out != text


def test_unparseable_dates_and_per_value_surrogates(gen: SurrogateGenerator) -> None:
    assert gen.shift_date("last Tuesday", "p") == "[DATE]"
    assert gen.surrogate("DATE_TIME", "the day before") == "[DATE]"
    numeric = find_dates(gen.surrogate("DATE_TIME", "7/22/2019"))[0].anchor()
    spelled = find_dates(gen.surrogate("DATE_TIME", "July 22, 2019"))[0].anchor()
    assert numeric == spelled and numeric is not None and numeric != date(2019, 7, 22)
    assert abs((numeric - date(2019, 7, 22)).days) <= MAX_SHIFT_DAYS


# ------------------------------------------------------------------ operators

TEXT = "Seen by John Smith today. Call 555-123-4567 or mail john@x.org."
SPANS = [
    Detection(8, 18, "PERSON", 0.9),
    Detection(31, 43, "PHONE_NUMBER", 0.8),
    Detection(52, 62, "EMAIL_ADDRESS", 0.9),
]


def test_mask_tag_and_redact() -> None:
    assert (
        apply_operator(TEXT, SPANS, "mask")
        == "Seen by **** ***** today. Call ***-***-**** or mail ****@*.***."
    )
    assert apply_operator(TEXT, SPANS, "mask", mask_char="#").count("#") == 27
    assert (
        apply_operator(TEXT, SPANS, "tag")
        == "Seen by <PERSON> today. Call <PHONE_NUMBER> or mail <EMAIL_ADDRESS>."
    )
    assert apply_operator(TEXT, SPANS, "redact") == "Seen by today. Call or mail."


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("John Smith was seen.", (0, 10), "was seen."),
        ("Seen by John Smith.", (8, 18), "Seen by."),
        ("Seen by John Smith\nnext line", (8, 18), "Seen by\nnext line"),
        ("Seen by John Smith", (8, 18), "Seen by"),
        ("Name:John Smith!", (5, 15), "Name:!"),
    ],
)
def test_redact_spacing(text: str, span: tuple[int, int], expected: str) -> None:
    assert apply_operator(text, [Detection(*span, "PERSON", 1.0)], "redact") == expected


def test_surrogate_operator(gen: SurrogateGenerator) -> None:
    out = apply_operator(TEXT, SPANS, "surrogate", surrogates=gen)
    assert "John" not in out and "555-123-4567" not in out and "john@x.org" not in out
    assert gen.surrogate("PERSON", "John Smith") in out
    with pytest.raises(ConfigurationError, match="surrogate key"):
        apply_operator(TEXT, SPANS, "surrogate")
    dated = "admitted 3/4/2020"
    span = [Detection(9, 17, "DATE_TIME", 0.9)]
    shifted = apply_operator(dated, span, "surrogate", surrogates=gen, person_key="p9")
    assert shifted == "admitted " + gen.shift_date("3/4/2020", "p9")


def test_overlaps_keep_higher_score_then_longer_span() -> None:
    text = "Dr. Jordan Lee at 617-555-0199"
    found = resolve_overlaps(
        [
            Detection(4, 10, "LOCATION", 0.4),
            Detection(4, 14, "PERSON", 0.85),
            Detection(18, 30, "PHONE_NUMBER", 0.7),
            Detection(18, 24, "US_ZIP_CODE", 0.7),
        ]
    )
    assert [(d.entity_type, d.start, d.end) for d in found] == [
        ("PERSON", 4, 14),
        ("PHONE_NUMBER", 18, 30),
    ]
    assert apply_operator(text, found, "tag") == "Dr. <PERSON> at <PHONE_NUMBER>"


def test_overlaps_of_one_type_merge() -> None:
    merged = resolve_overlaps(
        [Detection(0, 6, "PERSON", 0.6, "a"), Detection(4, 12, "PERSON", 0.9, "b")]
    )
    assert merged == [Detection(0, 12, "PERSON", 0.9, "a+b")]
    assert apply_operator("Mary Ann Lee is here", merged, "tag") == "<PERSON> is here"


def test_registry_and_argument_errors() -> None:
    assert OPERATORS.names() == ["mask", "redact", "surrogate", "tag"]
    with pytest.raises(ConfigurationError) as caught:
        apply_operator(TEXT, SPANS, "encrypt")
    assert "mask, redact, surrogate, tag" in caught.value.one_line()
    with pytest.raises(ConfigurationError, match="one character"):
        apply_operator(TEXT, SPANS, "mask", mask_char="**")
    with pytest.raises(ValueError, match="outside"):
        apply_operator("short", [Detection(0, 50, "PERSON", 1.0)], "tag")
