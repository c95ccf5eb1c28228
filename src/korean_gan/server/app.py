"""The FastAPI application of ``korean-gan serve``: the page, the API and their limits.

Endpoints (``/openapi.json`` describes them; the interactive docs page is off because it
loads its scripts from a CDN):

- ``GET /``: the page (``static/index.html``, with ``/static/app.js`` and ``app.css``).
- ``GET /api/styles``: the styles, each with a thumbnail URL
  (``GET /api/styles/{name}/thumbnail.png``, "가나다" at 64 px, made once).
- ``POST /api/write``: ``{text, style, seed, size, format}`` → the handwriting as PNG, or as
  SVG outlines (``format: svg``).
- ``GET /api/template?format=pdf|png&charset=seed16|ks2350``: the sheet to fill in.
- ``POST /api/fonts``: JSON ``{style, charset, family, seed}``, or a multipart form with the
  photo of a filled-in sheet → ``{"job": id}``; ``GET /api/jobs/{id}``: its state, stage and
  progress; ``GET /api/jobs/{id}/font.woff2`` / ``font.ttf`` when done.
- ``POST /api/data``: JSON ``{kind: glyphs|lines, styles, size, seed, charset, per_class,
  count, text, format}`` → ``{"job": id}``; ``GET /api/jobs/{id}/data.zip`` when done (an
  ``npz`` or image folder of glyphs as ``synth`` makes, or a line set as ``lines`` makes).

Every response carries a Content-Security-Policy that allows only this server (plus blob: and
data: images and fonts, for the preview and the specimen).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shutil
import tempfile
import threading
import uuid
import zipfile
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from korean_gan.server.jobs import DOWNLOADS, Job, JobLimitError, JobManager
from korean_gan.server.progress import StageProgress

__all__ = ["CSP", "MAX_TEXT", "MAX_UPLOAD", "create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
#: The bundled font the page falls back to for Korean text (``GET /ui-font.ttf``).
UI_FONT = "DoHyeon-Regular.ttf"
#: Longest text ``/api/write`` writes at once (characters).
MAX_TEXT = 2000
#: Largest photo upload (bytes).
MAX_UPLOAD = 20 * 1024 * 1024
#: Room for the multipart headers and form fields around the photo.
_FORM_OVERHEAD = 64 * 1024
#: What a style's thumbnail shows, and how large.
THUMB_TEXT, THUMB_SIZE = "가나다", 64
#: Only this server; blob:/data: for the preview images and the specimen font.
CSP = ("default-src 'self'; img-src 'self' blob: data:; font-src 'self' blob: data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
#: Named charsets a client may ask for (besides literal syllables).
CHARSETS = ("seed16", "ks2350", "all11172")
_CHARSET_SIZES = {"seed16": 16, "ks2350": 2350, "all11172": 11172}
TEMPLATE_CHARSETS = ("seed16", "ks2350")
#: The new-style specifications the picker offers, with their labels.
NEW_STYLE_LABELS = {"random-one": "random", "mix-one": "mix", "mean": "mean"}
#: Shares of a font job's time per stage (measured on ks2350/all11172: trace is the longest).
FONT_STAGES = [("generate", 0.1), ("upsample", 0.2), ("trace", 0.35), ("build", 0.3),
               ("save", 0.05)]
#: A photo job first fits the style (about as long as a ks2350 font on two cores).
PHOTO_STAGES = [("adapt", 0.9)] + FONT_STAGES
#: Photo formats a sheet may come in.
PHOTO_FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp"}
#: Most glyphs a data job makes, by size (a zip of a few hundred MB at most).
MAX_GLYPHS = {32: 100_000, 64: 50_000, 128: 25_000}
#: Longest corpus a lines job takes (characters).
MAX_CORPUS = 200_000
#: Formats of a data job, the first the default.
DATA_FORMATS = {"glyphs": ("npz", "imagefolder"), "lines": ("paddle", "imagefolder", "webdataset")}
#: A data job makes its set, then zips it.
DATA_STAGES = {"glyphs": [("synth", 0.9), ("zip", 0.1)], "lines": [("lines", 0.9), ("zip", 0.1)]}
#: The style name of a photographed hand.
HAND_STYLE = "mine"


class WriteRequest(BaseModel):
    """What ``POST /api/write`` writes."""

    text: str = Field(description=f"the text (at most {MAX_TEXT} characters; \\n starts a line)",
                      examples=["안녕하세요, 반갑습니다."])
    style: str = Field("random-one", description="a style name from /api/styles, a font "
                       "number, random-one, mix-one or mean")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the noise and of new styles")
    size: Literal[32, 64, 128] = Field(128, description="pixels per em")
    format: Literal["png", "svg"] = Field("png", description="png, or svg: the ink traced "
                                          "into outlines")


class FontRequest(BaseModel):
    """What ``POST /api/fonts`` makes (as JSON)."""

    style: str = Field("random-one", description="as for /api/write")
    charset: str = Field("ks2350", description="seed16, ks2350, all11172 or Hangul syllables")
    family: str | None = Field(None, description="the font's family name (default: Korean "
                               "GAN and the style)")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class DataRequest(BaseModel):
    """What ``POST /api/data`` makes: labelled glyphs (as ``synth``) or text lines (as
    ``lines``), zipped."""

    kind: Literal["glyphs", "lines"] = Field("glyphs", description="glyphs: one syllable per "
                                             "image; lines: text-line images for recognisers")
    styles: str = Field("fonts", description="comma-separated: fonts (every training font in "
                        "turn), random, mix, mean or font names")
    size: Literal[32, 64, 128] = Field(32, description="glyph side, or line height, in pixels")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    charset: str = Field("ks2350", description="glyphs: seed16, ks2350, all11172 or Hangul "
                         "syllables")
    per_class: int = Field(1, ge=1, le=1000, description="glyphs: images per syllable")
    count: int = Field(100, ge=1, le=10_000, description="lines: how many (random Hangul "
                       "words, or the lines of text in turn)")
    text: str | None = Field(None, description=f"lines: a corpus, one line per image (at most "
                             f"{MAX_CORPUS:,} characters; default: random words)")
    format: str | None = Field(None, description="glyphs: npz (default) or imagefolder; lines: "
                               "paddle (default), imagefolder or webdataset")


class ServerState:
    """What the app holds: the shared model, the job manager, caches and settings.

    Args:
        writer: A loaded :class:`korean_gan.generate.Handwriting`, or None to load ``model``
            when the app starts (or at first use).
        model: The model to load.
        precision: What the model computes in.
        jobs: The font jobs.
        max_upload: Largest photo in bytes.
        adapt_steps: Optimisation steps when fitting a style to a photo.
        writes: How many ``/api/write`` requests use the model at once.
    """

    def __init__(self, writer, model: str, precision: str, jobs: JobManager, max_upload: int,
                 adapt_steps: int, writes: int = 2) -> None:
        self._writer = writer
        self.model = model
        self.precision = precision
        self.jobs = jobs
        self.max_upload = max_upload
        self.adapt_steps = adapt_steps
        self.write_slots = threading.BoundedSemaphore(writes)
        self._load_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self.thumbnails: dict[str, bytes] = {}
        self.templates: dict[tuple[str, str], tuple[bytes, str, str]] = {}

    @property
    def writer(self):
        """The model, loaded once on first use."""
        if self._writer is None:
            with self._load_lock:
                if self._writer is None:
                    from korean_gan.generate import Handwriting

                    self._writer = Handwriting.load(self.model, precision=self.precision)
        return self._writer

    def warm_up(self) -> None:
        """Loads the upsampler and compiles the sizes the page uses, so the first preview is
        as fast as the others."""
        writer = self.writer
        for size in (64, 128):
            writer.write("가", style=writer.fonts[0], size=size)


# --- checks -------------------------------------------------------------------------------------

def check_style(writer, style: str) -> str:
    """``style`` if it names a training font (number, name or unique prefix) or a new style.

    Paths and style files are refused: the client never names anything on the server.

    Raises:
        HandwritingError: anything else, with the styles there are.
    """
    from korean_gan.generate import NEW_STYLES, HandwritingError

    known = (style in NEW_STYLES or style.isdigit()
             or any(font.lower().startswith(style.lower()) for font in writer.fonts))
    if not style or len(style) > 64 or re.search(r"[/\\:]|\.npz$", style) or not known:
        raise HandwritingError(f"unknown style {style[:64]!r}; give a number 0-"
                               f"{len(writer.fonts) - 1}, a font name "
                               f"({', '.join(writer.fonts)}), random-one, mix-one or mean")
    writer.style_table.vectors(style, 1)  # a number out of range, an ambiguous prefix
    return style


def check_charset(charset: str) -> str | list[str]:
    """A named charset, or literal syllables as a list (never read as a file name).

    Raises:
        ValueError: anything else.
    """
    if charset in CHARSETS:
        return charset
    chars = list(dict.fromkeys(charset.replace(" ", "")))
    if not chars or any(not "가" <= c <= "힣" for c in chars):
        raise ValueError(f"charset: give {', '.join(CHARSETS)} or Hangul syllables such as "
                         "가나다")
    return chars


def _display_name(filename: str | None) -> str:
    """An uploaded file's name as error messages show it: its last part, printable."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = "".join(c for c in name if c.isprintable())[:80].strip()
    return name or "the photo"


