"""The notebook runs top to bottom with a tiny setting (its parameters cell replaced)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "ganadalama.ipynb"


def run_notebook(path, parameters: list[str]):
    """Executes a notebook with its parameters cell replaced; returns it with outputs.

    Also checks that it ran without errors and wrote nothing next to itself.
    """
    before = sorted(p.name for p in path.parent.iterdir())
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "the notebook needs exactly one cell tagged 'parameters'"
    names = {line.split("=")[0].strip() for line in parameters}
    assert names <= {line.split("=")[0].strip() for line in params[0].source.splitlines()
                     if "=" in line}
    params[0].source = "\n".join(parameters)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [f"{o['ename']}: {o['evalue']}" for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert sorted(p.name for p in path.parent.iterdir()) == before
    return nb


@pytest.mark.slow
def test_ganadalama_notebook_runs_top_to_bottom(two_fonts, tmp_path):
    nb = run_notebook(NOTEBOOK, [
        "EPOCHS = 1",
        f"FONTS = {[str(f) for f in two_fonts]!r}",
        "CHARSET = 'seed16'",
        f"WORK_DIR = {str(tmp_path / 'work')!r}",
    ])
    run = tmp_path / "work" / "run"
    assert (run / "samples.gif").is_file()
    assert (tmp_path / "work" / "seed16.npz").is_file()
    # The GIF is shown inline, and the last cell prints the sample metrics.
    gif_cell = next(c for c in nb.cells if "samples.gif" in c.source)
    assert any("image/gif" in o.get("data", {}) for o in gif_cell.outputs)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "FCD" in printed and "legibility" in printed


CONDITIONAL = NOTEBOOK.parent / "conditional.ipynb"


@pytest.mark.slow
def test_conditional_notebook_runs_top_to_bottom(two_fonts, tmp_path):
    nb = run_notebook(CONDITIONAL, [
        'MODEL = "default"',
        'TEXT = "가나 다"',
        "SYNTH_PER_CLASS = 2",
        "TRAIN_EPOCHS = 1",
        f"FONTS = {[str(f) for f in two_fonts]!r}",
        f"WORK_DIR = {str(tmp_path / 'work')!r}",
    ])
    work = tmp_path / "work"
    assert (work / "synth-seed16.npz").is_file()
    assert (work / "run" / "generator.weights.h5").is_file()
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "content accuracy" in printed and "refused: no font can draw '中' (U+4E2D)" in printed
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert figures == 4  # the sample sheet, the sentences, a mixed sentence, your own model's line
