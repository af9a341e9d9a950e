"""JAX settings for the graphical-model estimators, as an explicit opt-in.

mbi compiles a new XLA program for every model structure, and on CPUs compilation
is a large share of a fit. Backend optimisation level 0 compiles much faster at the
same speed per iteration: MST on Adult fits in 10.5 s instead of 13.5 s on 2 cores,
and the gap grows on a loaded machine (docs/benchmarks.md). XLA reads the setting
from the process-wide ``XLA_FLAGS`` once, when JAX creates its backend, so importing
privsynth does not set it: programs (the ``privsynth`` command) opt in at start-up.
"""

from __future__ import annotations

import os

_FLAG = "--xla_backend_optimization_level"


def prefer_fast_compilation() -> bool:
    """Ask XLA to compile fast (backend optimisation level 0) in this process, for
    quicker fits on CPUs; returns whether ``XLA_FLAGS`` was changed.

    It changes ``os.environ["XLA_FLAGS"]``, which JAX reads only when it initialises
    its backend (the first computation), so call it at program start, before any JAX
    work. Users who chose an optimisation level in ``XLA_FLAGS`` keep theirs."""
    flags = os.environ.get("XLA_FLAGS", "")
    if _FLAG in flags:
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}=0".strip()
    return True
