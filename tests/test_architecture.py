"""The house rules that the layout stands for: layers import downwards only, one module owns the
run and model folder format, and nothing heavy happens at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import korean_gan

SRC = Path(korean_gan.__file__).resolve().parent
ROOT = SRC.parents[1]


def test_layers_import_downwards_only():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.fail(f"{lint} is missing: install the dev extras (bash scripts/setup.sh)")
    result = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_a_layer_that_imports_upwards_breaks_the_contract(tmp_path):
    # The contract is live: the same check on a copy with one upward import fails.
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "korean_gan",
                    ignore=shutil.ignore_patterns("*.h5", "*.npz", "__pycache__"))
    bad = copy / "korean_gan" / "evaluation" / "metrics.py"
    bad.write_text(bad.read_text(encoding="utf-8") + "\nimport korean_gan.training.trainer\n",
                   encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(lint), "--config", str(tmp_path / "pyproject.toml")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0
    assert "korean_gan.evaluation.metrics -> korean_gan.training.trainer" in result.stdout


#: Every file and folder name of a run or model folder; only artifacts.py may spell them.
FOLDER_NAMES = ("config.json", "generator.weights.h5", "styles.npz", "model.json",
                "checkpoints", "fixed_noise.npy", "log.csv", "eval.csv", "best.json",
                "generator.best.weights.h5", "samples.gif", "snapshots",
                "recognizer.weights.h5")


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_only_artifacts_defines_the_folder_file_names():
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 30, "the package's modules were not found"
    spelled = [f"{path.relative_to(SRC)}:{line}: {value!r}"
               for path in modules if path.name != "artifacts.py"
               for line, value in _string_constants(path)
               if value in FOLDER_NAMES]
    assert spelled == []
    owner = {value for _, value in _string_constants(SRC / "artifacts.py")}
    assert set(FOLDER_NAMES) <= owner


@pytest.mark.parametrize("module", ["korean_gan", "korean_gan.cli", "korean_gan.artifacts",
                                    "korean_gan.training.config", "korean_gan.data",
                                    "korean_gan.models", "korean_gan.training",
                                    "korean_gan.evaluation", "korean_gan.handwriting"])
def test_importing_loads_no_tensorflow_and_prints_nothing(module):
    code = (f"import sys, {module}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"
    assert result.stderr == ""
