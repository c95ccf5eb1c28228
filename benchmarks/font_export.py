"""Font export (``korean_gan.fontmaker``): are the fonts valid, faithful and cheap to make?

For the style Gaegu-Regular and one ``random`` style (seed 0), full fonts of all 11,172
syllables are made as TTF, OTF and WOFF2, each in a fresh process, and measured:

1. **Validity** of each file: fontTools reads it back (cmap holds every syllable, the space
   and printable ASCII; no empty Hangul glyph; ink inside the usWin ascent and descent); the
   OpenType Sanitizer (OTS) accepts it; ``fc-scan`` reports its family; Pillow renders
   "2026년 12월, Hello 안녕!" with no missing glyph; headless Chromium loads it as an
   ``@font-face`` (``document.fonts`` status, and the DevTools protocol's fonts used for each
   line: the font itself, no fallback), and screenshots a specimen of the WOFF2 fonts.
2. **Round trip**: the TTF's ks2350 syllables rendered at 32 px by the project's renderer (as
   the training data) and read by the evaluator, against the generator's raw 32 px glyphs the
   font was traced from (same style, seed, noise); seen (ks2350-train) and held-out
   (ks2350-holdout) apart. FCD (Fréchet distance of the evaluator's features) between round
   trip and raw glyphs, and at equal sample size on two random halves of the syllables (round
   trip of one half vs raw of the other) beside the real-halves floor (raw vs raw, same halves).
3. **Cost**: seconds per stage (``FontResult.stages``), wall time of the whole process (start,
   imports, model load, all stages), its peak resident memory (``os.wait4``), file sizes beside
   the bundled fonts'; and the CLI (``korean-gan font --quiet``) once, for the same bytes.
4. **Pictures**: ``media/font_specimen.png`` (Pillow: the exported fonts beside the real
   Gaegu) and ``media/font_browser.png`` (Chromium).

Took 11 minutes on 2 cores (one of them busy with another job)::

    python benchmarks/font_export.py [--charset all11172] [--work /tmp/font_export] \\
        [--json benchmarks/results/font_export.json] [--media media]

``media/font_own_hand.png`` is not made here: it shows a ks2350 font from ``media/photo.jpg``
(``korean-gan ingest media/photo.jpg --charset seed16 --out mine.npz``, ``korean-gan adapt
--style-from mine.npz --out mine-style.npz``, ``korean-gan font --style mine-style.npz
--charset ks2350 --out mine.ttf``), typeset with Pillow.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import REPO, write_result  # noqa: E402

STYLES = {"Gaegu-Regular": "Gaegu-Regular", "random": "random-one"}  # font style -> glyphs()
FORMATS = (".ttf", ".otf", ".woff2")
TEST_LINE = "2026년 12월, Hello 안녕!"
PANGRAM = "다람쥐 헌 쳇바퀴에 타고파"
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", "TF_CPP_MIN_LOG_LEVEL": "2"}
WORKER = """import json, sys
from korean_gan.fontmaker import FontConfig, make_font
r = make_font(FontConfig(out=sys.argv[1], style=sys.argv[2], charset=sys.argv[3], seed=0,
                         progress=False))
print(json.dumps({"family": r.family, "seconds": r.seconds, "stages": r.stages,
                  "latin_from": [str(p) for p in r.latin_from]}))
