"""Optional dependencies of generators (SDV, smartnoise-synth): found without being
imported, so registering a generator never imports them, and a missing one is refused
with the install hint before a ledger is opened or data read."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from privsynth.errors import ConfigurationError


def installed(name: str) -> bool:
    """Whether the top-level package ``name`` can be imported (found, not imported)."""
    return importlib.util.find_spec(name) is not None


def require(package: str, message: str, hint: str) -> None:
    """Refuse early, with ``message``, when ``package`` is missing."""
    if not installed(package):
        raise ConfigurationError(message, hint)


def import_optional(name: str, package: str, hint: str) -> Any:
    """The module ``name`` of an installed optional ``package``, with a one-line error
    (not a traceback) when the package is broken."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ConfigurationError(f"{package} could not be imported: {error}", hint) from None
