"""Person-name recognizers that complement spaCy's NER on clinical text.

spaCy's small English model finds Title Case names in prose but misses most of
what notes are full of: ALL-CAPS headers ("PATIENT NAME: JOHN SMITH"), names
after a title ("DR. PATEL"), signatures ("A. Patel, M.D."), and inverted lists
("Doe, Jane"). Two recognizers cover them:

* :class:`TitledPersonRecognizer` -- a title or a clinician credential next to
  capitalised name tokens;
* :class:`NameLexiconRecognizer` -- a known first name followed by a known
  surname (or "SURNAME, FIRSTNAME"), and whatever follows a "Name:" label.

Case is evidence throughout: capitalised tokens are names far more often than
lower-case ones, and in ALL-CAPS text, where case says nothing, a token must be
in the name lexicon before it is taken as a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from presidio_analyzer import RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import (
    GAP,
    alternation,
    compile_pattern,
    make_result,
    window_before,
    words,
)
from privsynth.pii.recognizers._lexicon import PARTICLES, LexiconRecognizer, NameLexicon
from privsynth.pii.recognizers.eponyms import is_eponym_pair

# Words that are never part of a name even when capitalised: function words,
# clinical roles, time words, and the verbs that follow a name in notes
# ("DR. SMITH RECOMMENDED", "Dr. Patel Called").
NOT_NAME_WORDS: Final[frozenset[str]] = frozenset(
    words("""
    a an and as at be by for from in into is it of on or the to with was were who whom whose
    which that this these those he she his her him hers they them their it's not no yes
    patient patients pt pts family attending resident physician physicians fellow surgeon
    nurse nursing practitioner provider providers signed electronically dictated cosigned
    transcribed reviewed verified pcp consultant consult intern doctor dr drs mr mrs ms md
    staff team service department dept clinic hospital office unit floor room ward
    today yesterday tomorrow tonight am pm daily weekly monthly now later
    called recommended recommends recommend saw sees seen evaluated examined states stated
    reports reported says said agrees agreed discussed performed ordered notes noted wrote
    wants will would feels felt thinks believes plans planned aware notified paged contacted
    consulted following follows follow followed requested spoke spoken
    plan assessment impression diagnosis history exam note report summary
    cardiology oncology neurology surgery medicine radiology pathology psychiatry pediatrics
    unknown none n/a na anonymous pending redacted deceased alive living healthy
    dob mrn age sex gender male female date time phone address contin
    """)
)

_NOT_NAME_ALT = alternation(NOT_NAME_WORDS)
# A name token: "Smith", "O'Brien", "McDonald", "Smith-Jones", or in capitals
# "O'BRIEN"; a possessive "'s" is left outside ("Dr. Smith's note").
_NAME_TITLE_CASE = r"\p{Lu}(?:['’]\p{Lu})?\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)*"
_NAME_UPPER = r"\p{Lu}(?:['’]?\p{Lu})+(?:-\p{Lu}(?:['’]?\p{Lu})+)*"
_NAME_END = r"(?![\p{L}-]|['’]\p{L}{2})"
_TOKEN = rf"(?!(?i:{_NOT_NAME_ALT}){_NAME_END})(?:{_NAME_TITLE_CASE}|{_NAME_UPPER}){_NAME_END}"
_INITIAL = r"\p{Lu}(?:\.[ \t]*|[ \t]+)"
_NAME_SEQUENCE = (
    rf"(?:{_INITIAL}){{0,2}}{_TOKEN}(?:{GAP}(?:\p{{Lu}}\.?{GAP}|\p{{Lu}}\.)?{_TOKEN}){{0,2}}"
)

# Titles. Capitalised "MR"/"MS" need their period: without it they are mitral
# regurgitation and multiple sclerosis ("MODERATE MR", "MS CONTIN").
_TITLES = words(
    "Dr Drs Doctor Mr Mrs Ms Mx Miss Prof Professor Nurse Rev Reverend "
    "DR DRS DOCTOR MRS MX MISS PROF PROFESSOR NURSE REV REVEREND"
)
# titles that are also ordinary words; in ALL CAPS the name must be in the lexicon
_WORD_TITLES: Final = frozenset({"MISS", "DOCTOR", "NURSE", "PROFESSOR", "REV", "REVEREND"})
_TITLE = rf"(?:{alternation(_TITLES)}(?:\.[ \t]*|{GAP})|(?:MR|MS)\.[ \t]*)"

# Credentials after a name. Those that are also common words or abbreviations
# (DO, PA, PT, OT, RD) count only after a comma: "Smith, DO", not "SMITH DO NOT".
_STRONG_CREDENTIALS = words(
    "MD M.D. D.O. RN R.N. NP N.P. PA-C Ph.D. PhD PharmD Pharm.D. DDS D.D.S. DMD DPM MBBS "
    "MBChB APRN CRNA CNM LPN LVN FNP FNP-C FNP-BC DNP MSN BSN LCSW LICSW DPT OTR OTR/L RPh "
    "CNS FACS FACP FACC MPH"
)
_WEAK_CREDENTIALS = words("DO PA PT OT RD")
_CREDENTIAL = (
    rf"(?:{alternation(_STRONG_CREDENTIALS)}|(?<=,[ \t]*){alternation(_WEAK_CREDENTIALS)})"
    r"(?![\p{L}\d])"
)
_CREDENTIALS = rf"{_CREDENTIAL}(?:,?[ \t]*{_CREDENTIAL})*"

_TITLED_RE = compile_pattern(
    rf"(?-i:(?<![\p{{L}}])(?P<title>{_TITLE})(?P<name>{_NAME_SEQUENCE})"
    rf"(?:,?{GAP}(?P<cred>{_CREDENTIALS}))?)"
)
# Credentials are rare and cheap to find, capitalised words are everywhere: find
# the credential first, then look for the name in the few characters before it.
_CREDENTIAL_RE = compile_pattern(rf"(?-i:(?<=[\p{{L}}.]),?{GAP}(?P<cred>{_CREDENTIALS}))")
_NAME_BEFORE_RE = compile_pattern(rf"(?-i:(?<![\p{{L}}'’.-]){_NAME_SEQUENCE}\Z)")
#: how far before a credential a name may start
LOOKBACK_CHARS: Final = 80
_NAME_TOKEN_RE = compile_pattern(r"\p{L}+(?:['’]\p{L}+)*(?:-\p{L}+)*")


@dataclass(frozen=True)
class _Token:
    """A word of the text: its span and its text."""

    start: int
    end: int
    text: str

    @property
    def is_initial(self) -> bool:
        return len(self.text) == 1 and self.text.isupper()

    @property
    def style(self) -> str:
        """ "upper", "title", "lower" or "mixed" -- how the word is capitalised."""
        return case_style(self.text)


def case_style(word: str) -> str:
    """ "upper" (SMITH), "title" (Smith, O'Brien, McDonald), "lower" or "mixed"."""
    if word.isupper():
        return "upper"
    if word.islower():
        return "lower"
    return "title" if word[:1].isupper() else "mixed"


def _tokens(text: str, start: int = 0, end: int | None = None) -> list[_Token]:
    """Word tokens of ``text[start:end]``, with positions in ``text``."""
    stop = len(text) if end is None else end
    return [
        _Token(m.start(), m.end(), m.group()) for m in _NAME_TOKEN_RE.finditer(text, start, stop)
    ]


def _is_name(token: _Token, lexicon: NameLexicon) -> bool:
    return lexicon.is_first(token.text) or lexicon.is_last(token.text)


class TitledPersonRecognizer(LexiconRecognizer):
    """A title or a credential next to 1-3 capitalised name tokens.

    Matches "Dr. Smith", "Dr Jane Doe", "Mr. O'Brien", "Mrs. Smith-Jones",
    "DR. JOHN SMITH", "Nurse Jackie", "Professor Rao", "John Smith, MD",
    "Jane Doe RN", "A. Patel, M.D.". The span covers the title (and credential)
    and the name. A single capital letter is an initial only before another
    name token, so the placeholder "Dr. X" is not matched. In ALL-CAPS text,
    tokens after the first must be in the name lexicon ("DR. SMITH TODAY" ->
    "DR. SMITH"), and after a title that is also a word ("NURSE", "MISS") so
    must the first.
    """

    ENTITY: ClassVar[str] = entities.PERSON
    TITLE_SCORE: ClassVar[float] = 0.85
    CREDENTIAL_SCORE: ClassVar[float] = 0.8

    CONTEXT: ClassVar[tuple[str, ...]] = ("doctor", "physician", "nurse", "signed")

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Titled and credentialed names in ``text``."""
        results: list[RecognizerResult] = []
        taken: list[tuple[int, int]] = []
        for match in _TITLED_RE.finditer(text):
            span = self._titled_span(text, match)
            if span is not None:
                taken.append(span)
                results.append(make_result(self, *span, self.TITLE_SCORE, "title"))
        for match in _CREDENTIAL_RE.finditer(text):
            span = self._credentialed_span(text, match)
            if span is not None and not any(s < span[1] and span[0] < e for s, e in taken):
                results.append(make_result(self, *span, self.CREDENTIAL_SCORE, "credential"))
        return results

    def _titled_span(self, text: str, match: Any) -> tuple[int, int] | None:
        """Span of a title match, cut back to the tokens that pass the case rules."""
        title = match.group("title").strip().rstrip(".")
        names = _tokens(text, *match.span("name"))
        name_words = [t for t in names if not t.is_initial]
        first = name_words[0]
        if first.style == "upper" and title in _WORD_TITLES and not _is_name(first, self.lexicon):
            return None
        kept = self._keep_following(names, first)
        end = kept[-1].end
        if kept[-1] is names[-1] and match.group("cred"):
            end = match.end("cred")
        return match.start(), end

    def _keep_following(self, names: list[_Token], first: _Token) -> list[_Token]:
        """Tokens up to ``first`` plus those after it that look like more of the name.

        A following token must be capitalised like ``first``; in ALL CAPS it must
        also be a known name, since case no longer tells a name from a word.
        """
        kept: list[_Token] = []
        for token in names:
            if token.start > first.start and not token.is_initial:
                same_case = token.style == first.style
                if not same_case or (first.style == "upper" and not _is_name(token, self.lexicon)):
                    break
            kept.append(token)
        while kept and kept[-1].is_initial:
            kept.pop()
        return kept

    def _credentialed_span(self, text: str, match: Any) -> tuple[int, int] | None:
        """Span of "NAME, MD", dropping leading ALL-CAPS words that are not names."""
        name_end = match.start()
        before = _NAME_BEFORE_RE.search(
            text, window_before(text, name_end, LOOKBACK_CHARS), name_end
        )
        if before is None:
            return None
        names = _tokens(text, before.start(), name_end)
        name_words = [t for t in names if not t.is_initial]
        if name_words[-1].style == "upper":
            while names and not names[0].is_initial and not _is_name(names[0], self.lexicon):
                names.pop(0)
            if not any(_is_name(t, self.lexicon) for t in names):
                return None
        return names[0].start, match.end()


# Labels after which the next words are a name. After an explicit "name" label
# any capitalised words are taken; after a role label ("Patient:", "Mother:",
# "PCP:") at least one word must be in the lexicon, since "Mother: HTN, DM" and
# "Patient: Stable" are common.
_NAME_LABEL_WORDS = [
    "name",
    "patient name",
    "pt name",
    "patient's name",
    "full name",
    "legal name",
    "preferred name",
    "guarantor name",
    "subscriber name",
    "insured name",
    "contact name",
    "emergency contact",
    "next of kin",
    "nok",
    "mother's name",
    "father's name",
    "signed by",
    "electronically signed by",
    "dictated by",
    "transcribed by",
    "author",
]
_ROLE_LABEL_WORDS = [
    "patient",
    "pt",
    "guarantor",
    "subscriber",
    "insured",
    "mother",
    "father",
    "spouse",
    "husband",
    "wife",
    "parent",
    "guardian",
    "caregiver",
    "son",
    "daughter",
    "brother",
    "sister",
    "contact",
    "attending",
    "attending physician",
    "referring physician",
    "referring provider",
    "ordering physician",
    "ordering provider",
    "primary care physician",
    "pcp",
    "surgeon",
    "anesthesiologist",
    "resident",
    "provider",
    "physician",
    "cc",
    "witness",
    "interpreter",
]
_LABEL_RE = compile_pattern(
    r"\b(?<!['’])(?i:(?P<name_label>"
    + alternation(_NAME_LABEL_WORDS)
    + r")|(?P<role_label>"
    + alternation(_ROLE_LABEL_WORDS)
    + r"))[ \t]*[:=][ \t]*"
)


class NameLexiconRecognizer(LexiconRecognizer):
    """Known first name + known surname, "SURNAME, FIRSTNAME", and "Name:" fields.

    The lexicon (Faker's Latin-script person lists, built once) is matched case-
    insensitively, so ALL-CAPS names are found where spaCy's model misses them.
    Scores:

    * after a "Name:" label: 0.95 if a word is in the lexicon, else 0.85 for
      capitalised words; after a role label ("Patient:", "Mother:"): 0.85 with
      a lexicon word;
    * first name + surname, capitalised (Title or ALL CAPS): 0.6;
    * the same where one word is also an everyday word ("Mark Stevens"): 0.3,
      and where every word is ("Grace Hall", "MARK LONG"): 0.15;
    * lower case: 0.3 when no word is an everyday word, otherwise nothing;
    * medical eponyms ("JACKSON PRATT drain", "Mallory Weiss tear"): nothing.
    """

    ENTITY: ClassVar[str] = entities.PERSON
    LABELLED_SCORE: ClassVar[float] = 0.85
    LABELLED_KNOWN_SCORE: ClassVar[float] = 0.95
    PAIR_SCORE: ClassVar[float] = 0.6
    WEAK_PAIR_SCORE: ClassVar[float] = 0.3
    VERY_WEAK_PAIR_SCORE: ClassVar[float] = 0.15
    MAX_LABELLED_WORDS: ClassVar[int] = 4
    #: how far past a word a name may run (a first name, initials and surnames)
    WINDOW_CHARS: ClassVar[int] = 80

    CONTEXT: ClassVar[tuple[str, ...]] = ("name", "patient", "contact", "signed")

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Names found by label, then by first-name/surname pairs elsewhere.

        Only words that can start a name (a first name, or a surname for the
        inverted form) open a small same-line window of tokens to inspect, so the
        cost is one regex scan plus a set lookup per word.
        """
        results = self._labelled(text)
        labelled = sorted((r.start, r.end) for r in results)
        lexicon = self.lexicon
        next_label = 0
        skip_until = 0
        for match in _NAME_TOKEN_RE.finditer(text):
            start = match.start()
            if start < skip_until or not lexicon.may_start_name(match.group()):
                continue
            while next_label < len(labelled) and labelled[next_label][1] <= start:
                next_label += 1
            if next_label < len(labelled) and labelled[next_label][0] <= start:
                continue
            tokens = _tokens(text, start, _line_end(text, start, self.WINDOW_CHARS))
            found = self._pair_at(text, tokens, 0)
            if found is not None:
                last, score, reason = found
                end = _end_with_period(text, tokens[last])
                results.append(make_result(self, start, end, score, reason))
                skip_until = end
        return results

    # ---------------------------------------------------------------- labels

    def _labelled(self, text: str) -> list[RecognizerResult]:
        """Names right after a "Name:"-type label on the same line."""
        results: list[RecognizerResult] = []
        for match in _LABEL_RE.finditer(text):
            value_start = match.end()
            tokens = _tokens(text, value_start, _line_end(text, value_start, self.WINDOW_CHARS))
            if not tokens or tokens[0].start != value_start:
                continue
            name_words = self._label_value(text, tokens)
            if not name_words:
                continue
            known = any(_is_name(t, self.lexicon) for t in name_words)
            if match.group("name_label") is not None:
                shaped = all(t.style in ("title", "upper") for t in name_words)
                if not (known or shaped):
                    continue
                score = self.LABELLED_KNOWN_SCORE if known else self.LABELLED_SCORE
            elif known and len(name_words) >= 2:
                score = self.LABELLED_SCORE
            else:
                continue
            end = _end_with_period(text, name_words[-1])
            results.append(make_result(self, name_words[0].start, end, score, "label"))
        return results

    def _label_value(self, text: str, tokens: list[_Token]) -> list[_Token]:
        """The name tokens at the start of ``tokens``: "JOHN A. SMITH", "Doe, Jane".

        Stops at punctuation other than one comma (inverted names) and at words
        that are not names ("DOB", "Unknown").
        """
        name_words: list[_Token] = []
        commas = 0
        for token in tokens[: self.MAX_LABELLED_WORDS]:
            if not token.is_initial and (
                token.text.lower() in NOT_NAME_WORDS or token.style == "mixed"
            ):
                break
            if name_words:
                gap = text[name_words[-1].end : token.start].strip(" \t")
                if gap == ",":
                    commas += 1
                    if commas > 1:
                        break
                elif gap not in ("", "."):
                    break
            name_words.append(token)
        if len(name_words) == 1 and name_words[0].is_initial:
            return []
        return name_words

    # ----------------------------------------------------------------- pairs

    def _pair_at(self, text: str, tokens: list[_Token], i: int) -> tuple[int, float, str] | None:
        """(last token index, score, reason) of a name starting at token ``i``."""
        head = tokens[i]
        style = head.style
        if style == "mixed" or len(head.text) < 2 or (style == "upper" and len(head.text) < 3):
            return None
        lexicon = self.lexicon
        last = None
        reason = "first_last"
        if lexicon.is_first(head.text):
            last = self._forward_end(text, tokens, i, style)
        if last is None and style != "lower" and lexicon.is_last(head.text):
            last = self._inverted_end(text, tokens, i, style)
            reason = "last_comma_first"
        if last is None:
            return None
        name_words = [
            t for t in tokens[i : last + 1] if not t.is_initial and t.text.lower() not in PARTICLES
        ]
        if len(name_words) >= 2 and is_eponym_pair(name_words[0].text, name_words[1].text):
            return None
        common = sum(lexicon.is_common(t.text) for t in name_words)
        if style == "lower":
            return None if common else (last, self.WEAK_PAIR_SCORE, reason)
        if common == 0:
            return last, self.PAIR_SCORE, reason
        weak = common < len(name_words)
        return last, self.WEAK_PAIR_SCORE if weak else self.VERY_WEAK_PAIR_SCORE, reason

    def _fits(self, token: _Token, style: str) -> bool:
        """Whether ``token`` is written like the name's first word and long enough."""
        minimum = 3 if style == "upper" else 2
        return token.style == style and len(token.text) >= minimum

    def _forward_end(self, text: str, tokens: list[_Token], i: int, style: str) -> int | None:
        """Last index of "FIRST [MIDDLE|M.] [particles] LAST" starting at ``i``."""
        lexicon = self.lexicon
        best = None
        j = i + 1
        middles = 0
        while j < len(tokens) and j - i <= 4 and _joined(text, tokens[j - 1], tokens[j]):
            token = tokens[j]
            if token.text.lower() in PARTICLES and token.style in ("lower", style):
                j += 1
                continue
            if self._fits(token, style) and token.text.lower() not in NOT_NAME_WORDS:
                if best is not None and lexicon.is_common(token.text):
                    break
                if lexicon.is_last(token.text):
                    best = j
                if not (lexicon.is_first(token.text) or lexicon.is_last(token.text)):
                    break
            elif not (token.is_initial and style != "lower"):
                break
            middles += 1
            if middles > 2:
                break
            j += 1
        return best

    def _inverted_end(self, text: str, tokens: list[_Token], i: int, style: str) -> int | None:
        """Last index of "SURNAME, FIRST [M.]" starting at ``i``."""
        if i + 1 >= len(tokens):
            return None
        gap = text[tokens[i].end : tokens[i + 1].start]
        nxt = tokens[i + 1]
        if gap.strip(" \t") != "," or not self._fits(nxt, style):
            return None
        if nxt.text.lower() in NOT_NAME_WORDS or not self.lexicon.is_first(nxt.text):
            return None
        if i + 2 < len(tokens) and tokens[i + 2].is_initial and _joined(text, nxt, tokens[i + 2]):
            return i + 2
        return i + 1


def _joined(text: str, left: _Token, right: _Token) -> bool:
    """Whether two tokens are adjacent words of one name: spaces, or an initial's period."""
    gap = text[left.end : right.start]
    if left.is_initial:
        return gap.strip(" \t") in ("", ".") and "\n" not in gap and len(gap) <= 3
    return gap != "" and gap.strip(" \t") == ""


def _line_end(text: str, start: int, max_chars: int) -> int:
    """End of the window of at most ``max_chars`` after ``start`` on the same line."""
    newline = text.find("\n", start, start + max_chars)
    return min(len(text), start + max_chars) if newline < 0 else newline


def _end_with_period(text: str, token: _Token) -> int:
    """End of ``token``, taking the period of a final initial ("SMITH, JOHN A.")."""
    if token.is_initial and text[token.end : token.end + 1] == ".":
        return token.end + 1
    return token.end
