"""Column roles from headers (metadata) and from sampled values (the detector)."""

from __future__ import annotations

import pandas as pd
import pytest

from privsynth.pii.columns import classify_columns, classify_header
from privsynth.pii.engine import PIIDetector
from privsynth.synthesis import resolve_schema


@pytest.mark.parametrize(
    ("header", "role", "entity"),
    [
        ("patient_name", "direct_identifier", "PERSON"),
        ("LastName", "direct_identifier", "PERSON"),
        ("SSN", "direct_identifier", "US_SSN"),
        ("mrn", "direct_identifier", "MEDICAL_RECORD_NUMBER"),
        ("Email Address", "direct_identifier", "EMAIL_ADDRESS"),
        ("home_phone", "direct_identifier", "PHONE_NUMBER"),
        ("member_id", "direct_identifier", "HEALTH_PLAN_NUMBER"),
        ("patient_id", "direct_identifier", "MEDICAL_RECORD_NUMBER"),
        ("date_of_birth", "quasi_identifier", "DATE_TIME"),
        ("AdmitDate", "quasi_identifier", "DATE_TIME"),
        ("discharged_on", "quasi_identifier", "DATE_TIME"),
        ("Hospital.Service.Area", "quasi_identifier", "LOCATION"),  # a region, not a date
        ("death", "sensitive", None),  # an outcome flag (SPARCS), not a date of death
        ("date_of_death", "quasi_identifier", "DATE_TIME"),
        ("zip", "quasi_identifier", "US_ZIP_CODE"),
        ("age", "quasi_identifier", "AGE"),
        ("sex", "quasi_identifier", None),
        ("diagnosis_code", "sensitive", None),
        ("clinical_notes", "free_text", None),
    ],
)
def test_headers(header: str, role: str, entity: str | None) -> None:
    found = classify_header(header)
    assert found is not None and (found.role, found.entity) == (role, entity)


@pytest.mark.parametrize("header", ["fnlwgt", "x1", "capital-gain", "hours-per-week"])
def test_uninformative_headers(header: str) -> None:
    assert classify_header(header) is None


def test_values_decide_when_the_header_says_nothing() -> None:
    frame = pd.DataFrame(
        {
            "contact": [f"person{i}@example.org" for i in range(30)],
            "field7": [
                f"Stable today, follow up with cardiology in {i} weeks and recheck labs."
                for i in range(30)
            ],
            "code": [f"A{i % 5}" for i in range(30)],
        }
    )
    roles = {c.column: (c.role, c.entity) for c in classify_columns(frame, PIIDetector())}
    assert roles["contact"] == ("direct_identifier", "EMAIL_ADDRESS")
    assert roles["field7"][0] == "free_text"
    assert roles["code"] == ("other", None)


def test_without_a_schema_identifier_and_text_headers_are_hints_for_discovery() -> None:
    """Headers alone no longer drop a column (issue 12: a ``*_id`` column of a few codes
    was replaced by tokens); discovery decides from DP evidence, see test_code_columns."""
    schema, warnings = resolve_schema(None, ["patient_name", "notes", "age", "x"], strict=False)
    assert schema["patient_name"].kind == "auto"
    assert schema["patient_name"].role == "direct_identifier"
    assert schema["notes"].kind == "auto" and schema["notes"].role == "free_text"
    assert schema["age"].kind == "auto" and schema["age"].role == "quasi_identifier"
    assert schema["x"].kind == "auto" and warnings == []
