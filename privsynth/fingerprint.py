"""Keyed fingerprints of private tables: recognise the same data under another name.

A budget belongs to the data, not to a file name: the ledger records a fingerprint
of every run's input and refuses a run whose input has the same content as a dataset
registered under another name (a renamed or copied file, another ``--dataset``, a
DataFrame of the same rows). The fingerprint is of the *content*: cells as canonical
text (:mod:`privsynth.cells`), columns in name order, rows as a multiset, so the
same table read from CSV or Parquet, or with its rows or columns reordered, gives the
same fingerprint. An edited copy (one cell changed, one row added) is new data.

A plain hash of the data would let anyone who knows every record but one test
guesses for the last, so fingerprints are HMAC-SHA256 under a secret key held by the
data custodian: ``$PRIVSYNTH_FINGERPRINT_KEY`` (64 hex digits), else a key file beside
the ledger (``<ledger>.key``, created with mode 0600). Without the key a fingerprint
reveals nothing but equality with other fingerprints under the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import tempfile
from pathlib import Path

import pandas as pd

from privsynth.errors import ConfigurationError, LedgerError

KEY_ENV_VAR = "PRIVSYNTH_FINGERPRINT_KEY"
KEY_BYTES = 32
PREFIX = "hmac-sha256:"
_ROW_MODULUS = 1 << 256
_MISSING = "\x00"  # a missing cell; a present one is written as "<length>:<text>"


def content_digest(frame: pd.DataFrame) -> bytes:
    """SHA-256 over the header (sorted) and the multiset of rows: independent of row
    and column order and of the file format. ``frame`` holds canonical cells."""
    names = sorted(str(c) for c in frame.columns)
    ordered = frame[names] if list(frame.columns) != names else frame
    total = 0
    for row in ordered.itertuples(index=False, name=None):
        encoded = "\x1f".join(_cell(v) for v in row).encode("utf-8", "surrogatepass")
        total = (total + int.from_bytes(hashlib.sha256(encoded).digest(), "big")) % _ROW_MODULUS
    digest = hashlib.sha256()
    digest.update("\x1f".join(names).encode("utf-8", "surrogatepass"))
    digest.update(len(ordered).to_bytes(8, "big"))
    digest.update(total.to_bytes(32, "big"))
    return digest.digest()


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _MISSING
    text = str(value)
    return f"{len(text)}:{text}"


def keyed_fingerprint(frame: pd.DataFrame, key: bytes) -> str:
    """The HMAC-SHA256 of the table's content digest under the custodian's ``key``."""
    return PREFIX + hmac.new(key, content_digest(frame), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short id of ``key`` (a MAC of a constant), to tell whether a ledger is used with
    the key it was used with before; it says nothing about any data."""
    return hmac.new(key, b"privsynth fingerprint key id", hashlib.sha256).hexdigest()[:32]


def key_path(ledger_path: Path) -> Path:
    """Where the key of the ledger at ``ledger_path`` lives (beside it)."""
    return ledger_path.with_name(ledger_path.name + ".key")


def env_key() -> bytes | None:
    """The key from ``$PRIVSYNTH_FINGERPRINT_KEY``, if set."""
    if os.environ.get(KEY_ENV_VAR):
        return _parse_key(os.environ[KEY_ENV_VAR], KEY_ENV_VAR)
    return None


def custodian_key(ledger_path: Path, create: bool = True) -> bytes | None:
    """The fingerprint key: ``$PRIVSYNTH_FINGERPRINT_KEY``, else the ledger's key file
    (created on first use when ``create``), else ``None``."""
    if os.environ.get(KEY_ENV_VAR):
        return env_key()
    path = key_path(ledger_path)
    if path.is_file():
        return _parse_key(path.read_text(encoding="ascii", errors="replace").strip(), str(path))
    if not create:
        return None
    return _create_key(path)


def _parse_key(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise ConfigurationError(
            f"the fingerprint key in {source} is not at least 32 hex digits",
            hint=f"set {KEY_ENV_VAR} to e.g. the output of `openssl rand -hex 32`",
        )
    return key


def _create_key(path: Path) -> bytes:
    """Write a fresh key atomically (temp file, then a hard link that fails if another
    process got there first, in which case its key is used)."""
    key = secrets.token_bytes(KEY_BYTES)
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(key.hex() + "\n")
        try:
            os.link(temp, path)
        except FileExistsError:
            return _parse_key(path.read_text(encoding="ascii").strip(), str(path))
        finally:
            os.unlink(temp)
    except OSError as exc:
        raise LedgerError(
            f"cannot create the fingerprint key {path} ({exc.strerror})",
            hint=f"make the ledger's folder writable, or set {KEY_ENV_VAR}",
        ) from None
    return key
