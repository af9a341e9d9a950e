"""Person names that neither spaCy's small model nor the name-pair lexicon finds.

:class:`ContextualNameRecognizer` adds, for PERSON:

* a lone capitalised word that is a known first name or surname and neither an
  everyday word nor an English dictionary word ("Mario", "Danielle", "Pearson");
* a known first name followed by a capitalised word that is no English word
  ("Marta Palermo", "Jana Vítková", "DONNA HURLBUT"): surnames are open-ended;
* "First M. Last" -- two capitalised words around a single initial, neither an
  English word ("Leena O Sasi", "Gladys L. Leblanc");
* capitalised words after a phrase of naming or address ("my name is Ludmiła",
  "everyone calls me Aantje", "Dear Koppány", "said Gladys to Logan"), before a
  verb of speech ("Zak shouted", "Vsevolod said") or as a dialogue speaker at the
  start of a line or sentence ("Zuzana: "Who are you?"");
* in a text written all in lower case, where case says nothing, the same with
  lower-case words: "my name is vitoria", "follow up with benjamin a seiler".

Dictionary words are excluded throughout, so clinical words in these positions
("Placenta: Anterior", "with Levaquin") stay out: drug names are not in the name
lexicon, and the cues that admit unknown words are phrases of naming and speech.
"""

from __future__ import annotations

from typing import ClassVar, Final

from presidio_analyzer import EntityRecognizer, RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import alternation, compile_pattern, make_result, words
from privsynth.pii.recognizers._lexicon import LexiconRecognizer, name_lexicon
from privsynth.pii.recognizers.gazetteer import is_english_word
from privsynth.pii.recognizers.names import NOT_NAME_WORDS

_TITLE_WORD = r"\p{Lu}\p{Ll}+(?:[-'’]\p{Lu}\p{Ll}+)?"
_UPPER_WORD = r"\p{Lu}{2,}(?:[-'’]\p{Lu}{2,})?"
_LOWER_WORD = r"\p{Ll}{2,}(?:-\p{Ll}{2,})?"
_EDGE = r"(?<![\p{L}\d'’.-])"
_END = r"(?![\p{L}\d]|['’]\p{L}{2}|-\p{L})"

_WORD_RE = compile_pattern(rf"{_EDGE}(?:{_TITLE_WORD}|{_UPPER_WORD}){_END}")
_LOWER_WORD_RE = compile_pattern(rf"{_EDGE}{_LOWER_WORD}{_END}")
# two capitalised words side by side, for names written with letters English lacks
_TITLE_PAIR_RE = compile_pattern(rf"{_EDGE}(?P<a>{_TITLE_WORD})[ \t]+(?P<b>{_TITLE_WORD}){_END}")
# "Gladys L. Leblanc", "Leena O Sasi", "Halldór Ó Árnþórsson"
_MIDDLE_INITIAL_RE = compile_pattern(
    rf"{_EDGE}(?P<a>{_TITLE_WORD})[ \t]+\p{{Lu}}\.?[ \t]+(?P<b>{_TITLE_WORD}){_END}"
)
_LOWER_MIDDLE_INITIAL_RE = compile_pattern(
    rf"{_EDGE}(?P<a>{_LOWER_WORD})[ \t]+(?P<i>\p{{Ll}})\.?[ \t]+(?P<b>{_LOWER_WORD}){_END}"
)

