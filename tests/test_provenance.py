"""Tests for ``benchmarks/provenance.py``: result files carry the run that produced them."""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HELPER = REPO / "benchmarks" / "provenance.py"
RESULTS = sorted((REPO / "benchmarks" / "results").glob("*.json"))


def load_helper():
    """The helper module, loaded from its file (``benchmarks`` is not a package)."""
    spec = importlib.util.spec_from_file_location("benchmark_provenance", HELPER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def head() -> str:
    try:
        return git("rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")


def cpu_model() -> str | None:
    """The first ``model name`` of /proc/cpuinfo, read independently of the helper."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    found = re.search(r"^model name\s*:\s*(.*)$", text, re.MULTILINE)
    return found.group(1).strip() if found else None


def test_write_result_adds_provenance(tmp_path, monkeypatch, head):
    monkeypatch.setattr(sys, "argv", ["benchmarks/x.py", "--json", "out dir/r.json", "--n", "3"])
    path = tmp_path / "out" / "r.json"
    payload = {"what": "한글 glyphs", "rows": [{"n": 3, "fcd": 1.5}]}
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    load_helper().write_result(path, payload)
    after = datetime.datetime.now(datetime.UTC)

    assert payload == {"what": "한글 glyphs", "rows": [{"n": 3, "fcd": 1.5}]}  # not changed
    text = path.read_text(encoding="utf-8")
    assert "한글" in text and text.endswith("}\n") and text.startswith('{\n  "what"')
    written = json.loads(text)
    assert list(written) == ["what", "rows", "provenance"]
    assert {k: written[k] for k in payload} == payload
    prov = written["provenance"]
    assert set(prov) == {"commit", "dirty", "cpu", "tensorflow", "python", "date", "command"}
    assert prov["commit"] == head
    assert prov["dirty"] == bool(git("status", "--porcelain", "--untracked-files=no"))
    assert prov["command"] == "python benchmarks/x.py --json 'out dir/r.json' --n 3"
    assert prov["cpu"]["cores"] == os.cpu_count()
    assert prov["cpu"]["model"] == cpu_model()
    assert isinstance(prov["cpu"]["amx_bf16"], bool)
    assert isinstance(prov["cpu"]["avx512_bf16"], bool)
    versions = []
    for name in ("tensorflow-cpu", "tensorflow"):
        try:
            versions.append(importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            pass
    assert prov["tensorflow"] == (versions[0] if versions else None)
    assert prov["python"] == platform.python_version()
    date = datetime.datetime.fromisoformat(prov["date"])
    assert date.utcoffset() == datetime.timedelta(0)
    assert before <= date <= after
    # Atomic: the result is renamed into place, no temporary file is left beside it.
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.json"]


def test_write_result_failure_keeps_previous_file(tmp_path):
    helper = load_helper()
    path = tmp_path / "r.json"
    helper.write_result(path, {"a": 1})
    previous = path.read_text(encoding="utf-8")
    with pytest.raises(TypeError, match="not JSON serializable"):
        helper.write_result(path, {"a": object()})
    assert path.read_text(encoding="utf-8") == previous
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_provenance_does_not_import_tensorflow():
    code = (f"import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('p', {str(HELPER)!r})\n"
            f"module = importlib.util.module_from_spec(spec)\n"
            f"spec.loader.exec_module(module)\n"
            f"module.provenance()\n"
            f"assert 'tensorflow' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_committed_results_carry_provenance(path):
    prov = json.loads(path.read_text(encoding="utf-8")).get("provenance")
    assert isinstance(prov, dict), f"{path.name} has no provenance entry"
    assert re.fullmatch(r"[0-9a-f]{40}", prov.get("commit") or ""), prov
    assert datetime.datetime.fromisoformat(prov["date"]).tzinfo is not None
    assert "command" in prov and "cpu" in prov


def test_results_exist():
    assert RESULTS, "no benchmarks/results/*.json found"