"""


def _run(cmd: list[str], log: Path) -> tuple[float, int, int]:
    """Runs ``cmd``, output to ``log``: (wall seconds, peak RSS in MB, return code)."""
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=ENV, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, round(usage.ru_maxrss / 1024), proc.returncode


def make_fonts(work: Path, charset: str) -> tuple[dict, dict]:
    """Item 3: every style and format in a fresh process; the CLI once."""
    cost, paths = {}, {}
    for style in STYLES:
        for suffix in FORMATS:
            path = work / f"{style}{suffix}"
            wall, rss, rc = _run([sys.executable, "-c", WORKER, str(path), style, charset],
                                 path.with_suffix(".log"))
            if rc:
                raise SystemExit(f"make_font {style} {suffix} failed, see {path}.log")
            info = json.loads(path.with_suffix(".log").read_text().strip().splitlines()[-1])
            cost[f"{style}{suffix}"] = {**info, "process_seconds": round(wall, 1),
                                        "peak_rss_mb": rss, "bytes": path.stat().st_size}
            paths[(style, suffix)] = path
            print(f"made {path.name}: {wall:.0f} s, {rss} MB, {path.stat().st_size / 1e6:.2f} MB,"
                  f" stages {info['stages']}", flush=True)
    cli = work / "cli-Gaegu-Regular.ttf"
    cmd = [str(Path(sys.executable).with_name("korean-gan")), "font", "--style", "Gaegu-Regular",
           "--out", str(cli), "--charset", charset, "--quiet"]
    wall, rss, rc = _run(cmd, cli.with_suffix(".log"))
    same = rc == 0 and _sha(cli) == _sha(paths[("Gaegu-Regular", ".ttf")])
    cost["cli_Gaegu-Regular.ttf"] = {"command": " ".join(cmd[1:]), "returncode": rc,
                                     "process_seconds": round(wall, 1), "peak_rss_mb": rss,
                                     "same_bytes_as_api": same}
    print(f"CLI: {wall:.0f} s, {rss} MB, same bytes as make_font: {same}", flush=True)
    return cost, paths


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validate(path: Path, family: str, chars: list[str]) -> dict:
    """Item 1 without the browser: fontTools, OTS, fc-scan, Pillow."""
    import ots
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont
    from PIL import ImageFont

    font = TTFont(path)
    cmap = font.getBestCmap()
    wanted = {ord(c) for c in chars} | set(range(0x20, 0x7F))
    glyphs = font.getGlyphSet()
    empty, top, bottom = 0, 0, 0
    for c in chars:
        pen = BoundsPen(glyphs)
        glyphs[cmap[ord(c)]].draw(pen)
        if pen.bounds is None:
            empty += 1
        else:
            top, bottom = max(top, pen.bounds[3]), min(bottom, pen.bounds[1])
    os2, hhea = font["OS/2"], font["hhea"]
    fonttools = {"missing_codepoints": len(wanted - set(cmap)), "glyphs": len(font.getGlyphOrder()),
                 "empty_hangul_glyphs": empty, "units_per_em": font["head"].unitsPerEm,
                 "hhea_ascent_descent_gap": [hhea.ascent, hhea.descent, hhea.lineGap],
                 "win_ascent_descent": [os2.usWinAscent, os2.usWinDescent],
                 "hangul_ink_y_range": [round(bottom, 2), round(top, 2)],
                 "ink_inside_win": (round(top) <= os2.usWinAscent
                                    and -round(bottom) <= os2.usWinDescent),
                 "name_family": font["name"].getDebugName(1)}
    fonttools["ok"] = (not fonttools["missing_codepoints"] and not empty
                       and fonttools["ink_inside_win"] and fonttools["name_family"] == family)
    done = ots.sanitize(str(path), str(path.with_suffix(".ots")), capture_output=True,
                        text=True)
    path.with_suffix(".ots").unlink(missing_ok=True)
    messages = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    scan = subprocess.run(["fc-scan", "--format", "%{family}", str(path)], capture_output=True,
                          text=True).stdout
    pil = ImageFont.truetype(str(path), 48)
    notdef = pil.getmask("\uffff").getbbox()  # not in the font: its .notdef box
    missing = [c for c in TEST_LINE if c != " " and (ord(c) not in cmap
                                                     or pil.getmask(c).getbbox() in (None, notdef))]
    return {"bytes": path.stat().st_size, "fonttools": fonttools,
            "ots": {"ok": done.returncode == 0, "returncode": done.returncode,
                    "messages": messages[:20]},
            "fc_scan": {"ok": scan == family, "family": scan},
            "pillow": {"ok": not missing, "missing": missing,
                       "line_width_px": round(pil.getlength(TEST_LINE))}}


def browser(fonts: dict[str, tuple[Path, str]], shown: list[str], picture: Path) -> dict:
    """Item 1 in Chromium: each font an @font-face (file:// URL) on one page; its status in
    ``document.fonts``, and which fonts drew each line (DevTools protocol,
    CSS.getPlatformFontsForNode); then a screenshot of the fonts in ``shown`` alone."""
    from playwright.sync_api import sync_playwright

    work = next(iter(fonts.values()))[0].parent
    faces = "".join(f'@font-face{{font-family:"{key}";src:url("{path.name}")}}\n'
                    for key, (path, _) in fonts.items())
    body = ""
    for i, key in enumerate(fonts):
        lines = [(64, PANGRAM), (40, PANGRAM), (24, PANGRAM), (40, TEST_LINE), (20, TEST_LINE)]
        body += (f'<section id="s{i}"><h2>{fonts[key][1]} &mdash; {fonts[key][0].name}</h2>'
                 + "".join(f'<p id="f{i}l{j}" style="font:{size}px \'{key}\'">{text}</p>'
                           for j, (size, text) in enumerate(lines)) + "</section>")
    page_file = work / "specimen.html"
    page_file.write_text(f"<!doctype html><meta charset=utf-8><style>{faces}body{{margin:24px;"
                         "background:#fff;font-family:sans-serif}h2{font-size:16px;color:#555;"
                         f"margin:18px 0 4px}}p{{margin:4px 0}}</style>{body}", encoding="utf-8")
    out = {}
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = chrome.new_page(viewport={"width": 1000, "height": 600})
        page.goto(page_file.as_uri())
        status = page.evaluate("""async () => { await document.fonts.ready; const s = {};
            document.fonts.forEach(f => { s[f.family.replaceAll('"', '')] = f.status; });
            return s; }""")
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        for i, key in enumerate(fonts):
            used = set()
            for j in range(5):
                node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f"#f{i}l{j}"})
                used |= {(f["familyName"], f["isCustomFont"]) for f in cdp.send(
                    "CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]}
            check = page.evaluate(f"document.fonts.check('40px \"{key}\"', {TEST_LINE!r})")
            out[key] = {"status": status.get(key), "fonts_check": check,
                        "fonts_used": sorted(f"{name}{' (web font)' if web else ''}"
                                             for name, web in used)}
            out[key]["ok"] = (out[key]["status"] == "loaded" and check
                              and used == {(fonts[key][1], True)})
        for i, key in enumerate(fonts):
            if key not in shown:
                page.evaluate(f"document.getElementById('s{i}').style.display = 'none'")
        page.screenshot(path=str(picture), full_page=True)
        out["chromium"] = chrome.version
        chrome.close()
    return out


def round_trip(hw, evaluator, ttf: Path, glyph_style: str, every: list[str], rng) -> dict:
    """Item 2 for one style's TTF, whose charset is ``every`` (the noise follows its order)."""
    from korean_gan.data.charsets import ks2350, ks2350_holdout
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig, fit_to_box
    from korean_gan.evaluation.metrics import frechet_distance_from_activations as fcd

    chars = list(ks2350().chars)
    position = {c: i for i, c in enumerate(every)}
    raw = hw.glyphs(every, style=glyph_style, seed=0)[[position[c] for c in chars]]
    renderer = GlyphRenderer(load_faces([ttf], strict=True)[0], RenderConfig(size=32))
    rendered = [renderer.render(c) for c in chars]
    renderer.close()
    blank = [c for c, im in zip(chars, rendered, strict=True) if im is None]
    trip = np.stack([np.full((32, 32), 255, np.uint8) if im is None else im for im in rendered])
    # The same path without tracing: the upsampler's 128 px glyphs cropped and fitted to 32 px.
    large = hw.upsample(raw, styles=hw.style_vectors(glyph_style, len(raw), 0))
    fitted = np.stack([fit_to_box(im, RenderConfig(size=32)) for im in large])
    labels = evaluator.label_map(ks2350())
    f_raw, p_raw = evaluator.predict(raw)
    f_trip, p_trip = evaluator.predict(trip)
    p_fit = evaluator.predict(fitted)[1]
    held = np.isin(chars, ks2350_holdout().chars)
    out = {"blank_renders": blank}
    for name, mask in (("seen", ~held), ("held_out", held), ("all", np.ones_like(held))):
        acc_raw = float((p_raw[mask].argmax(1) == labels[mask]).mean())
        acc_trip = float((p_trip[mask].argmax(1) == labels[mask]).mean())
        out[name] = {"glyphs": int(mask.sum()), "accuracy_raw": round(acc_raw, 4),
                     "accuracy_round_trip": round(acc_trip, 4),
                     "ratio": round(acc_trip / acc_raw, 4),
                     "accuracy_upsampled_untraced": round(float(
                         (p_fit[mask].argmax(1) == labels[mask]).mean()), 4),
                     "same_reading": round(float((p_raw[mask].argmax(1)
                                                  == p_trip[mask].argmax(1)).mean()), 4)}
    half = rng.permutation(len(chars))
    a, b = half[: len(chars) // 2], half[len(chars) // 2:]
    out["fcd"] = {"round_trip_vs_raw": round(fcd(f_trip, f_raw), 3),
                  "halves_round_trip_a_vs_raw_b": round(fcd(f_trip[a], f_raw[b]), 3),
                  "floor_halves_raw_a_vs_raw_b": round(fcd(f_raw[a], f_raw[b]), 3),
                  "note": "halves: the 2,350 syllables split at random in two (1,175 each); "
                          "the floor compares the raw glyphs of one half with the other's"}
    return out


def specimen(rows: list[tuple[str, Path]], picture: Path) -> None:
    """Item 4: each font's label, the pangram at several sizes and the test line (Pillow)."""
    from PIL import Image, ImageDraw, ImageFont

    label_font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 18)
    lines = [(64, PANGRAM), (40, PANGRAM), (24, PANGRAM), (40, TEST_LINE)]
    image = Image.new("L", (1000, len(rows) * 400), 255)
    draw = ImageDraw.Draw(image)
    y = 12
    for label, path in rows:
        draw.text((20, y), label, font=label_font, fill=90)
        y += 32
        for size, text in lines:
            draw.text((20, y), text, font=ImageFont.truetype(str(path), size), fill=0)
            y += round(size * 1.35)
        draw.line((20, y + 8, 980, y + 8), fill=200)
        y += 24
    image.crop((0, 0, 1000, y - 12)).save(picture)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--charset", default="all11172", help="syllables of each font")
    parser.add_argument("--work", default="/tmp/font_export", help="where the fonts go")
    parser.add_argument("--json", default="benchmarks/results/font_export.json")
    parser.add_argument("--media", default="media")
    args = parser.parse_args()

    from korean_gan.data.charsets import ks2350, resolve_charset
    from korean_gan.evaluation.evaluator import find_evaluator
    from korean_gan.generate import Handwriting

    started = time.perf_counter()
    work, media = Path(args.work), Path(args.media)
    work.mkdir(parents=True, exist_ok=True)
    media.mkdir(parents=True, exist_ok=True)
    chars = list(resolve_charset(args.charset).chars)
    result = {"charset": args.charset, "syllables": len(chars), "seed": 0,
              "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    cost, paths = make_fonts(work, args.charset)
    bundled = sorted(p.stat().st_size for p in (REPO / "fonts").glob("*.ttf"))
    result["cost"] = {"fonts": cost, "bundled_ttf_bytes": {
        "Gaegu-Regular": (REPO / "fonts/Gaegu-Regular.ttf").stat().st_size,
        "min": bundled[0], "median": bundled[len(bundled) // 2], "max": bundled[-1],
        "count": len(bundled)}}
    families = {style: cost[f"{style}.ttf"]["family"] for style in STYLES}
    validity = {}
    for (style, _), path in paths.items():
        validity[path.name] = validate(path, families[style], chars)
        v = validity[path.name]
        print(f"valid {path.name}: fontTools {v['fonttools']['ok']} OTS {v['ots']['ok']} "
              f"fc-scan {v['fc_scan']['ok']} Pillow {v['pillow']['ok']}", flush=True)
    web = {f"{style} {suffix[1:]}": (path, families[style]) for (style, suffix), path
           in paths.items()}
    chrome = browser(web, [k for k in web if k.endswith("woff2")], media / "font_browser.png")
    for key, row in chrome.items():
        if isinstance(row, dict):
            name = web[key][0].name
            validity[name]["chromium"] = row
            print(f"chromium {name}: {row}", flush=True)
    result["validity"] = validity
    result["chromium"] = chrome["chromium"]

    hw = Handwriting.load("default", precision="float32")
    evaluator = find_evaluator(ks2350())
    result["evaluator"] = evaluator.name
    if set(ks2350().chars) <= set(chars):
        rng = np.random.default_rng(0)
        result["round_trip"] = {style: round_trip(hw, evaluator, paths[(style, ".ttf")],
                                                  STYLES[style], chars, rng)
                                for style in STYLES}
        print(json.dumps(result["round_trip"], ensure_ascii=False, indent=1), flush=True)
    specimen([("fonts/Gaegu-Regular.ttf (the real font)", REPO / "fonts/Gaegu-Regular.ttf"),
              (f"exported: {families['Gaegu-Regular']} (Gaegu-Regular.ttf, made by korean-gan)",
               paths[("Gaegu-Regular", ".ttf")]),
              (f"exported: {families['random']} (random style, seed 0)",
               paths[("random", ".ttf")])], media / "font_specimen.png")
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
