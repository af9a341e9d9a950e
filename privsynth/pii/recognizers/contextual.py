"""Identifiers that need a checksum or a context word: card numbers, phone numbers in
national formats, years of events, and company names.

* :class:`CardNumberRecognizer` -- a 12-19 digit number that passes the Luhn check
  with a card word before it on its line ("my card 4131034282458809939");
  Presidio's own recognizer only knows the issuers' prefixes.
* :class:`ContextPhoneRecognizer` -- digit groups in any national format ("0489 25
  37 29", "(99) 645-791", "668 5702", "+447700677662") after a phone word ("Phone:",
  "call me at", "messages to") or before "office"/"fax"/"mobile".
* :class:`EventYearRecognizer` -- a year after a phrase that dates an event
  ("founded in 1977", "Act of 1974", "later became X in 2014"). Safe Harbor keeps
  years, so reporting them costs nothing there; other policies may drop them.
* :class:`CompanyRecognizer` -- capitalised words before a company form ("Johnson
  Inc.", "Shepherd Ltd.", "Palantir Technologies"), and three surnames in the form
  of a firm ("Jones, Smith and Davis").
"""

from __future__ import annotations

from typing import ClassVar, Final

from presidio_analyzer import RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import ContextRecognizer, compile_pattern, make_result, words
from privsynth.pii.recognizers._lexicon import name_lexicon
from privsynth.pii.recognizers.eponyms import is_eponym_pair
from privsynth.pii.recognizers.gazetteer import is_english_word
from privsynth.pii.recognizers.identifiers import luhn_valid

#: how far before a number its context word may be (same line only)
CONTEXT_CHARS: Final = 48


def _context_before(text: str, start: int, pattern: object) -> bool:
    """Whether ``pattern`` matches in the same-line window before ``start``."""
    window = max(text.rfind("\n", 0, start) + 1, start - CONTEXT_CHARS)
    return pattern.search(text, window, start) is not None  # type: ignore[attr-defined]


# ------------------------------------------------------------------ cards

_CARD_NUMBER_RE = compile_pattern(r"(?<![\w-])\d{12,19}(?![\w-])")
_CARD_WORD_RE = compile_pattern(
    r"\b(?i:card|credit|debit|visa|mastercard|master[ \t]card|amex|american[ \t]express"
    r"|discover|maestro|cc|cvv|card[ \t]?holder)\b"
)


class CardNumberRecognizer(ContextRecognizer):
    """Luhn-valid 12-19 digit numbers with a card word before them on the line."""

    ENTITY: ClassVar[str] = entities.CREDIT_CARD
    SCORE: ClassVar[float] = 0.85

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Card numbers of ``text``."""
        results = []
        for match in _CARD_NUMBER_RE.finditer(text):
            if luhn_valid(match.group()) and _context_before(text, match.start(), _CARD_WORD_RE):
                results.append(
                    make_result(self, match.start(), match.end(), self.SCORE, "card_context")
                )
        return results


# ----------------------------------------------------------------- phones

_PHONE_CANDIDATE_RE = compile_pattern(
    r"(?<![\w+/.,:-])\+\d{8,15}(?!\d)"
    r"|(?<![\w+/.,:-])(?:\+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?|00\d{1,3}[ .-])?(?:\(\d{1,4}\)[ .-]?)?"
    r"\d{1,4}(?:[ .-]\d{1,8}){0,4}(?![\w/]|[.,:-]\d)"
)
_PHONE_WORD_RE = compile_pattern(
    r"\b(?i:phone|telephone|tel|ph|mobile|cell|cellphone|fax|pager|call|calls|called|text"
    r"|reach|dial|contact|number|messages?|answering|registered|whatsapp|sms)\b[^\d\n]*\Z"
)
_PHONE_AFTER_RE = compile_pattern(r"[ \t]*\(?(?i:office|fax|mobile|cell|home|work|direct|tel)\b")
_DATE_LIKE_RE = compile_pattern(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")


class ContextPhoneRecognizer(ContextRecognizer):
    """Phone numbers of any national format next to a phone word, and "+" numbers."""

    ENTITY: ClassVar[str] = entities.PHONE_NUMBER
    SCORE: ClassVar[float] = 0.6
    MIN_DIGITS: ClassVar[int] = 7
    MAX_DIGITS: ClassVar[int] = 15

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Phone numbers of ``text``."""
        results = []
        for match in _PHONE_CANDIDATE_RE.finditer(text):
            number = match.group()
            digits = sum(c.isdigit() for c in number)
            if not self.MIN_DIGITS <= digits <= self.MAX_DIGITS:
                continue
            if _DATE_LIKE_RE.fullmatch(number):
                continue  # "12-10-2019" is a date
            international = number.startswith("+") and digits >= 10
            if (
                international
                or _context_before(text, match.start(), _PHONE_WORD_RE)
                or _PHONE_AFTER_RE.match(text, match.end())
            ):
                results.append(
                    make_result(self, match.start(), match.end(), self.SCORE, "phone_context")
                )
        return results


