"""Typed errors with one-line, actionable messages.

Every error a user can cause derives from :class:`PrivsynthError`. The CLI prints
``error: <message> (fix: <hint>)`` on one line and exits with ``exit_code``; no
traceback. Messages name columns, files and counts, never cell values, so they can
be logged without leaking personal data.
"""

from __future__ import annotations

import os

#: set to 1 to see tracebacks and exact (non-private) counts: for the custodian only
DEBUG_ENV_VAR = "PRIVSYNTH_DEBUG"


def debug_enabled() -> bool:
    """Whether ``PRIVSYNTH_DEBUG`` relaxes privacy for debugging (it says so when used)."""
    return os.environ.get(DEBUG_ENV_VAR, "") not in ("", "0")


class PrivsynthError(Exception):
    """Base class for errors caused by input, configuration or budget."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and its fix on a single line, safe to log."""
        text = self.message if not self.hint else f"{self.message} (fix: {self.hint})"
        return " ".join(text.split())


class InputDataError(PrivsynthError):
    """The input file or frame cannot be read or does not match its schema."""


class SchemaError(PrivsynthError):
    """A schema file is malformed, inconsistent or refused under ``--strict``."""


class ConfigurationError(PrivsynthError):
    """A parameter (epsilon, delta, generator name, ...) is out of range or unknown."""


class BudgetExceededError(PrivsynthError):
    """A planned or attempted spend would exceed a privacy budget."""

    exit_code = 3


class LedgerError(PrivsynthError):
    """The ledger cannot be opened, is locked, or is inconsistent."""

    exit_code = 4


class OutputError(PrivsynthError):
    """An output file cannot be written (full disk, file size limit, permissions); the
    earlier file at that path, if any, is left as it was."""

    exit_code = 6
