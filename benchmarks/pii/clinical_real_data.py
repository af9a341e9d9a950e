"""The real ICU nursing notes with gold PHI spans (``clinical_notes_phi_dev``), read in place.

The notes are GPL-2.0 (PhysioNet deid 1.1; see the data set's SOURCE.md): they are read from
``/work/shared/data`` at run time and never copied into this repository. Nothing here writes
note text anywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

NOTES = Path("/work/shared/data/clinical_notes_phi_dev/nursing_notes_phi_dev.jsonl")
"""Default location of the development half (even-numbered patients)."""

Case = Literal["as-is", "upper", "lower"]
CASES: tuple[Case, ...] = ("as-is", "upper", "lower")


@dataclass(frozen=True)
class GoldSpan:
    """One gold PHI span: character offsets into the note, deid type, surface text."""

    start: int
    end: int
    entity_type: str
    text: str


@dataclass(frozen=True)
class Note:
    """One nursing note and its gold spans; ``name`` is a stable file-safe id."""

    patient_id: int
    note_id: int
    text: str
    spans: tuple[GoldSpan, ...]

    @property
    def name(self) -> str:
        """``p002_n001``: sorts like (patient, note), safe as a file name."""
        return f"p{self.patient_id:03d}_n{self.note_id:03d}"


def _note(record: dict) -> Note:
    """A JSON record as a Note, checking that every span's offsets match its surface."""
    text = record["text"]
    spans = tuple(
        GoldSpan(s["start"], s["end"], s["entity_type"], s["text"]) for s in record["spans"]
    )
    for span in spans:
        if text[span.start : span.end] != span.text:
            raise ValueError(f"span offsets do not match surface in note {record['note_id']}")
    return Note(record["patient_id"], record["note_id"], text, spans)


def load_notes(path: Path = NOTES) -> list[Note]:
    """All notes of the JSONL file, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [_note(json.loads(line)) for line in handle if line.strip()]


def data_digest(path: Path = NOTES) -> str:
    """SHA-256 of the data file: ties cached outputs and results to the exact notes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recase_text(text: str, case: Case) -> str:
    """``text`` upper- or lower-cased character by character, keeping its length.

    A character whose case mapping changes the length (``ß`` -> ``SS``) is kept as is,
    so that gold offsets stay valid.
    """
    if case == "as-is":
        return text
    convert = str.upper if case == "upper" else str.lower
    return "".join(c2 if len(c2 := convert(c)) == 1 else c for c in text)


def recase(note: Note, case: Case) -> Note:
    """The note with its text and gold surfaces recased (offsets unchanged)."""
    if case == "as-is":
        return note
    text = _recase_text(note.text, case)
    spans = tuple(
        GoldSpan(s.start, s.end, s.entity_type, text[s.start : s.end]) for s in note.spans
    )
    return Note(note.patient_id, note.note_id, text, spans)


def recase_all(notes: Sequence[Note], case: Case) -> list[Note]:
    """Every note recased."""
    return [recase(note, case) for note in notes]