# ------------------------------------------------------------------ years

_EVENT_YEAR_RE = compile_pattern(
    r"\b(?i:founded|established|formed|created|incorporated|opened|built|born|married"
    r"|died|published|released|graduated|began|started|launched|acquired"
    r"|became(?:[^.\n]|\.(?=[ \t]*(?-i:\p{Ll}))){1,60}?"
    r"|act[ \t]+of|class[ \t]+of|since|until|in[ \t]+the[ \t]+year)"
    r"(?:[ \t]+(?i:in|on|of))?[ \t]+\K(?:1[5-9]\d{2}|20\d{2})(?![\d/-]|[.,]\d)"
)
_A_YEAR_RE = compile_pattern(
    r"\b(?:[Aa]|[Tt]he|[Hh]is|[Hh]er|[Ii]ts)[ \t]+\K(?:1[5-9]\d{2}|20\d{2})(?=[ \t]+\p{Lu}\p{Ll})"
)


def is_event_year(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a year that a dating phrase precedes; the filters
    keep such a year when the NER model, not this module, reported it."""
    window = max(0, start - 80)
    return any(
        m.span() == (start, end)
        for pattern in (_EVENT_YEAR_RE, _A_YEAR_RE)
        for m in pattern.finditer(text, window, min(len(text), end + 12))
    )


class EventYearRecognizer(ContextRecognizer):
    """Years dated by their context ("founded in 1977", "a 2017 Polish film")."""

    ENTITY: ClassVar[str] = entities.DATE_TIME
    SCORE: ClassVar[float] = 0.6

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Event years of ``text``."""
        results = [
            make_result(self, m.start(), m.end(), self.SCORE, "event_year")
            for pattern in (_EVENT_YEAR_RE, _A_YEAR_RE)
            for m in pattern.finditer(text)
        ]
        return results


# -------------------------------------------------------------- companies

# legal forms: a company whatever the words before them
_LEGAL_FORMS = words(
    "Inc Inc. Incorporated LLC L.L.C. LLP Ltd Ltd. Limited GmbH AG PLC plc Corp Corp. "
    "Corporation Co. S.A. SA S.p.A. SpA BV B.V. NV N.V. Oy AB ASA KG SE Pty Pte"
)
# words that end company names but also everyday phrases ("Support Group"): the
# name before them must hold a word that is not an everyday word
_NAME_ENDINGS = words(
    "Group Holdings Technologies Technology Partners Associates Industries Enterprises "
    "Solutions Systems Consulting Capital Ventures Labs Networks Software Analytics "
    "Communications Media Brands Foods Motors Airlines Bank Insurance Company Co"
)
_FORMS = sorted({*_LEGAL_FORMS, *_NAME_ENDINGS}, key=len, reverse=True)
# the form first (rare), then the capitalised name in the few words before it
_FORM_RE = compile_pattern(
    r"(?P<form>(?:&|\band)[ \t]+Sons|\b(?:"
    + "|".join(w.replace(".", r"\.") for w in _FORMS)
    + r"))(?![\p{L}\d])(?<!\.)\.?"
)
_COMPANY_NAME_BEFORE_RE = compile_pattern(
    r"(?<![\p{L}\d'’&.-])(?P<name>(?:\d+[ \t]+)?\p{Lu}[\p{L}\d&'’.-]*"
    r"(?:[ \t]+(?:&[ \t]+)?\p{Lu}[\p{L}\d&'’.-]*){0,3}),?[ \t]+\Z"
)
_FIRM_RE = compile_pattern(
    r"(?<![\p{L}'’-])(?P<a>\p{Lu}\p{Ll}+),[ \t]+(?P<b>\p{Lu}\p{Ll}+),?[ \t]+(?:and|&)[ \t]+"
    r"(?P<c>\p{Lu}\p{Ll}+)(?![\p{L}'’-])"
)
# the same firm in lower case ("hubbard, fox and gillespie"), and a hyphenated surname pair
# ("Weeks-Rivas", "Fritz-Armstrong"): a firm or a double-barrelled surname, PII either way
_LOWER_FIRM_RE = compile_pattern(
    r"(?<![\p{L}'’-])(?P<a>\p{Ll}{2,}),[ \t]+(?P<b>\p{Ll}{2,}),?[ \t]+(?:and|&)[ \t]+"
    r"(?P<c>\p{Ll}{2,})(?![\p{L}'’-])"
)
_SURNAME_PAIR_RE = compile_pattern(
    r"(?<![\p{L}'’-])(?P<a>\p{Lu}\p{Ll}+)-(?P<b>\p{Lu}\p{Ll}+)(?![\p{L}'’-])"
)
_LEGAL_KEYS: Final = frozenset(w.rstrip(".").lower() for w in _LEGAL_FORMS) | {"sons"}
_NOT_COMPANY_START: Final = frozenset(
    words("the a an of for and in at by to with from our my your his her their this that")
)


# Capitalised words of a company name in running text ("Wolters Kluwer", "Standard
# And Poors", "Weeks-Rivas"), found after a phrase of employment or business.
_CAP_NAME = r"(?:\p{Lu}[\p{L}\d&'’.-]*(?<!\.))"
_CAP_NAME_SEQ = rf"{_CAP_NAME}(?:[ \t]+(?:(?:&|and|And|of|de)[ \t]+)?{_CAP_NAME}){{0,3}}"
_COMPANY_CUE_RE = compile_pattern(
    r"\b(?:(?i:works?|worked|working)[ \t]+(?:for|at|with)|(?i:employed)[ \t]+(?:by|at|with)"
    r"|(?i:job|position|career|internship|role)[ \t]+(?:at|with)|(?i:joined|joining|joins)"
    r"|(?i:spent|spend)[ \t]+(?:a|one|two|three|four|five|\d+|several|many)[ \t]+"
    r"(?:years?|months?)[ \t]+(?:at|with)"
    r"|(?:CEO|CFO|CTO|COO|founder|co-founder|cofounder|chairman|chairwoman|owner|employees?)"
    r"[ \t]+of|later[ \t]+became|renamed|acquired[ \t]+by|subsidiary[ \t]+of)"
    rf"[ \t]+(?:the[ \t]+)?\K(?-i:{_CAP_NAME_SEQ})(?![\p{{L}}\d])"
)
# "the Uber website", "Uber's website"
_COMPANY_SITE_RE = compile_pattern(
    rf"(?<![\p{{L}}\d'’&.-])(?-i:{_CAP_NAME_SEQ})(?=['’]s[ \t]+(?:website|homepage|web[ \t]site"
    r"|headquarters|CEO|shares|stock)\b|[ \t]+(?:website|homepage|web[ \t]site)\b)"
)
# "Persint is a German multinational investment bank", "X is a 501(c)3"
_COMPANY_IS_A_RE = compile_pattern(
    rf"(?:^|(?<=[.!?][ \t]{{1,3}}))(?-i:{_CAP_NAME_SEQ})(?=[ \t]+(?:is|was)[ \t]+(?:a|an)[ \t]+"
    r"(?:[\p{L}-]+[ \t]+){0,3}(?:company|firm|corporation|startup|start-up|business|brand"
    r"|bank|agency|non-?profit|organi[sz]ation|charity|manufacturer|retailer|multinational"
    r"|conglomerate|publisher|501\(c\)\(?3\)?)(?![\p{L}]))"
)
_NOT_COMPANY_WORDS: Final = frozenset(
    words("the a an i we he she they it this that my our his her their you")
)


def _mostly_upper_line(text: str, position: int) -> bool:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    letters = [c for c in text[start : len(text) if end < 0 else end] if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) > 0.7 * len(letters)


class CompanyRecognizer(ContextRecognizer):
    """Company names by their legal form or name ending, "X, Y and Z" firms, and
    capitalised names after a phrase of employment ("works for X", "spent a year at
    X", "later became X"), before "website" or in "X is a ... company"."""

    ENTITY: ClassVar[str] = entities.ORGANIZATION
    LEGAL_SCORE: ClassVar[float] = 0.7
    ENDING_SCORE: ClassVar[float] = 0.55
    FIRM_SCORE: ClassVar[float] = 0.6
    CONTEXT_SCORE: ClassVar[float] = 0.55
    PAIR_SCORE: ClassVar[float] = 0.5

    def _by_form(self, text: str) -> list[RecognizerResult]:
        """Names before a legal form or a company-name ending."""
        results = []
        for form_match in _FORM_RE.finditer(text):
            window = max(text.rfind("\n", 0, form_match.start()) + 1, form_match.start() - 80)
            match = _COMPANY_NAME_BEFORE_RE.search(text, window, form_match.start())
            if match is None:
                continue
            name_words = match.group("name").split()
            while name_words and name_words[0].lower() in _NOT_COMPANY_START:
                name_words.pop(0)
            if not name_words:
                continue
            start = match.start("name") + match.group("name").index(name_words[0])
            form = form_match.group("form").rstrip(".").split()[-1].lower()
            if form in _LEGAL_KEYS:
                score = self.LEGAL_SCORE
            elif all(is_english_word(w) for w in name_words):
                continue  # "Support Group", "Blood Bank"
            else:
                score = self.ENDING_SCORE
            results.append(make_result(self, start, form_match.end(), score, "company_form"))
        return results

    @staticmethod
    def _context_span(text: str, start: int, end: int) -> tuple[int, int] | None:
        """The name without a leading pronoun or article; None on ALL-CAPS lines,
        where capitals say nothing ("ACCORDING TO THE PATIENT")."""
        if _mostly_upper_line(text, start):
            return None
        for word in text[start:end].split():
            if word.lower() not in _NOT_COMPANY_WORDS:
                return text.index(word, start), end
        return None

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Company names of ``text``."""
        results = self._by_form(text)
        for pattern in (_COMPANY_CUE_RE, _COMPANY_SITE_RE, _COMPANY_IS_A_RE):
            for match in pattern.finditer(text):
                span = self._context_span(text, match.start(), match.end())
                if span is not None:
                    results.append(make_result(self, *span, self.CONTEXT_SCORE, "company_context"))
        return results + self._by_surnames(text)

    def _by_surnames(self, text: str) -> list[RecognizerResult]:
        """Firms named after three surnames, and hyphenated surname pairs that are no
        medical eponym ("Stevens-Johnson")."""
        lexicon = name_lexicon()
        found = []
        for pattern in (_FIRM_RE, _LOWER_FIRM_RE):
            for match in pattern.finditer(text):
                names = [match.group(g) for g in ("a", "b", "c")]
                everyday = sum(lexicon.is_common(name) for name in names)
                lower_ok = pattern is _FIRM_RE or everyday <= 1
                if lower_ok and all(lexicon.is_last(name) for name in names):
                    start, end = match.start(), match.end()
                    found.append(make_result(self, start, end, self.FIRM_SCORE, "firm"))
        for match in _SURNAME_PAIR_RE.finditer(text):
            a, b = match.group("a"), match.group("b")
            surnames = lexicon.is_last(a) and lexicon.is_last(b)
            everyday = lexicon.is_common(a) and lexicon.is_common(b)
            if surnames and not everyday and not is_eponym_pair(a, b):
                start, end = match.start(), match.end()
                found.append(make_result(self, start, end, self.PAIR_SCORE, "surname_pair"))
        return found
