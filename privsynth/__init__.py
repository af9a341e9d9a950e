"""privsynth: differentially private synthetic data with a persistent privacy ledger.

The one-call API::

    import privsynth
    synthetic = privsynth.synthesize(df, epsilon=2, dataset="adult")

Every ε spent (domain discovery included) is composed by one accountant and
recorded in the ledger; a run that would exceed the dataset's budget is refused
before it reads the data.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privsynth.errors import (
    BudgetExceededError,
    ConfigurationError,
    InputDataError,
    LedgerError,
    PrivsynthError,
    SchemaError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    import pandas as pd

    from privsynth.api import AuditResult, audit, evaluate, scrub
    from privsynth.dp.ledger import Ledger
    from privsynth.schema import Schema, load_schema
    from privsynth.synthesis import SynthesisConfig, SynthesisResult, run_synthesis

#: heavy modules (pandas, JAX) are imported on first use, so the CLI starts fast
_LAZY = {
    "Ledger": "privsynth.dp.ledger",
    "SynthesisConfig": "privsynth.synthesis",
    "SynthesisResult": "privsynth.synthesis",
    "run_synthesis": "privsynth.synthesis",
    "Schema": "privsynth.schema",
    "load_schema": "privsynth.schema",
    "scrub": "privsynth.api",
    "evaluate": "privsynth.api",
    "audit": "privsynth.api",
    "AuditResult": "privsynth.api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'privsynth' has no attribute {name!r}")


def synthesize(
    data: pd.DataFrame | str | Path,
    epsilon: float,
    delta: float | None = None,
    *,
    dataset: str,
    schema: Schema | str | Path | None = None,
    generator: str = "mst",
    rows: int | None = None,
    ledger: Ledger | str | Path | None = None,
    privacy_unit: str | None = None,
    max_rows_per_unit: int | None = None,
    strict: bool = False,
    seed: int | None = None,
    unsafe_seed: bool = False,
    **generator_options: Any,
) -> pd.DataFrame:
    """A synthetic copy of ``data`` under (ε, δ)-DP, recorded in the ledger.

    ``dataset`` names the budget to charge: required, because a budget belongs to the
    data (the ledger also refuses the same content under another name). ``schema``
    declares public domains (otherwise they are discovered with part of the budget).
    ``privacy_unit`` names the column identifying a person, whose rows ε then protects
    together. ``seed`` is for tests only and needs ``unsafe_seed=True`` (the run is
    recorded as ε = ∞). Use :func:`run_synthesis` for the full result.
    """
    from privsynth.synthesis import SynthesisConfig, run_synthesis

    config = SynthesisConfig(
        epsilon=epsilon,
        delta=delta,
        generator=generator,
        generator_options=generator_options,
        rows=rows,
        dataset=dataset,
        seed=seed,
        unsafe_seed=unsafe_seed,
        strict=strict,
        privacy_unit=privacy_unit,
        max_rows_per_unit=max_rows_per_unit,
    )
    return run_synthesis(data, config, schema=schema, ledger=ledger).data


__all__ = [
    "AuditResult",
    "BudgetExceededError",
    "ConfigurationError",
    "InputDataError",
    "Ledger",
    "LedgerError",
    "PrivsynthError",
    "Schema",
    "SchemaError",
    "SynthesisConfig",
    "SynthesisResult",
    "__version__",
    "audit",
    "evaluate",
    "load_schema",
    "run_synthesis",
    "scrub",
    "synthesize",
]
