r"""Shared building blocks for privsynth's recognizers.

Pattern recognizers subclass :class:`RegexRecognizer`: their patterns are
declared once, as class data, and compiled once per process, because the
recognizers run over millions of characters and nothing may be built per call.

Patterns are matched by the third-party ``regex`` module (Presidio's choice),
which adds what these patterns rely on: ``\p{Lu}``-style Unicode classes,
scoped flags (``(?i:...)``), variable-length lookbehinds, and ``\K``, which lets
a pattern such as ``MRN: 00481932`` match the label but report only the id.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any, ClassVar

import regex
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)

#: Flags every privsynth pattern is compiled with. Case sensitivity is decided
#: inside each pattern (``(?i:...)`` where case does not matter), because case
#: is evidence: "Dr. Smith" is a name, "dr. smith" in running text rarely is.
REGEX_FLAGS = re.MULTILINE

#: A horizontal gap: labels and values on one line, never across a line break,
#: so that a header line cannot glue itself to the next line's value.
GAP = r"[ \t]+"
OPT_GAP = r"[ \t]*"


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text``: word lists stay readable blocks."""
    return tuple(text.split())


#: punctuation between a label and its value: "MRN: 1", "MRN # 1", "MRN=1", "MRN is 1"
LABEL_SEP = rf"{OPT_GAP}(?:[:#=.]|is|-){{0,2}}{OPT_GAP}#?{OPT_GAP}"
#: "number" words that may follow a label: "Record Number", "Acct No.", "Member ID #"
NUMBER_WORD = r"(?:numbers?|num\.?|nbr\.?|no\.?|#|id|i\.d\.|identifier|identification)"

US_STATE_NAMES: tuple[str, ...] = (
    "Alabama",
    "Alaska",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "Delaware",
    "District of Columbia",
    "Florida",
    "Georgia",
    "Hawaii",
    "Idaho",
    "Illinois",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "Louisiana",
    "Maine",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "Nebraska",
    "Nevada",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Pennsylvania",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "Tennessee",
    "Texas",
    "Utah",
    "Vermont",
    "Virginia",
    "Washington",
    "West Virginia",
    "Wisconsin",
    "Wyoming",
    "Puerto Rico",
    "Guam",
)

#: USPS two-letter codes (states, DC and the inhabited territories).
US_STATE_CODES: tuple[str, ...] = words(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
    "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"
)


def alternation(words: Iterable[str]) -> str:
    """Escape ``words`` into one non-capturing alternation, longest first.

    Longest first because regex alternation is ordered: "Medical Center" must be
    tried before "Medical" or the shorter word wins and the span is cut short.
    Spaces inside a word match any run of spaces or tabs.
    """
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    escaped = (regex.escape(w, special_only=True, literal_spaces=True) for w in unique)
    return "(?:" + "|".join(e.replace(" ", GAP) for e in escaped) + ")"


def title_and_upper(words: Iterable[str]) -> list[str]:
    """Each word as written ("Medical Center") and in capitals ("MEDICAL CENTER").

    Clinical notes mix title-case prose with ALL-CAPS headers; lower case is
    deliberately left out, because lower case is how generic uses are written
    ("admitted to the hospital").
    """
    out: list[str] = []
    for word in words:
        out.extend((word, word.upper()))
    return out


def case_sensitive(pattern: str) -> str:
    """Wrap ``pattern`` so it stays case-sensitive even under a caller's IGNORECASE.

    Presidio lets a caller override the flags of a whole recognizer; the parts of
    our patterns that rely on capitalisation must not silently lose it.
    """
    return f"(?-i:{pattern})"


def labelled(label: str, value: str) -> str:
    r"""``value`` when preceded on the same line by ``label`` (case-insensitive).

    The label is matched and then dropped from the match with ``\K``, so the
    span that gets redacted is the value only. ``\K`` rather than a lookbehind:
    a variable-length lookbehind is tried backwards at every position of the text
    and was 50-70x slower on a megabyte of notes.
    """
    return rf"\b(?i:{label}){LABEL_SEP}\K{value}"


def window_before(text: str, end: int, max_chars: int) -> int:
    """Start of the window of at most ``max_chars`` before ``end`` on the same line."""
    return max(text.rfind("\n", 0, end) + 1, end - max_chars)


@functools.cache
def compile_pattern(pattern: str, flags: int = REGEX_FLAGS) -> Any:
    """Compile once per process; recognizer instances share the compiled object."""
    return regex.compile(pattern, flags)


