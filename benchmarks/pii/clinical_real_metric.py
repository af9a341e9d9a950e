"""Leak-based PHI recall and words kept on real notes (the measure of the data set's SOURCE.md).

Pure functions over (note text, gold spans, scrubbed text); no I/O, no detector.

* A gold span is *counted* unless it is a ``DateYear`` (not PHI under Safe Harbor), its surface
  is shorter than 2 characters, or its surface also occurs as ordinary text in the same note
  (a whole-token occurrence not inside gold spans): such a surface may legitimately remain.
* A counted span is *leaked* when its surface still occurs as a whole token in the scrubbed
  note. Whole token: bounded by non-alphanumeric characters (``_`` counts as
  non-alphanumeric) or the text ends. Matching is case-INsensitive (stricter than
  case-sensitive: ``SMITH`` left for ``Smith`` leaks), for the ordinary-text exclusion too,
  so the two stay consistent. Two refinements, so that leaving a note untouched leaks every
  counted span: the surface is matched without surrounding whitespace (a few gold surfaces
  end in a space), and a side where the gold span is glued to other text in the note
  (``fx4/97``, ``ParkviewBuilding``) needs no boundary in the output either.
* recall = 1 - leaked / counted, overall and per gold entity type.
* Words kept: the non-PHI words of a note are its maximal runs of 3+ letters, case-folded,
  as a multiset, after blanking the gold spans; kept = size of the multiset intersection
  with the scrubbed note's words. Summed over notes (micro average).

Placeholders a scrubber inserts (``<PERSON>``, ``<DATE_TIME>``) are blanked before scoring,
so a tag never counts as a kept word (``<PERSON>`` is not the word "person") and never
matches a surface. The notes themselves hold no such ``<UPPER_CASE>`` strings.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

ENTITY_TYPES = ("HCPName", "Date", "Location", "RelativeProxyName", "Phone", "PTName", "Other")
"""The PHI types scored, in the data set's order of frequency (DateYear is not scored)."""
NOT_PHI_TYPES = frozenset({"DateYear"})
MIN_SURFACE = 2
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")
_WORD = re.compile(r"[^\W\d_]{3,}")
_ALNUM = re.compile(r"[^\W_]")


class Span(Protocol):
    """A gold span: offsets into the note, deid type, surface text."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Target:
    """What a leak check looks for: the span's surface without surrounding whitespace, and
    on which sides the gold occurrence was itself bounded by a non-alphanumeric character
    or a text end (a side glued to other text in the note, ``fx4/97``, is not required to
    be bounded in the output either)."""

    surface: str
    left: bool = True
    right: bool = True


def _is_alnum(char: str) -> bool:
    return _ALNUM.fullmatch(char) is not None


def target(text: str, span: Span) -> Target:
    """The leak target of a gold span in its note."""
    surface = span.text.strip()
    start = span.start + len(span.text) - len(span.text.lstrip())
    end = start + len(surface)
    left = start == 0 or not _is_alnum(text[start - 1])
    right = end >= len(text) or not _is_alnum(text[end])
    return Target(surface, left, right)


@functools.lru_cache(maxsize=4096)
def token_pattern(wanted: Target) -> re.Pattern[str]:
    """``wanted.surface`` as a whole token (on its bounded sides), case-insensitive."""
    before = r"(?<![^\W_])" if wanted.left else ""
    after = r"(?![^\W_])" if wanted.right else ""
    return re.compile(before + re.escape(wanted.surface) + after, re.IGNORECASE)


def token_occurrences(text: str, wanted: Target) -> list[tuple[int, int]]:
    """(start, end) of every whole-token occurrence of ``wanted`` in ``text``.

    Overlapping occurrences are found too, by searching again one character after each
    match start.

    >>> token_occurrences("Smith smith-SMITH Smithson x_smith", Target("smith"))
    [(0, 5), (6, 11), (12, 17), (29, 34)]
    >>> token_occurrences("Smithson", Target("smith", right=False))
    [(0, 5)]
    """
    pattern, found, position = token_pattern(wanted), [], 0
    while (match := pattern.search(text, position)) is not None:
        found.append(match.span())
        position = match.start() + 1
    return found


def occurs_as_token(text: str, wanted: Target) -> bool:
    """Whether ``wanted`` still occurs as a whole token (case-insensitive)."""
    return token_pattern(wanted).search(text) is not None


def gold_mask(length: int, spans: Iterable[Span]) -> list[bool]:
    """Per character: inside some gold span."""
    inside = [False] * length
    for span in spans:
        inside[span.start : span.end] = [True] * (span.end - span.start)
    return inside


def exclusion(text: str, span: Span, inside: Sequence[bool]) -> str | None:
    """Why ``span`` is not counted (``"not_phi"``, ``"short"``, ``"ordinary"``), or None."""
    if span.entity_type in NOT_PHI_TYPES:
        return "not_phi"
    wanted = target(text, span)
    if len(wanted.surface) < MIN_SURFACE:
        return "short"
    for start, end in token_occurrences(text, wanted):
        if not all(inside[start:end]):
            return "ordinary"
    return None


def clean_output(scrubbed: str) -> str:
    """The scrubbed text with scrubber placeholders blanked (one space each)."""
    return PLACEHOLDER.sub(" ", scrubbed)


def words(text: str) -> Counter[str]:
    """Multiset of case-folded words of 3+ letters.

    >>> sorted(words("Pt on 5peep, PT ok; pt-NOTE").items())
    [('note', 1), ('peep', 1)]
    """
    return Counter(_WORD.findall(text.casefold()))


def non_phi_text(text: str, spans: Iterable[Span]) -> str:
    """``text`` with every gold span blanked (a space each, so no words fuse)."""
    pieces, position = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start >= position:
            pieces += [text[position : span.start], " "]
        position = max(position, span.end)
    pieces.append(text[position:])
    return "".join(pieces)


def kept_words(original: Counter[str], scrubbed: Counter[str]) -> int:
    """Size of the multiset intersection."""
    return sum((original & scrubbed).values())


@dataclass
class NoteScore:
    """One note's counts; ``leaked_spans`` is for terminal error listings only."""

    counted: Counter[str] = field(default_factory=Counter)
    leaked: Counter[str] = field(default_factory=Counter)
    excluded: Counter[str] = field(default_factory=Counter)
    words_total: int = 0
    words_kept: int = 0
    leaked_spans: list[Span] = field(default_factory=list)


