"""Lineage for erasure requests (GDPR Art. 17): from an input table or a dataset name
to every run that read it and every saved model and output file made from those runs,
so that a custodian knows what to delete or regenerate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.cells import canonical_frame
from privsynth.dp.ledger import Ledger
from privsynth.errors import ConfigurationError
from privsynth.fingerprint import keyed_fingerprint
from privsynth.io import read_rows


@dataclass(frozen=True)
class RunLineage:
    """One run and the files made from it."""

    run: dict[str, Any]
    artifacts: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        keys = ("run_id", "dataset", "status", "epsilon", "delta", "generator", "created_at")
        return {
            **{key: self.run.get(key) for key in keys},
            "artifacts": [
                {k: a[k] for k in ("kind", "path", "sha256", "created_at")} for a in self.artifacts
            ],
        }


def lineage(book: Ledger, subject: str | Path | pd.DataFrame) -> list[RunLineage]:
    """Runs made from ``subject`` (a table: file or frame, matched by its keyed
    fingerprint; otherwise a dataset name), each with its linked files."""
    if isinstance(subject, pd.DataFrame) or Path(subject).is_file():
        runs = book.runs_of_fingerprint(_fingerprint(book, subject))
    else:
        name = str(subject)
        if name not in book.datasets():
            raise ConfigurationError(
                f"{name!r} is neither a readable file nor a dataset in the ledger {book.path}",
                hint="name the input table or a dataset listed by the budget summary",
            )
        runs = book.runs(name)
    return [RunLineage(run, book.artifacts(run["run_id"])) for run in runs]


def _fingerprint(book: Ledger, subject: str | Path | pd.DataFrame) -> str:
    """The keyed fingerprint ``fit`` recorded: same reading, same key."""
    cells = (
        canonical_frame(subject) if isinstance(subject, pd.DataFrame) else read_rows(subject).frame
    )
    return keyed_fingerprint(cells, book.fingerprint_key())