def _png(image) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def _font_filename(family: str, fmt: str) -> str:
    stem = re.sub(r"[^\w가-힣-]+", "-", family).strip("-") or "font"
    return f"{stem}.{fmt}"


# --- the work of a job --------------------------------------------------------------------------

def _make_fonts(state: ServerState, job: Job, progress: StageProgress, style: str, charset,
                family: str | None, seed: int, written: str = "none") -> None:
    """A TTF with make_font, then its WOFF2 (fontTools): both from one build."""
    from fontTools.ttLib import TTFont

    from korean_gan._io import atomic_path
    from korean_gan.fontmaker import FontConfig, make_font

    ttf = job.folder / "font.ttf"
    config = FontConfig(out=str(ttf), style=style, charset=charset, family=family, seed=seed,
                        written=written, progress=False)
    result = make_font(config, writer=state.writer, on_progress=progress.bar)
    job.family, job.syllables, job.written = result.family, result.syllables, result.written
    progress.stage("save")  # the WOFF2 besides the TTF
    woff2 = job.folder / "font.woff2"
    font = TTFont(ttf)
    font.flavor = "woff2"
    with atomic_path(woff2, suffix=".woff2") as tmp:
        font.save(str(tmp))
    job.files = {"font.woff2": woff2, "font.ttf": ttf}


