"""The documentation: the MkDocs site builds in strict mode, the README is a short front door,
and every file the README links to exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_docs_site_builds_strictly(tmp_path):
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    # The API reference is generated from the docstrings of the reorganised package.
    for name in ("korean_gan.generate.Handwriting", "korean_gan.artifacts.export_model",
                 "korean_gan.training.config.ConditionalConfig"):
        assert name in api, name


def test_the_readme_is_one_screen_and_its_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert len(local) > 20
    missing = [link for link in local if not (ROOT / link).exists()]
    assert missing == []
    # Every results figure points at a committed result file or a model card.
    results = text.split("## Results", 1)[1].split("\n## ", 1)[0]
    sources = set(re.findall(r"\]\(((?:benchmarks/results|src/korean_gan/pretrained)/[^)]+)\)",
                             results))
    assert len(sources) >= 6 and all((ROOT / s).is_file() for s in sources)