class ContextRecognizer(EntityRecognizer):
    """A hand-written recognizer whose entities and Presidio context words are class
    data: ``ENTITY`` (plus ``EXTRA_ENTITIES`` when it reports several types) and
    ``CONTEXT``. Nothing to load: patterns are module constants."""

    ENTITY: ClassVar[str]
    EXTRA_ENTITIES: ClassVar[tuple[str, ...]] = ()
    CONTEXT: ClassVar[tuple[str, ...]] = ()

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            supported_entities=[self.ENTITY, *self.EXTRA_ENTITIES],
            name=type(self).__name__,
            supported_language=supported_language,
            context=list(self.CONTEXT) if context is None else context,
        )

    def load(self) -> None:
        """Nothing to load."""

    def wanted(self, requested: list[str] | None) -> bool:
        """Whether a call asking for ``requested`` entities (None: all) concerns us."""
        return not requested or not set(requested).isdisjoint(self.supported_entities)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        """Presidio's entry point: :meth:`find`, when one of our entities is asked for."""
        return self.find(text, entities) if self.wanted(entities) else []

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """The results in ``text``; ``entities`` are those asked for (empty: all)."""
        raise NotImplementedError


class RegexRecognizer(PatternRecognizer):
    """A pattern recognizer whose entity, patterns and context are class data.

    Subclasses set ``ENTITY``, ``PATTERNS`` (name, regex, score) and ``CONTEXT``.
    Patterns are compiled here, at construction, so the first ``analyze`` call is
    as fast as the rest and a broken pattern fails at start-up, not mid-run; the
    patterns are run by :meth:`analyze`, not by Presidio's pattern loop.
    """

    ENTITY: ClassVar[str]
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]]
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    #: something every match contains (e.g. a digit): texts without it are skipped
    #: before Presidio runs each pattern, which is most of a short text's cost
    REQUIRES: ClassVar[re.Pattern[str] | None] = None

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        # compiled here (shared, cached): a broken pattern fails at start-up
        self._compiled = [(name, compile_pattern(rx), score) for name, rx, score in self.PATTERNS]
        patterns = [Pattern(name, rx, score) for name, rx, score in self.PATTERNS]
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            supported_language=supported_language,
            patterns=patterns,
            context=list(self.CONTEXT) if context is None else context,
            global_regex_flags=REGEX_FLAGS,
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: Any = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Each pattern's matches, validated as Presidio does (``validate_result``: 1.0
        or dropped; ``invalidate_result``: dropped), without Presidio's per-pattern
        clock reads and regex-explanation objects: those were most of the cost."""
        if self.REQUIRES is not None and self.REQUIRES.search(text) is None:
            return []
        results = []
        for name, compiled, pattern_score in self._compiled:
            try:
                matches = list(compiled.finditer(text, timeout=REGEX_TIMEOUT_S))
            except TimeoutError:
                _LOG.warning("pattern %s of %s timed out; skipped", name, type(self).__name__)
                continue
            for match in matches:
                start, end = match.span()
                score = self._validated_score(text[start:end], pattern_score) if end > start else 0
                if score > 0:
                    results.append(make_result(self, start, end, score, name))
        deduplicated: list[RecognizerResult] = EntityRecognizer.remove_duplicates(results)
        return deduplicated

    def _validated_score(self, matched: str, score: float) -> float:
        """The pattern's score, 1.0 if a checksum validates the match, 0 if it fails."""
        valid = self.validate_result(matched)
        if valid is not None:
            score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
        if self.invalidate_result(matched):
            return EntityRecognizer.MIN_SCORE
        return float(score)


DIGIT = re.compile(r"\d")
#: a pattern that runs longer than this on one text is skipped (as Presidio does)
REGEX_TIMEOUT_S = 60
_LOG = logging.getLogger(__name__)


def gated(recognizer_class: type[Any], requires: re.Pattern[str]) -> type[Any]:
    """A subclass of one of Presidio's pattern recognizers that skips texts lacking
    ``requires`` (its name, context and results are unchanged)."""

    def analyze(self: Any, text: str, entities: list[str], *args: Any, **kwargs: Any) -> Any:
        if requires.search(text) is None:
            return []
        return recognizer_class.analyze(self, text, entities, *args, **kwargs)

    return type(recognizer_class.__name__, (recognizer_class,), {"analyze": analyze})


def make_result(
    recognizer: EntityRecognizer,
    start: int,
    end: int,
    score: float,
    reason: str,
    metadata: dict[str, object] | None = None,
) -> RecognizerResult:
    """A result carrying what Presidio's context enhancer and explanations expect.

    The enhancer finds a result's recognizer through the identifier in
    ``recognition_metadata`` and writes into ``analysis_explanation``; a result
    without either is silently never boosted, or crashes the enhancer.
    """
    name = type(recognizer).__name__  # privsynth recognizers are named after their class
    explanation = AnalysisExplanation(
        recognizer=name,
        original_score=score,
        pattern_name=reason,
        textual_explanation=f"Detected by `{name}` ({reason})",
    )
    recognition_metadata: dict[str, object] = {
        RecognizerResult.RECOGNIZER_NAME_KEY: name,
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
    }
    recognition_metadata.update(metadata or {})
    return RecognizerResult(
        entity_type=recognizer.supported_entities[0],
        start=start,
        end=end,
        score=score,
        analysis_explanation=explanation,
        recognition_metadata=recognition_metadata,
    )
