"""Library messages name parameters by their Python names; only the CLI names its flags
(privsynth.cli.flags maps one to the other), so a Python user never reads `--epsilon`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from privsynth.cli.flags import FLAGS, for_cli

PACKAGE = Path(__file__).resolve().parents[2] / "privsynth"
FLAG = re.compile(r"(?<![\w-])(--[a-z]+(?:-[a-z]+)*|-o)(?![\w-])")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def _library_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts)


def test_the_scan_finds_flags_when_there_are_some() -> None:
    assert FLAG.search("hint: pass --privacy-unit COLUMN")
    assert FLAG.search("choose another -o")
    assert not FLAG.search("--xla_backend_optimization_level=0")
    assert not FLAG.search("a well-known co-occurrence")


@pytest.mark.parametrize("path", _library_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_strings_name_no_cli_flag(path: Path) -> None:
    offending = [(line, text) for line, text in _strings(path) if FLAG.search(text)]
    assert not offending, f"CLI flags in library strings: {offending}"


def test_every_mapped_parameter_becomes_a_real_flag() -> None:
    from typer.main import get_command

    from privsynth.cli.main import app

    command = get_command(app)
    declared = {
        option
        for sub in command.commands.values()  # type: ignore[attr-defined]
        for param in getattr(sub, "params", [])
        for option in getattr(param, "opts", [])
    }
    flags = {flag for flag in FLAGS.values() if flag.startswith("--")}
    assert flags <= declared, flags - declared
    assert for_cli("raise `epsilon`") == "raise --epsilon"
