"""The one-call Python API (``privsynth.scrub``, ``evaluate``, ``audit``) on real rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import privsynth
from privsynth.pii.surrogates import generate_key

ROOT = Path(__file__).resolve().parents[2]
NOTE = "Pt John Whitaker seen by Dr. Alvarez at Mercy General on 03/14/2021, MRN 4471823."


def test_scrub_texts_tags_every_identifier_and_reports_counts_only() -> None:
    scrubbed, report = privsynth.scrub([NOTE], operator="tag")
    assert isinstance(scrubbed, list) and len(scrubbed) == 1
    for value in ("Whitaker", "Alvarez", "Mercy General", "03/14/2021", "4471823"):
        assert value not in scrubbed[0]
    assert "<PERSON>" in scrubbed[0]
    counts = report.to_dict()["total"]
    assert counts.get("PERSON", 0) >= 2
    assert "Whitaker" not in str(report.to_dict())


def test_scrub_frame_with_a_key_is_stable_across_calls() -> None:
    frame = pd.DataFrame({"patient_name": ["Ana Ruiz", "Li Wei", "Ana Ruiz"], "los": [3, 5, 2]})
    key = generate_key()
    first, report = privsynth.scrub(frame, key=key)
    second, _ = privsynth.scrub(frame, key=key)
    assert isinstance(first, pd.DataFrame) and isinstance(second, pd.DataFrame)
    assert first["patient_name"].tolist() == second["patient_name"].tolist()
    names = first["patient_name"].tolist()
    assert names[0] == names[2] != names[1] and "Ana Ruiz" not in names
    assert first["los"].tolist() == [3, 5, 2]
    roles = {c["column"]: c["role"] for c in report.to_dict()["columns"]}
    assert roles["patient_name"] == "direct_identifier"


def test_evaluate_returns_the_documented_sections() -> None:
    adult = pd.read_csv(ROOT / "examples" / "adult_sample.csv", dtype=str)
    columns = ["age", "education", "sex", "race", "income"]
    result = privsynth.evaluate(
        adult.iloc[:400][columns], adult.iloc[400:800][columns], adult.iloc[800:1000][columns],
        target="income", quasi_identifiers=["age", "sex", "race"], sensitive=["income"],
    )  # fmt: skip
    document = result.to_dict()
    assert {"fidelity", "utility", "detection", "privacy"} <= set(document)
    for attack in ("singling_out", "linkability", "attribute_inference"):
        risk = result.risk(attack)
        assert risk is not None
        assert 0.0 <= risk.ci[0] <= risk.risk <= risk.ci[1] <= 1.0
        assert document["privacy"][attack]["ci"] == list(risk.ci)
    assert result.inputs.target == "income" and result.inputs.real_rows == 400


def test_audit_returns_the_verdicts_and_writes_the_report(tmp_path: Path) -> None:
    adult = pd.read_csv(ROOT / "examples" / "adult_sample.csv", dtype=str)
    columns = ["age", "education", "sex", "race", "income"]
    result = privsynth.audit(
        adult.iloc[:400][columns], adult.iloc[:400][columns], adult.iloc[400:700][columns],
        policies=["gdpr-anonymisation"], output=tmp_path / "report", target="income",
        quasi_identifiers=["age", "sex", "race"], sensitive=["income"],
    )  # fmt: skip
    assert result.verdicts() == {"gdpr-anonymisation": False}  # a copy of the training rows
    assert result.passed is False
    (policy,) = result.document.policies
    copies = next(c for c in policy.criteria if c.metric == "privacy/exact_copy_rate/value")
    assert copies.value == 1.0 and not copies.passed
    assert result.json_path is not None and result.html_path is not None
    written = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert written == result.to_dict()
    assert written["passed"] is False and written["policies"][0]["name"] == "gdpr-anonymisation"
    assert result.html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