def score_note(text: str, spans: Sequence[Span], scrubbed: str) -> NoteScore:
    """Leaks and kept words of one scrubbed note against its gold spans.

    >>> from types import SimpleNamespace as S
    >>> gold = [S(start=3, end=8, entity_type="HCPName", text="Smith")]
    >>> score = score_note("Dr Smith saw pt", gold, "Dr <PERSON> saw pt")
    >>> score.leaked, score.words_kept, score.words_total
    (Counter(), 1, 1)
    >>> score_note("Dr Smith saw pt", gold, "Dr SMITH saw pt").leaked
    Counter({'HCPName': 1})
    """
    output = clean_output(scrubbed)
    inside = gold_mask(len(text), spans)
    score = NoteScore()
    for span in spans:
        reason = exclusion(text, span, inside)
        if reason is not None:
            score.excluded[reason] += 1
            continue
        score.counted[span.entity_type] += 1
        if occurs_as_token(output, target(text, span)):
            score.leaked[span.entity_type] += 1
            score.leaked_spans.append(span)
    original = words(non_phi_text(text, spans))
    score.words_total = sum(original.values())
    score.words_kept = kept_words(original, words(output))
    return score


def _recall(counted: int, leaked: int) -> float | None:
    return 1.0 - leaked / counted if counted else None


@dataclass
class Tally:
    """Sums of NoteScores over a corpus."""

    counted: Counter[str] = field(default_factory=Counter)
    leaked: Counter[str] = field(default_factory=Counter)
    excluded: Counter[str] = field(default_factory=Counter)
    words_total: int = 0
    words_kept: int = 0

    def add(self, score: NoteScore) -> None:
        """Add one note."""
        self.counted.update(score.counted)
        self.leaked.update(score.leaked)
        self.excluded.update(score.excluded)
        self.words_total += score.words_total
        self.words_kept += score.words_kept

    def report(self) -> dict[str, Any]:
        """Aggregates only (no text): recall overall and per type, words kept, counts."""
        counted, leaked = sum(self.counted.values()), sum(self.leaked.values())
        types = [*ENTITY_TYPES, *sorted(set(self.counted) - set(ENTITY_TYPES))]
        return {
            "recall": _recall(counted, leaked),
            "counted": counted,
            "leaked": leaked,
            "per_type": {
                t: {
                    "recall": _recall(self.counted[t], self.leaked[t]),
                    "counted": self.counted[t],
                    "leaked": self.leaked[t],
                }
                for t in types
            },
            "excluded": dict(sorted(self.excluded.items())),
            "words_kept": self.words_kept / self.words_total if self.words_total else None,
            "words_total": self.words_total,
            "words_kept_count": self.words_kept,
        }
