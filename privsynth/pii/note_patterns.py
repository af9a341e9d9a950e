"""Shapes PHI takes in clinical notes that a word list cannot see: dates, years, phones.

Nursing notes write dates as month/day with no year ("s/p cabg 7/22", "bc from 3-5"),
as month names ("in march of 2022", "may 16", "nov. 2016", "last used in may 15'"),
and years alone or as "'09"; telephones and pagers as digit runs with extensions
("617 555 0199 x72"). Every pattern here is linear (no nested quantifiers), so no
note can make scanning super-linear.
"""

from __future__ import annotations

import re
from typing import Final

#: a unit after a number makes it a quantity, not a date or a day ("dec 30 cc", "2015 ml")
_UNIT = r"\s*(?:%|cc|ml|mls|mg|mcg|kg|g|l|lpm|liters?|units?|u|mm|cm|mmhg|bpm|kcal|min|hrs?)\b"
_MONTH_NAMES: Final = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_MONTH = rf"(?:{_MONTH_NAMES}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEARISH = r"(?:(?:19|20)\d{2}|'\d{2})"

#: month/day and month/day/year ("7/22", "10/3/19"), and "'09"
_SLASH_DATE = re.compile(
    r"(?<![\d/])(?<!\d\.)(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9]|[3-9]\d)"
    r"(?:/(?:\d{2}|\d{4}))?(?![\d/])|(?<![\w'])'\d{2}\b"
)
#: month-day with a dash, only after words that introduce a date ("bc from 3-5")
_DASH_DATE = re.compile(
    r"\b(?:on|from|since|s/p|adm|admitted|dated|thru|through|until|till)\s+"
    rf"(?P<date>(?:1[0-2]|0?[1-9])-(?:3[01]|[12]\d|0?[1-9])(?:-(?:\d{{2}}|\d{{4}}))?)"
    rf"(?![\d-])(?!{_UNIT})",
    re.IGNORECASE,
)
#: a month name with a day or a year ("may 16, 2015", "march of 2022", "nov. 2016")
_MONTH_THEN_NUMBER = re.compile(
    rf"\b{_MONTH}\s*(?:of\s+)?,?\s*(?:{_DAY}|{_YEARISH})'?(?![\w/:])(?!{_UNIT})", re.IGNORECASE
)
#: a day, then a month name ("16 may", "3rd of june")
_NUMBER_THEN_MONTH = re.compile(
    rf"(?<![\d./-])\b{_DAY}\s+(?:of\s+)?(?:{_MONTH_NAMES}|jan|feb|apr|jun|jul|aug|sept?|oct|nov)\b",
    re.IGNORECASE,
)
#: month names that are no other everyday word ("may" and "march" are: see below)
_MONTH_ALONE = re.compile(
    r"\b(?:january|february|april|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)
#: "may" and "march" where they can only be months ("in march", "since may")
_AMBIGUOUS_MONTH = re.compile(
    r"\b(?:in|since|until|till|early|late|mid|during|through)\s+(?P<date>march|may)\b"
    r"(?!\s+(?:be|have|need|not|also|require|benefit)\b)",
    re.IGNORECASE,
)
#: years, but not decimals, counts or doses ("2019", "2019.", not "2000 ml")
_YEAR = re.compile(
    r"(?<![\d.,/])(?:19|20)\d{2}(?!\d|[.,]\d|\s*(?:ml|cc|mg|mcg|kcal|units?)\b)", re.IGNORECASE
)
#: telephone numbers, with an extension when one follows ("617 555 0199 x72")
_PHONE = re.compile(
    r"(?<!\d)\(?\d{3}\)?[\s./-]*\d{3}[\s./-]*\d{4}(?!\d)"
    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5}\b)?",
    re.IGNORECASE,
)
#: extensions and pagers written alone ("ext 4567", "x4567", "pager 1234", "pg #5678")
_EXTENSION = re.compile(
    r"\b(?:ext\.?|extension|pager|pgr|pg|beeper|bpr)\s*#?\s*(?P<n>\d{3,6})\b|\bx(?P<x>\d{4,5})\b",
    re.IGNORECASE,
)
#: long digit runs: record, account and pager numbers
_DIGITS = re.compile(r"(?<![\d.])\d{5,}(?![\d.])")

_PATTERNS: Final = (
    (_SLASH_DATE, "DATE_TIME", 0),
    (_DASH_DATE, "DATE_TIME", "date"),
    (_MONTH_THEN_NUMBER, "DATE_TIME", 0),
    (_NUMBER_THEN_MONTH, "DATE_TIME", 0),
    (_MONTH_ALONE, "DATE_TIME", 0),
    (_AMBIGUOUS_MONTH, "DATE_TIME", "date"),
    (_YEAR, "DATE_TIME", 0),
    (_PHONE, "PHONE_NUMBER", 0),
    (_DIGITS, "ID", 0),
)


def pattern_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, entity)`` of every date, year, phone, pager and long number."""
    found = [
        (*match.span(group), entity)
        for pattern, entity, group in _PATTERNS
        for match in pattern.finditer(text)
    ]
    for match in _EXTENSION.finditer(text):
        group = "n" if match.group("n") else "x"
        found.append((*match.span(group), "PHONE_NUMBER"))
    return found
