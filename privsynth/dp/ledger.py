"""The persistent privacy ledger: per-dataset budgets and every spend, in SQLite.

A run first *reserves* its whole planned cost in one write transaction that
re-checks the composed total against the dataset's budget, so concurrent runs can
never overspend together. When the run ends, the reservation is replaced by the
itemised spends it actually made; a run that failed keeps its whole reservation
(whether it failed may depend on the data, so the failure itself is paid for), and
a reservation left by a crashed run keeps counting. Totals are composed with the
RDP accountant (not summed), so the ledger is as tight as the accounting.

A budget belongs to the data, not to a name: each run records a keyed fingerprint
of its input (:mod:`privsynth.fingerprint`), and a run whose input has the content
of a dataset registered under another name is refused. A dataset also has one
privacy unit (a row, or e.g. ``patient_id``): its runs must protect that unit.
Teams can require every dataset to be registered (``budget set``) before use.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privsynth.dp.accounting import PrivacyCost, compose, from_dict
from privsynth.dp.accounting.accountant import Spend
from privsynth.errors import (
    BudgetExceededError,
    ConfigurationError,
    LedgerError,
    PrivsynthError,
)

ENV_VAR = "PRIVSYNTH_LEDGER"
#: purpose of the spend that records a failed run's whole reservation
FAILED_RUN = "failed run: its whole reservation is kept"
_RUN_UNITS = "SELECT DISTINCT privacy_unit FROM runs WHERE dataset = ?"
DEFAULT_EPSILON = 10.0
DEFAULT_DELTA = 1e-6
_INIT_ATTEMPTS = 40
#: free space below which a failed write is blamed on a full disk
_FULL_DISK_BYTES = 1 << 20
_SCHEMA = """
CREATE TABLE IF NOT EXISTS budgets (
    dataset TEXT PRIMARY KEY, epsilon REAL NOT NULL, delta REAL NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, dataset TEXT NOT NULL, status TEXT NOT NULL,
    epsilon REAL NOT NULL, delta REAL NOT NULL, generator TEXT NOT NULL, params TEXT NOT NULL,
    reservation TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT, notes TEXT
);
CREATE TABLE IF NOT EXISTS spends (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(run_id),
    dataset TEXT NOT NULL, created_at TEXT NOT NULL, purpose TEXT NOT NULL,
    mechanism TEXT NOT NULL, params TEXT NOT NULL, rho REAL NOT NULL, delta REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spends_dataset ON spends(dataset);
CREATE INDEX IF NOT EXISTS runs_dataset ON runs(dataset);
CREATE TABLE IF NOT EXISTS fingerprints (
    fingerprint TEXT PRIMARY KEY, dataset TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(run_id),
    kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, created_at TEXT NOT NULL,
    notes TEXT
);
CREATE INDEX IF NOT EXISTS artifacts_run ON artifacts(run_id);
CREATE INDEX IF NOT EXISTS artifacts_sha256 ON artifacts(sha256);
"""
#: columns added after the first release (added to older ledgers on open)
_ADDED_COLUMNS = {
    "budgets": {"privacy_unit": "TEXT"},
    "runs": {"privacy_unit": "TEXT", "max_rows_per_unit": "INTEGER", "fingerprint": "TEXT"},
}
#: ledger settings and their defaults
SETTINGS = {"require_registered": "false"}
#: the id of the fingerprint key this ledger was used with (an internal setting)
_KEY_ID = "fingerprint_key_id"


def default_ledger_path() -> Path:
    """``$PRIVSYNTH_LEDGER``, else ``$XDG_DATA_HOME/privsynth/ledger.db``
    (``~/.local/share/privsynth/ledger.db``)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "privsynth" / "ledger.db"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Budget:
    """A dataset's total (epsilon, delta) budget, and the unit its ε protects."""

    epsilon: float
    delta: float
    is_default: bool = False
    #: the privacy-unit column (``None``: one row)
    privacy_unit: str | None = None


@dataclass(frozen=True)
class BudgetStatus:
    """A dataset's budget, what has been spent (composed) and what remains."""

    dataset: str
    budget: Budget
    spent_epsilon: float
    spent_delta: float

    @property
    def remaining_epsilon(self) -> float:
        return max(0.0, self.budget.epsilon - self.spent_epsilon)

    def describe(self) -> str:
        """One line: spent and remaining, at the budget's delta, and the unit."""
        unit = self.budget.privacy_unit
        return (
            f"spent ε={_fmt(self.spent_epsilon)} of {_fmt(self.budget.epsilon)} "
            f"(remaining ε={_fmt(self.remaining_epsilon)}, δ={self.budget.delta:g}, "
            f"{'per row' if unit is None else f'per {unit}'})"
        )


def _fmt(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.3g}"


def check_budget_values(epsilon: float, delta: float) -> None:
    """Reject epsilon <= 0, delta outside (0, 1), NaN and infinities."""
    if not isinstance(epsilon, (int, float)) or not math.isfinite(epsilon) or epsilon <= 0:
        raise ConfigurationError(f"epsilon must be a positive number, got {epsilon!r}")
    if not isinstance(delta, (int, float)) or not math.isfinite(delta) or not 0 < delta < 1:
        raise ConfigurationError(
            f"delta must be between 0 and 1 (exclusive), got {delta!r}",
            hint="use a value well below 1/rows, e.g. 1e-6",
        )


class Ledger:
    """A SQLite ledger file; safe to use from several processes at once."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_ledger_path()
        self._initialise()

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            raise self._error(exc) from None
        except BaseException:
            _rollback(conn)
            raise
        finally:
            conn.close()

    def _error(self, exc: sqlite3.Error) -> LedgerError:
        return LedgerError(
            f"cannot use ledger {self.path} ({_cause(self.path, exc)})",
            hint=f"check the file and its permissions, or point {ENV_VAR} or `ledger` elsewhere",
        )

    def _initialise(self) -> None:
        if self.path.is_dir():
            raise LedgerError(f"ledger path {self.path} is a directory", hint="name a file")
        try:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.path.touch(mode=0o600)
        except OSError as exc:
            raise LedgerError(
                f"cannot create ledger {self.path} ({exc.strerror})",
                hint=f"choose a writable path as `ledger` or in {ENV_VAR}",
            ) from None
        for attempt in range(_INIT_ATTEMPTS):
            try:
                self._create_tables()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == _INIT_ATTEMPTS - 1:
                    raise self._error(exc) from None
                time.sleep(0.05 * (attempt + 1))  # another process is creating it
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def _create_tables(self) -> None:
        conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            for table, columns in _ADDED_COLUMNS.items():
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, kind in columns.items():
                    if name not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        finally:
            conn.close()

    # budgets -------------------------------------------------------------------------

    def set_budget(
        self, dataset: str, epsilon: float, delta: float, privacy_unit: str | None = None
    ) -> None:
        """Set (or change) ``dataset``'s total budget and the unit its ε protects
        (``None``: a row, or the unit its runs already protect). A unit cannot change
        once runs have used it."""
        check_budget_values(epsilon, delta)
        check_dataset_name(dataset)
        with self._connect(write=True) as conn:
            used = {r[0] for r in conn.execute(_RUN_UNITS, (dataset,)).fetchall()}
            if privacy_unit is None and len(used) == 1:
                (privacy_unit,) = used
            if used - {privacy_unit}:
                raise ConfigurationError(
                    f"dataset {dataset!r} already has runs protecting "
                    f"{_units_text(used)}; its unit cannot change to {_unit_text(privacy_unit)}",
                    hint="register the data under a new dataset name for another unit",
                )
            conn.execute(
                "INSERT INTO budgets (dataset, epsilon, delta, updated_at, privacy_unit) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(dataset) DO UPDATE SET "
                "epsilon=excluded.epsilon, delta=excluded.delta, updated_at=excluded.updated_at, "
                "privacy_unit=excluded.privacy_unit",
                (dataset, float(epsilon), float(delta), _now(), privacy_unit),
            )

    # settings ------------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """Every ledger setting (defaults included)."""
        with self._connect() as conn:
            stored = dict(conn.execute("SELECT key, value FROM settings").fetchall())
        return {**SETTINGS, **{k: v for k, v in stored.items() if k in SETTINGS}}

    def set_setting(self, key: str, value: str) -> None:
        """Change a ledger setting (see :data:`SETTINGS`)."""
        if key not in SETTINGS:
            raise ConfigurationError(
                f"unknown ledger setting {key!r}", hint=f"use one of: {', '.join(SETTINGS)}"
            )
        with self._connect(write=True) as conn:
            conn.execute(
                "INSERT INTO settings VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value=excluded.value",
                (key, value),
            )

    @property
    def requires_registration(self) -> bool:
        """Whether runs on datasets without a budget (``budget set``) are refused."""
        return self.settings()["require_registered"] == "true"

    def fingerprint_key(self) -> bytes:
        """The custodian's key for this ledger's input fingerprints, created on first use.

        The ledger remembers which key it was used with (a key id, which reveals nothing
        about the data): a ledger copied without its key, or given another key, would
        silently stop recognising registered data, so it is refused instead."""
        from privsynth.fingerprint import custodian_key, key_id

        with self._connect() as conn:
            stored = self._stored(conn, _KEY_ID)
        key = custodian_key(self.path, create=stored is None)
        if key is not None and stored is None:
            with self._connect(write=True) as conn:
                conn.execute("INSERT OR IGNORE INTO settings VALUES (?, ?)", (_KEY_ID, key_id(key)))
                stored = self._stored(conn, _KEY_ID)
        if key is None or stored != key_id(key):
            raise LedgerError(
                f"the fingerprint key of ledger {self.path} is missing or is another key",
                hint="restore its key file beside the ledger, or set PRIVSYNTH_FINGERPRINT_KEY "
                "to the key it was used with",
            )
        return key

    @staticmethod
    def _stored(conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def budget(self, dataset: str) -> Budget:
        """``dataset``'s budget, or the default one if none was set."""
        with self._connect() as conn:
            return self._budget(conn, dataset)

    @staticmethod
    def _budget(conn: sqlite3.Connection, dataset: str) -> Budget:
        row = conn.execute(
            "SELECT epsilon, delta, privacy_unit FROM budgets WHERE dataset = ?", (dataset,)
        ).fetchone()
        if row is not None:
            return Budget(float(row[0]), float(row[1]), privacy_unit=row[2])
        first = conn.execute(
            "SELECT privacy_unit FROM runs WHERE dataset = ? ORDER BY created_at, run_id LIMIT 1",
            (dataset,),
        ).fetchone()
        unit = first[0] if first is not None else None
        return Budget(DEFAULT_EPSILON, DEFAULT_DELTA, is_default=True, privacy_unit=unit)

    # totals --------------------------------------------------------------------------

    def _costs(self, conn: sqlite3.Connection, dataset: str) -> list[PrivacyCost]:
        spends = conn.execute(
            "SELECT mechanism, params FROM spends WHERE dataset = ?", (dataset,)
        ).fetchall()
        reserved = conn.execute(
            "SELECT reservation FROM runs WHERE dataset = ? AND status = 'reserved'", (dataset,)
        ).fetchall()
        try:
            costs = [from_dict({"mechanism": m, "params": json.loads(p)}) for m, p in spends]
            return costs + [from_dict(json.loads(r)) for (r,) in reserved]
        except (ValueError, TypeError, KeyError, PrivsynthError) as exc:
            raise LedgerError(
                f"ledger {self.path} has an unreadable spend for dataset {dataset!r} "
                f"({type(exc).__name__})",
                hint="it was written by a newer privsynth or edited by hand; restore a backup",
            ) from None

    def status(self, dataset: str) -> BudgetStatus:
        """Budget, composed spend (reservations of unfinished runs included)."""
        with self._connect() as conn:
            return self._status(conn, dataset, [])

    def _status(
        self, conn: sqlite3.Connection, dataset: str, extra: Sequence[PrivacyCost]
    ) -> BudgetStatus:
        budget = self._budget(conn, dataset)
        costs = [*self._costs(conn, dataset), *extra]
        total = compose(costs)
        spent = total.epsilon(budget.delta) if costs else 0.0
        return BudgetStatus(dataset, budget, spent, total.delta)

    # runs ----------------------------------------------------------------------------

    def admit(
        self, dataset: str, limit: PrivacyCost, privacy_unit: str | None = None
    ) -> BudgetStatus:
        """Check, without writing, that a run of cost ``limit`` protecting
        ``privacy_unit`` may run on ``dataset``: called before the data is read."""
        with self._connect() as conn:
            return self._admission(conn, dataset, limit, privacy_unit)

    def _admission(
        self,
        conn: sqlite3.Connection,
        dataset: str,
        limit: PrivacyCost,
        privacy_unit: str | None,
    ) -> BudgetStatus:
        check_dataset_name(dataset)
        before = self._status(conn, dataset, [])
        if before.budget.is_default and self._setting(conn, "require_registered") == "true":
            raise BudgetExceededError(
                f"refused: dataset {dataset!r} has no budget, and this ledger requires "
                "datasets to be registered first",
                hint=f"a custodian sets one first: `Ledger.set_budget({dataset!r}, epsilon=E)`",
            )
        known = not before.budget.is_default or conn.execute(_RUN_UNITS, (dataset,)).fetchone()
        unit = before.budget.privacy_unit
        if known and privacy_unit != unit:
            raise BudgetExceededError(
                f"refused: dataset {dataset!r} is accounted {_unit_text(unit, 'per')}; this run "
                f"protects {_unit_text(privacy_unit)}",
                hint=f"add `privacy_unit={unit}`"
                if unit
                else "drop `privacy_unit`, or register "
                "the data under a new dataset name accounted per person",
            )
        after = self._status(conn, dataset, [limit])
        if after.spent_epsilon > before.budget.epsilon * (1 + 1e-9):
            raise _refusal(dataset, before, limit)
        return after

    @classmethod
    def _setting(cls, conn: sqlite3.Connection, key: str) -> str:
        stored = cls._stored(conn, key)
        return stored if stored is not None else SETTINGS[key]

    def reserve(
        self,
        dataset: str,
        run_id: str,
        limit: PrivacyCost,
        target: tuple[float, float],
        generator: str,
        params: dict[str, Any],
        *,
        fingerprint: str | None = None,
        privacy_unit: str | None = None,
        max_rows_per_unit: int = 1,
    ) -> BudgetStatus:
        """Atomically check that the run may run (:meth:`admit`), that its input's
        ``fingerprint`` is not another dataset's, and reserve ``limit``.

        Raises :class:`BudgetExceededError` (ledger unchanged) when it may not."""
        with self._connect(write=True) as conn:
            after = self._admission(conn, dataset, limit, privacy_unit)
            if fingerprint is not None:
                _claim_fingerprint(conn, dataset, fingerprint)
            conn.execute(
                "INSERT INTO runs (run_id, dataset, status, epsilon, delta, generator, params, "
                "reservation, created_at, privacy_unit, max_rows_per_unit, fingerprint) "
                "VALUES (?, ?, 'reserved', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, dataset, target[0], target[1], generator,
                    json.dumps(params, sort_keys=True), json.dumps(limit.to_dict()), _now(),
                    privacy_unit, max_rows_per_unit, fingerprint,
                ),
            )  # fmt: skip
            return after

    def commit(
        self,
        run_id: str,
        spends: Sequence[Spend],
        failed: bool = False,
        notes: dict[str, Any] | None = None,
    ) -> None:
        """Replace a reservation by the spends the run made.

        A failed run keeps its whole reservation, recorded as one spend (whether a
        run fails may depend on the data, so the failure is paid for), plus
        ``spends`` (e.g. the unbounded cost of seeded noise); its itemised spends
        belong in ``notes``."""
        now = _now()
        with self._connect(write=True) as conn:
            row = conn.execute(
                "SELECT dataset, reservation FROM runs WHERE run_id = ? AND status = 'reserved'",
                (run_id,),
            ).fetchone()
            if row is None:
                raise LedgerError(f"run {run_id} has no open reservation in {self.path}")
            recorded = list(spends)
            if failed:
                recorded.insert(0, Spend(FAILED_RUN, from_dict(json.loads(row[1]))))
            conn.executemany(
                "INSERT INTO spends (run_id, dataset, created_at, purpose, mechanism, params, "
                "rho, delta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [_spend_row(run_id, row[0], now, spend) for spend in recorded],
            )
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, notes = ? WHERE run_id = ?",
                ("failed" if failed else "committed", now, json.dumps(notes or {}), run_id),
            )

    # lineage -------------------------------------------------------------------------

    def record_artifact(
        self,
        run_id: str,
        kind: str,
        path: str | Path,
        sha256: str,
        notes: dict[str, Any] | None = None,
    ) -> bool:
        """Link a file made from a run (``model`` or ``output``) to it, so that an
        erasure request can find everything derived from an input. False (nothing
        recorded) when this ledger does not hold the run."""
        with self._connect(write=True) as conn:
            known = conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if known is None:
                return False
            conn.execute(
                "INSERT INTO artifacts (run_id, kind, path, sha256, created_at, notes) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, kind, str(Path(path).resolve()), sha256, _now(), json.dumps(notes or {})),
            )
        return True

    def artifacts(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Files linked to runs, oldest first (optionally of one run)."""
        where, args = ("WHERE run_id = ?", (run_id,)) if run_id else ("", ())
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(f"SELECT * FROM artifacts {where} ORDER BY id", args)
            return [dict(row) for row in rows.fetchall()]

    def run_of_artifact(self, sha256: str) -> str | None:
        """The run a file (by its SHA-256) was made from, if it was recorded."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT run_id FROM artifacts WHERE sha256 = ? ORDER BY id DESC", (sha256,)
            ).fetchone()
        return str(row[0]) if row else None

    def runs_of_fingerprint(self, fingerprint: str) -> list[dict[str, Any]]:
        """Runs whose input had this keyed fingerprint, oldest first."""
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT * FROM runs WHERE fingerprint = ? ORDER BY created_at, run_id",
                (fingerprint,),
            )
            return [dict(row) for row in rows.fetchall()]

    # reading -------------------------------------------------------------------------

    def datasets(self) -> list[str]:
        """Every dataset with a budget or a run."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT dataset FROM budgets UNION SELECT dataset FROM runs ORDER BY 1"
            ).fetchall()
        return [r[0] for r in rows]

    def runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """Runs, oldest first (optionally of one dataset)."""
        return self._rows("runs", dataset, "created_at, run_id")

    def spends(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """Itemised spends, oldest first (optionally of one dataset)."""
        return self._rows("spends", dataset, "id")

    def _rows(self, table: str, dataset: str | None, order: str) -> list[dict[str, Any]]:
        where, args = ("WHERE dataset = ?", (dataset,)) if dataset else ("", ())
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(f"SELECT * FROM {table} {where} ORDER BY {order}", args)
            return [dict(row) for row in rows.fetchall()]


def _cause(path: Path, exc: sqlite3.Error) -> str:
    """Why SQLite failed, in words: SQLite says "unable to open database file" or "disk
    I/O error" when the real cause is a read-only folder or a full disk."""
    folder = path.parent
    code = str(getattr(exc, "sqlite_errorname", ""))
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return (
            f"{exc}: its folder {folder} is read-only, and SQLite writes "
            f"{path.name}-wal and {path.name}-shm beside it"
        )
    if code.startswith(("SQLITE_FULL", "SQLITE_IOERR")) and _disk_full(folder):
        return f"{exc}: no space left on the disk holding it"
    return str(exc)


