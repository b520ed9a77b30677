"""Every tutorial notebook runs top to bottom, and is committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

FOUND = (Path(__file__).resolve().parent.parent / "notebooks").glob("**/*.ipynb")  # zh/ too
NOTEBOOKS = sorted(path for path in FOUND if ".ipynb_checkpoints" not in path.parts)


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb files"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name + "/" + p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code_cells = [(i, cell) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    dirty = [i for i, cell in code_cells if cell.outputs or cell.execution_count]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name + "/" + p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]):
    # The kernel inherits the environment: with the switch, notebook 8 takes the 8x8 digits even on
    # a machine with MNIST or Fashion-MNIST installed, and runs in seconds rather than minutes.
    monkeypatch.setenv("CHAINRULE_NO_MNIST", "1")
    # ipykernel warns at every start that loopback TCP is unencrypted; the docs build hushes it the same way.
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text('c.IPKernelApp.log_level = "ERROR"\n', encoding="utf-8")
    monkeypatch.setenv("IPYTHONDIR", str(profile.parent))
    notebook = nbformat.read(path, as_version=4)
    # Run from a scratch folder so that files a notebook writes never land in the source tree.
    scratch = {"metadata": {"path": str(tmp_path)}}
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources=scratch)
    client.execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert "without encryption" not in capfd.readouterr().err  # no alarming noise from the kernel
    if path.stem == "08_fashion_mnist":
        printed = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
        assert "using the 8x8 digits" in printed
