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
    Pattern("extension", r"(?i)\b(?:ext|x)\.?\s?\d{2,5}\b(?=\s|$)", 0.05),
]
CONTEXT = ["phone", "telephone", "tel", "cell", "mobile", "fax", "call", "contact", "pager", "ph"]


class PhoneNumberRecognizer(PatternRecognizer):
    """Written telephone numbers, US formats strongest."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=PATTERNS[:3],
            context=CONTEXT,
            name="PhoneNumberRecognizer",
        )