def _progress_of(job: Job, stages, jobs: JobManager | None = None) -> StageProgress:
    def update(stage: str, value: float) -> None:
        job.stage, job.progress = stage, value
        if jobs is not None:  # a stopping server ends the job here, between two batches
            jobs.check_cancelled()

    return StageProgress(stages, update)


def _fit_and_make(state: ServerState, job: Job, charset, family, seed) -> None:
    from korean_gan.handwriting.adapt import AdaptConfig, adapt

    progress = _progress_of(job, PHOTO_STAGES, state.jobs)
    style_file = job.folder / f"{HAND_STYLE}.npz"
    adapt(AdaptConfig(data=str(job.folder / "glyphs.npz"), out=str(style_file),
                      name=HAND_STYLE, steps=state.adapt_steps, seed=seed), writer=state.writer,
          on_progress=progress.bar)
    # written="auto": the syllables on the sheet are kept as written (the style file names
    # the ingested dataset).
    _make_fonts(state, job, progress, str(style_file), charset, family, seed, written="auto")


def check_data_styles(writer, spec: str) -> tuple[str, ...]:
    """The entries of a data job's ``styles``: fonts, random, mix, mean or font names (made
    canonical).

    Raises:
        ValueError: an empty list or an unknown entry (HandwritingError), with what there is.
    """
    from korean_gan.generate import HandwritingError

    entries = []
    for part in (p.strip() for p in spec.split(",")):
        if part in ("fonts", "random", "mix", "mean"):
            entries.append(part)
        elif part:
            if part in NEW_STYLE_LABELS:
                raise HandwritingError(f"styles: {part} draws one style; for a data set give "
                                       "random or mix (a new style per image or line)")
            entries.append(writer.style_name(check_style(writer, part)))
    if not entries or len(entries) > 64:
        raise HandwritingError("styles: give fonts, random, mix, mean or font names, "
                               "comma-separated")
    return tuple(dict.fromkeys(entries))


