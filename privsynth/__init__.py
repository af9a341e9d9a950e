"""privsynth: differentially private synthetic data with a persistent privacy ledger.

Fit once, sample for free::

    from privsynth import Synthesizer
    s = Synthesizer("mst", epsilon=2, dataset="adult", ledger="ledger.db")
    s.fit(df)                  # the only step that reads data and spends ε
    synthetic = s.sample(50_000)
    s.save("adult.privsynth")  # DP output: holds no record

or in one call: ``privsynth.synthesize(df, epsilon=2, dataset="adult")``.

Every ε spent (domain discovery included) is composed by one accountant and
recorded in the ledger; a run that would exceed the dataset's budget is refused
before it reads the data.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privsynth.defaults import DEFAULT_GENERATOR
from privsynth.errors import (
    BudgetExceededError,
    ConfigurationError,
    InputDataError,
    LedgerError,
    PrivsynthError,
    SchemaError,
)
from privsynth.warnings import PrivsynthWarning

__version__ = "0.1.0"

if TYPE_CHECKING:
    import pandas as pd

    from privsynth.api import AuditResult, audit, evaluate, scrub
    from privsynth.dp.ledger import Ledger
    from privsynth.schema import Schema, load_schema
    from privsynth.synthesis import (
        SynthesisConfig,
        SynthesisResult,
        Synthesizer,
        run_synthesis,
    )

#: heavy modules (pandas, JAX) are imported on first use, so the CLI starts fast
_LAZY = {
    "Ledger": "privsynth.dp.ledger",
    "SynthesisConfig": "privsynth.synthesis",
    "SynthesisResult": "privsynth.synthesis",
    "Synthesizer": "privsynth.synthesis",
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
    generator: str = DEFAULT_GENERATOR,
    rows: int | None = None,
    ledger: Ledger | str | Path | None = None,
    **settings: Any,
) -> pd.DataFrame:
    """A synthetic copy of ``data`` under (ε, δ)-DP, recorded in the ledger: a
    :class:`Synthesizer` fitted once and sampled once.

    ``dataset`` names the budget to charge: required, because a budget belongs to the
    data (the ledger also refuses the same content under another name). ``schema``
    declares public domains (otherwise they are discovered with part of the budget).
    ``settings`` are the other :class:`Synthesizer` settings (``privacy_unit``,
    ``max_rows_per_unit``, ``strict``, ...) and generator options. Keep the
    :class:`Synthesizer` instead to draw more rows later without spending again.
    """
    from privsynth.synthesis import Synthesizer

    fitted = Synthesizer(
        generator, epsilon=epsilon, delta=delta, dataset=dataset, ledger=ledger, schema=schema,
        rows=rows, **settings,
    ).fit(data)  # fmt: skip
    return fitted.sample()


__all__ = [
    "AuditResult",
    "BudgetExceededError",
    "ConfigurationError",
    "InputDataError",
    "Ledger",
    "LedgerError",
    "PrivsynthError",
    "PrivsynthWarning",
    "Schema",
    "SchemaError",
    "SynthesisConfig",
    "SynthesisResult",
    "Synthesizer",
    "__version__",
    "audit",
    "evaluate",
    "load_schema",
    "run_synthesis",
    "scrub",
    "synthesize",
]
