"""The built-in metrics and attacks, registered by importing their modules explicitly.

Each module registers its metrics or attacks with a decorator when imported. Importing
them here by name (not from a list of strings) makes a renamed or missing module an
ImportError, never a measurement silently absent from every report.
"""

from __future__ import annotations

from types import ModuleType

from privsynth.evaluation import (
    discriminator,
    diversity,
    fidelity,
    inference,
    membership,
    utility,
    wp29,
)

#: the modules whose import registered the built-in metrics and attacks
MODULES: tuple[ModuleType, ...] = (
    fidelity,
    utility,
    discriminator,
    diversity,
    membership,
    inference,
    wp29,
)
