"""Structural checks of an output for HIPAA Safe Harbor and its residual PII.

Residual PII: cells in which the detector still finds each identifier type (public
category values included: a public hospital name is still a facility). Safe Harbor
structure: ZIP columns hold 3 digits (000 for restricted areas), date columns hold
years, age columns hold no age over 89, and no direct-identifier column carries
values (columns declared ``identifier`` hold random tokens and are not counted).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass

import pandas as pd

from privsynth.pii.columns import classify_header
from privsynth.pii.engine import PIIDetector
from privsynth.pii.entities import AGE, HIPAA_IDENTIFIER
from privsynth.pii.residual import residual_scan
from privsynth.pii.safe_harbor import RESTRICTED_ZIP3
from privsynth.schema import DatetimeSpec, IdentifierSpec, Schema

_ZIP3 = re.compile(r"^\d{3}$")
_YEAR = re.compile(r"^\d{4}$")
_AGE_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class SafeHarborStructure:
    """Cells (or, for identifiers, columns) breaking the Safe Harbor structure rules."""

    zip_violations: int
    date_violations: int
    age_violations: int
    identifier_columns: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ComplianceChecks:
    """Residual PII per identifier type (cells; every scanned type listed, 0 when none
    was found), the cells scanned, and the Safe Harbor structure check."""

    residual_pii: dict[str, int]
    residual_cells_scanned: int
    safe_harbor: SafeHarborStructure

    def to_dict(self) -> dict[str, object]:
        return {
            "residual_pii": dict(self.residual_pii),
            "residual_cells_scanned": self.residual_cells_scanned,
            "safe_harbor": self.safe_harbor.to_dict(),
        }


def compliance_checks(
    output: pd.DataFrame, schema: Schema | None = None, detector: PIIDetector | None = None
) -> ComplianceChecks:
    """Residual PII cells per entity and Safe Harbor structural violation counts."""
    detector = detector or PIIDetector()
    residual = residual_scan(output, detector)
    counts: Counter[str] = Counter(dict.fromkeys(HIPAA_IDENTIFIER, 0))  # scanned, none found
    for found in (*residual.counts.values(), *residual.public.values()):
        counts.update(found)
    counts["AGE_OVER_89"] = _ages_over_89_in_text(output, detector)
    return ComplianceChecks(
        residual_pii=dict(sorted(counts.items())),
        residual_cells_scanned=residual.cells,
        safe_harbor=_structure(output, schema),
    )


def _ages_over_89_in_text(output: pd.DataFrame, detector: PIIDetector) -> int:
    found = 0
    for column in output.columns:
        values = output[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        frequencies = values.dropna().astype(str).value_counts().head(2000)
        texts = [str(v) for v in frequencies.index]
        for text, count, detections in zip(
            texts, frequencies, detector.analyze_batch(texts), strict=True
        ):
            ages = [_age(text[d.start : d.end]) for d in detections if d.entity_type == AGE]
            found += int(count) * sum(1 for age in ages if age is not None and age > 89)
    return found


def _age(text: str) -> int | None:
    match = _AGE_NUMBER.search(text)
    return int(match.group()) if match else None


def _structure(output: pd.DataFrame, schema: Schema | None) -> SafeHarborStructure:
    zips = dates = ages = identifiers = 0
    for column in output.columns:
        found = classify_header(str(column))
        spec = schema.columns.get(str(column)) if schema is not None else None
        values = output[column].dropna().astype(str).str.strip()
        entity = found.entity if found else None
        if entity == "US_ZIP_CODE":
            zips += int((~values.map(_zip3_ok)).sum())
        elif entity == "DATE_TIME" or isinstance(spec, DatetimeSpec):
            dates += int((~values.str.match(_YEAR)).sum())
        elif entity == "AGE":
            ages += int(values.map(_age_over_89).sum())
        if found and found.role == "direct_identifier" and not isinstance(spec, IdentifierSpec):
            identifiers += 1
    return SafeHarborStructure(
        zip_violations=zips,
        date_violations=dates,
        age_violations=ages,
        identifier_columns=identifiers,
    )


def _zip3_ok(value: str) -> bool:
    return bool(_ZIP3.match(value)) and value not in RESTRICTED_ZIP3


def _age_over_89(value: str) -> bool:
    if value.endswith("+"):
        return False
    try:
        return float(value) > 89
    except ValueError:
        return False
