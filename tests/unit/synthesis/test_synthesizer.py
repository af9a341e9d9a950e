"""Synthesizer: fit once (the only spend), sample many times for free, save and load a
model that holds no record, and trace every file back to the run that paid for it."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth import Synthesizer
from privsynth.dp.ledger import Ledger
from privsynth.errors import ConfigurationError, InputDataError
from privsynth.synthesis import lineage
from privsynth.synthesis.model_file import MANIFEST
from privsynth.warnings import (
    DataDerivedSchemaWarning,
    NotPrivateWarning,
    PrivsynthWarning,
)

ITERATIONS = 150  # enough for a usable model, fast enough for the default test set


@pytest.fixture(scope="module")
def adult(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame.head(3000).reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(
    adult: pd.DataFrame, adult_schema_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Synthesizer:
    ledger = tmp_path_factory.mktemp("ledger") / "ledger.db"
    synthesizer = Synthesizer(
        "mst", epsilon=1.0, dataset="adult", ledger=ledger, schema=adult_schema_path,
        iterations=ITERATIONS,
    )  # fmt: skip
    return synthesizer.fit(adult)


def _ledger_rows(book: Ledger) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    return book.runs(), book.spends()


def test_fit_once_then_sample_three_times_without_spending(fitted: Synthesizer) -> None:
    assert fitted.report is not None and fitted.record is not None
    book = fitted._ledger()
    before = _ledger_rows(book)
    assert len(before[0]) == 1 and before[0][0]["status"] == "committed"
    draws = [fitted.sample(n) for n in (10, 500, 2000)]
    assert [len(d) for d in draws] == [10, 500, 2000]
    assert _ledger_rows(book) == before  # sampling is post-processing: nothing recorded
    assert fitted.record.spent_epsilon <= 1.0 + 1e-9
    assert book.status("adult").spent_epsilon == pytest.approx(fitted.record.spent_epsilon)


def test_a_second_fit_is_refused_before_anything_is_spent(
    fitted: Synthesizer, adult: pd.DataFrame
) -> None:
    book = fitted._ledger()
    before = _ledger_rows(book)
    with pytest.raises(ConfigurationError, match="already fitted"):
        fitted.fit(adult)
    assert _ledger_rows(book) == before


def test_sampling_before_fit_is_a_clear_error(tmp_path: Path) -> None:
    fresh = Synthesizer(epsilon=1.0, dataset="x", ledger=tmp_path / "l.db")
    with pytest.raises(ConfigurationError, match="not fitted"):
        fresh.sample(10)
    assert not (tmp_path / "l.db").exists() or Ledger(tmp_path / "l.db").runs() == []


def test_seeded_draws_repeat_and_unseeded_draws_differ(fitted: Synthesizer) -> None:
    first, again = fitted.sample(300, seed=11), fitted.sample(300, seed=11)
    pd.testing.assert_frame_equal(first, again)
    assert not fitted.sample(300).equals(fitted.sample(300))


def test_unknown_generator_options_are_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not accept"):
        Synthesizer("mst", epsilon=1, dataset="x", ledger=tmp_path / "l.db", depth=3)
    assert not (tmp_path / "l.db").exists() or Ledger(tmp_path / "l.db").runs() == []


@pytest.mark.slow  # starts a second interpreter
def test_saved_model_round_trips_across_processes(fitted: Synthesizer, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "adult.privsynth")
    expected = fitted.sample(400, seed=5)
    script = (
        "import sys; from privsynth import Synthesizer; "
        "s = Synthesizer.load(sys.argv[1]); "
        "s.sample(400, seed=5).to_csv(sys.argv[2], index=False)"
    )
    out = tmp_path / "other_process.csv"
    subprocess.run([sys.executable, "-c", script, str(path), str(out)], check=True, timeout=300)
    loaded = pd.read_csv(out, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(loaded, expected.astype(str), check_dtype=False)


def test_loaded_model_carries_its_run_and_schema(fitted: Synthesizer, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "adult.privsynth")
    loaded = Synthesizer.load(path)
    assert loaded.record == fitted.record
    assert loaded.schema == fitted.schema
    assert loaded.report is None  # the fit's account stays with the ledger
    with pytest.raises(ConfigurationError, match="already fitted"):
        loaded.fit(pd.DataFrame({"a": ["1"]}))


def _archive_bytes(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_saved_model_holds_no_training_record(adult: pd.DataFrame, tmp_path: Path) -> None:
    """Identifiers, a one-off category and a one-off number are in the training data;
    none may be in the model, whose schema was discovered with DP."""
    frame = adult[["age", "workclass", "education", "sex", "income"]].copy()
    frame.insert(0, "patient_id", [f"MRN-{7_000_000 + 7919 * i}" for i in range(len(frame))])
    frame.loc[0, "workclass"] = "Zyzzyva-Cooperative"
    frame.loc[1, "age"] = "113"
    synthesizer = Synthesizer(
        "mst", epsilon=1.0, dataset="crafted", ledger=tmp_path / "l.db", iterations=ITERATIONS
    )
    with pytest.warns(PrivsynthWarning):
        synthesizer.fit(frame)
    path = synthesizer.save(tmp_path / "crafted.privsynth")
    content = _archive_bytes(path)
    for value in ["Zyzzyva-Cooperative", *frame["patient_id"].head(200)]:
        assert value.encode() not in content
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read(MANIFEST))
    assert all(n == MANIFEST or (n.startswith("arrays/") and n.endswith(".npy")) for n in names)
    assert manifest["schema"]["columns"]["patient_id"]["kind"] == "identifier"
    released = manifest["schema"]["columns"]["workclass"].get("categories", [])
    assert "Zyzzyva-Cooperative" not in released
    assert manifest["privacy"]["run_id"] == synthesizer.record.run_id  # type: ignore[union-attr]
    assert "113" not in json.dumps(manifest["schema"]["columns"]["age"])
    sampled = synthesizer.sample(2000)
    assert not set(sampled["patient_id"]) & set(frame["patient_id"])


def _rewrite_manifest(path: Path, target: Path, change: dict[str, object]) -> None:
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == MANIFEST:
                manifest = json.loads(data)
                manifest.update(change)
                data = json.dumps(manifest).encode()
            out.writestr(name, data)


def test_loading_never_runs_code(fitted: Synthesizer, tmp_path: Path) -> None:
    """An array replaced by a pickle whose loading would create a file is refused,
    and the file is not created."""
    path = fitted.save(tmp_path / "adult.privsynth")
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([Payload()], dtype=object), allow_pickle=True)
    hostile = tmp_path / "hostile.privsynth"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(hostile, "w") as out:
        for name in source.namelist():
            out.writestr(name, buffer.getvalue() if name == "arrays/0.npy" else source.read(name))
    with pytest.raises(InputDataError, match=r"malformed|does not match"):
        Synthesizer.load(hostile)
    assert not marker.exists()
    assert pickle.dumps(0)  # pickle itself works here: the refusal is the format's


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 99}, "format version"),
        ({"format": "something-else"}, "not a privsynth model file"),
        ({"privacy": {"run_id": "x"}}, "privacy record is malformed"),
    ],
)
def test_malformed_model_files_are_refused_in_one_line(
    fitted: Synthesizer, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = fitted.save(tmp_path / "adult.privsynth")
    bad = tmp_path / "bad.privsynth"
    _rewrite_manifest(path, bad, change)
    with pytest.raises(InputDataError, match=message) as caught:
        Synthesizer.load(bad)
    assert "\n" not in caught.value.one_line()


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "text.privsynth"
    bad.write_text("hello", encoding="utf-8")
    with pytest.raises(InputDataError, match="not a privsynth model file"):
        Synthesizer.load(bad)


def test_lineage_links_input_to_runs_models_and_outputs(
    adult: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book = Ledger(tmp_path / "l.db")
    source = tmp_path / "visits.csv"
    adult.to_csv(source, index=False)
    synthesizer = Synthesizer(
        "mst", epsilon=0.5, dataset="visits", ledger=book, schema=adult_schema_path,
        iterations=ITERATIONS,
    ).fit(source)  # fmt: skip
    model = synthesizer.save(tmp_path / "visits.privsynth")
    Synthesizer.load(model, ledger=book).sample(100, output=tmp_path / "out.parquet")
    (found,) = lineage(book, source)
    assert found.run["run_id"] == synthesizer.record.run_id  # type: ignore[union-attr]
    kinds = {(a["kind"], Path(a["path"]).name) for a in found.artifacts}
    assert kinds == {("model", "visits.privsynth"), ("output", "out.parquet")}
    assert [r.run["run_id"] for r in lineage(book, "visits")] == [found.run["run_id"]]
    other = tmp_path / "other.csv"
    adult.head(50).to_csv(other, index=False)
    assert lineage(book, other) == []
    with pytest.raises(ConfigurationError, match="neither a readable file nor a dataset"):
        lineage(book, "no-such-dataset")


def test_a_model_loaded_elsewhere_warns_that_its_output_is_not_linked(
    fitted: Synthesizer, tmp_path: Path
) -> None:
    model = fitted.save(tmp_path / "adult.privsynth")
    elsewhere = Ledger(tmp_path / "elsewhere.db")
    with pytest.warns(PrivsynthWarning, match="not linked"):
        Synthesizer.load(model, ledger=elsewhere).sample(10, output=tmp_path / "o.csv")
    assert elsewhere.artifacts() == []


def test_warnings_reach_python_users_as_typed_warnings(adult: pd.DataFrame, tmp_path: Path) -> None:
    from privsynth.schema import dump_schema
    from privsynth.schema.infer import infer_schema

    drafted = tmp_path / "drafted.yaml"
    dump_schema(infer_schema(adult[["sex", "income"]]), drafted)
    synthesizer = Synthesizer(
        "mst", epsilon=1.0, dataset="a", ledger=tmp_path / "l.db", schema=drafted, iterations=50
    )
    with pytest.warns(DataDerivedSchemaWarning, match="treated as public"):
        synthesizer.fit(adult[["sex", "income"]])
    seeded = Synthesizer(
        "mst", epsilon=1.0, dataset="b", ledger=tmp_path / "l.db", seed=1, unsafe_seed=True,
        iterations=50,
    )  # fmt: skip
    with pytest.warns(NotPrivateWarning):
        seeded.fit(adult[["sex", "income"]].head(500))
