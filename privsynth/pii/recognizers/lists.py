"""Deny lists and allow lists: site-specific terms no model can know.

A hospital knows its own ward names, its physicians and its patients' surnames
(deny list: always flag them), and the words that look like PII but are not --
drug names such as "Allegra", eponyms such as "Parkinson" (allow list: drop a
detection whose text is one of them).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from presidio_analyzer import Pattern, PatternRecognizer

from privsynth.pii.recognizers._base import alternation, compile_pattern

#: Presidio's score for a deny-list hit: the term was listed, so it is certain
DENY_LIST_SCORE = 1.0
_DENY_FLAGS = re.IGNORECASE | re.MULTILINE
_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t\r\n.,;:!?\"'()[]{}<>"


def deny_list_recognizer(
    entity: str,
    terms: Iterable[str],
    *,
    name: str | None = None,
    supported_language: str = "en",
) -> PatternRecognizer:
    """A recognizer flagging each of ``terms`` as ``entity``, case-insensitively, whole words only.

    Longer terms are tried first ("Mass General Hospital" before "Mass General"),
    and a space inside a term matches any run of whitespace, so a term still
    matches when a note wraps it across a line. Raises ``ValueError`` when
    ``terms`` holds no non-blank term.
    """
    cleaned = sorted({_SPACES.sub(" ", t.strip()) for t in terms if t and t.strip()})
    if not cleaned:
        raise ValueError(f"deny list for {entity} has no terms")
    body = alternation(cleaned).replace(r"[ \t]+", r"\s+")
    pattern = Pattern(name="deny_list", regex=rf"(?<!\w){body}(?!\w)", score=DENY_LIST_SCORE)
    pattern.compiled_regex = compile_pattern(pattern.regex, _DENY_FLAGS)
    pattern.compiled_with_flags = _DENY_FLAGS  # type: ignore[assignment]  # None until used
    return PatternRecognizer(
        supported_entity=entity,
        name=name or f"DenyList_{entity}",
        supported_language=supported_language,
        patterns=[pattern],
        global_regex_flags=_DENY_FLAGS,
    )


def normalize_term(term: str) -> str:
    """Casefold, collapse whitespace and strip edge punctuation: the key allow lists compare."""
    return _SPACES.sub(" ", term.strip(_EDGE_PUNCTUATION)).casefold()


@functools.lru_cache(maxsize=64)
def _normalized(allow_terms: frozenset[str]) -> frozenset[str]:
    return frozenset(normalize_term(t) for t in allow_terms)


def is_allowed(text_span: str, allow_terms: Iterable[str]) -> bool:
    """Whether ``text_span`` is, as a whole, one of ``allow_terms`` (case-insensitive).

    The whole span must match: allowing "Parkinson" drops a detection of
    "PARKINSON" but not one of "Dr. Parkinson". Pass a frozenset to have its
    normalised form cached across calls.
    """
    terms = allow_terms if isinstance(allow_terms, frozenset) else frozenset(allow_terms)
    if not terms:
        return False
    return normalize_term(text_span) in _normalized(terms)
