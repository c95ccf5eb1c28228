"""Tests for :mod:`korean_gan.server`: every endpoint of the web app through FastAPI's
TestClient, with the pretrained model loaded once and tiny fonts ("가나다").

Bad requests and uploads must get a one-line JSON message (never a stack trace nor a server
path); font jobs are run end to end from a style and from a synthetic photo of a filled-in
sheet (a bundled font written into the seed16 template and photographed, as in
tests/test_template_ingest.py).
"""

from __future__ import annotations

import io
import re
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

fastapi = pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install "
                              "fastapi uvicorn python-multipart httpx)")
from fastapi.testclient import TestClient  # noqa: E402

from korean_gan.generate import Handwriting  # noqa: E402
from korean_gan.server import create_app  # noqa: E402
from korean_gan.server.app import CSP, MAX_TEXT, STATIC_DIR  # noqa: E402

CHARS = "가나다"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def writer() -> Handwriting:
    return Handwriting.load("default", precision="float32")


@pytest.fixture(scope="module")
def job_root(tmp_path_factory):
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture(scope="module")
def app(writer, job_root):
    # Few adapt steps: the photo job's flow is under test here, not the fit.
    return create_app(writer=writer, adapt_steps=20, job_root=job_root)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:  # runs the lifespan: warm-up, then closing the jobs
        yield client


def _as(app, ip: str) -> TestClient:
    """Another client (IP address) of the same running app."""
    return TestClient(app, client=(ip, 50000))


