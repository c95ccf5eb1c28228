"""Screenshots of the web app (``korean-gan serve``) for the README and docs/web.md.

Starts the server as a user does (``korean-gan serve --port 0``), drives the page in headless
Chromium (Debian's ``/usr/bin/chromium`` through Playwright, as ``tests/test_browser.py``) and
saves one picture per section, each after its action finished:

- ``media/web_write.png``: a sentence typed, a style picked, the preview written.
- ``media/web_font.png``: ``media/photo.jpg`` (the seed16 sheet, filled in and photographed)
  uploaded; the glyphs read from it, then the specimen of the finished font (``@font-face``).
- ``media/web_data.png``: a data job of text lines made, ready to download.

Takes about two minutes on 2 cores::

    python benchmarks/web_screens.py [--media media]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SENTENCE = "다람쥐 헌 쳇바퀴에 타고파"
BOOT = "import sys\nfrom korean_gan.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def start_server() -> tuple[subprocess.Popen, str]:
    """``korean-gan serve --port 0`` in a subprocess, and the address it prints."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-c", BOOT, "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        found = re.search(r"serving on (http://\S+)", line)
        if found:
            return process, found.group(1)
    process.kill()
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--media", default=str(REPO / "media"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    media = Path(args.media)
    media.mkdir(parents=True, exist_ok=True)
    process, url = start_server()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1000, "height": 1200})
            page.goto(url)
            page.wait_for_selector("#styles button[aria-checked='true']", timeout=120_000)
            page.evaluate("() => document.fonts.ready")
            # Write: a sentence in Gaegu's style.
            before = page.get_attribute("#preview", "src")
            page.fill("#text", SENTENCE)
            page.click("#styles button[data-style^='Gaegu']")
            page.wait_for_function(
                "(before) => { const img = document.getElementById('preview'); return "
                "img.src && img.src !== before && img.complete && img.naturalWidth > 0; }",
                arg=before, timeout=120_000)
            page.wait_for_function("() => [...document.querySelectorAll('#styles img')]"
                                   ".every(img => img.complete && img.naturalWidth > 0)",
                                   timeout=120_000)
            page.locator("#write").screenshot(path=str(media / "web_write.png"))
            # A font of a photographed sheet, for the sentence's syllables.
            page.select_option("#charset", "text")
            page.set_input_files("#photo", str(REPO / "media" / "photo.jpg"))
            page.click("#upload")
            page.wait_for_selector("#result:not([hidden]), #job-error:not(:empty)",
                                   timeout=600_000)
            error = page.text_content("#job-error")
            if error:
                raise SystemExit(f"the font job failed: {error}")
            page.evaluate("() => document.fonts.ready")
            page.locator("#font").screenshot(path=str(media / "web_font.png"))
            # Text lines for a recogniser.
            page.select_option("#data-kind", "lines")
            page.select_option("#data-styles", "random")
            page.select_option("#data-size", "64")
            page.fill("#data-count", "1000")
            page.click("#make-data")
            page.wait_for_selector("#data-result:not([hidden]), #data-error:not(:empty)",
                                   timeout=600_000)
            error = page.text_content("#data-error")
            if error:
                raise SystemExit(f"the data job failed: {error}")
            page.locator("#data").screenshot(path=str(media / "web_data.png"))
            browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    for name in ("web_write.png", "web_font.png", "web_data.png"):
        print(f"wrote {media / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
