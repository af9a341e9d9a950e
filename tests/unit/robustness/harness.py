"""What every hostile-input test checks: a documented exit status, one clear line and
no traceback, earlier outputs byte-identical, and the ledger byte-identical when the
failure was decided before any row was read."""

from __future__ import annotations

from pathlib import Path

from cli_inprocess import Outcome

#: exit statuses documented in the README and docs/compliance.md: 2 input or
#: configuration, 3 budget refused, 4 ledger; 5 an audit whose policy failed
DOCUMENTED = {2, 3, 4}
AUDIT_FAILED = 5
#: bytes an earlier run left at an output path
PREVIOUS = b"written by an earlier run\n"


def error_line(outcome: Outcome) -> str:
    """The single ``error:`` line of a failed command (asserting there is only it)."""
    assert "Traceback" not in outcome.stderr + outcome.stdout
    assert "internal error" not in outcome.stderr, outcome.stderr
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, outcome.stderr
    assert lines[-1] == errors[0], outcome.stderr  # warnings may come first, never after
    message = errors[0][len("error: ") :]
    assert len(message.strip()) > 10, message
    return message


def assert_succeeded(outcome: Outcome, audit: bool = False) -> None:
    allowed = {0, AUDIT_FAILED} if audit else {0}
    assert outcome.code in allowed, outcome.stderr
    assert "Traceback" not in outcome.stderr + outcome.stdout
    assert "internal error" not in outcome.stderr, outcome.stderr
    assert "error: " not in outcome.stderr, outcome.stderr


def assert_handled(outcome: Outcome, audit: bool = False) -> str | None:
    """Success, or a documented failure with one clear line; the message if it failed."""
    if outcome.code == 0 or (audit and outcome.code == AUDIT_FAILED):
        assert_succeeded(outcome, audit)
        return None
    assert outcome.code in DOCUMENTED, (outcome.code, outcome.stderr)
    return error_line(outcome)


def ledger_files(folder: Path, name: str = "ledger.db") -> dict[str, bytes]:
    """The bytes of a ledger and of its companions (WAL, shared memory, key file)."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob(f"{name}*")) if p.is_file()}


def files_under(path: Path) -> dict[str, bytes]:
    """The bytes of a file, or of every file under a folder, by relative path."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }
