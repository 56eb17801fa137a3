"""Re-run examples/whatif.ipynb in place so its saved outputs match the library.

.venv/bin/python examples/refresh.py      (needs the dev extra: nbclient, ipykernel)
"""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent / "whatif.ipynb"

if __name__ == "__main__":
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    nbformat.write(notebook, NOTEBOOK)
    print(f"refreshed {NOTEBOOK}")
