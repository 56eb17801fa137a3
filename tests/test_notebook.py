"""The what-if notebook runs from top to bottom on the current library, so it never goes stale."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "whatif.ipynb"


def test_whatif_notebook_runs_and_shows_its_answer():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    saved = _outputs(notebook)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    fresh = _outputs(notebook)
    assert not [o for o in fresh if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in fresh), "the figure is missing"
    assert [_text(o) for o in fresh] == [_text(o) for o in saved], (
        "the notebook's saved outputs are stale: run .venv/bin/python examples/refresh.py"
    )


def _outputs(notebook):
    return [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]


def _text(output):
    """What a reader sees as text (printed lines, tables as text), not HTML or image bytes."""
    return output.get("text") or output.get("data", {}).get("text/plain")