# Phrases after which a name follows: naming someone (any capitalised word is then
# taken, "my name is Grace"), and addressing or quoting someone (dictionary words
# are not: "said Gladys to Logan" but not "told Nursing").
_NAMING_CUES = (
    "my name is", "his name is", "her name is", "their name is", "name's", "i am called",
    "i'm called", "call me", "calls me", "is called", "was called", "named",
    "nicknamed", "dear",
)  # fmt: skip
_ADDRESS_CUES = (
    "hi", "hello", "hey", "thanks", "thank you", "said", "asked", "told", "replied",
    "shouted at", "yelled at", "screamed at", "spoke to", "spoke with", "talked to",
    "talked with", "married to", "regards", "sincerely",
)  # fmt: skip
# verbs of speech and of a person's doings after the name ("Zak shouted")
_SPEECH_AFTER = words(
    "said says shouted shouts asked asks replied replies told tells yelled whispered "
    "answered wrote writes exclaimed screamed laughed smiled cried"
)
_NAME_SEQ = rf"{_TITLE_WORD}(?:[ \t]+{_TITLE_WORD}){{0,2}}"
_CUE_RE = compile_pattern(
    rf"\b(?:(?P<naming>(?i:{alternation(_NAMING_CUES)}))|(?i:{alternation(_ADDRESS_CUES)}))"
    rf"[ \t]*,?[ \t]+\K(?P<name>{_NAME_SEQ}){_END}"
)
_LOWER_CUE_RE = compile_pattern(
    rf"\b(?:{alternation(_NAMING_CUES + _ADDRESS_CUES)})[ \t]*,?[ \t]+\K"
    rf"(?P<name>{_LOWER_WORD}(?:[ \t]+{_LOWER_WORD}){{0,2}}){_END}"
)
# "my name is lena andersson" in a text that has capitals elsewhere
_NAMING_LOWER_RE = compile_pattern(
    rf"\b(?i:{alternation(_NAMING_CUES)})[ \t]+\K"
    rf"(?P<name>{_LOWER_WORD}(?:[ \t]+{_LOWER_WORD})?){_END}"
)
_SPEECH_RE = compile_pattern(
    rf"{_EDGE}(?P<name>{_TITLE_WORD})[ \t]+(?:{alternation(_SPEECH_AFTER)})\b"
)
# "said Gladys to Logan": the one spoken to
_SPOKEN_TO_RE = compile_pattern(
    rf"\b(?:{alternation(_SPEECH_AFTER)})[ \t]+{_TITLE_WORD}[ \t]+to[ \t]+\K"
    rf"(?P<name>{_NAME_SEQ}){_END}"
)
# a title in a text without capitals: "mr. elliott", "dr smith"
_LOWER_TITLE_RE = compile_pattern(
    rf"\b(?:mr|mrs|ms|dr|prof|miss)(?:\.[ \t]*|[ \t]+)(?P<name>{_LOWER_WORD}){_END}"
)
# a dialogue speaker: at the start of a line or a sentence, before ":" and speech
_SPEAKER_RE = compile_pattern(
    rf"(?:^|(?<=[.!?\"”][ \t]{{1,3}}))[ \t]*(?P<name>{_TITLE_WORD}):[ \t]*"
    r"(?=[\"“]|\p{Lu}\p{Ll})"
)

#: words that are neither names nor English dictionary words but start sentences
_FUNCTION_WORDS: Final = frozenset(
    words(
        """
        what who whom whose which where when why how you your yours i me my mine we us our
        ours they them their theirs he him his she her hers it its this that these those
        there here yes no not ok okay hi hello hey dear thanks please sorry user bot agent
        sir madam mom mum dad mommy daddy grandma grandpa baby honey everyone everybody
        someone somebody nobody anyone anybody
        """
    )
)


def _plain_word(word: str) -> bool:
    """Whether ``word`` could be an unknown name: not a dictionary or function word."""
    key = word.lower()
    if key in NOT_NAME_WORDS or key in _FUNCTION_WORDS or key in name_lexicon().common_words:
        return False
    return not any(is_english_word(part) for part in key.split("-"))


