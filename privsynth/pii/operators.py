"""Replacement operators applied to detected PII spans: redact, mask, tag, surrogate.

Detections are resolved first so every character is replaced at most once, then
replaced from the end of the text so the offsets of earlier spans stay valid.

Redaction spacing (why: removing "John Smith" from "Seen by John Smith today." must
not leave "Seen by  today." or "Seen by ."):

* a space or tab before the span and whitespace after it: the spaces/tabs after go;
* a space or tab before the span and a line end, the text end or closing punctuation
  (``.,;:!?)]}``) after it: the spaces/tabs before go;
* at the start of the text or of a line: the spaces/tabs after the span go.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from privsynth.errors import ConfigurationError
from privsynth.pii import entities as E
from privsynth.pii.spans import Detection
from privsynth.pii.surrogates import SurrogateGenerator
from privsynth.registry import Registry

_CLOSERS = ".,;:!?)]}"
_BLANKS = " \t"


@dataclass(frozen=True)
class OperatorContext:
    """What an operator may use besides the span: the key, the person, the mask."""

    surrogates: SurrogateGenerator | None = None
    person_key: str | None = None
    mask_char: str = "*"


#: ``(entity_type, span text, context) -> replacement``
Operator = Callable[[str, str, OperatorContext], str]

OPERATORS: Registry[Operator] = Registry("PII operator")


@OPERATORS.register("redact")
def redact(entity_type: str, span: str, context: OperatorContext) -> str:
    """Nothing: the span disappears (spacing is repaired by :func:`replace_spans`)."""
    return ""


@OPERATORS.register("mask")
def mask(entity_type: str, span: str, context: OperatorContext) -> str:
    """Letters and digits -> the mask character; separators stay, so "555-123-4567"
    -> "***-***-****" and a masked value still shows which kind of value it was."""
    return "".join(context.mask_char if c.isalnum() else c for c in span)


@OPERATORS.register("tag")
def tag(entity_type: str, span: str, context: OperatorContext) -> str:
    """``<ENTITY_TYPE>``: readers and models still see what kind of value stood here."""
    return f"<{entity_type}>"


@OPERATORS.register("surrogate")
def surrogate(entity_type: str, span: str, context: OperatorContext) -> str:
    """A keyed, consistent surrogate; dates move by the person's offset when known."""
    if context.surrogates is None:
        raise ConfigurationError(
            "the 'surrogate' operator needs a surrogate key",
            hint="pass surrogates=SurrogateGenerator.from_env() (PRIVSYNTH_SURROGATE_KEY)",
        )
    if entity_type == E.DATE_TIME and context.person_key is not None:
        return context.surrogates.shift_date(span, context.person_key)
    return context.surrogates.surrogate(entity_type, span)


def _merge_same_type(detections: Sequence[Detection]) -> list[Detection]:
    """Overlapping spans of one type become their union (best score, all recognizers)."""
    merged: list[Detection] = []
    for d in sorted(detections, key=lambda d: (d.entity_type, d.start, d.end)):
        last = merged[-1] if merged else None
        if last is None or last.entity_type != d.entity_type or not last.overlaps(d):
            merged.append(d)
            continue
        names = sorted({n for n in (*last.recognizer.split("+"), d.recognizer) if n})
        merged[-1] = Detection(
            last.start,
            max(last.end, d.end),
            d.entity_type,
            max(last.score, d.score),
            "+".join(names),
        )
    return merged


def resolve_overlaps(detections: Sequence[Detection]) -> list[Detection]:
    """Non-overlapping detections sorted by start: same-type overlaps merge; across
    types the higher score wins, then the longer span, then the earlier one."""
    ranked = sorted(_merge_same_type(detections), key=lambda d: (-d.score, -d.length, d.start))
    kept: list[Detection] = []
    spans: list[tuple[int, int]] = []  # the kept spans, sorted: they never overlap
    for d in ranked:
        at = bisect.bisect_left(spans, (d.start, d.end))
        before = spans[at - 1] if at else None
        after = spans[at] if at < len(spans) else None
        if (before is None or before[1] <= d.start) and (after is None or after[0] >= d.end):
            spans.insert(at, (d.start, d.end))
            kept.append(d)
    return sorted(kept)


def _join_removed(left: str, right: str) -> str:
    """``left + right`` after a span between them was removed (rules in module doc)."""
    if not left or left[-1] in "\r\n":
        return left + right.lstrip(_BLANKS)
    if left[-1] not in _BLANKS:
        return left + right
    if not right or right[0] in "\r\n" or right[0] in _CLOSERS:
        return left.rstrip(_BLANKS) + right
    if right[0] in _BLANKS:
        return left + right.lstrip(_BLANKS)
    return left + right


def replace_spans(text: str, replacements: Sequence[tuple[int, int, str]]) -> str:
    """``text`` with each non-overlapping ``(start, end, new)`` applied, from the end;
    an empty ``new`` removes the span and repairs the spacing around it."""
    for start, end, new in sorted(replacements, reverse=True):
        left, right = text[:start], text[end:]
        text = left + new + right if new else _join_removed(left, right)
    return text


def _check_spans(text: str, detections: Sequence[Detection]) -> None:
    """Detections must lie inside the text (offsets only: never echo the text)."""
    for d in detections:
        if d.end > len(text):
            raise ValueError(f"detection [{d.start}, {d.end}) outside a text of {len(text)}")


def apply_operator(
    text: str,
    detections: Sequence[Detection],
    operator: str,
    surrogates: SurrogateGenerator | None = None,
    person_key: str | None = None,
    mask_char: str = "*",
) -> str:
    """``text`` with every detected span replaced by ``operator`` (a name in
    :data:`OPERATORS`); overlapping detections are resolved first."""
    function = OPERATORS.get(operator)
    if len(mask_char) != 1:
        raise ConfigurationError(
            f"mask_char must be one character, got {len(mask_char)}", hint="e.g. '*'"
        )
    _check_spans(text, detections)
    context = OperatorContext(surrogates, person_key, mask_char)
    replacements = [
        (d.start, d.end, function(d.entity_type, text[d.start : d.end], context))
        for d in resolve_overlaps(detections)
    ]
    return replace_spans(text, replacements)
