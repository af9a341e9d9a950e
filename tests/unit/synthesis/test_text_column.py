"""A table's text column inside the run: what the plan reserves, whose documents train the
text model, and that the saved model keeps the text part."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth.dp.ledger import Ledger
from privsynth.errors import SchemaError
from privsynth.schema import Schema
from privsynth.schema.model import AutoSpec, CategoricalSpec, NumericSpec, TextSpec
from privsynth.synthesis import SynthesisConfig, Synthesizer
from privsynth.synthesis.plan import Plan, make_plan
from privsynth.synthesis.text_part import declare_text_column, training_documents
from privsynth.text.generator import TextGenerator

DATA = Path(__file__).parents[2] / "data" / "mtsamples_sample.csv"
TINY = {"dim": 32, "layers": 1, "heads": 2, "context": 40, "vocabulary_size": 2000}


@pytest.fixture(scope="module")
def notes() -> pd.DataFrame:
    frame = pd.read_csv(DATA).dropna(subset=["transcription"]).head(40)
    return frame.assign(transcription=frame.transcription.str.slice(0, 300))[
        ["medical_specialty", "transcription"]
    ]


def _plan(tmp_path: Path, frame: pd.DataFrame, epsilon: float = 4.0, **settings: object) -> Plan:
    config = SynthesisConfig(
        epsilon=epsilon, dataset="notes", text_column="transcription", **settings
    )  # type: ignore[arg-type]
    config.validate()
    plan = make_plan(frame, config, None, Ledger(tmp_path / "ledger.db"))
    return plan.with_text(TextGenerator(**config.text_options))


def test_the_reservation_composes_table_and_text_to_the_target(
    tmp_path: Path, notes: pd.DataFrame
) -> None:
    plan = _plan(tmp_path, notes, condition_on=("medical_specialty",))
    assert plan.limit.epsilon(plan.delta) == pytest.approx(4.0, abs=0.01)
    # one modelled column: discovery 0.1 + quality 0.02 + 0.05 per column
    assert plan.tabular_rho == pytest.approx(plan.rho * 0.17)
    assert isinstance(plan.schema.columns["transcription"], TextSpec)
    assert isinstance(plan.schema.columns["medical_specialty"], CategoricalSpec)


def test_text_alone_gives_the_table_part_only_its_counts(
    tmp_path: Path, notes: pd.DataFrame
) -> None:
    plan = _plan(tmp_path, notes[["transcription"]])
    assert plan.modelled_columns == []
    assert plan.tabular_rho == pytest.approx(plan.prefix_rho)
    assert plan.limit.epsilon(plan.delta) == pytest.approx(4.0, abs=0.01)


def test_a_person_trains_the_text_model_with_one_document() -> None:
    frame = pd.DataFrame({"note": ["a", "b", "c", "d", None]})
    units = pd.Series(["p1", "p1", "p2", "p1", "p3"])
    documents, rows = training_documents(frame, "note", units)
    assert documents == ["a", "c", ""]  # a missing text is an empty document
    assert list(rows) == [0, 2, 4]
    alone, every = training_documents(frame, "note", None)
    assert len(alone) == 5 and list(every) == [0, 1, 2, 3, 4]


def test_condition_columns_must_be_modelled_categories() -> None:
    schema = Schema({"t": AutoSpec(), "age": NumericSpec(min=0, max=99), "c": AutoSpec()})
    with pytest.raises(SchemaError, match="not categorical"):
        declare_text_column(schema, "t", ["age"])
    with pytest.raises(SchemaError, match="not a modelled column"):
        declare_text_column(schema, "t", ["t"])
    declared = declare_text_column(schema, "t", ["c"])
    assert isinstance(declared.columns["c"], CategoricalSpec)
    with pytest.raises(SchemaError, match="declared as numeric"):
        declare_text_column(schema, "age", [])


def test_the_saved_model_keeps_the_text_part(tmp_path: Path, notes: pd.DataFrame) -> None:
    synthesizer = Synthesizer(
        "mst", epsilon=6, dataset="notes", ledger=tmp_path / "ledger.db",
        text_column="transcription", condition_on=("medical_specialty",),
        text_options={"model_options": TINY, "epochs": 1, "sample_rate": 0.25},
    )  # fmt: skip
    synthesizer.fit(notes)
    assert synthesizer.report is not None and synthesizer.record is not None
    split = synthesizer.report.epsilon_split
    assert split is not None and 0 < split[0] < 6 and 0 < split[1] < 6
    assert synthesizer.record.text is not None
    assert synthesizer.record.text["column"] == "transcription"
    text = synthesizer._fitted().text
    assert text is not None
    controls = text.generator.state_dict().values["model_config"]["controls"]
    # one control code per public category of the condition column (discovered with DP)
    codec = synthesizer._fitted().codecs["medical_specialty"]
    assert controls == [f"medical specialty: {label}" for label in codec.labels()]
    path = synthesizer.save(tmp_path / "notes.privsynth")
    with zipfile.ZipFile(path) as archive:
        assert '"format_version": 2' in archive.read("manifest.json").decode()
    loaded = Synthesizer.load(path)
    first = synthesizer.sample(4, seed=5)
    again = loaded.sample(4, seed=5)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == ["medical_specialty", "transcription"]
    assert np.all(first.transcription.map(lambda t: "<PERSON_" not in t))
