"""`privsynth audit` through the console entry point: exit codes a pipeline can gate on,
both report files, and one-line errors that leave an existing report untouched.

The commands run in the test process (the ``cli`` fixture, :mod:`cli_inprocess`): the
entry point's exit status, stdout and stderr are what a separate process would give."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from cli_inprocess import Cli, Outcome

COPIES_ONLY = """name: copies-only
title: No copied records
criteria:
  - {id: no-copies, metric: privacy/exact_copy_rate/value, threshold: 0.01, direction: max,
     citation: "GDPR Recital 26"}
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory, adult_frame: pd.DataFrame) -> dict[str, Path]:
    """Real Adult rows: a training and a holdout slice, a "synthetic" table that copies
    the training rows, and one drawn independently (other real rows: no copies)."""
    folder = tmp_path_factory.mktemp("audit-cli")
    # all columns: fnlwgt makes rows unique, so only the copy has copies
    adult = adult_frame
    parts = {
        "real": adult.iloc[:600],
        "holdout": adult.iloc[600:900],
        "copy": adult.iloc[:600],
        "other": adult.iloc[900:1500],
    }
    paths = {name: folder / f"{name}.csv" for name in parts}
    for name, frame in parts.items():
        frame.to_csv(paths[name], index=False)
    paths["policy"] = folder / "copies-only.yaml"
    paths["policy"].write_text(COPIES_ONLY, encoding="utf-8")
    return paths


def _audit(
    cli: Cli, tables: dict[str, Path], synthetic: str, policy: str | Path, out: Path, *extra: str
) -> Outcome:
    return cli(
        "audit", "--real", tables["real"], "--synthetic", tables[synthetic],
        "--holdout", tables["holdout"], "--policy", policy, "-o", out, *extra,
    )  # fmt: skip


def test_a_passing_policy_exits_zero_and_writes_both_files(
    cli: Cli, tables: dict[str, Path], tmp_path: Path
) -> None:
    done = _audit(cli, tables, "other", str(tables["policy"]), tmp_path / "report")
    assert done.code == 0, done.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["passed"] is True
    assert report["policies"][0]["criteria"][0]["value"] == 0.0
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "PASSED" in done.stdout


def test_a_copying_generator_fails_the_gdpr_policy_with_exit_5(
    cli: Cli, tables: dict[str, Path], tmp_path: Path
) -> None:
    done = _audit(cli, tables, "copy", "gdpr-anonymisation", tmp_path / "report",
                  "--quasi-identifiers", "age,sex,race", "--sensitive", "income")  # fmt: skip
    assert done.code == 5, done.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    failed = {c["id"] for p in report["policies"] for c in p["criteria"] if not c["passed"]}
    assert {"no-copies", "singling-out"} <= failed
    assert "FAILED" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("policy", "extra", "fragment"),
    [
        ("hipaa-safe-harbour", (), "hipaa-safe-harbor"),  # unknown name: lists the real ones
        ("{bad}", (), "citation"),  # a policy file missing a field
        ("gdpr-anonymisation", ("--quasi-identifiers", "age,zipcode"), "zipcode"),
        ("gdpr-anonymisation", ("--target", "salary"), "salary"),
    ],
)
def test_bad_input_is_one_line_and_leaves_the_old_report(
    cli: Cli,
    tables: dict[str, Path],
    tmp_path: Path,
    policy: str,
    extra: tuple[str, ...],
    fragment: str,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(COPIES_ONLY.replace('citation: "GDPR Recital 26"', ""), encoding="utf-8")
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.json").write_text("previous", encoding="utf-8")
    done = _audit(cli, tables, "other", policy.replace("{bad}", str(bad)), report, *extra)
    assert done.code == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert (report / "report.json").read_text(encoding="utf-8") == "previous"
    assert not (report / "report.html").exists()


def test_synthesize_with_audit_reports_in_the_same_run(
    cli: Cli, tables: dict[str, Path], tmp_path: Path, adult_schema_path: Path
) -> None:
    ledger, output = tmp_path / "ledger.db", tmp_path / "synth.csv"
    done = cli(
        "synthesize", tables["real"], "-e", "1", "--generator", "mst",
        "--schema", adult_schema_path, "-o", output,
        "--ledger", ledger, "--dataset", "adult600", "-q",
        "--audit", tables["policy"], "--holdout", tables["holdout"], "--report-dir", tmp_path / "r",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    privacy = report["provenance"]["privacy"]
    assert privacy["dataset"] == "adult600" and abs(privacy["epsilon"] - 1.0) < 1e-3
    # a keyed fingerprint of the real data (a plain hash would be a guessing oracle), the
    # same one the ledger recorded when the run read it
    assert report["provenance"]["fingerprints"]["real"].startswith("hmac-sha256:")
    assert privacy["real_data_in_ledger"] is True
    plain = hashlib.sha256(tables["real"].read_bytes()).hexdigest()
    for name in ("report.json", "report.html"):
        assert plain not in (tmp_path / "r" / name).read_text(encoding="utf-8")
    assert report["passed"] is True and output.is_file()
    # a later audit with no run id finds the run by the synthetic file's fingerprint
    later = cli(
        "audit", "--real", tables["real"], "--synthetic", output, "--holdout", tables["holdout"],
        "--policy", tables["policy"], "--ledger", ledger, "--dataset", "adult600",
        "-o", tmp_path / "later",
    )  # fmt: skip
    assert later.code == 0, later.stderr
    found = json.loads((tmp_path / "later" / "report.json").read_text(encoding="utf-8"))
    privacy = found["provenance"]["privacy"]
    assert privacy["run_match"] == "output fingerprint" and privacy["run"]["generator"] == "mst"
    assert privacy["run_spends"]


def test_synthesize_refuses_a_bad_audit_policy_before_spending(
    cli: Cli, tables: dict[str, Path], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.db"
    done = cli(
        "synthesize", tables["real"], "-e", "1", "-o", tmp_path / "synth.csv", "--ledger", ledger,
        "--audit", "no-such-policy", "--holdout", tables["holdout"],
    )  # fmt: skip
    assert done.code == 2 and "no-such-policy" in done.stderr
    assert not (tmp_path / "synth.csv").exists()
    if ledger.exists():  # the ledger, if created at all, holds no run and no spend
        listing = cli("budget", "show", "real", "--ledger", ledger, "--json")
        shown = json.loads(listing.stdout)
        assert shown[0]["spent_epsilon"] == 0.0 and shown[0]["runs"] == []
