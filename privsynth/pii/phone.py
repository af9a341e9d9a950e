"""A fast telephone-number recognizer.

Presidio's ``PhoneRecognizer`` validates candidates with libphonenumber once per
region, which made it half of all analysis time; this one matches the usual written
formats with one compiled expression and lets context words raise weak matches.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

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


class PhoneNumberRecognizer(PatternRecognizer):
    """Written telephone numbers, US formats strongest."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=[p for p in PATTERNS if p.name != "extension"],
            context=CONTEXT,
            name="PhoneNumberRecognizer",
        )
