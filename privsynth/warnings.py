"""Typed warnings: what a run found that its user should look at, but that does not
stop it.

Python users receive them through :func:`warnings.warn` (filter them by class, e.g.
``warnings.simplefilter("error", ResidualPIIWarning)`` in a pipeline that must stop on
residual PII); the CLI prints them as ``warning: ...`` lines. Like errors, their
messages name columns and DP (noisy) counts, never cell values, and refer to
parameters by their Python names in backticks (the CLI shows its flags instead).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable


class PrivsynthWarning(UserWarning):
    """Base class of every warning privsynth emits."""


class NotPrivateWarning(PrivsynthWarning):
    """The run's output is not differentially private: its noise was seeded, or its
    generator has no formal privacy guarantee (a baseline, not for release; the ledger
    records ε = ∞, which exhausts the dataset's budget)."""


class DataDerivedSchemaWarning(PrivsynthWarning):
    """Schema values read from the data are treated as public."""


class IdentifierColumnWarning(PrivsynthWarning):
    """A modelled column is named like a direct identifier."""


class DiscoveryWarning(PrivsynthWarning):
    """Domain discovery could not release part of a column's domain."""


class UnmodelledColumnWarning(PrivsynthWarning):
    """Discovery left a column out of the model (identifier tokens, dropped text)."""


class DataQualityWarning(PrivsynthWarning):
    """DP counts of rows left out or cells outside their declared domain."""


class ResidualPIIWarning(PrivsynthWarning):
    """The synthetic output still holds text that looks like personal data."""


class LineageWarning(PrivsynthWarning):
    """An output or a saved model could not be linked to its run in the ledger."""


def emit(found: Iterable[PrivsynthWarning], stacklevel: int = 3) -> None:
    """Issue each warning through :mod:`warnings` (pointing at the user's call)."""
    for warning in found:
        warnings.warn(warning, stacklevel=stacklevel)
