"""`privsynth synthesize` and `fit`/`sample` with a text column, on real transcriptions:
the table and the text share one budget (the split is shown and recorded), mistakes fail
in one line before the ledger is touched, and plain-text files work."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pandas as pd
import pytest

from privsynth.cli.main import run
from privsynth.dp.ledger import Ledger

DATA = Path(__file__).parents[2] / "data" / "mtsamples_sample.csv"
TINY = "model_options={dim: 32, layers: 1, heads: 2, context: 40, vocabulary_size: 2000}"
FAST = ["--text-option", TINY, "--text-option", "epochs=1", "--text-option", "sample_rate=0.25"]


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
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PRIVSYNTH_LEDGER", str(tmp_path / "ledger.db"))
    Ledger(tmp_path / "ledger.db")  # an existing ledger, which mistakes must leave as it is
    frame = pd.read_csv(DATA).dropna(subset=["transcription"]).head(40)
    frame = frame.assign(transcription=frame.transcription.str.slice(0, 300))
    path = tmp_path / "notes.csv"
    frame[["medical_specialty", "transcription"]].to_csv(path, index=False)
    return path


def _ledger_bytes(folder: Path) -> bytes | None:
    path = folder / "ledger.db"
    return path.read_bytes() if path.exists() else None


def test_a_mixed_table_gets_text_conditioned_on_its_synthetic_rows(
    notes: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out_path = notes.with_name("synthetic.csv")
    code, out, err = _cli(
        capsys, monkeypatch, "synthesize", str(notes), "--epsilon", "4", "-n", "12",
        "-o", str(out_path), "--text-column", "transcription",
        "--condition-on", "medical_specialty", "-q", *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert "ε split" in out and "table" in out and "text" in out
    synthetic = pd.read_csv(out_path)
    assert list(synthetic.columns) == ["medical_specialty", "transcription"]
    assert len(synthetic) == 12
    assert not synthetic.transcription.fillna("").str.contains(r"<[A-Z]+_\d>").any()
    purposes = [s["purpose"] for s in Ledger(notes.with_name("ledger.db")).spends("notes")]
    assert "text: DP-SGD training" in purposes and "text: document count" in purposes
    assert any(p.startswith(("mst:", "aim:")) for p in purposes)  # the table part


def test_fit_saves_the_text_model_and_sample_draws_it_for_free(
    notes: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = notes.with_name("notes.privsynth")
    code, _, err = _cli(
        capsys, monkeypatch, "fit", str(notes), "-e", "4", "-o", str(model), "-q",
        "--text-column", "transcription", "--condition-on", "medical_specialty", *FAST,
    )  # fmt: skip
    assert code == 0, err
    before = _ledger_bytes(notes.parent)
    drawn = notes.with_name("drawn.jsonl")
    code, _, err = _cli(capsys, monkeypatch, "sample", str(model), "-n", "5", "-o", str(drawn))
    assert code == 0, err
    frame = pd.read_json(drawn, lines=True)
    assert len(frame) == 5 and "transcription" in frame.columns
    spends = Ledger(notes.with_name("ledger.db")).spends("notes")
    assert all(not str(s["purpose"]).startswith("sample") for s in spends)
    assert before is not None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--text-column", "note_text"], "text column 'note_text' is not in the input"),
        (["--text-column", "transcription", "--condition-on", "ward"], "condition column"),
        (["--condition-on", "medical_specialty"], "need a text column"),
        (["--text-column", "transcription", "--generator", "dpsgd"], "marginal tabular"),
        (["--text-column", "transcription", "--text-option", "epochs=0"], "epochs"),
        (["--text-column", "transcription", "--base-model", "gpt-7"], "unknown text model"),
    ],
)
def test_text_mistakes_fail_in_one_line_before_the_ledger_is_touched(
    notes: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    before = _ledger_bytes(notes.parent)
    code, out, err = _cli(
        capsys, monkeypatch, "synthesize", str(notes), "--epsilon", "4", "-q",
        "-o", str(notes.with_name("out.csv")), *extra,
    )  # fmt: skip
    assert code == 2
    assert message in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1
    assert _ledger_bytes(notes.parent) == before
    assert not notes.with_name("out.csv").exists()


def test_a_plain_text_file_is_one_document_per_line(
    notes: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pd.read_csv(notes)
    source = notes.with_name("notes.txt")
    source.write_text("\n".join(t.replace("\n", " ") for t in frame.transcription) + "\n")
    target = notes.with_name("notes.synthetic.txt")
    code, out, err = _cli(
        capsys, monkeypatch, "synthesize", str(source), "--epsilon", "3", "-n", "6",
        "-o", str(target), "-q", *FAST,
    )  # fmt: skip
    assert code == 0, err
    lines = target.read_text().splitlines()
    assert len(lines) == 6
    with sqlite3.connect(notes.with_name("ledger.db")) as db:
        assert db.execute("select count(*) from runs").fetchone()[0] == 1
    assert "ε split" in out
