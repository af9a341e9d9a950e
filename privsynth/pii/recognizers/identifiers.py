"""Recognizers for US health-care identifiers (HIPAA Safe Harbor H, I, J and K).

Two kinds of evidence are combined:

* a checksum where the standard defines one (NPI, DEA number): the check digit
  turns a run of digits into an identifier with high confidence;
* a label where it does not (medical record, health plan and account numbers):
  "MRN: 00481932" is a strong pattern on its own, and the bare id shape is kept
  at a very low score so that Presidio's context enhancement can lift it when a
  context word ("mrn", "policy", "acct", ...) is close by.
"""

from __future__ import annotations

import re
from typing import ClassVar

from privsynth.pii import entities
from privsynth.pii.recognizers._base import (
    DIGIT,
    GAP,
    NUMBER_WORD,
    OPT_GAP,
    RegexRecognizer,
    case_sensitive,
    labelled,
)

#: prefix CMS prepends to a 10-digit NPI before the Luhn check (ISO 7812 issuer
#: identifier 80840 for US health applications)
NPI_LUHN_PREFIX = "80840"

#: DEA registrant-type letters allowed in the first position
DEA_REGISTRANT_TYPES = "ABCDEFGHJKLMPRSTUX"

# An id of 5-12 characters: digits, optionally a 1-3 letter prefix, dash-separated
# groups ("00481932", "MR-48213", "4829-221"). The lookahead bounds the length
# before anything else is tried, which also keeps the pattern linear.
_RECORD_ID = (
    r"(?<![\w-])(?=[A-Za-z0-9-]{5,12}(?![\w-]))"
    r"(?:[A-Za-z]{1,3}-?)?\d+(?:-\d+)*(?![\w-])"
)
# A looser id for plans and accounts: 5-20 letters/digits with at least one digit.
_PLAN_ID = (
    r"(?<![\w-])(?=[A-Za-z0-9-]{5,20}(?![\w-]))(?=[A-Za-z-]*\d)"
    r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])"
)


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn (mod 10) check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def npi_valid(npi: str) -> bool:
    """True when ``npi`` is 10 digits whose check digit is right (CMS NPI standard).

    The check digit is a Luhn digit computed as if the number were prefixed with
    80840, so the check runs over the 15-digit string.
    """
    return len(npi) == 10 and npi.isascii() and npi.isdigit() and luhn_valid(NPI_LUHN_PREFIX + npi)


def npi_check_digit(first_nine: str) -> str:
    """The check digit completing ``first_nine`` into a valid NPI (for surrogates)."""
    if len(first_nine) != 9 or not (first_nine.isascii() and first_nine.isdigit()):
        raise ValueError(f"not 9 digits: {first_nine!r}")
    return next(d for d in "0123456789" if luhn_valid(NPI_LUHN_PREFIX + first_nine + d))


