"""Scrubbing tables, JSON Lines and text files end to end with the real detector."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_inprocess import Cli

from privsynth.pii.engine import PIIDetector
from privsynth.pii.files import scrub_file
from privsynth.pii.residual import residual_scan
from privsynth.pii.scrub import Scrubber, ScrubConfig
from privsynth.pii.surrogates import SurrogateGenerator, generate_key

KEY = SurrogateGenerator.from_hex(generate_key())
NOTES = [
    "Patient John Smith (MRN: 00481932) was seen by Dr. Maria Lopez at St. Elizabeth's "
    "Medical Center on 07/22/2019. Call 617-555-0199 with questions.",
    "PATIENT NAME: ROBERT JOHNSON. DOB: 03/14/1931. THE PATIENT IS A 92-YEAR-OLD MAN FROM "
    "WORCESTER, MA 01609 WITH CHEST PAIN.",
]
IDENTIFIERS = [
    "John Smith", "00481932", "Maria Lopez", "617-555-0199", "ROBERT JOHNSON", "03/14/1931",
    "WORCESTER", "01609",
]  # fmt: skip


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_name": ["John Smith", "Robert Johnson", "John Smith"],
            "email": ["jsmith@example.org", "rj@example.com", "jsmith@example.org"],
            "zip": ["02114", "03601", "01609"],
            "age": ["45", "92", "67"],
            "admission_date": ["2019-07-22", "2020-01-03", "2021-11-30"],
            "diagnosis": ["I21.4", "J18.9", "E11.9"],
            "note": [NOTES[0], NOTES[1], "Follow up in two weeks with Dr. Maria Lopez."],
        }
    )


def test_table_scrub_replaces_identifiers_consistently(table: pd.DataFrame) -> None:
    scrubber = Scrubber(ScrubConfig(operator="surrogate"), surrogates=KEY)
    out, report = scrubber.scrub_frame(table)
    roles = {c.column: c.role for c in report.columns}
    assert roles["patient_name"] == "direct_identifier"
    assert roles["note"] == "free_text"
    assert roles["diagnosis"] == "sensitive"
    assert out.loc[0, "patient_name"] == out.loc[2, "patient_name"] != "John Smith"
    assert out.loc[0, "email"] == out.loc[2, "email"] != "jsmith@example.org"
    text = " ".join(out["note"])
    for identifier in ("John Smith", "00481932", "Maria Lopez", "617-555-0199"):
        assert identifier not in text
    assert "chest pain" in text.lower()  # clinical content kept
    assert report.to_dict()["entities"]["note"]["PERSON"] >= 3
    assert out["diagnosis"].tolist() == table["diagnosis"].tolist()


def test_safe_harbor_generalises_quasi_identifiers(table: pd.DataFrame) -> None:
    scrubber = Scrubber(ScrubConfig(operator="tag", policy="hipaa-safe-harbor"))
    out, report = scrubber.scrub_frame(table)
    assert "patient_name" not in out and "email" not in out  # dropped
    assert out["zip"].tolist() == ["021", "000", "016"]  # 036 is a restricted ZIP3
    assert out["age"].astype(str).tolist() == ["45", "90+", "67"]
    assert out["admission_date"].astype(str).tolist() == ["2019", "2020", "2021"]
    assert "ROBERT JOHNSON" not in out.loc[1, "note"]
    # a birth year of someone over 89 is an identifier too (Safe Harbor, (b)(2)(i)(C))
    assert "1931" not in out.loc[1, "note"] and "03/14" not in out.loc[1, "note"]
    assert report.to_dict()["policy"] == "hipaa-safe-harbor"


def test_surrogates_are_consistent_across_files(tmp_path: Path) -> None:
    records = [{"id": i, "text": note} for i, note in enumerate(NOTES)]
    source = tmp_path / "notes.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    scrubber = Scrubber(ScrubConfig(), surrogates=KEY)
    first = scrub_file(scrubber, source, tmp_path / "a.jsonl")
    scrub_file(scrubber, source, tmp_path / "b.jsonl")
    a = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert a == (tmp_path / "b.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in a.splitlines()]
    assert [line["id"] for line in lines] == [0, 1]
    assert not any(identifier in a for identifier in IDENTIFIERS)
    assert first.records == 2 and first.to_dict()["total"]["PERSON"] >= 2
    serialized = json.dumps(first.to_dict())
    assert not any(identifier in serialized for identifier in IDENTIFIERS)


def test_plain_text_files_are_scrubbed_by_paragraph(tmp_path: Path) -> None:
    source = tmp_path / "note.txt"
    source.write_text("\n\n".join(NOTES), encoding="utf-8")
    report = scrub_file(Scrubber(ScrubConfig(operator="tag")), source, tmp_path / "out.txt")
    scrubbed = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "<PERSON>" in scrubbed and "John Smith" not in scrubbed
    assert scrubbed.count("\n\n") == 1 and report.records == 2


def test_residual_scan_finds_leftovers_and_counts_them() -> None:
    frame = pd.DataFrame({"x": ["call 617-555-0199", "nothing here", "call 617-555-0199"]})
    found = residual_scan(frame, PIIDetector())
    assert found.counts["x"]["PHONE_NUMBER"] == 2
    assert "PHONE_NUMBER 2" in found.summary()
    assert "617" not in json.dumps(found.to_dict())


def test_residual_scan_reads_free_text_as_the_scrubber_does() -> None:
    """Free-text columns get the high-recall detection (context names, note dates), so a
    name that is an English word and a month/day date are caught."""
    notes = [
        "pt seen by dr green this am, wife rose aware of plan, bc from 4-6 grew gnr.",
        "pt resting comfortably overnight, family at bedside, no acute events noted.",
    ]
    frame = pd.DataFrame({"note": notes})
    found = residual_scan(frame, PIIDetector())
    assert found.counts["note"]["PERSON"] == 1 and found.counts["note"]["DATE_TIME"] == 1
    precise = residual_scan(frame, PIIDetector(), text_mode="precise")
    assert precise.counts["note"]["DATE_TIME"] == 0  # what the high-recall mode adds


def test_cli_scrub_fails_closed_on_bad_input(cli: Cli, tmp_path: Path) -> None:
    """One ``error:`` line and exit status 2; no output file, and no cell in the message."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"body": "no text field"}\n', encoding="utf-8")
    done = cli("scrub", bad, "-o", tmp_path / "out.jsonl")
    assert done.code == 2
    assert done.stderr.strip().count("\n") == 0 and "line 2" in done.stderr
    assert not (tmp_path / "out.jsonl").exists()
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"Jos\xe9 Garc\xeda was seen today")
    done = cli("scrub", latin, "-o", tmp_path / "out.txt")
    assert done.code == 2 and "UTF-8" in done.stderr and "Jos" not in done.stderr
    done = cli("scrub", bad, "-o", tmp_path / "o.jsonl", "--operator", "shred")
    assert done.code == 2 and "redact" in done.stderr
