"""The committed PII benchmark data is consistent: spans match text, splits are clean."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "benchmarks"
ENTITY_TYPES = {
    "PERSON",
    "LOCATION",
    "STREET_ADDRESS",
    "US_ZIP_CODE",
    "FACILITY",
    "DATE_TIME",
    "AGE",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "MEDICAL_RECORD_NUMBER",
    "HEALTH_PLAN_NUMBER",
    "ACCOUNT_NUMBER",
    "US_SSN",
    "NPI",
}


def _load(name: str) -> ModuleType:
    """Import a benchmarks/pii module under a unique name."""
    path = ROOT / "benchmarks" / "pii" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"pii_bench_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def notes() -> list[dict[str, Any]]:
    lines = (DATA / "clinical_phi" / "notes.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_clinical_spans_are_exact_and_disjoint(notes: list[dict[str, Any]]) -> None:
    assert len(notes) == 120
    for note in notes:
        previous_end = 0
        for span in sorted(note["spans"], key=lambda s: s["start"]):
            value = note["text"][span["start"] : span["end"]]
            assert value and value == value.strip(), (note["id"], span)
            assert span["start"] >= previous_end, (note["id"], span)
            assert span["entity_type"] in ENTITY_TYPES
            assert span["source"] in {"inserted", "annotated"}
            previous_end = span["end"]
        assert note["upper"] == (note["text"] == note["text"].upper())


def test_clinical_annotations_cover_every_note(notes: list[dict[str, Any]]) -> None:
    annotations = json.loads((DATA / "clinical_phi" / "annotations.json").read_text())["notes"]
    assert {str(note["id"]) for note in notes} == set(annotations)
    annotated = sum(s["source"] == "annotated" for note in notes for s in note["spans"])
    expected = sum(len(entry.get("phi", [])) for entry in annotations.values())
    assert annotated == expected


def test_presidio_split_is_by_template() -> None:
    records = json.loads((DATA / "pii_presidio" / "synth_dataset_v2.json").read_text())
    split = json.loads((DATA / "pii_presidio" / "split.json").read_text())
    assert sorted(split["tune"] + split["test"]) == list(range(len(records)))
    tune = {records[i]["template_id"] for i in split["tune"]}
    test = {records[i]["template_id"] for i in split["test"]}
    assert not tune & test
    for template_id in tune:
        digest = hashlib.sha256(str(template_id).encode()).hexdigest()
        assert int(digest[:8], 16) / 2**32 < 0.6


def test_presidio_loader_maps_every_label() -> None:
    pii_data = _load("pii_data")
    documents = pii_data.load("presidio", "test")
    assert documents
    for document in documents:
        for span in document.spans:
            assert span.entity_type == pii_data.PRESIDIO_LABELS[span.label]
