"""Select and clean the mtsamples transcriptions behind the clinical PHI benchmark.

Kept apart from the PHI insertion so that the hand annotations (which refer to the
cleaned, truncated text) only depend on this step: changing surrogate generation can
never silently shift an annotated span.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

MTSAMPLES = Path("/work/shared/data/mtsamples/mtsamples.csv.gz")
"""Default location of the CC0 mtsamples dump (see its SOURCE.md)."""

MIN_CHARS = 400
"""Shorter transcriptions are mostly one-line lab results with no narrative to scrub."""

_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "st", "vs", "no", "approx", "e.g", "i.e", "etc", "fig", "pt"}
)


_PARAGRAPH_COMMA = re.compile(
    r"(?<!e\.g)(?<!i\.e)(?<!etc)(?<!a\.m)(?<!p\.m)\.[ \t]*(?:,[ \t]*)+(?=[A-Z0-9(])"
)
"""``sentence.,Next`` (a scraped line break) but not ``e.g.,`` or ``a.m.,``."""


@dataclass(frozen=True)
class SourceNote:
    """One cleaned transcription: its mtsamples ``note_id``, specialty and body text."""

    note_id: int
    specialty: str
    text: str


def load_transcriptions(path: Path = MTSAMPLES) -> pd.DataFrame:
    """Distinct, non-empty transcriptions, first listing kept.

    The dump lists one report under several specialties; de-duplicating on the text
    keeps a report from appearing twice in the benchmark.
    """
    frame = pd.read_csv(path)
    frame = frame.dropna(subset=["transcription"])
    frame = frame.drop_duplicates("transcription", keep="first")
    frame["medical_specialty"] = frame["medical_specialty"].str.strip()
    return frame[frame["transcription"].str.len() >= MIN_CHARS].reset_index(drop=True)


def allocate(counts: dict[str, int], total: int) -> dict[str, int]:
    """Split ``total`` notes over specialties proportionally to sqrt(size), at least one each.

    Square-root allocation keeps small specialties (letters, psychiatry, ER reports)
    represented instead of letting Surgery, 40% of the dump, dominate.
    """
    names = sorted(counts)
    weights = {name: math.sqrt(counts[name]) for name in names}
    scale = (total - len(names)) / sum(weights.values())
    raw = {name: 1 + weights[name] * scale for name in names}
    quota = {name: min(counts[name], int(raw[name])) for name in names}
    by_remainder = sorted(names, key=lambda name: (raw[name] - int(raw[name]), name), reverse=True)
    while sum(quota.values()) < total:
        grew = False
        for name in by_remainder:
            if quota[name] < counts[name] and sum(quota.values()) < total:
                quota[name] += 1
                grew = True
        if not grew:
            break
    return quota


def select_notes(frame: pd.DataFrame, total: int, seed: int) -> list[pd.Series]:
    """A seeded sample of ``total`` rows spread over specialties (see ``allocate``)."""
    rng = random.Random(seed)
    counts = frame["medical_specialty"].value_counts().to_dict()
    quota = allocate({str(k): int(v) for k, v in counts.items()}, total)
    chosen: list[pd.Series] = []
    for specialty in sorted(quota):
        rows = frame.index[frame["medical_specialty"] == specialty].tolist()
        for index in sorted(rng.sample(rows, quota[specialty])):
            chosen.append(frame.loc[index])
    return sorted(chosen, key=lambda row: int(row["note_id"]))


def normalise(text: str) -> str:
    """Restore the line breaks that the mtsamples scrape turned into commas.

    The scrape wrote ``HEADING:,  text.,NEXT HEADING: ,`` for what were separate lines;
    real EHR text has those breaks, and line structure matters to detectors (a name at
    the start of a line has no left context).
    """
    text = re.sub(r":[ \t]*,+[ \t]*", ":\n", text)
    text = re.sub(_PARAGRAPH_COMMA, ".\n", text)
    text = re.sub(r"\n,[ \t]*", "\n", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n[ \t]+", "\n", text)
    return text.strip()


def _is_sentence_end(text: str, index: int) -> bool:
    """Whether the period at ``text[index]`` ends a sentence (not ``Dr.``, ``1.`` or ``5.5``)."""
    if text[index] != "." or (index + 1 < len(text) and text[index + 1] not in " \n"):
        return False
    word = re.search(r"[\w.]*$", text[:index])
    token = word.group(0).lower() if word else ""
    if token in _ABBREVIATIONS or len(token) <= 1:
        return False
    return not token.isdigit()


def truncate(text: str, max_chars: int) -> str:
    """The longest prefix of at most ``max_chars`` that ends a sentence.

    Cutting mid-sentence would leave fragments no real note has; if no sentence ends
    in the window (a long list), cut at the last line break instead.
    """
    if len(text) <= max_chars:
        return text
    for index in range(max_chars - 1, max_chars // 2, -1):
        if _is_sentence_end(text, index):
            return text[: index + 1]
    cut = text.rfind("\n", 0, max_chars)
    return text[:cut] if cut > max_chars // 2 else text[:max_chars]


def source_notes(total: int, seed: int, max_chars: int, path: Path = MTSAMPLES) -> list[SourceNote]:
    """The cleaned, truncated notes the benchmark is built on, in note_id order."""
    rows = select_notes(load_transcriptions(path), total, seed)
    return [
        SourceNote(
            note_id=int(row["note_id"]),
            specialty=str(row["medical_specialty"]),
            text=truncate(normalise(str(row["transcription"])), max_chars),
        )
        for row in rows
    ]
