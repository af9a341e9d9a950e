"""Shared fixtures: the bundled real data (UCI Adult and NY SPARCS samples) and their
public schemas, an environment that never reaches the user's own ledger, and the
``privsynth`` command run in the test process (:mod:`cli_inprocess`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from cli_inprocess import Cli, Outcome, cli_environment, invoke

if TYPE_CHECKING:
    from privsynth.schema import Schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: rich decides colours and width when a Console is made (privsynth.cli.console, at
#: import): commands run in-process must print as into a pipe, even under `pytest -s`
_NOT_A_TERMINAL = "TTY_COMPATIBLE"


def pytest_configure(config: pytest.Config) -> None:
    saved = {name: os.environ.get(name) for name in (_NOT_A_TERMINAL, "XLA_FLAGS")}
    config.add_cleanup(lambda: _restore(saved))
    os.environ.setdefault(_NOT_A_TERMINAL, "0")
    # The session compiles as the `privsynth` command does: it opts in to XLA's fast
    # compilation at start-up, and XLA reads the setting once, when JAX starts. So the
    # commands run in-process fit as in their own process whichever test starts JAX
    # first, and every fit compiles faster (most of a small fit is compilation). It is a
    # compile-time setting; the seeded and golden tests pin what the programs compute.
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def _isolated_from_the_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No ``PRIVSYNTH_`` setting of the developer's, and a data home of this session
    (of this worker, under xdist): a default ledger is never ``~/.local/share``'s."""
    with pytest.MonkeyPatch.context() as patch:
        cli_environment(patch, tmp_path_factory.mktemp("home"))
        yield


@pytest.fixture(scope="session")
def adult_path() -> Path:
    return EXAMPLES / "adult_sample.csv"


@pytest.fixture(scope="session")
def adult_holdout_path() -> Path:
    return EXAMPLES / "adult_holdout.csv"


@pytest.fixture(scope="session")
def adult_schema_path() -> Path:
    return EXAMPLES / "adult_schema.yaml"


@pytest.fixture(scope="session")
def sparcs_path() -> Path:
    return EXAMPLES / "sparcs_sample.csv"


@pytest.fixture(scope="session")
def sparcs_schema_path() -> Path:
    return EXAMPLES / "sparcs_schema.yaml"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def adult_frame(adult_path: Path) -> pd.DataFrame:
    """The Adult sample as text cells (shared: copy it before changing it)."""
    return _read(adult_path)


@pytest.fixture(scope="session")
def adult_holdout_frame(adult_holdout_path: Path) -> pd.DataFrame:
    """Adult rows kept out of the sample (shared: copy it before changing it)."""
    return _read(adult_holdout_path)


@pytest.fixture(scope="session")
def adult_schema(adult_schema_path: Path) -> Schema:
    from privsynth.schema import load_schema

    return load_schema(adult_schema_path)


@pytest.fixture(scope="session")
def sparcs_frame(sparcs_path: Path) -> pd.DataFrame:
    """The SPARCS sample as text cells (shared: copy it before changing it)."""
    return _read(sparcs_path)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """``cli("budget", "show", ...)``: the command run in this process, with a data
    home of this test; its exit status, stdout and stderr."""
    cli_environment(monkeypatch, tmp_path)

    def run(*args: str | os.PathLike[str], cwd: Path | None = None) -> Outcome:
        return invoke(args, cwd=cwd)

    return run