def _wait(client: TestClient, job: str, timeout: float = 300.0) -> tuple[dict, list[dict]]:
    """Polls a job until it ends; returns its last status and every status seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/api/jobs/{job}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if seen[-1]["state"] in ("done", "failed"):
            return seen[-1], seen
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not end in {timeout} s: {seen[-1]}")


def _detail(response) -> str:
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    assert "\n" not in body["detail"] and "Traceback" not in body["detail"]
    return body["detail"]


def _font_cmap(data: bytes) -> set[int]:
    from fontTools.ttLib import TTFont

    return set(TTFont(io.BytesIO(data)).getBestCmap())


# --- the page -----------------------------------------------------------------------------------

def test_the_page_is_served_with_a_csp_and_loads_nothing_from_elsewhere(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/html")
    assert response.headers["content-security-policy"] == CSP
    assert "default-src 'self'" in CSP and "img-src 'self' blob: data:" in CSP
    assert "font-src 'self' blob: data:" in CSP
    html = response.text
    for asset in ("/static/app.js", "/static/app.css"):
        assert asset in html
        served = client.get(asset)
        assert served.status_code == 200 and served.headers["content-security-policy"] == CSP
    shipped = sorted(STATIC_DIR.iterdir())
    assert {p.name for p in shipped} == {"index.html", "app.js", "app.css"}
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), path.name
        assert "<style" not in text and " style=" not in text  # the CSP forbids inline CSS
    assert "<script>" not in html  # ... and inline scripts
    # Korean labels fall back to a bundled font that the server itself serves.
    font = client.get("/ui-font.ttf")
    assert font.status_code == 200 and font.headers["content-type"] == "font/ttf"
    from fontTools.ttLib import TTFont

    assert ord("글") in TTFont(io.BytesIO(font.content)).getBestCmap()
    assert 'url("/ui-font.ttf")' in (STATIC_DIR / "app.css").read_text(encoding="utf-8")


def test_openapi_is_served_and_the_cdn_docs_page_is_not(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/styles", "/api/styles/{name}/thumbnail.png", "/api/write", "/api/template",
            "/api/fonts", "/api/data", "/api/jobs/{job_id}", "/api/jobs/{job_id}/{name}"} <= set(
                spec["paths"])
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


# --- styles and writing -------------------------------------------------------------------------

def test_styles_list_every_font_and_new_style_with_a_cached_thumbnail(client, writer):
    body = client.get("/api/styles").json()
    names = [s["name"] for s in body["styles"]]
    assert names[:len(writer.fonts)] == writer.fonts
    assert {"random-one", "mix-one", "mean"} <= set(names) and body["default"] in names
    assert body["max_text"] == MAX_TEXT
    first = client.get(body["styles"][0]["thumbnail"])
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(first.content))
    assert image.height > 32 and image.width > image.height  # three syllables in a row
    started = time.perf_counter()
    again = client.get(body["styles"][0]["thumbnail"])
    assert again.content == first.content and time.perf_counter() - started < 1.0  # cached
    missing = client.get("/api/styles/NoSuchFont/thumbnail.png")
    assert missing.status_code == 404 and "no style" in _detail(missing)


def test_write_answers_a_png_that_changes_with_the_style(client):
    one = client.post("/api/write", json={"text": "안녕하세요", "style": "Gaegu", "seed": 1,
                                          "size": 64})
    assert one.status_code == 200 and one.headers["content-type"] == "image/png"
    assert one.content.startswith(PNG_SIGNATURE)
    image = np.asarray(Image.open(io.BytesIO(one.content)))
    assert image.ndim == 2 and image.min() < 100 and image.max() == 255  # ink on paper
    other = client.post("/api/write", json={"text": "안녕하세요", "style": "DoHyeon",
                                            "seed": 1, "size": 64})
    assert other.status_code == 200 and other.content != one.content
    defaults = client.post("/api/write", json={"text": "가 Hello 1"})  # random-one, 128 px
    assert defaults.status_code == 200


def test_write_answers_svg_outlines_of_the_same_image(client):
    import xml.etree.ElementTree as ET

    from fontTools.pens.areaPen import AreaPen
    from fontTools.svgLib.path import parse_path

    body = {"text": "안녕하세요", "style": "Gaegu", "seed": 1, "size": 64}
    png = np.asarray(Image.open(io.BytesIO(client.post("/api/write", json=body).content)))
    svg = client.post("/api/write", json={**body, "format": "svg"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="handwriting.svg"' in svg.headers["content-disposition"]
    root = ET.fromstring(svg.content)
    assert root.get("viewBox") == f"0 0 {png.shape[1]} {png.shape[0]}"
    area = AreaPen()
    parse_path(root.find("{http://www.w3.org/2000/svg}path").get("d"), area)
    assert abs(area.value) == pytest.approx((png < 128).sum(), rel=0.06)
    bad = client.post("/api/write", json={**body, "format": "gif"})
    assert bad.status_code == 422 and "format" in _detail(bad)


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"text": "가" * (MAX_TEXT + 1)}, 422, "at most 2,000"),
    ({"text": "가", "style": "NoSuchFont"}, 400, "unknown style 'NoSuchFont'"),
    ({"text": "가", "style": "../../etc/style.npz"}, 400, "unknown style"),
    ({"text": "가", "style": "99"}, 400, "style 99 does not exist"),
    ({"text": "가", "size": 50}, 422, "size"),
    ({"text": "가", "seed": -1}, 422, "seed"),
    ({"text": "   "}, 400, "nothing to write"),
    ({"style": "Gaegu"}, 422, "text"),
])
def test_write_refuses_bad_requests_with_one_line(client, body, status, message):
    response = client.post("/api/write", json=body)
    assert response.status_code == status, response.text
    assert message in _detail(response)


# --- the template -------------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "start", "media"), [
    ("pdf", b"%PDF", "application/pdf"), ("png", PNG_SIGNATURE, "image/png")])
def test_template_downloads(client, fmt, start, media):
    response = client.get(f"/api/template?format={fmt}&charset=seed16")
    assert response.status_code == 200 and response.content.startswith(start)
    assert response.headers["content-type"] == media
    assert f'filename="korean-gan-sheet-seed16.{fmt}"' in response.headers[
        "content-disposition"]
    bad = client.get("/api/template?format=svg")
    assert bad.status_code == 422 and "format" in _detail(bad)
    assert client.get("/api/template?charset=/etc/passwd").status_code == 422


# --- font jobs from a style ---------------------------------------------------------------------

def test_a_font_job_from_a_style_end_to_end(app, client, job_root):
    from fontTools.ttLib import TTFont

    response = client.post("/api/fonts", json={"style": "Gaegu", "charset": CHARS,
                                               "family": "My Hand", "seed": 3})
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert uuid.UUID(job).version == 4
    status, seen = _wait(client, job)
    assert status["state"] == "done" and status["error"] is None, status
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert status["family"] == "My Hand" and status["syllables"] == len(CHARS)
    assert set(status["files"]) == {"woff2", "ttf"}
    assert not any(str(job_root) in str(value) for value in status.values())
    woff2 = client.get(status["files"]["woff2"])
    assert woff2.status_code == 200 and woff2.headers["content-type"] == "font/woff2"
    assert woff2.content[:4] == b"wOF2"
    assert 'filename="My-Hand.woff2"' in woff2.headers["content-disposition"]
    assert {ord(c) for c in CHARS} <= _font_cmap(woff2.content)
    ttf = client.get(status["files"]["ttf"])
    assert ttf.status_code == 200 and {ord(c) for c in CHARS} <= _font_cmap(ttf.content)
    assert TTFont(io.BytesIO(ttf.content))["name"].getBestFamilyName() == "My Hand"
    # Both formats downloaded: the job and its files are gone.
    time.sleep(0.2)
    assert client.get(f"/api/jobs/{job}").status_code == 404
    assert not any(job_root.iterdir())


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"style": "NoSuchFont", "charset": CHARS}, 400, "unknown style"),
    ({"style": "Gaegu", "charset": "/etc/passwd"}, 400, "charset: give seed16"),
    ({"style": "Gaegu", "charset": "abc"}, 400, "charset: give seed16"),
    ({"style": "Gaegu", "charset": CHARS, "family": "x" * 40}, 400, "family"),
    ({"style": "Gaegu", "charset": CHARS, "seed": "many"}, 422, "seed"),
])
def test_a_font_job_refuses_bad_requests(client, body, status, message):
    response = client.post("/api/fonts", json=body)
    assert response.status_code == status, response.text
    assert message in _detail(response)


def test_a_font_job_needs_json_or_a_form(client):
    assert client.post("/api/fonts", content=b"style=Gaegu",
                       headers={"content-type": "text/plain"}).status_code == 415
    broken = client.post("/api/fonts", content=b"{not json",
                         headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "JSON" in _detail(broken)


def test_unknown_jobs_are_404(client):
    for job in (str(uuid.uuid4()), "not-a-uuid", str(uuid.uuid1())):
        response = client.get(f"/api/jobs/{job}")
        assert response.status_code == 404 and "no such job" in _detail(response)
        assert client.get(f"/api/jobs/{job}/font.woff2").status_code == 404


def test_one_job_per_client_and_a_bounded_queue(writer, tmp_path):
    app = create_app(writer=writer, max_jobs=1, job_root=tmp_path)
    try:
        first, second = _as(app, "10.0.0.1"), _as(app, "10.0.0.2")
        started = first.post("/api/fonts", json={"style": "Gaegu", "charset": CHARS})
        assert started.status_code == 202
        job = started.json()["job"]
        again = first.post("/api/fonts", json={"style": "Gaegu", "charset": CHARS})
        assert again.status_code == 429 and "already have a job" in _detail(again)
        full = second.post("/api/fonts", json={"style": "Gaegu", "charset": CHARS})
        assert full.status_code == 429 and "busy" in _detail(full)
        not_ready = first.get(f"/api/jobs/{job}/font.ttf")
        assert not_ready.status_code in (200, 409)  # 409 unless it is done already
        status, _ = _wait(first, job)
        assert status["state"] == "done"
        # The queue has room again.
        assert second.post("/api/fonts", json={"style": "Gaegu", "charset": CHARS}
                           ).status_code == 202
    finally:
        app.state.kg.jobs.close()
    assert not any(tmp_path.iterdir())


def test_write_answers_while_a_font_job_runs(app, client):
    from korean_gan.data.charsets import resolve_charset

    chars = "".join(resolve_charset("ks2350").chars[:400])
    other = _as(app, "10.0.0.3")
    job = other.post("/api/fonts", json={"style": "Gaegu", "charset": chars}).json()["job"]
    deadline = time.monotonic() + 60
    while other.get(f"/api/jobs/{job}").json()["state"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.perf_counter()
    response = client.post("/api/write", json={"text": "가나다", "style": "Gaegu", "size": 64})
    seconds = time.perf_counter() - started
    during = other.get(f"/api/jobs/{job}").json()
    assert response.status_code == 200
    # Answered before the font was done.
    assert during["state"] == "running", (seconds, during)
    status, _ = _wait(other, job)
    assert status["state"] == "done" and status["syllables"] == 400
    for url in status["files"].values():  # downloading both removes the job's files
        assert other.get(url).status_code == 200


# --- uploads ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_layout():
    from korean_gan.handwriting.template import make_layout

    return make_layout("seed16")


@pytest.fixture(scope="module")
def filled_photo(seed_layout, font_dir) -> bytes:
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig
    from test_template_ingest import fill_page, photograph

    face = load_faces([font_dir / "CuteFont-Regular.ttf"])[0]
    renderer = GlyphRenderer(face, RenderConfig(size=128))
    rng = np.random.default_rng(11)
    return photograph(fill_page(seed_layout, 0, renderer, rng), rng)


def _bomb(side: int) -> bytes:
    """A PNG of side x side 1-bit pixels: a few KB that decode to side² pixels."""
    buffer = io.BytesIO()
    Image.new("1", (side, side), 1).save(buffer, "PNG")
    return buffer.getvalue()


def _blank_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 1600), (250, 250, 245)).save(buffer, "JPEG")
    return buffer.getvalue()


def _empty_sheet_photo(seed_layout) -> bytes:
    from korean_gan.handwriting.template import render_page
    from test_template_ingest import photograph

    return photograph(np.asarray(render_page(seed_layout, 0)), np.random.default_rng(5))


@pytest.mark.parametrize(("case", "status", "message"), [
    ("oversized", 413, "larger than 20 MB"),  # read, then refused
    ("far-oversized", 413, "larger than 20 MB"),  # refused by its Content-Length
    ("not-an-image", 400, "not an image"),
    ("bomb", 400, "decompression bomb"),
    ("big-bomb", 400, "decompression bomb"),
    ("blank", 400, "no template markers found"),
    ("empty-sheet", 400, "no writing found"),
])
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bad_uploads_get_a_one_line_message(app, job_root, seed_layout, case, status,
                                            message):
    before = set(job_root.iterdir())
    data = {"oversized": lambda: b"\xff\xd8" + bytes(20 * 2**20 + 10),
            "far-oversized": lambda: bytes(25 * 2**20),
            "not-an-image": lambda: b"this is not a photo",
            "bomb": lambda: _bomb(12_000),  # 144 Mpx: above Pillow's warning limit
            "big-bomb": lambda: _bomb(20_000),  # 400 Mpx: Pillow refuses it itself
            "blank": _blank_photo,
            "empty-sheet": lambda: _empty_sheet_photo(seed_layout)}[case]()
    client = _as(app, f"10.0.1.{len(case)}")
    response = client.post("/api/fonts", files={"photo": (f"{case}.jpg", data, "image/jpeg")},
                           data={"charset": CHARS})
    assert response.status_code == status, response.text
    detail = _detail(response)
    assert message in detail
    assert str(job_root) not in detail and "/tmp" not in detail
    if status == 400:
        assert f"{case}.jpg" in detail  # names the upload as the client knows it
    assert set(job_root.iterdir()) == before  # nothing left behind


def test_a_form_without_a_photo_is_refused(client):
    response = client.post("/api/fonts", data={"charset": CHARS},
                           files={"other": ("x.txt", b"x", "text/plain")})
    assert response.status_code == 400 and "'photo'" in _detail(response)


def test_a_font_job_from_a_photo_of_the_sheet_end_to_end(app, filled_photo):
    from korean_gan.data.charsets import SEED16

    client = _as(app, "10.0.2.1")
    response = client.post("/api/fonts", files={"photo": ("내 손글씨.jpg", filled_photo,
                                                          "image/jpeg")},
                           data={"charset": CHARS, "family": "My Own Hand"})
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    first = client.get(f"/api/jobs/{job}").json()
    assert first["kind"] == "photo" and "".join(first["ingested"]) == "".join(sorted(SEED16))
    assert first["ingest_counts"]["syllables"] == 16
    preview = client.get(first["ingested_preview"])
    assert preview.status_code == 200 and preview.content.startswith(PNG_SIGNATURE)
    status, seen = _wait(client, job)
    assert status["state"] == "done", status
    assert "adapt" in {s["stage"] for s in seen}
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    # 가, 나, 다 are on the sheet: kept as written, none drawn by the model.
    assert status["written"] == len(CHARS) and status["family"] == "My Own Hand"
    woff2 = client.get(status["files"]["woff2"])
    assert {ord(c) for c in CHARS} <= _font_cmap(woff2.content)


# --- data jobs ----------------------------------------------------------------------------------

def _zip_of(client: TestClient, body: dict) -> tuple[dict, list[dict], zipfile.ZipFile, str]:
    """Runs a data job; returns its last status, the statuses seen, the zip and its name."""
    response = client.post("/api/data", json=body)
    assert response.status_code == 202, response.text
    status, seen = _wait(client, response.json()["job"])
    assert status["state"] == "done" and status["error"] is None, status
    assert set(status["files"]) == {"zip"}
    download = client.get(status["files"]["zip"])
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    name = re.search(r'filename="([^"]+)"', download.headers["content-disposition"]).group(1)
    return status, seen, zipfile.ZipFile(io.BytesIO(download.content)), name


def test_a_glyph_data_job_zips_an_npz_that_loads(app, tmp_path, job_root):
    from korean_gan.data.dataset import load_dataset

    client = _as(app, "10.0.3.1")
    before = set(job_root.iterdir())  # earlier tests' jobs may still hold files
    status, seen, archive, name = _zip_of(client, {"kind": "glyphs", "charset": "seed16",
                                                   "per_class": 2, "styles": "fonts",
                                                   "seed": 4})
    assert name == "korean-gan-glyphs-seed16-32px.zip"
    assert {s["stage"] for s in seen} <= {None, "synth", "zip"}
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert "glyphs.npz" in archive.namelist() and "glyphs.json" in archive.namelist()
    archive.extractall(tmp_path)
    data = load_dataset(tmp_path / "glyphs.npz")
    assert data.images.shape == (32, 32, 32) and len(data.charset) == 16
    assert np.bincount(data.labels, minlength=16).tolist() == [2] * 16
    # The one download was the job's only file: it is gone.
    time.sleep(0.2)
    assert client.get(f"/api/jobs/{status['job']}").status_code == 404
    assert set(job_root.iterdir()) <= before


def test_a_glyph_data_job_as_an_image_folder_at_64_px(app):
    _, _, archive, name = _zip_of(_as(app, "10.0.3.2"), {
        "kind": "glyphs", "charset": CHARS, "per_class": 2, "styles": "random,Gaegu",
        "size": 64, "format": "imagefolder"})
    assert name == "korean-gan-glyphs-syllables-64px.zip"
    pngs = [n for n in archive.namelist() if n.endswith(".png") and "preview" not in n]
    assert len(pngs) == 2 * len(CHARS)
    sizes = {Image.open(io.BytesIO(archive.read(n))).size for n in pngs}
    assert sizes == {(64, 64)}


def test_a_lines_data_job_writes_the_text_it_was_given(app):
    text = "가나다 라마\n\n바사아, 자차!\n"
    _, seen, archive, name = _zip_of(_as(app, "10.0.3.3"), {
        "kind": "lines", "text": text, "count": 3, "size": 64, "styles": "Gaegu", "seed": 1})
    assert name == "korean-gan-lines-3-64px.zip"
    assert "lines" in {s["stage"] for s in seen}
    labels = archive.read("lines/labels.txt").decode("utf-8").splitlines()
    # Blank lines are skipped; the corpus is taken in turn for the count asked.
    assert [line.split("\t")[1] for line in labels] == ["가나다 라마", "바사아, 자차!",
                                                         "가나다 라마"]
    first = Image.open(io.BytesIO(archive.read("lines/" + labels[0].split("\t")[0])))
    assert first.size[1] == 64 and first.size[0] > 3 * 64


def test_a_lines_data_job_streams_webdataset_shards(app):
    import tarfile

    _, _, archive, _ = _zip_of(_as(app, "10.0.3.4"), {
        "kind": "lines", "count": 5, "size": 32, "format": "webdataset", "styles": "mix"})
    shards = [n for n in archive.namelist() if n.endswith(".tar")]
    assert shards
    with tarfile.open(fileobj=io.BytesIO(archive.read(shards[0]))) as tar:
        names = tar.getnames()
    assert sum(n.endswith(".png") for n in names) == 5
    assert sum(n.endswith(".txt") for n in names) == 5


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"kind": "pictures"}, 422, "kind"),
    ({"kind": "glyphs", "format": "webdataset"}, 400, "format: a glyphs set comes as npz"),
    ({"kind": "lines", "format": "npz"}, 400, "format: a lines set comes as paddle"),
    ({"kind": "glyphs", "charset": "all11172", "per_class": 10}, 400, "111,720 glyphs"),
    ({"kind": "glyphs", "charset": "ks2350", "per_class": 11, "size": 128}, 400, "25,000"),
    ({"kind": "glyphs", "per_class": 0}, 422, "per_class"),
    ({"kind": "glyphs", "charset": "../../etc/passwd"}, 400, "charset: give seed16"),
    ({"kind": "glyphs", "styles": "NoSuchFont"}, 400, "unknown style"),
    ({"kind": "glyphs", "styles": "random-one"}, 400, "give random or mix"),
    ({"kind": "glyphs", "styles": " , "}, 400, "styles: give fonts"),
    ({"kind": "glyphs", "styles": "/tmp/x.npz"}, 400, "unknown style"),
    ({"kind": "lines", "count": 10_001}, 422, "count"),
    ({"kind": "lines", "text": " \n \n"}, 400, "text has no line with text"),
    ({"kind": "lines", "text": "가" * 201}, 400, "text, line 1: 201 characters"),
    ({"kind": "lines", "text": "가\n" * 100_001}, 400, "at most 200,000"),
])
def test_a_data_job_refuses_bad_requests(client, job_root, body, status, message):
    before = set(job_root.iterdir())
    response = client.post("/api/data", json=body)
    assert response.status_code == status, response.text
    assert message in _detail(response)
    assert set(job_root.iterdir()) == before  # no job folder left behind


# --- malformed and hostile requests: a 4xx with one line, and the server keeps serving --------

@pytest.mark.parametrize(("path", "kwargs", "status", "message"), [
    # A multipart body whose boundary never closes, or that is not multipart at all.
    ("/api/fonts", {"content": b"--xyz\r\nContent-Disposition: form-data; name=\"photo\"; "
                               b"filename=\"a.jpg\"\r\n\r\nabc",
                    "headers": {"content-type": "multipart/form-data; boundary=xyz"}},
     400, None),
    ("/api/fonts", {"content": b"garbage", "headers": {"content-type":
                                                       "multipart/form-data"}}, 400, None),
    ("/api/fonts", {"content": b"<xml/>", "headers": {"content-type": "application/xml"}},
     415, "send JSON"),
    ("/api/write", {"content": b"text=hello", "headers": {"content-type": "text/plain"}},
     422, None),
    ("/api/write", {"content": b"{\"text\": ", "headers": {"content-type": "application/json"}},
     422, None),
    ("/api/write", {"json": ["가"]}, 422, None),
    ("/api/write", {"json": {"text": "가", "extra": "x" * 100, "size": "big"}}, 422, "size"),
    ("/api/data", {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
     422, None),
    ("/api/data", {"json": {"kind": "glyphs", "per_class": 10**12}}, 422, "per_class"),
])
def test_malformed_requests_get_one_line_4xx(client, path, kwargs, status, message):
    response = client.post(path, **kwargs)
    assert response.status_code == status, response.text
    detail = _detail(response)
    assert message is None or message in detail, detail
    # ... and the server still answers.
    assert client.get("/api/styles").status_code == 200


def test_an_upload_named_with_dot_dots_never_names_a_path(app, job_root, tmp_path):
    client = _as(app, "10.0.4.1")
    before = set(job_root.iterdir())
    hostile = "../../../../tmp/evil.jpg"
    response = client.post("/api/fonts", files={"photo": (hostile, b"not a photo",
                                                          "image/jpeg")})
    assert response.status_code == 400
    detail = _detail(response)
    # The message names the upload by its last part only; nothing was written outside the jobs.
    assert "evil.jpg is not an image" in detail and "../" not in detail, detail
    assert not Path("/tmp/evil.jpg").exists()
    assert set(job_root.iterdir()) == before  # the refused upload's job folder is gone


def test_many_clients_starting_jobs_get_429_and_writes_keep_working(writer, tmp_path):
    app = create_app(writer=writer, max_jobs=2, job_root=tmp_path)
    try:
        answers = [_as(app, f"10.0.5.{i}").post(
            "/api/data", json={"kind": "glyphs", "charset": "ks2350", "per_class": 1})
            for i in range(6)]
        codes = [a.status_code for a in answers]
        assert codes.count(202) == 2 and codes.count(429) == 4, codes
        assert all("busy" in _detail(a) for a in answers if a.status_code == 429)
        write = _as(app, "10.0.5.99").post("/api/write", json={"text": "가나", "size": 32})
        assert write.status_code == 200 and write.content.startswith(PNG_SIGNATURE)
        for answer in answers:
            if answer.status_code == 202:
                status, _ = _wait(_as(app, "10.0.5.0"), answer.json()["job"])
                assert status["state"] == "done", status
    finally:
        app.state.kg.jobs.close()
    assert not any(tmp_path.iterdir())
