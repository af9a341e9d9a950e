"""Distinctive fake identifiers seeded into real bundled data, and a scanner that looks
for them in every file, archive member, Parquet cell and stream a run leaves behind.

Every canary is made up: a name no one has, an SSN and an MRN of no one, a category and
a number that occur nowhere else. Each is held by one record only, so a run that
releases one of them has released a single person's value."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"

#: the canary person's name, SSN and MRN, and the other rows' prefixes
NAME = "Quillon Vexmarrow"
SSN = "536-27-8491"
MRN = "MRN48151623"
#: a category held by the canary record alone, and a number no other record has
RARE_CATEGORY = "Zephyrine-Gov"
RARE_NUMBER = "73915482"


@dataclass(frozen=True)
class Canary:
    """A seeded value and the forms it could leak in."""

    label: str
    forms: tuple[str, ...]


def canaries() -> list[Canary]:
    """Every canary, with the spellings a leak would show (bytes are searched for each)."""
    return [
        Canary("name", (NAME, "Vexmarrow", "Quillon", NAME.upper())),
        Canary("ssn", (SSN, SSN.replace("-", ""))),
        Canary("mrn", (MRN, MRN[3:])),
        Canary("rare category", (RARE_CATEGORY,)),
        Canary("rare number", (RARE_NUMBER,)),
    ]


def table_with_canaries(rows: int = 400) -> pd.DataFrame:
    """Adult rows with a name, an SSN and an MRN per person, and one canary record
    holding the canary identifiers, the rare category and the rare number."""
    frame = pd.read_csv(EXAMPLES / "adult_sample.csv", dtype=str, keep_default_na=False)
    frame = frame.head(rows).reset_index(drop=True)
    numbers = range(len(frame))
    frame.insert(0, "full_name", [f"Person{i:04d} Ordinary" for i in numbers])
    frame.insert(
        1, "ssn", [f"{100 + i % 600:03d}-{10 + i % 80:02d}-{1000 + i:04d}" for i in numbers]
    )
    frame.insert(2, "mrn", [f"MRN{7000000 + i}" for i in numbers])
    canary = len(frame) // 2
    frame.loc[canary, ["full_name", "ssn", "mrn"]] = [NAME, SSN, MRN]
    frame.loc[canary, "workclass"] = RARE_CATEGORY
    frame.loc[canary, "fnlwgt"] = RARE_NUMBER
    return frame


def notes_with_canaries(rows: int = 24, length: int = 240) -> pd.DataFrame:
    """Short real transcriptions; one of them names the canary person with an SSN and
    an MRN, as a clinician would write them."""
    frame = pd.read_csv(EXAMPLES / "notes_sample.csv", dtype=str, keep_default_na=False)
    frame = frame[frame.transcription.str.len() > 0].head(rows).reset_index(drop=True)
    frame = frame.assign(transcription=frame.transcription.str.slice(0, length))
    note = (
        f"Patient {NAME} (SSN {SSN}, MRN {MRN}) was seen today. "
        f"Mr. Vexmarrow reports chest pain. Follow-up with {NAME} in two weeks."
    )
    frame.loc[len(frame) // 2, "transcription"] = note
    return frame[["medical_specialty", "transcription"]]


def texts_of(path: Path) -> Iterator[tuple[str, bytes]]:
    """The bytes of a file as found, and of what it holds: ZIP members (saved models)
    and, for Parquet, its cells as CSV (Parquet pages may be compressed)."""
    data = path.read_bytes()
    yield str(path), data
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield f"{path}!{member}", archive.read(member)
    if data[:4] == b"PAR1":
        table = pd.read_parquet(io.BytesIO(data))
        yield f"{path} (cells)", table.to_csv(index=False).encode("utf-8")


def leaks(blob: bytes, where: str) -> list[str]:
    """``label in where`` for every canary form found in ``blob``."""
    found = []
    for canary in canaries():
        for form in canary.forms:
            if form.encode("utf-8") in blob or form.encode("utf-16-le") in blob:
                found.append(f"{canary.label} ({form!r}) in {where}")
    return found


def scan_tree(folder: Path, skip: frozenset[Path] = frozenset()) -> list[str]:
    """Every canary form found in any file under ``folder`` (``skip``: the inputs)."""
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.resolve() in skip:
            continue
        for where, blob in texts_of(path):
            found += leaks(blob, where)
    return found
