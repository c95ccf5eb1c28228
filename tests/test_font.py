"""Tests for :mod:`korean_gan.fontmaker` and ``korean-gan font``: fonts of a style made with the
pretrained model on a small charset, checked the way systems and browsers check them
(fontTools, the OpenType Sanitizer, fontconfig, FreeType through Pillow, headless Chromium)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from korean_gan.cli import main
from korean_gan.fontmaker import FontMakerError, default_family, make_font
from korean_gan.generate import Handwriting

CHARS = "가나다닭꽃읊뷁를늘오"  # simple and complex, seen and held-out syllables
SENTENCE = "가나다 닭꽃, Hello 2026!"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def writer() -> Handwriting:
    return Handwriting.load("default", precision="float32")


@pytest.fixture(scope="module")
def fonts(tmp_path_factory, writer) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fonts")
    made = {}
    for suffix in (".ttf", ".otf", ".woff2"):
        result = make_font(out=folder / f"gaegu{suffix}", style="Gaegu-Regular", charset=CHARS,
                           family="My Hand", progress=False, writer=writer)
        assert result.syllables == len(CHARS) and result.written == 0
        assert result.path.stat().st_size == result.bytes > 0
        assert set(result.stages) == {"generate", "upsample", "trace", "build", "save"}
        made[suffix] = result.path
    return made


def _ots_accepts(path: Path, tmp_path: Path) -> None:
    import ots

    result = ots.sanitize(str(path), str(tmp_path / f"sanitized{path.suffix}"),
                          capture_output=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("suffix", [".ttf", ".otf", ".woff2"])
def test_the_font_reads_back_and_the_sanitizer_accepts_it(fonts, suffix, tmp_path):
    from fontTools.ttLib import TTFont

    font = TTFont(fonts[suffix])
    cmap = font.getBestCmap()
    assert {ord(c) for c in CHARS} <= set(cmap)
    assert {0x20, *range(0x21, 0x7F)} <= set(cmap)  # space, digits, punctuation, Latin
    assert font["name"].getBestFamilyName() == "My Hand"
    assert font["OS/2"].fsType == 0  # installable
    assert font["head"].unitsPerEm == 1000
    glyph_set = font.getGlyphSet()
    from fontTools.pens.boundsPen import BoundsPen

    for char in CHARS:  # every syllable has ink, inside the line
        pen = BoundsPen(glyph_set)
        glyph_set[cmap[ord(char)]].draw(pen)
        assert pen.bounds is not None, char
        x0, y0, x1, y1 = pen.bounds
        assert font["hhea"].descent - 100 < y0 < y1 < font["hhea"].ascent + 100
    _ots_accepts(fonts[suffix], tmp_path)


def test_the_font_has_the_styles_metrics(fonts, writer):
    from fontTools.ttLib import TTFont

    font = TTFont(fonts[".ttf"])
    metrics = writer.font_metrics.font("Gaegu-Regular")
    cmap = font.getBestCmap()
    for char in CHARS:
        assert font["hmtx"][cmap[ord(char)]][0] == round(1000 * metrics.advance(char))
    assert font["hhea"].ascent == round(1000 * metrics.ascender)
    assert font["hhea"].descent == round(1000 * metrics.descender)
    assert font["OS/2"].sTypoAscender == font["hhea"].ascent
    assert font["hmtx"]["space"][0] == round(1000 * metrics.space)
    # Its ink boxes are where the metrics put them (tracing keeps the place to a few units).
    glyph = font["glyf"][cmap[ord("닭")]]
    x0, y0, x1, y1 = (round(1000 * v) for v in metrics.box("닭"))
    assert abs(glyph.xMin - x0) < 30 and abs(glyph.xMax - x1) < 30
    assert abs(glyph.yMin - y0) < 30 and abs(glyph.yMax - y1) < 30


@pytest.mark.skipif(shutil.which("fc-scan") is None, reason="fc-scan (fontconfig) is missing")
def test_fontconfig_reports_the_family(fonts):
    out = subprocess.run(["fc-scan", "--format", "%{family}", str(fonts[".ttf"])],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "My Hand"


def test_pillow_draws_a_mixed_sentence_without_missing_glyphs(fonts, writer):
    from PIL import Image, ImageDraw, ImageFont

    def ink(path):
        font = ImageFont.truetype(str(path), 64)
        image = Image.new("L", (1000, 100), 255)
        ImageDraw.Draw(image).text((10, 10), SENTENCE, font=font, fill=0)
        return np.asarray(image) < 128

    drawn = ink(fonts[".ttf"])
    assert drawn.sum() > 2000
    # Each character by itself draws ink, and the syllables draw what the model wrote.
    from fontTools.ttLib import TTFont

    cmap = TTFont(fonts[".ttf"]).getBestCmap()
    assert all(ord(c) in cmap for c in SENTENCE)
    glyph = _render(fonts[".ttf"], "닭")
    generated = writer.glyphs(CHARS, style="Gaegu-Regular", seed=0)[CHARS.index("닭")]
    assert _iou(glyph < 128, generated < 128) > 0.6


def _render(path: Path, char: str) -> np.ndarray:
    """A syllable of a font file rendered as training glyphs are (32 px, ink fitted)."""
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig

    return GlyphRenderer(load_faces([path])[0], RenderConfig(size=32)).render(char)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: sudo apt-get install "
                                             "chromium (scripts/setup.sh does it as root)")
def test_chromium_renders_the_woff2_as_a_web_font(fonts, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    data = base64.b64encode(fonts[".woff2"].read_bytes()).decode()
    page_html = f"""<html><head><style>
      @font-face {{ font-family: "Mine"; src: url(data:font/woff2;base64,{data}) format("woff2"); }}
      p {{ font: 64px "Mine", monospace; margin: 8px; }}
    </style></head><body><p id="a">{SENTENCE}</p></body></html>"""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 120})
            page.set_content(page_html)
            page.evaluate("document.fonts.ready")
            assert page.evaluate('document.fonts.check(\'64px "Mine"\', "닭")')
            status = page.evaluate("[...document.fonts].map(f => f.status)")
            assert status == ["loaded"]
            with_font = page.screenshot()
            page.set_content(page_html.replace('"Mine", ', ""))
            without = page.screenshot()
        finally:
            browser.close()
    assert with_font != without  # the page looks different in the web font


def test_same_seed_same_font(writer, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # reproducible timestamps
    a = make_font(out=tmp_path / "a.ttf", style="random", charset="가닭", seed=3,
                  progress=False, writer=writer)
    b = make_font(out=tmp_path / "b.ttf", style="random", charset="가닭", seed=3,
                  progress=False, writer=writer)
    c = make_font(out=tmp_path / "c.ttf", style="random", charset="가닭", seed=4,
                  progress=False, writer=writer)
    assert a.family == "Korean GAN random 3"
    assert a.path.read_bytes() == b.path.read_bytes() != c.path.read_bytes()


def test_default_family_names():
    assert default_family("Gaegu-Regular") == "Korean GAN Gaegu"
    assert default_family("random-one", 7) == "Korean GAN random 7"
    assert default_family("styles/my hand.npz") == "Korean GAN my hand"
    assert len(default_family("x" * 80)) == 31


@pytest.mark.parametrize("args, message", [
    (["--style", "NoSuchFont"], "unknown style 'NoSuchFont'"),
    (["--charset", "가A"], "'A' (U+0041), is not a precomposed Hangul syllable"),
    (["--family", "x" * 40], "at most 31"),
    (["--family", "Tab\there"], "printable ASCII and Hangul"),
    (["--out", "font.png"], "give a font file name ending in .ttf"),
    (["--latin-from", "NoSuchFont"], "--latin-from NoSuchFont: no such font file"),
])
def test_bad_requests_are_one_line_errors_and_write_nothing(tmp_path, capsys, monkeypatch,
                                                            args, message):
    monkeypatch.chdir(tmp_path)
    argv = ["font", "--out", "out.ttf", "--charset", "가", "--quiet", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("korean-gan: error: ") and message in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_is_refused_before_any_work(tmp_path, capsys):
    folder = tmp_path / "a-folder.ttf"
    folder.mkdir()
    assert main(["font", "--out", str(folder), "--charset", "가", "--quiet"]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_a_failed_build_leaves_the_previous_font(writer, tmp_path, monkeypatch):
    import korean_gan.data.fontfile as fontfile

    out = tmp_path / "mine.ttf"
    out.write_bytes(b"the previous font")

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fontfile, "_assemble", broken)
    with pytest.raises(KeyboardInterrupt):
        make_font(out=out, style="Gaegu-Regular", charset="가", progress=False, writer=writer)
    assert out.read_bytes() == b"the previous font"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.ttf"]


def test_a_missing_potrace_is_named(writer, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no potrace on this PATH
    with pytest.raises(FontMakerError, match="potrace is not installed: sudo apt-get install"):
        make_font(out=tmp_path / "x.ttf", style="Gaegu-Regular", charset="가",
                  progress=False, writer=writer)
    assert not (tmp_path / "x.ttf").exists()


def test_the_cli_makes_a_web_font(tmp_path, capsys):
    out = tmp_path / "gaegu-like.woff2"
    assert main(["font", "--style", "Gaegu-Regular", "--charset", "가나", "--out", str(out),
                 "--quiet"]) == 0
    assert out.read_bytes()[:4] == b"wOF2"
    said = capsys.readouterr().out
    assert f"wrote {out}" in said and 'family "Korean GAN Gaegu"' in said
    _ots_accepts(out, tmp_path)
