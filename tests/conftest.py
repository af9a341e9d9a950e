"""Shared fixtures: the bundled real data (UCI Adult sample) and its public schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def adult_path() -> Path:
    return EXAMPLES / "adult_sample.csv"


@pytest.fixture(scope="session")
def adult_schema_path() -> Path:
    return EXAMPLES / "adult_schema.yaml"


@pytest.fixture(scope="session")
def adult_frame(adult_path: Path) -> pd.DataFrame:
    return pd.read_csv(adult_path, dtype=str, keep_default_na=False)