class ContextualNameRecognizer(LexiconRecognizer):
    """Person names by lexicon, shape and context (see the module docstring)."""

    ENTITY: ClassVar[str] = entities.PERSON
    SINGLE_SCORE: ClassVar[float] = 0.5
    FIRST_UNKNOWN_SCORE: ClassVar[float] = 0.5
    INITIAL_SCORE: ClassVar[float] = 0.6
    CUE_SCORE: ClassVar[float] = 0.6
    LOWER_SCORE: ClassVar[float] = 0.45
    ACCENTED_PAIR_SCORE: ClassVar[float] = 0.45

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Names of ``text`` found by lexicon, shape and context."""
        spans: list[tuple[int, int, float, str]] = []
        if any(c.isupper() for c in text):
            spans += self._lexicon_words(text)
            spans += self._middle_initials(text)
            spans += self._cued(text)
            spans += self._accented_pairs(text)
        else:
            spans += self._lower_case(text)
        results = [make_result(self, s, e, score, reason) for s, e, score, reason in spans]
        deduplicated: list[RecognizerResult] = EntityRecognizer.remove_duplicates(results)
        return deduplicated

    # ------------------------------------------------------------ capitalised text

    def _known(self, word: str, first_only: bool = False, dictionary: bool = False) -> bool:
        """A known name of 3+ letters, not an everyday word, nor (unless ``dictionary``)
        a word of the English dictionary."""
        lexicon = self.lexicon
        if len(word) < 3 or lexicon.is_common(word):
            return False
        if not (_plain_word(word) or (dictionary and word.lower() not in _FUNCTION_WORDS)):
            return False
        return lexicon.is_first(word) or (not first_only and lexicon.is_last(word))

    def _lexicon_words(self, text: str) -> list[tuple[int, int, float, str]]:
        """Known names standing alone, and a known first name + an unknown surname."""
        found: list[tuple[int, int, float, str]] = []
        matches = list(_WORD_RE.finditer(text))
        for index, match in enumerate(matches):
            word = match.group()
            upper = word.isupper()
            if not upper and self._known(word):
                found.append((match.start(), match.end(), self.SINGLE_SCORE, "lexicon_word"))
            if index + 1 == len(matches) or not self._known(word, True, dictionary=True):
                continue
            following = matches[index + 1]
            gap = text[match.end() : following.start()]
            same_case = following.group().isupper() == upper
            if gap.strip(" \t") or not gap or not same_case or len(following.group()) < 3:
                continue
            if _plain_word(following.group()) and not self.lexicon.is_common(following.group()):
                reason = "first_unknown_surname"
                found.append((match.start(), following.end(), self.FIRST_UNKNOWN_SCORE, reason))
        return found

    def _accented_pairs(self, text: str) -> list[tuple[int, int, float, str]]:
        """Two capitalised words that are no English words, one with a letter English
        lacks ("Rościsław Dudek", "Esat Jeknić"): a name (or a place) the lexicon misses."""
        found = []
        for match in _TITLE_PAIR_RE.finditer(text, overlapped=True):
            a, b = match.group("a"), match.group("b")
            if (not a.isascii() or not b.isascii()) and _plain_word(a) and _plain_word(b):
                found.append((match.start(), match.end(), self.ACCENTED_PAIR_SCORE, "accented"))
        return found

    def _middle_initials(self, text: str) -> list[tuple[int, int, float, str]]:
        found = []
        for match in _MIDDLE_INITIAL_RE.finditer(text):
            a, b = match.group("a"), match.group("b")
            if (_plain_word(a) or self._known(a)) and (_plain_word(b) or self._known(b)):
                found.append((match.start(), match.end(), self.INITIAL_SCORE, "middle_initial"))
        return found

    def _cued(self, text: str) -> list[tuple[int, int, float, str]]:
        found = []
        cues = ((_CUE_RE, "naming_cue"), (_SPEECH_RE, "speech"), (_SPEAKER_RE, "speaker"),
                (_SPOKEN_TO_RE, "spoken_to"))  # fmt: skip
        for pattern, reason in cues:
            for match in pattern.finditer(text):
                naming = pattern is _CUE_RE and match.group("naming") is not None
                first = match.group("name").split()[0]
                naming = naming or self._known(first, True, dictionary=True)
                end = _plain_end(text, match.start("name"), match.end("name"), naming)
                if end is not None:
                    found.append((match.start("name"), end, self.CUE_SCORE, reason))
        for match in _NAMING_LOWER_RE.finditer(text):
            known = self._known(match.group("name").split()[0], True, dictionary=True)
            end = _plain_end(text, match.start("name"), match.end("name"), naming=known)
            if end is not None:
                found.append((match.start("name"), end, self.LOWER_SCORE, "naming_lower"))
        return found

    # ------------------------------------------------------------- lower-case text

    def _lower_case(self, text: str) -> list[tuple[int, int, float, str]]:
        """Names in a text without capitals: known first names (with what follows
        them when it is no English word), initials and naming cues."""
        found: list[tuple[int, int, float, str]] = []
        matches = list(_LOWER_WORD_RE.finditer(text))
        for index, match in enumerate(matches):
            if not self._known(match.group(), first_only=True):
                continue
            end = match.end()
            if index + 1 < len(matches):
                following = matches[index + 1]
                gap = text[end : following.start()]
                if gap and not gap.strip(" \t") and _plain_word(following.group()):
                    end = following.end()
            found.append((match.start(), end, self.LOWER_SCORE, "lower_lexicon"))
        for match in _LOWER_MIDDLE_INITIAL_RE.finditer(text):
            a, b, initial = match.group("a"), match.group("b"), match.group("i")
            known = self._known(a, first_only=True, dictionary=True)
            if initial in ("a", "i") and not known:
                continue
            if (known or _plain_word(a)) and _plain_word(b):
                found.append((match.start(), match.end(), self.LOWER_SCORE, "lower_initial"))
        for match in _LOWER_TITLE_RE.finditer(text):
            if match.group("name") not in _FUNCTION_WORDS | NOT_NAME_WORDS:
                found.append((match.start(), match.end(), self.LOWER_SCORE, "lower_title"))
        for match in _LOWER_CUE_RE.finditer(text):
            known = self._known(match.group("name").split()[0], True, dictionary=True)
            end = _plain_end(text, match.start("name"), match.end("name"), naming=known)
            if end is not None:
                found.append((match.start("name"), end, self.LOWER_SCORE, "lower_cue"))
        return found


def _plain_end(text: str, start: int, end: int, naming: bool) -> int | None:
    """End of the leading words of ``text[start:end]`` that could be a name ("Gladys
    to" -> "Gladys"); after a naming cue dictionary words count, function words not."""
    last = None
    for match in _ANY_WORD_RE.finditer(text, start, end):
        word = match.group().lower()
        if naming:
            fits = word not in _FUNCTION_WORDS and word not in NOT_NAME_WORDS
        else:
            fits = _plain_word(word)
        if not fits:
            break
        last = match.end()
    return last


_ANY_WORD_RE = compile_pattern(r"[\p{L}'’-]+")
