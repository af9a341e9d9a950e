"""Load the two PII benchmark sets into one shape, with their label mappings and splits.

* ``presidio``: Microsoft presidio-research ``synth_dataset_v2.json`` (1,500 Faker-filled
  template sentences, MIT). Split by template so tuning never sees a test template.
* ``clinical``: mtsamples notes with inserted and hand-annotated PHI
  (``build_clinical_set.py``). Split by note id into ``dev`` (tune on it) and ``test``
  (report only), about half each.

Run ``python benchmarks/pii/pii_data.py`` to (re)write both ``split.json`` files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "benchmarks"
PRESIDIO_FILE = DATA / "pii_presidio" / "synth_dataset_v2.json"
PRESIDIO_SPLIT = DATA / "pii_presidio" / "split.json"
CLINICAL_FILE = DATA / "clinical_phi" / "notes.jsonl"
CLINICAL_SPLIT = DATA / "clinical_phi" / "split.json"
TUNE_SHARE = 0.6
DEV_SHARE = 0.5

PRESIDIO_LABELS: dict[str, str] = {
    "PERSON": "PERSON",
    "TITLE": "PERSON",  # honorifics ("Dr.") and job titles, generated next to names
    "STREET_ADDRESS": "STREET_ADDRESS",
    "GPE": "LOCATION",  # countries, states and cities
    "ZIP_CODE": "US_ZIP_CODE",  # also non-US postcodes in this set
    "ORGANIZATION": "ORGANIZATION",
    "DATE_TIME": "DATE_TIME",
    "AGE": "AGE",
    "NRP": "NRP",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "DOMAIN_NAME": "URL",  # full URLs in this set
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
}
"""presidio-research label -> privsynth entity type (privsynth/pii/entities.py)."""


@dataclass(frozen=True)
class GoldSpan:
    """A labelled PII span; ``label`` as in the dataset, ``entity_type`` in privsynth terms."""

    start: int
    end: int
    label: str
    entity_type: str
    source: str = ""


@dataclass(frozen=True)
class Document:
    """One text to scan with its gold spans; ``group`` is what the split is keyed on."""

    doc_id: str
    text: str
    spans: tuple[GoldSpan, ...]
    group: str


def template_in_tune(template_id: int) -> bool:
    """Whether a template belongs to the tune split: first 8 hex of sha256(str(id)) < 60%.

    Hashing the template id (not the record) keeps every sentence of a template on
    one side, so a rule tuned on tune records cannot memorise test templates.
    """
    digest = hashlib.sha256(str(template_id).encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000 < TUNE_SHARE


def presidio_split(records: list[dict[str, object]]) -> dict[str, list[int]]:
    """Record indexes of the tune and test splits."""
    split: dict[str, list[int]] = {"tune": [], "test": []}
    for index, record in enumerate(records):
        template_id = record["template_id"]
        assert isinstance(template_id, int)
        split["tune" if template_in_tune(template_id) else "test"].append(index)
    return split


def load_presidio(split: str = "all") -> list[Document]:
    """The presidio-research records of one split (``tune``, ``test`` or ``all``)."""
    records = json.loads(PRESIDIO_FILE.read_text(encoding="utf-8"))
    if split == "all":
        indexes = list(range(len(records)))
    else:
        indexes = json.loads(PRESIDIO_SPLIT.read_text())[split]
    return [_presidio_document(index, records[index]) for index in indexes]


def _presidio_document(index: int, record: dict[str, object]) -> Document:
    """Convert one presidio-research record."""
    raw_spans = record["spans"]
    assert isinstance(raw_spans, list)
    spans = tuple(
        sorted(
            (
                GoldSpan(
                    span["start_position"],
                    span["end_position"],
                    span["entity_type"],
                    PRESIDIO_LABELS[span["entity_type"]],
                )
                for span in raw_spans
            ),
            key=lambda span: span.start,
        )
    )
    return Document(str(index), str(record["full_text"]), spans, str(record["template_id"]))


def note_in_dev(note_id: int) -> bool:
    """Whether a clinical note belongs to the dev split: first 8 hex of sha256(str(id)) < 50%."""
    digest = hashlib.sha256(str(note_id).encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000 < DEV_SHARE


def clinical_split(note_ids: list[int]) -> dict[str, list[int]]:
    """Note ids of the dev and test splits."""
    split: dict[str, list[int]] = {"dev": [], "test": []}
    for note_id in note_ids:
        split["dev" if note_in_dev(note_id) else "test"].append(note_id)
    return split


def load_clinical(split: str = "all") -> list[Document]:
    """The clinical PHI notes of one split (``dev``, ``test`` or ``all``)."""
    if split not in ("dev", "test", "all"):
        raise ValueError(f"clinical splits are dev, test and all, not {split!r}")
    wanted = None if split == "all" else set(json.loads(CLINICAL_SPLIT.read_text())[split])
    documents = []
    for line in CLINICAL_FILE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if wanted is not None and record["id"] not in wanted:
            continue
        spans = tuple(
            GoldSpan(s["start"], s["end"], s["entity_type"], s["entity_type"], s["source"])
            for s in record["spans"]
        )
        documents.append(Document(str(record["id"]), record["text"], spans, record["specialty"]))
    return documents


def load(dataset: str, split: str) -> list[Document]:
    """Documents of ``dataset`` (``presidio`` or ``clinical``) and ``split``."""
    loaders = {"presidio": load_presidio, "clinical": load_clinical}
    return loaders[dataset](split)


def write_presidio_split() -> dict[str, list[int]]:
    """Recompute and write ``split.json`` next to the data."""
    records = json.loads(PRESIDIO_FILE.read_text(encoding="utf-8"))
    split = presidio_split(records)
    PRESIDIO_SPLIT.write_text(json.dumps(split) + "\n")
    return split


def write_clinical_split() -> dict[str, list[int]]:
    """Recompute and write the clinical ``split.json`` (note ids) next to the notes."""
    lines = CLINICAL_FILE.read_text(encoding="utf-8").splitlines()
    split = clinical_split([json.loads(line)["id"] for line in lines])
    CLINICAL_SPLIT.write_text(json.dumps(split) + "\n")
    return split


if __name__ == "__main__":
    for name, write in (("presidio", write_presidio_split), ("clinical", write_clinical_split)):
        written = write()
        print(name, {part: len(indexes) for part, indexes in written.items()})
