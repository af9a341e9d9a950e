"""JAX settings for the graphical-model estimators.

mbi compiles a new XLA program for every model structure. On CPUs, XLA's default
optimisation level spends ~25 s compiling each one for Adult-sized models, longer
than the optimisation itself; level 0 compiles in a few seconds and runs the
iterations at about the same speed (measured in docs/benchmarks.md). Users who set
their own ``XLA_FLAGS`` keep them.
"""

from __future__ import annotations

import os

_FLAG = "--xla_backend_optimization_level"


def configure_xla() -> None:
    """Prefer fast compilation unless the user chose an optimisation level."""
    flags = os.environ.get("XLA_FLAGS", "")
    if _FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}=0".strip()
