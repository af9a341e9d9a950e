"""A budget belongs to the data: keyed content fingerprints and the refusals they drive.

Real data (UCI Adult sample); real ledgers; the same rows under other names, formats,
orders, and as an edited copy.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

import privsynth
from privsynth import Ledger, SynthesisConfig, run_synthesis
from privsynth.cells import canonical_frame
from privsynth.errors import BudgetExceededError, ConfigurationError
from privsynth.fingerprint import KEY_ENV_VAR, custodian_key, key_path, keyed_fingerprint
from privsynth.io import read_rows

KEY = bytes(range(32))
COLUMNS = ["age", "sex", "race", "income"]


@pytest.fixture(scope="module")
def adult4(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame[COLUMNS].head(800).reset_index(drop=True)


def _fp(frame: pd.DataFrame, key: bytes = KEY) -> str:
    return keyed_fingerprint(canonical_frame(frame), key)


def test_same_content_same_fingerprint_whatever_the_form(
    tmp_path: Path, adult4: pd.DataFrame
) -> None:
    adult4.to_csv(tmp_path / "a.csv", index=False)
    adult4.astype({"age": int}).to_parquet(tmp_path / "a.parquet", index=False)
    shuffled = adult4.sample(frac=1.0, random_state=3)[list(reversed(COLUMNS))]
    forms = [
        keyed_fingerprint(read_rows(tmp_path / "a.csv").frame, KEY),
        keyed_fingerprint(read_rows(tmp_path / "a.parquet").frame, KEY),
        _fp(adult4),
        _fp(shuffled),
    ]
    assert len(set(forms)) == 1
    assert forms[0].startswith("hmac-sha256:")


def test_edited_copies_and_other_keys_differ(adult4: pd.DataFrame) -> None:
    base = _fp(adult4)
    edited = adult4.copy()
    edited.loc[0, "age"] = "18"
    assert _fp(edited) != base
    assert _fp(adult4.iloc[1:]) != base
    assert _fp(pd.concat([adult4, adult4.iloc[:1]])) != base  # a duplicated row counts
    assert _fp(adult4, bytes(32)) != base
    swapped = adult4.rename(columns={"sex": "race", "race": "sex"})
    assert _fp(swapped) != base  # values moved between columns


def test_the_key_file_is_private_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    ledger = tmp_path / "ledger.db"
    assert custodian_key(ledger, create=False) is None
    first = custodian_key(ledger)
    assert first is not None and len(first) == 32
    assert custodian_key(ledger) == first
    assert stat.S_IMODE(os.stat(key_path(ledger)).st_mode) == 0o600
    monkeypatch.setenv(KEY_ENV_VAR, "ab" * 32)
    assert custodian_key(ledger) == bytes([0xAB]) * 32
    monkeypatch.setenv(KEY_ENV_VAR, "not hex")
    with pytest.raises(ConfigurationError):
        custodian_key(ledger)


def test_a_renamed_copy_or_a_dataframe_of_the_same_rows_is_refused(
    tmp_path: Path, adult4: pd.DataFrame
) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    original = tmp_path / "visits.csv"
    adult4.to_csv(original, index=False)
    config = SynthesisConfig(
        epsilon=3.0,
        generator="mst",
        dataset="visits",
        residual_scan=False,
        generator_options={"iterations": 20},
    )
    run_synthesis(original, config, ledger=ledger)
    renamed = tmp_path / "visits_copy.csv"
    renamed.write_bytes(original.read_bytes())
    before = ledger.runs(), ledger.spends()
    for source, name in ((renamed, "visits_copy"), (adult4, "fresh-name")):
        other = SynthesisConfig(epsilon=0.5, generator="mst", dataset=name, residual_scan=False)
        with pytest.raises(BudgetExceededError) as caught:
            run_synthesis(source, other, ledger=ledger)
        assert "`dataset=visits`" in caught.value.one_line()
    assert (ledger.runs(), ledger.spends()) == before  # refused before any reservation
    run_synthesis(adult4, config, ledger=ledger)  # under its own name it spends its budget
    assert len(ledger.runs("visits")) == 2


def test_the_python_api_requires_a_dataset_name(adult4: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="dataset name is required"):
        run_synthesis(adult4, SynthesisConfig(epsilon=1.0), ledger=tmp_path / "l.db")
    with pytest.raises(TypeError):
        privsynth.synthesize(adult4, epsilon=1.0)  # type: ignore[call-arg]
    assert not (tmp_path / "l.db").exists() or Ledger(tmp_path / "l.db").runs() == []