def _zip_folder(folder: Path, archive: Path, progress: StageProgress) -> None:
    """Zips ``folder``'s files (stored: PNG, npz and tar are compressed already)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
        for i, path in enumerate(files, 1):
            out.write(path, path.relative_to(folder).as_posix())
            if i % 256 == 0 or i == len(files):
                progress.stage("zip", i / len(files))


def _make_data(state: ServerState, job: Job, body: DataRequest, styles: tuple[str, ...],
               charset, corpus: Path | None) -> None:
    """Makes the set into the job folder's ``data/``, then ``data.zip`` of it."""
    progress = _progress_of(job, DATA_STAGES[body.kind], state.jobs)
    fmt = body.format or DATA_FORMATS[body.kind][0]
    data = job.folder / "data"
    if body.kind == "glyphs":
        from korean_gan.generate import SynthConfig

        out = data / ("glyphs.npz" if fmt == "npz" else "glyphs")
        state.writer.synthesize(SynthConfig(
            charset=charset, per_class=body.per_class, styles=styles, seed=body.seed,
            out=str(out), format=fmt, size=body.size, progress=False),
            on_progress=progress.bar)
    else:
        from korean_gan.textlines import LinesConfig, make_lines

        config = LinesConfig(out=str(data / "lines"), text=str(corpus) if corpus else None,
                             random=None if corpus else body.count, count=body.count,
                             styles=",".join(styles), height=body.size, seed=body.seed,
                             format=fmt, progress=False)
        make_lines(config, writer=state.writer, on_progress=progress.bar)
    archive = job.folder / "data.zip"
    _zip_folder(data, archive, progress)
    shutil.rmtree(data, ignore_errors=True)
    job.files = {"data.zip": archive}


# --- the photo of a filled-in sheet -------------------------------------------------------------