def _disk_full(folder: Path) -> bool:
    try:
        space = os.statvfs(folder)
    except OSError:
        return False
    return space.f_bavail * space.f_frsize < _FULL_DISK_BYTES


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _spend_row(run_id: str, dataset: str, now: str, spend: Spend) -> tuple[Any, ...]:
    data = spend.cost.to_dict()
    return (
        run_id,
        dataset,
        now,
        spend.purpose,
        data["mechanism"],
        json.dumps(data["params"], sort_keys=True),
        spend.cost.rho(),
        spend.cost.delta,
    )


def _claim_fingerprint(conn: sqlite3.Connection, dataset: str, fingerprint: str) -> None:
    """Register ``fingerprint`` for ``dataset``, or refuse it if another dataset has it."""
    row = conn.execute(
        "SELECT dataset FROM fingerprints WHERE fingerprint = ?", (fingerprint,)
    ).fetchone()
    if row is not None and row[0] != dataset:
        raise BudgetExceededError(
            f"refused: this input has the same content as dataset {row[0]!r} in the ledger, "
            "whose budget it must spend",
            hint=f"rerun with `dataset={row[0]}`",
        )
    if row is None:
        conn.execute("INSERT INTO fingerprints VALUES (?, ?, ?)", (fingerprint, dataset, _now()))


def check_dataset_name(dataset: str) -> None:
    """A dataset name is required and must be printable on one line."""
    if not isinstance(dataset, str) or not dataset.strip() or not dataset.isprintable():
        raise ConfigurationError(
            f"dataset name must be a non-empty printable string, got {dataset!r}",
            hint="name the budget to charge, e.g. `dataset=visits`",
        )


def _unit_text(unit: str | None, word: str = "each") -> str:
    """A unit as words: "each row", "per patient_id"."""
    return f"{word} row" if unit is None else f"{word} {unit}"


def _units_text(units: set[str | None]) -> str:
    return " and ".join(sorted(_unit_text(u) for u in units))


def _refusal(dataset: str, status: BudgetStatus, limit: PrivacyCost) -> BudgetExceededError:
    needed = limit.epsilon(status.budget.delta)
    return BudgetExceededError(
        f"refused: dataset {dataset!r} has {status.describe()}; this run needs "
        f"ε={_fmt(needed)} at that δ",
        hint=f"lower `epsilon`, or raise the budget: `Ledger.set_budget({dataset!r}, epsilon=E)`",
    )
