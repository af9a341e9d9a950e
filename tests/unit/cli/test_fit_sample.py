"""`privsynth fit`, `sample` and `lineage`, run in-process through the fail-closed entry
point; and the CLI's translation of library parameter names into its flags."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from privsynth.cli.flags import for_cli
from privsynth.cli.main import run
from privsynth.dp.ledger import Ledger


def _cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["privsynth", *args])
    try:
        run()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adult_frame: pd.DataFrame) -> Path:
    monkeypatch.setenv("PRIVSYNTH_LEDGER", str(tmp_path / "ledger.db"))
    adult_frame.head(2000).to_csv(tmp_path / "visits.csv", index=False)
    return tmp_path


def test_fit_then_sample_twice_spends_once_and_lineage_lists_everything(
    workdir: Path,
    adult_schema_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, model = workdir / "visits.csv", workdir / "visits.privsynth"
    code, out, err = _cli(
        capsys, monkeypatch, "fit", str(data), "-e", "1", "-o", str(model), "-q",
        "--schema", str(adult_schema_path), "--generator", "mst", "--option", "iterations=100",
    )  # fmt: skip
    assert code == 0, err
    assert "privsynth fit" in out and model.is_file()
    book = Ledger(workdir / "ledger.db")
    spends = book.spends("visits")
    for name, rows in (("a.csv", "150"), ("b.parquet", "70")):
        code, out, err = _cli(
            capsys, monkeypatch, "sample", str(model), "-n", rows, "-o", str(workdir / name), "-q"
        )
        assert code == 0, err
        assert "linked to the run" in out
    assert len(pd.read_csv(workdir / "a.csv")) == 150
    assert len(pd.read_parquet(workdir / "b.parquet")) == 70
    assert book.spends("visits") == spends  # sampling spent nothing
    code, out, _ = _cli(capsys, monkeypatch, "lineage", str(data), "--json")
    assert code == 0
    (run_entry,) = json.loads(out)
    made = sorted((a["kind"], Path(a["path"]).name) for a in run_entry["artifacts"])
    assert made == [("model", "visits.privsynth"), ("output", "a.csv"), ("output", "b.parquet")]


def test_fit_refuses_a_bad_model_path_before_anything_is_spent(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _cli(
        capsys, monkeypatch, "fit", str(workdir / "visits.csv"), "-e", "1", "-o",
        str(workdir / "model.pkl"),
    )  # fmt: skip
    assert code == 2
    assert err.startswith("error: a model file is named *.privsynth") and err.count("\n") == 1
    assert Ledger(workdir / "ledger.db").runs() == []


def test_sample_of_a_missing_or_foreign_file_is_one_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "x.privsynth").write_bytes(b"PK\x03\x04 not really a zip")
    for model in ("missing.privsynth", "x.privsynth"):
        code, _, err = _cli(
            capsys, monkeypatch, "sample", str(workdir / model), "-o", str(workdir / "o.csv")
        )
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not (workdir / "o.csv").exists()


def test_lineage_of_an_unknown_name_is_one_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _cli(capsys, monkeypatch, "lineage", "nobody")
    assert code == 2 and "neither a readable file nor a dataset" in err


def test_library_errors_show_cli_flags_on_the_command_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _cli(
        capsys, monkeypatch, "synthesize", str(workdir / "visits.csv"), "-e", "1", "--seed", "3"
    )
    assert code == 2
    assert "--seed" in err and "--unsafe-seed" in err and "`" not in err


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("add `privacy_unit=patient_id`", "add --privacy-unit patient_id"),
        ("for tests add `unsafe_seed`", "for tests add --unsafe-seed"),
        ("`unsafe_seed=True` records ε=∞", "--unsafe-seed records ε=∞"),
        ("pass `dataset='visits'`", "pass --dataset visits"),
        ("declare `categories` in the schema", "declare `categories` in the schema"),
        (
            "sets one first: `Ledger.set_budget('my data', epsilon=E)`",
            "sets one first: `privsynth budget set 'my data' --epsilon E`",
        ),
    ],
)
def test_parameter_names_become_flags(message: str, shown: str) -> None:
    assert for_cli(message) == shown