class UploadError(Exception):
    """An upload the server refuses, with the HTTP status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _save_photo(upload: UploadFile, folder: Path, name: str, max_upload: int) -> Path:
    """Copies the upload into the job folder after checking it is a sane image."""
    from PIL import Image, UnidentifiedImageError

    raw = folder / "upload"
    with open(raw, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    if raw.stat().st_size > max_upload:
        raise UploadError(413, f"{name} is larger than {max_upload // 2**20} MB; send a "
                                 "smaller photo")
    if raw.stat().st_size == 0:
        raise UploadError(400, f"{name} is empty; send a JPEG or PNG photo of the sheet")
    try:
        with Image.open(raw) as image:
            kind, (width, height) = image.format, image.size
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse it here.
            if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.verify()
    except Image.DecompressionBombError:
        raise UploadError(400, f"{name} has too many pixels to be a photo (a decompression "
                                 "bomb?); send a photo of at most 89 megapixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UploadError(400, f"{name} is not an image Pillow can read; send a JPEG or "
                                 "PNG photo of the sheet") from None
    if kind not in PHOTO_FORMATS:
        raise UploadError(400, f"{name} is a {kind} image; send a JPEG, PNG or WebP photo")
    photo = raw.rename(folder / f"photo{PHOTO_FORMATS[kind]}")
    return photo


def _ingest(photo: Path, folder: Path, name: str, template: str) -> dict:
    """Ingests the photo into ``glyphs.npz``; returns the job fields it gives.

    Raises:
        UploadError: no markers, another sheet, no writing, ... (the message names the
            upload, not the file on the server).
    """
    from korean_gan.handwriting.ingest import IngestConfig, IngestError, ingest

    charsets = TEMPLATE_CHARSETS if template == "auto" else (template,)
    result, problem = None, f"{name} could not be read"
    for charset in charsets:
        try:
            result = ingest(IngestConfig(photos=(str(photo),), charset=charset,
                                         out=str(folder / "glyphs.npz"), style=HAND_STYLE))
            break
        except (ValueError, OSError) as err:  # IngestError, TemplateError, CharsetError
            problem = (str(err).splitlines() or [problem])[0]
            problem = problem.replace(str(photo), name).replace(photo.name, name)
            # A page of another sheet: try the next sheet; anything else is the photo's.
            if not (isinstance(err, IngestError) and "another template" in str(err)):
                break
    if result is None:
        raise UploadError(400, problem)
    counts = result.manifest["counts"]
    data = result.dataset
    chars = sorted({data.charset[int(label)] for label in data.labels})
    return {"ingested": chars,
            "ingest_counts": {key: int(counts[key]) for key in
                              ("glyphs", "syllables", "classes", "blank", "small_marks",
                               "outside_photo")}}


# --- the app ------------------------------------------------------------------------------------

def create_app(writer=None, model: str = "default", precision: str = "float32",
               max_jobs: int = 4, job_ttl: float = 3600.0, max_upload: int = MAX_UPLOAD,
               adapt_steps: int = 300, job_root: str | Path | None = None) -> FastAPI:
    """The web app: the page, the API, a job manager and the shared model.

    Args:
        writer: An already loaded :class:`korean_gan.generate.Handwriting` (default: load
            ``model`` when the app starts).
        model: The model to load when ``writer`` is None.
        precision: What that model computes in.
        max_jobs: Font jobs queued or running at once (more get HTTP 429).
        job_ttl: Seconds a finished job's files are kept if not downloaded.
        max_upload: Largest photo in bytes (larger gets HTTP 413).
        adapt_steps: Optimisation steps when fitting a style to a photographed sheet.
        job_root: Folder for job files (default: a temporary folder removed at shutdown).

    Returns:
        The FastAPI app; its state is ``app.state.kg`` (:class:`ServerState`).
    """
    from korean_gan import __version__

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state: ServerState = app.state.kg
        await run_in_threadpool(state.warm_up)  # loads the model if none was given
        sweeper = asyncio.create_task(_sweep_every(state.jobs, 60.0))
        try:
            yield
        finally:
            sweeper.cancel()
            await run_in_threadpool(state.jobs.close)

    app = FastAPI(title="korean-gan", version=__version__, lifespan=lifespan,
                  description="Handwritten Korean: write text, make fonts, fit your hand.",
                  docs_url=None, redoc_url=None)
    jobs = JobManager(max_jobs=max_jobs, ttl=job_ttl,
                      root=Path(job_root) if job_root is not None else None)
    app.state.kg = ServerState(writer, model, precision, jobs, max_upload, adapt_steps)

    _add_middleware(app, max_upload)
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/ui-font.ttf", include_in_schema=False)
    def ui_font() -> FileResponse:
        # The page's Korean labels on machines without a Korean system font: a bundled OFL
        # font (Do Hyeon, 0.9 MB), served from here like everything else the page loads.
        from korean_gan.data.fonts import bundled_font_dir

        path = bundled_font_dir() / UI_FONT
        if not path.is_file():
            raise HTTPException(status_code=404, detail=f"{UI_FONT} is not among the fonts")
        return FileResponse(path, media_type="font/ttf")

    @app.get("/api/styles", summary="The styles, with a thumbnail URL each")
    def styles(request: Request) -> dict:
        writer = request.app.state.kg.writer
        entries = [{"name": font, "label": font.removesuffix("-Regular"), "kind": "font"}
                   for font in writer.fonts]
        entries += [{"name": name, "label": label, "kind": "new"}
                    for name, label in NEW_STYLE_LABELS.items()]
        for entry in entries:
            entry["thumbnail"] = f"/api/styles/{entry['name']}/thumbnail.png"
        return {"styles": entries, "default": writer.fonts[0], "max_text": MAX_TEXT,
                "sizes": [32, 64, 128], "max_upload": request.app.state.kg.max_upload}

    @app.get("/api/styles/{name}/thumbnail.png", summary="A style's thumbnail (가나다, 64 px)",
             response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {}})
    def thumbnail(name: str, request: Request) -> Response:
        state: ServerState = request.app.state.kg
        if name not in state.writer.fonts and name not in NEW_STYLE_LABELS:
            raise HTTPException(404, f"no style {name[:64]!r}; see /api/styles")
        with state._cache_lock:
            data = state.thumbnails.get(name)
        if data is None:
            with state.write_slots:
                data = _png(state.writer.write(THUMB_TEXT, style=name, seed=0,
                                               size=THUMB_SIZE))
            with state._cache_lock:
                state.thumbnails[name] = data
        return Response(data, media_type="image/png",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.post("/api/write", summary="Text in handwriting, as PNG or SVG",
              response_class=Response,
              responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}},
                         400: {"description": "an unknown style or a character no font has"},
                         422: {"description": "text too long, a bad size or seed"}})
    def write(body: WriteRequest, request: Request) -> Response:
        from korean_gan.generate import HandwritingError

        state: ServerState = request.app.state.kg
        if len(body.text) > MAX_TEXT:
            raise HTTPException(422, f"text is {len(body.text):,} characters long; write at "
                                     f"most {MAX_TEXT:,} at a time")
        try:
            style = check_style(state.writer, body.style)
            with state.write_slots:
                image = state.writer.write(body.text, style=style, seed=body.seed,
                                           size=body.size)
        except HandwritingError as err:
            raise HTTPException(400, str(err).splitlines()[0]) from None
        if body.format == "svg":
            from korean_gan.data.svgfile import svg_from_image
            from korean_gan.data.trace import TraceError

            try:
                svg = svg_from_image(image, title=body.text)
            except TraceError as err:  # no potrace on this machine
                raise HTTPException(503, str(err).splitlines()[0]) from None
            return Response(svg, media_type="image/svg+xml",
                            headers={"Cache-Control": "no-store",
                                     "Content-Disposition": 'attachment; filename='
                                                            '"handwriting.svg"'})
        return Response(_png(image), media_type="image/png",
                        headers={"Cache-Control": "no-store"})

    @app.get("/api/template", summary="The handwriting sheet to print and fill in",
             response_class=Response,
             responses={200: {"content": {"application/pdf": {}, "image/png": {},
                                          "application/zip": {}}}})
    def template(request: Request, format: Literal["pdf", "png"] = "pdf",
                 charset: Literal["seed16", "ks2350"] = "seed16") -> Response:
        state: ServerState = request.app.state.kg
        key = (charset, format)
        with state._cache_lock:
            cached = state.templates.get(key)
        if cached is None:
            cached = _make_template(charset, format)
            with state._cache_lock:
                state.templates[key] = cached
        data, media, filename = cached
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @app.post("/api/fonts", summary="Start a font job", status_code=202,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": FontRequest.model_json_schema()},
                  "multipart/form-data": {"schema": {"type": "object", "required": ["photo"],
                      "properties": {
                          "photo": {"type": "string", "format": "binary",
                                    "description": "a photo of a filled-in sheet from "
                                                   "/api/template (at most 20 MB)"},
                          "template": {"type": "string", "enum": ["auto", *TEMPLATE_CHARSETS]},
                          "charset": {"type": "string"}, "family": {"type": "string"},
                          "seed": {"type": "integer"}}}}}}},
              responses={202: {"description": '{"job": id}'}, 400: {}, 413: {}, 429: {}})
    async def fonts(request: Request) -> JSONResponse:
        state: ServerState = request.app.state.kg
        client = request.client.host if request.client else "unknown"
        content_type = request.headers.get("content-type", "")
        try:
            state.jobs.check_room(client)
        except JobLimitError as err:
            raise HTTPException(429, str(err)) from None
        if content_type.startswith("multipart/form-data"):
            job = await _photo_job(state, request, client)
        elif content_type.startswith("application/json"):
            job = await run_in_threadpool(_style_job, state, await _json(request), client)
        else:
            raise HTTPException(415, "send JSON {style, charset, family, seed} or a "
                                     "multipart form with the photo")
        return JSONResponse({"job": job.id, "status": f"/api/jobs/{job.id}"}, status_code=202)

    @app.post("/api/data", summary="Start a data job: labelled glyphs or text lines, zipped",
              status_code=202, responses={202: {"description": '{"job": id}'}, 400: {},
                                          422: {}, 429: {}})
    def data(body: DataRequest, request: Request) -> JSONResponse:
        state: ServerState = request.app.state.kg
        client = request.client.host if request.client else "unknown"
        try:
            state.jobs.check_room(client)
        except JobLimitError as err:
            raise HTTPException(429, str(err)) from None
        job = _data_job(state, body, client)
        return JSONResponse({"job": job.id, "status": f"/api/jobs/{job.id}"}, status_code=202)

    @app.get("/api/jobs/{job_id}", summary="A font job's state, stage and progress")
    def job_status(job_id: str, request: Request) -> dict:
        return _job(request, job_id).to_json()

    @app.get("/api/jobs/{job_id}/ingested.png", summary="The glyphs read from the photo",
             response_class=FileResponse)
    def ingested(job_id: str, request: Request) -> FileResponse:
        preview = _job(request, job_id).folder / "glyphs.preview.png"
        if not preview.is_file():
            raise HTTPException(404, "this job has no ingested glyphs")
        return FileResponse(preview, media_type="image/png")

    @app.get("/api/jobs/{job_id}/{name}", summary="A file of a finished job",
             description="font.woff2 and font.ttf of a font job, data.zip of a data job; "
                         "a job's files are removed once each was downloaded.",
             response_class=FileResponse,
             responses={200: {"content": {media: {} for media in DOWNLOADS.values()}},
                        404: {}, 409: {}})
    def job_file(job_id: str, name: str, request: Request) -> FileResponse:
        state: ServerState = request.app.state.kg
        job = _job(request, job_id)
        if job.state != "done" and name in DOWNLOADS:
            raise HTTPException(409, f"{name} is not ready: the job is {job.state}"
                                     + (f" ({job.error})" if job.error else ""))
        if name not in job.files:
            offered = " or ".join(job.files) or "nothing"
            raise HTTPException(404, f"this job has no {name[:32]}; it offers {offered}")
        last = state.jobs.mark_downloaded(job, name)
        # The files go once every one was downloaded (or an hour after the job ended).
        cleanup = BackgroundTask(state.jobs.remove, job.id) if last else None
        filename = job.download_name if name == "data.zip" else _font_filename(
            job.family or "font", name.rsplit(".", 1)[1])
        return FileResponse(job.files[name], media_type=DOWNLOADS[name],
                            filename=filename or name, background=cleanup)

    return app


async def _sweep_every(jobs: JobManager, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        await run_in_threadpool(jobs.sweep)


def _job(request: Request, job_id: str) -> Job:
    try:
        valid = uuid.UUID(job_id).version == 4
    except ValueError:
        valid = False
    job = request.app.state.kg.jobs.get(job_id) if valid else None
    if job is None:
        raise HTTPException(404, "no such job (a finished job is kept for an hour, or until "
                                 "its fonts were downloaded)")
    return job


async def _json(request: Request) -> FontRequest:
    try:
        return FontRequest.model_validate(await request.json())
    except ValueError as err:  # JSONDecodeError, ValidationError
        if isinstance(err, ValidationError):
            raise HTTPException(422, _validation_message(err.errors())) from None
        raise HTTPException(400, "the body is not valid JSON") from None


def _style_job(state: ServerState, body: FontRequest, client: str) -> Job:
    from korean_gan.data.fontfile import check_family

    try:
        style = check_style(state.writer, body.style)
        charset = check_charset(body.charset)
        if body.family is not None:
            check_family(body.family)
    except ValueError as err:
        raise HTTPException(400, str(err).splitlines()[0]) from None
    folder = state.jobs.new_folder()

    def work(job: Job) -> None:
        _make_fonts(state, job, _progress_of(job, FONT_STAGES, state.jobs), style, charset,
                    body.family, body.seed)

    try:
        return state.jobs.submit(client, "style", folder, work)
    except JobLimitError as err:
        raise HTTPException(429, str(err)) from None


def _data_job(state: ServerState, body: DataRequest, client: str) -> Job:
    """Checks a data request (400 with one line) and queues its job."""
    formats = DATA_FORMATS[body.kind]
    try:
        if body.format is not None and body.format not in formats:
            raise ValueError(f"format: a {body.kind} set comes as {', '.join(formats)}")
        styles = check_data_styles(state.writer, body.styles)
        charset = None
        if body.kind == "glyphs":
            charset = check_charset(body.charset)
            n = body.per_class * (len(charset) if isinstance(charset, list)
                                  else _CHARSET_SIZES[charset])
            if n > MAX_GLYPHS[body.size]:
                raise ValueError(f"{n:,} glyphs is more than a data job makes at {body.size} px "
                                 f"({MAX_GLYPHS[body.size]:,}); lower per_class, or use "
                                 "`korean-gan synth` for large sets")
        elif body.text is not None and len(body.text) > MAX_CORPUS:
            raise ValueError(f"text is {len(body.text):,} characters long; give at most "
                             f"{MAX_CORPUS:,}, or use `korean-gan lines --text FILE`")
    except ValueError as err:
        raise HTTPException(400, str(err).splitlines()[0]) from None
    folder = state.jobs.new_folder()
    corpus = None
    if body.kind == "lines" and body.text is not None:
        from korean_gan.data.corpus import read_corpus

        corpus = folder / "corpus.txt"
        corpus.write_text(body.text, encoding="utf-8")
        try:
            read_corpus(corpus)
        except ValueError as err:
            shutil.rmtree(folder, ignore_errors=True)
            message = str(err).splitlines()[0].replace(f"corpus file {corpus}", "text")
            raise HTTPException(400, message) from None
    label = (body.charset if body.charset in CHARSETS else "syllables") \
        if body.kind == "glyphs" else f"{body.count}"
    try:
        return state.jobs.submit(
            client, body.kind, folder,
            lambda job: _make_data(state, job, body, styles, charset, corpus),
            download_name=f"korean-gan-{body.kind}-{label}-{body.size}px.zip")
    except JobLimitError as err:
        raise HTTPException(429, str(err)) from None


async def _photo_job(state: ServerState, request: Request, client: str) -> Job:
    from korean_gan.data.fontfile import check_family

    try:
        form = await request.form(max_files=1, max_fields=8)
    except Exception as err:  # MultiPartException and friends: a malformed form
        raise HTTPException(400, f"the form cannot be read ({str(err)[:120]})") from None
    folder = None
    try:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile):
            raise HTTPException(400, "attach the photo of the filled-in sheet as the form "
                                     "field 'photo'")
        name = _display_name(upload.filename)
        if upload.size is not None and upload.size > state.max_upload:
            raise HTTPException(413, f"{name} is larger than {state.max_upload // 2**20} MB; "
                                     "send a smaller photo")
        template = str(form.get("template") or "auto")
        if template not in ("auto", *TEMPLATE_CHARSETS):
            raise HTTPException(400, f"template: give auto, {' or '.join(TEMPLATE_CHARSETS)}")
        family = str(form.get("family")) if form.get("family") else None
        try:
            seed = int(form.get("seed") or 0)
            charset = check_charset(str(form.get("charset") or "ks2350"))
            if family is not None:
                check_family(family)
            if not 0 <= seed < 2**31:
                raise ValueError(f"seed {seed} must be from 0 to 2147483647")
        except ValueError as err:
            raise HTTPException(400, str(err).splitlines()[0]) from None
        folder = state.jobs.new_folder()
        try:
            photo = await run_in_threadpool(_save_photo, upload, folder, name, state.max_upload)
            fields = await run_in_threadpool(_ingest, photo, folder, name, template)
        except UploadError as problem:
            raise HTTPException(problem.status, str(problem)) from None
        try:
            job = state.jobs.submit(
                client, "photo", folder,
                lambda job: _fit_and_make(state, job, charset, family, seed), **fields)
        except JobLimitError as err:
            raise HTTPException(429, str(err)) from None
        folder = None  # the job owns it now
        return job
    finally:
        await form.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _make_template(charset: str, fmt: str) -> tuple[bytes, str, str]:
    """The sheet's bytes, media type and file name (several PNG pages come zipped)."""
    from korean_gan.handwriting.template import TemplateConfig, write_template

    with tempfile.TemporaryDirectory(prefix="korean-gan-sheet-") as folder:
        result = write_template(TemplateConfig(charset=charset,
                                               out=str(Path(folder) / f"sheet.{fmt}")))
        stem = f"korean-gan-sheet-{charset}"
        if fmt == "pdf":
            return result.sheets[0].read_bytes(), "application/pdf", f"{stem}.pdf"
        if len(result.sheets) == 1:
            return result.sheets[0].read_bytes(), "image/png", f"{stem}.png"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for i, sheet in enumerate(result.sheets, 1):
                archive.write(sheet, f"{stem}-{i:02d}.png")
        return buffer.getvalue(), "application/zip", f"{stem}-png.zip"


# --- middleware and errors ----------------------------------------------------------------------

def _add_middleware(app: FastAPI, max_upload: int) -> None:
    limit = max_upload + _FORM_OVERHEAD

    @app.middleware("http")
    async def limits_and_headers(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.method in ("POST", "PUT", "PATCH"):
            if length is None and request.headers.get("transfer-encoding"):
                response = JSONResponse({"detail": "send the request with a Content-Length"},
                                        status_code=411)
            elif length is not None and (not length.isdigit() or int(length) > limit):
                if length.isdigit() and int(length) <= 4 * limit:
                    # Read what was sent, so the browser gets the answer instead of a reset.
                    async for _ in request.stream():
                        pass
                response = JSONResponse(
                    {"detail": f"the upload is larger than {max_upload // 2**20} MB; send a "
                               "smaller photo"}, status_code=413)
            else:
                response = await call_next(request)
        else:
            response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def _validation_message(errors) -> str:
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return f"{where or 'request'}: {first.get('msg', 'invalid')}"


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def one_line_validation(request: Request, err: RequestValidationError):
        return JSONResponse({"detail": _validation_message(err.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(request: Request, err: Exception):
        log.exception("error answering %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; see the server's log"},
                            status_code=500)
