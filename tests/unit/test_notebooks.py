"""The notebooks run top to bottom against the installed package (so they cannot rot).

Each notebook runs in a Jupyter kernel (a process of its own) through the whole
pipeline, so these runs are ``slow`` (the second step of ``make test``). Every cell is
run even after one fails, and the test fails on any cell that raised, naming them all;
that the check can fail is shown on a notebook whose cell raises.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook, new_output

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def execute(notebook: NotebookNode, folder: Path) -> NotebookNode:
    """Run every cell of ``notebook`` in a fresh kernel started in ``folder``; the
    notebook with its outputs (a cell that raises does not stop the others)."""
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return notebook


def cell_errors(notebook: NotebookNode) -> list[str]:
    """``"cell N: Name: message"`` for every error output of a code cell, and for every
    code cell that never ran (an empty one is never run)."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.source.strip() and cell.get("execution_count") is None:
            found.append(f"cell {index}: never ran")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quickstart.ipynb", "audit.ipynb"])
def test_notebook_executes(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' work folders
    notebook = execute(nbformat.read(NOTEBOOKS / name, as_version=4), NOTEBOOKS)
    assert cell_errors(notebook) == []


@pytest.mark.slow
def test_a_cell_that_raises_fails_the_check(tmp_path: Path) -> None:
    notebook = new_notebook(
        cells=[
            new_code_cell("x = 1"),
            new_code_cell("raise ValueError('the notebook rotted')"),
            new_code_cell("y = x + 1"),
        ]
    )
    executed = execute(notebook, tmp_path)
    assert cell_errors(executed) == ["cell 1: ValueError: the notebook rotted"]
    assert executed.cells[2].execution_count is not None  # the cells after it still ran


def test_error_outputs_and_cells_that_never_ran_are_reported() -> None:
    raised = new_code_cell("1 / 0", execution_count=2)
    raised.outputs = [
        new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])
    ]
    clean = new_code_cell("print('ok')", execution_count=1)
    clean.outputs = [new_output("stream", name="stdout", text="ok\n")]
    cells = [clean, raised, new_code_cell("never = True"), new_code_cell("  \n")]
    notebook = new_notebook(cells=cells)
    assert cell_errors(notebook) == [
        "cell 1: ZeroDivisionError: division by zero",
        "cell 2: never ran",
    ]
