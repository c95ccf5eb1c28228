"""The page of ``korean-gan serve`` in a real browser: headless Chromium (Debian's, driven by
Playwright) against the real server (the ``serve`` command's handler, uvicorn, in a
subprocess on a free port).

Type a sentence and the preview appears; pick another style and it changes; make a font of the
sentence's syllables and download its WOFF2; upload a photo of a filled-in sheet (the synthetic
photo fixture) and download the font of that hand; make a data set and download its zip; an
oversized photo shows the server's message. Screenshots go to /tmp/kg-screens/
(``benchmarks/web_screens.py`` makes the ones in media/).
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENS = Path("/tmp/kg-screens")
SENTENCE = "안녕하세요, 반가워요!"

# One server and one page for the module: its tests stay on one xdist worker.
pytestmark = pytest.mark.xdist_group("browser")

if not CHROMIUM.is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright is not installed (pip install playwright)")
pytest.importorskip("fastapi", reason="the web app needs fastapi and uvicorn")

# Page scripts run under the app's CSP (no eval): waits use selectors or functions, never
# string expressions.
# `korean-gan serve`, as a user starts it.
_BOOT = "import sys\nfrom korean_gan.cli import main\nsys.exit(main(sys.argv[1:]))\n"


@pytest.fixture(scope="module")
def server():
    """The base URL of a running server; stopped after the module."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-c", _BOOT, "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    seen = []
    deadline = time.monotonic() + 180
    url = None
    try:
        while url is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"the server did not start: {''.join(seen)}") from None
            seen.append(line)
            found = re.search(r"serving on (http://\S+)", line)
            url = found.group(1) if found else None
            assert process.poll() is None or url, f"the server exited: {''.join(seen)}"
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def page(server):
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox"])
        context = browser.new_context(accept_downloads=True,
                                      viewport={"width": 1100, "height": 1300})
        page = context.new_page()
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda err: problems.append(str(err)))
        page.goto(server)
        page.problems = problems
        yield page
        browser.close()


def _preview_after(page, action) -> tuple[str, bytes]:
    """The preview's new blob: URL and its pixels (a screenshot) after ``action``."""
    before = page.get_attribute("#preview", "src")
    action()
    page.wait_for_function(f"() => document.getElementById('preview').src !== {before!r}",
                           timeout=60_000)
    page.wait_for_function("() => document.getElementById('preview').complete && "
                           "document.getElementById('preview').naturalWidth > 0")
    return page.get_attribute("#preview", "src"), page.locator("#preview").screenshot()


def test_typing_shows_a_preview_and_a_new_style_changes_it(page):
    page.wait_for_selector("#styles button[aria-checked='true']", timeout=60_000)
    # The page writes its sample text as soon as the styles are there.
    page.wait_for_selector("#preview[src^='blob:']:not([hidden])", timeout=60_000)
    sample_width = page.evaluate("() => document.getElementById('preview').naturalWidth")
    first_src, first = _preview_after(page, lambda: page.fill("#text", SENTENCE))
    assert first_src.startswith("blob:")
    assert page.evaluate("() => document.getElementById('preview').naturalWidth") \
        != sample_width
    second_src, second = _preview_after(
        page, lambda: page.click("#styles button[data-style^='DoHyeon']"))
    assert second_src != first_src and second != first
    assert page.get_attribute("#download-png", "href") == second_src
    with page.expect_download() as download:
        page.click("#download-svg")
    assert download.value.suggested_filename == "handwriting.svg"
    svg = Path(download.value.path()).read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<path " in svg and f"<title>{SENTENCE}</title>" in svg
    page.wait_for_function("() => [...document.querySelectorAll('#styles img')].every("
                           "img => img.complete && img.naturalWidth > 0)", timeout=60_000)
    page.screenshot(path=str(SCREENS / "preview.png"), full_page=True)
    assert page.text_content("#write-error") == ""