def dea_check_digit(six_digits: str) -> str:
    """DEA check digit: last digit of (d1 + d3 + d5) + 2 * (d2 + d4 + d6)."""
    d = [int(c) for c in six_digits]
    return str((d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10)


def dea_valid(dea: str) -> bool:
    """True when ``dea`` has a registrant letter, a second letter or 9, and a right check digit."""
    if len(dea) != 9 or not (dea.isascii() and dea[2:].isdigit()):
        return False
    first, second = dea[0].upper(), dea[1].upper()
    if first not in DEA_REGISTRANT_TYPES or not (second.isalpha() or second == "9"):
        return False
    return dea_check_digit(dea[2:8]) == dea[8]


_DATE_LIKE = re.compile(r"\d{1,2}-\d{1,2}-\d{2}(?:\d{2})?|\d{4}-\d{1,2}-\d{1,2}")


class _LabelledIdRecognizer(RegexRecognizer):
    """Free-form ids found by label; drops values that are really dates.

    "Visit 07-22-2019" or "Account opened 2019-07-22" put a date where an id
    would be, and the date recognizer, not this one, should report it.
    """

    REQUIRES: ClassVar[re.Pattern[str] | None] = DIGIT

    def invalidate_result(self, pattern_text: str) -> bool:
        """True (drop the match) when the 'id' is a dash-separated date."""
        return _DATE_LIKE.fullmatch(pattern_text) is not None


class NpiRecognizer(RegexRecognizer):
    """National Provider Identifier: 10 digits starting with 1 or 2, Luhn-checked.

    A valid check digit keeps the pattern's own score rather than Presidio's 1.0:
    one 10-digit number in ten passes the check by chance (an unformatted phone
    number, an accession number), so only a label ("NPI: ...") earns 1.0; a bare
    valid number scores 0.6 and the context words lift it.
    """

    REQUIRES: ClassVar[re.Pattern[str] | None] = DIGIT

    ENTITY: ClassVar[str] = entities.NPI
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("npi_labelled", labelled(r"npi" + rf"(?:{OPT_GAP}{NUMBER_WORD})?", r"[12]\d{9}\b"), 1.0),
        ("npi", r"(?<![\d-])\b[12]\d{9}\b(?![-/]\d)", 0.6),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("npi", "provider", "prescriber", "physician")

    def validate_result(self, pattern_text: str) -> bool | None:
        """Reject numbers whose check digit is wrong; keep the pattern score otherwise."""
        return None if npi_valid(pattern_text) else False


class DeaNumberRecognizer(RegexRecognizer):
    """DEA registration number: registrant letter, letter or 9, 6 digits, check digit.

    Two constrained letters plus a check digit are specific enough that a valid
    number takes Presidio's full score (validation returns True).
    """

    REQUIRES: ClassVar[re.Pattern[str] | None] = DIGIT

    ENTITY: ClassVar[str] = entities.DEA_NUMBER
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("dea", case_sensitive(rf"\b[{DEA_REGISTRANT_TYPES}][A-Z9]\d{{7}}\b"), 0.5),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("dea", "prescriber", "registration", "controlled")

    def validate_result(self, pattern_text: str) -> bool:
        """True for a correct check digit, so the result scores 1.0; False drops it."""
        return dea_valid(pattern_text)


_MRN_LABEL = (
    rf"mrn(?:{OPT_GAP}{NUMBER_WORD})?"
    rf"|mr{OPT_GAP}(?:#|no\.?|num(?:ber)?)"
    rf"|med(?:ical|\.)?{GAP}rec(?:ord|\.)?(?:{GAP}{NUMBER_WORD})?"
    rf"|record{OPT_GAP}(?:#|no\.?|num(?:ber)?)"
    rf"|chart(?:{OPT_GAP}(?:#|no\.?|num(?:ber)?))?"
    rf"|(?:patient|pt\.?){OPT_GAP}(?:id|i\.d\.|identifier|#|no\.?|number)"
    rf"|hospital{OPT_GAP}(?:#|no\.?|num(?:ber)?|id)"
    rf"|unit{OPT_GAP}(?:#|no\.?|num(?:ber)?)"
)


class MedicalRecordNumberRecognizer(_LabelledIdRecognizer):
    """Medical record numbers: any 5-12 character id right after an MRN-type label.

    Record numbers have no standard format, so the label is the evidence. The bare
    id shape scores 0.05 and relies on context words within Presidio's window.
    """

    ENTITY: ClassVar[str] = entities.MEDICAL_RECORD_NUMBER
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("mrn_labelled", labelled(_MRN_LABEL, _RECORD_ID), 0.9),
        ("mrn_shape", _RECORD_ID, 0.05),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("mrn", "record", "chart", "medical")


_PLAN_LABEL = (
    rf"(?:member|subscriber|beneficiary|insurance|insured|policy|medicaid|medicare|"
    rf"health{GAP}plan|plan|group|payer|coverage)"
    rf"{OPT_GAP}{NUMBER_WORD}(?:{OPT_GAP}{NUMBER_WORD})?"
    rf"|(?:member|subscriber|beneficiary|policy|medicaid|medicare|mbi|hicn)"
)

# Medicare Beneficiary Identifier (CMS format): positions 2, 5, 8, 9 are letters
# without S, L, O, I, B, Z; printed with or without dashes after 4 and 7 chars.
_MBI_LETTER = "[AC-HJKMNP-RT-Y]"
_MBI_ALNUM = "[AC-HJKMNP-RT-Y0-9]"
_MBI = (
    rf"(?<![\w-])[1-9]{_MBI_LETTER}{_MBI_ALNUM}[0-9]-?{_MBI_LETTER}{_MBI_ALNUM}[0-9]-?"
    rf"{_MBI_LETTER}{{2}}[0-9]{{2}}(?![\w-])"
)


class HealthPlanNumberRecognizer(_LabelledIdRecognizer):
    """Health plan beneficiary numbers: Medicare MBIs, and ids after a plan label.

    The MBI's letter/digit layout is specific enough to stand alone (0.85); other
    plans' member ids are free-form and need a label ("Member ID: XJH123456789").
    """

    ENTITY: ClassVar[str] = entities.HEALTH_PLAN_NUMBER
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("mbi", case_sensitive(_MBI), 0.85),
        ("plan_labelled", labelled(_PLAN_LABEL, _PLAN_ID), 0.85),
        ("plan_shape", r"(?<![\w-])[A-Za-z]{0,3}\d{6,15}(?![\w-])", 0.05),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "member",
        "policy",
        "subscriber",
        "medicaid",
        "medicare",
        "insurance",
        "beneficiary",
        "group",
        "mbi",
    )


_ACCOUNT_LABEL = (
    rf"(?:account|acct\.?|a/c|billing|invoice)(?:{OPT_GAP}{NUMBER_WORD})?"
    rf"|(?:statement|encounter|visit|fin|guarantor){OPT_GAP}{NUMBER_WORD}"
)


class AccountNumberRecognizer(_LabelledIdRecognizer):
    """Account numbers (hospital billing, invoice and encounter accounts) after a label."""

    ENTITY: ClassVar[str] = entities.ACCOUNT_NUMBER
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("account_labelled", labelled(_ACCOUNT_LABEL, _PLAN_ID), 0.85),
        ("account_shape", r"(?<![\w-])\d{6,17}(?![\w-])", 0.05),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("account", "acct", "billing", "invoice")
