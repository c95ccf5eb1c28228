"""A local web app for korean-gan: write text in a style, make a font, fit your handwriting.

:func:`create_app` builds the FastAPI application (``korean-gan serve`` runs it under uvicorn):
one page of plain HTML, CSS and JS shipped in ``static/`` and a small JSON/HTTP API
(``/openapi.json`` describes it). Everything is served from this machine; nothing is loaded
from elsewhere. Long work (a font, fitting a style to a photographed sheet) runs as a
background job on one worker thread, so writing stays responsive meanwhile.

Importing this package imports FastAPI but loads no model; the model is loaded when the app
starts (or passed in).
"""

from __future__ import annotations

from korean_gan.server.app import create_app

__all__ = ["create_app"]