def test_a_font_of_the_sentence_is_made_and_downloads(page, tmp_path):
    from fontTools.ttLib import TTFont

    page.fill("#text", SENTENCE)
    page.select_option("#charset", "text")
    page.click("#make-font")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    assert page.evaluate("() => document.getElementById('job-progress').value") == 1
    assert page.text_content("#job-error") == ""
    # The specimen is set in the job's font (loaded from a blob: URL under the CSP).
    family = page.evaluate("() => document.getElementById('specimen').style.fontFamily")
    name = re.search(r"KoreanGANJob\d+", family).group(0)
    assert page.evaluate(f"() => document.fonts.check('20px {name}', '안')")
    page.screenshot(path=str(SCREENS / "font.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#download-woff2")
    path = tmp_path / "font.woff2"
    download.value.save_as(path)
    font = TTFont(path)
    syllables = {c for c in SENTENCE if "가" <= c <= "힣"}
    assert {ord(c) for c in syllables} <= set(font.getBestCmap())
    with page.expect_download() as download:
        page.click("#download-ttf")
    download.value.save_as(tmp_path / "font.ttf")
    assert {ord(c) for c in syllables} <= set(TTFont(tmp_path / "font.ttf").getBestCmap())


@pytest.fixture(scope="module")
def filled_photo(tmp_path_factory) -> Path:
    """A photo of the seed16 sheet filled in with a bundled font (tests/test_template_ingest)."""
    import numpy as np

    from korean_gan.data.fonts import bundled_font_dir, load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig
    from korean_gan.handwriting.template import make_layout
    from test_template_ingest import fill_page, photograph

    face = load_faces([bundled_font_dir() / "CuteFont-Regular.ttf"])[0]
    rng = np.random.default_rng(11)
    photo = photograph(fill_page(make_layout("seed16"), 0,
                                 GlyphRenderer(face, RenderConfig(size=128)), rng), rng)
    path = tmp_path_factory.mktemp("photo") / "my-sheet.jpg"
    path.write_bytes(photo)
    return path


def test_a_photo_of_the_sheet_becomes_a_font(page, filled_photo, tmp_path):
    from fontTools.ttLib import TTFont

    from korean_gan.data.charsets import SEED16

    page.fill("#text", "가나다라")
    page.select_option("#charset", "text")
    page.set_input_files("#photo", str(filled_photo))
    page.click("#upload")
    # What was read from the photo shows while the font is made.
    page.wait_for_selector("#ingested-box:not([hidden])", timeout=120_000)
    caption = page.text_content("#ingested-caption")
    assert "read 16 syllables" in caption and "".join(sorted(SEED16)) in caption
    page.wait_for_selector("#result:not([hidden])", timeout=300_000)
    assert page.text_content("#job-error") == ""
    assert page.evaluate("() => document.getElementById('job-progress').value") == 1
    assert "as you wrote them" in page.text_content("#font-info")
    page.screenshot(path=str(SCREENS / "photo-font.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#download-woff2")
    path = tmp_path / "mine.woff2"
    download.value.save_as(path)
    font = TTFont(path)
    assert font.flavor == "woff2"
    assert {ord(c) for c in "가나다라"} <= set(font.getBestCmap())


def test_a_data_set_is_made_and_downloads_as_a_zip(page, tmp_path):
    import zipfile

    page.select_option("#data-kind", "lines")
    assert page.is_visible("#data-lines") and not page.is_visible("#data-glyphs")
    page.fill("#data-count", "4")
    page.fill("#data-text", "오늘은 날씨가 좋다\n내일도 맑음")
    page.click("#make-data")
    page.wait_for_selector("#data-result:not([hidden])", timeout=120_000)
    assert page.text_content("#data-error") == ""
    page.screenshot(path=str(SCREENS / "data.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#download-data")
    path = tmp_path / "lines.zip"
    download.value.save_as(path)
    assert download.value.suggested_filename == "korean-gan-lines-4-32px.zip"
    with zipfile.ZipFile(path) as archive:
        labels = archive.read("lines/labels.txt").decode("utf-8").splitlines()
    assert [line.split("\t")[1] for line in labels] == ["오늘은 날씨가 좋다", "내일도 맑음"] * 2


def test_an_oversized_photo_shows_the_message(page):
    page.set_input_files("#photo", files=[{"name": "huge.jpg", "mimeType": "image/jpeg",
                                           "buffer": b"\xff\xd8" + bytes(21 * 2**20)}])
    page.click("#upload")
    page.wait_for_selector("#job-error:not(:empty)", timeout=60_000)
    message = page.text_content("#job-error")
    assert "larger than 20 MB" in message, message
    page.screenshot(path=str(SCREENS / "upload-error.png"), full_page=True)
    assert not page.problems or all("413" in p or "Failed to load" in p
                                    for p in page.problems), page.problems
