"""Column classification: direct identifier, quasi-identifier, sensitive, free text, other.

Headers decide first (they are metadata, not data); a sample of values is then
scanned with the PII detector for columns whose header says nothing, so that an
e-mail column called ``contact`` is still caught. A role declared in the schema
always wins over both.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from privsynth.pii import entities as E
from privsynth.pii.engine import PIIDetector
from privsynth.schema.model import Role

_HEADER_RULES: list[tuple[Role, str | None, str]] = [
    (
        "direct_identifier",
        E.PERSON,
        r"\b(?:first|last|given|family|full|sur|middle|maiden)?"
        r"\s?name\b|\bpatient\b$|\bsurname\b|\binitials\b",
    ),
    ("direct_identifier", E.US_SSN, r"\bssn\b|social security|\bsocial\b"),
    (
        "direct_identifier",
        E.MEDICAL_RECORD_NUMBER,
        r"\bmrn\b|medical record|record number|"
        r"\bchart\b|patient id|\bpid\b|hospital number|encounter id|visit id",
    ),
    ("direct_identifier", E.EMAIL_ADDRESS, r"e-?mail"),
    ("direct_identifier", E.PHONE_NUMBER, r"phone|\btel\b|mobile|\bcell\b|\bfax\b|pager"),
    ("direct_identifier", E.STREET_ADDRESS, r"address|street|\baddr\b|\bline ?[12]\b"),
    (
        "direct_identifier",
        E.HEALTH_PLAN_NUMBER,
        r"member id|policy|subscriber|beneficiary|"
        r"insurance id|\bmbi\b|medicaid|medicare id|plan id",
    ),
    ("direct_identifier", E.ACCOUNT_NUMBER, r"account|\bacct\b|iban|card number|credit card"),
    (
        "direct_identifier",
        E.US_DRIVER_LICENSE,
        r"licen[cs]e|passport|certificate|\bplate\b|\bvin\b",
    ),
    ("direct_identifier", E.DEVICE_ID, r"device|serial|imei|\bmac\b"),
    ("direct_identifier", E.URL, r"\burl\b|website|\bweb\b"),
    ("direct_identifier", E.IP_ADDRESS, r"\bip\b|ip address"),
    ("direct_identifier", E.NPI, r"\bnpi\b|\bdea\b"),
    ("direct_identifier", None, r"(?:^|\b)(?:id|uuid|guid|identifier)$"),
    (
        "quasi_identifier",
        E.DATE_TIME,
        # a date word, or an event word alone or before "on"/"at"/"day"/"time": not
        # "death" (an outcome flag) or "Hospital Service Area" (a region)
        r"birth|\bdob\b|\bdod\b|date|\bdt\b|timestamp|"
        r"\b(?:admit(?:ted)?|admission|discharged?|visit)(?: (?:on|at|day|time))?$|"
        r"\b(?:death|died|service) (?:on|at|day|time)$",
    ),
    ("quasi_identifier", E.AGE, r"\bage\b"),
    ("quasi_identifier", E.US_ZIP_CODE, r"\bzip|postal|post code"),
    (
        "quasi_identifier",
        E.LOCATION,
        r"\bcity\b|county|town|\bstate\b|country|region|"
        r"\bpuma\b|facility|hospital|provider|zip3",
    ),
    (
        "quasi_identifier",
        None,
        r"\bsex\b|gender|\brace\b|ethnic|marital|occupation|"
        r"\bjob\b|language|religion|education|nationality|native",
    ),
    (
        "sensitive",
        None,
        r"diagnos|\bicd|\bdx\b|condition|disease|procedure|\bcpt\b|drug|"
        r"medication|\brx\b|\bhiv\b|result|\blab\b|outcome|mortality|death|income|charges?|"
        r"cost|payment|severity|\bdrg\b|illness|disorder|pregnan|substance",
    ),
    (
        "free_text",
        None,
        r"\bnotes?\b|comment|narrative|description|\bhistory\b|remarks|"
        r"transcription|summary|\btext\b|reason",
    ),
]
_COMPILED = [
    (role, entity, re.compile(pattern, re.IGNORECASE)) for role, entity, pattern in _HEADER_RULES
]
#: share of sampled cells that must be mostly PII for a column to count as identifying
VALUE_SHARE = 0.5


@dataclass(frozen=True)
class ColumnClass:
    """A column's role, the PII entity behind it (if any), and why."""

    column: str
    role: Role
    entity: str | None
    reason: str


def _normalise(header: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", header)
    return re.sub(r"[_\-.]+", " ", spaced).strip().lower()


def classify_header(header: str) -> ColumnClass | None:
    """The role a header implies, or None when it says nothing."""
    name = _normalise(header)
    for role, entity, pattern in _COMPILED:
        if pattern.search(name):
            return ColumnClass(header, role, entity, f"header matches {role} pattern")
    return None


def classify_values(
    column: str, values: pd.Series, detector: PIIDetector, sample: int = 200
) -> ColumnClass:
    """The role suggested by a sample of the column's values (for unhelpful headers)."""
    present = values.dropna().astype(str)
    cells = (
        present.sample(min(sample, len(present)), random_state=0).tolist() if len(present) else []
    )
    if is_free_text(cells):
        return ColumnClass(column, "free_text", None, "values are long free text")
    counts = Counter(
        _dominant_entity(cell, detection)
        for cell, detection in zip(cells, detector.analyze_batch(cells), strict=True)
    )
    counts.pop(None, None)
    if counts:
        entity, hits = counts.most_common(1)[0]
        if hits >= VALUE_SHARE * len(cells):
            role: Role = "quasi_identifier" if entity in _QUASI else "direct_identifier"
            return ColumnClass(
                column, role, entity, f"{hits}/{len(cells)} sampled values are {entity}"
            )
    return ColumnClass(column, "other", None, "no identifying header or values")


#: values of free text hold this many words on average (labels and codes hold one to three)
FREE_TEXT_WORDS = 8


def is_free_text(cells: Sequence[str]) -> bool:
    """Whether these values read as free text rather than labels or codes."""
    return bool(cells) and sum(len(c.split()) for c in cells) / len(cells) >= FREE_TEXT_WORDS


_QUASI = frozenset({E.DATE_TIME, E.AGE, E.US_ZIP_CODE, E.LOCATION, E.NRP, E.ORGANIZATION})


def _dominant_entity(cell: str, detections: Sequence[object]) -> str | None:
    """The entity covering most of a cell, if detections cover at least 60% of it."""
    from privsynth.pii.spans import Detection

    found = [d for d in detections if isinstance(d, Detection)]
    covered = sum(d.length for d in found)
    if not found or covered < 0.6 * len(cell.strip()):
        return None
    return max(found, key=lambda d: d.length).entity_type


def classify_columns(
    frame: pd.DataFrame, detector: PIIDetector | None = None, sample: int = 200
) -> list[ColumnClass]:
    """A role for every column: from its header, else from a sample of its values."""
    found = []
    for column in frame.columns:
        by_header = classify_header(str(column))
        if by_header is not None or detector is None:
            found.append(by_header or ColumnClass(str(column), "other", None, "header only"))
        else:
            found.append(classify_values(str(column), frame[column], detector, sample))
    return found
