"""`korean-gan serve`: the local web app (write, make fonts, fit your handwriting)."""

from __future__ import annotations

import sys

from korean_gan.cli._common import MODEL_HELP

#: Hosts that only this machine reaches.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_parsers(sub) -> None:
    """Adds ``serve``."""
    serve = sub.add_parser(
        "serve", help="run the web app: write text, make fonts, fit your handwriting",
        description="Serve a page (and a JSON API, described at /openapi.json) to write text "
                    "in any style as you type, make a font of a style or of a photographed "
                    "handwriting sheet, and download it. Everything runs on this machine; "
                    "the page loads nothing from elsewhere.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; "
                            "0.0.0.0 makes the app reachable from other machines)")
    serve.add_argument("--port", type=int, default=8000,
                       help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--model", default="default", help=MODEL_HELP)
    serve.set_defaults(handler=_cmd_serve)


def _bind(host: str, port: int):
    """A listening socket, so that a busy port fails before the model loads."""
    import socket

    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be 0 to 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ValueError(f"--host {host}: not an address of this machine ({err.strerror})"
                         ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} ({err.strerror}); is another server "
                      "running there? pick another --port") from None
    sock.listen(128)
    return sock


def _cmd_serve(args) -> int:
    import uvicorn

    from korean_gan.generate import Handwriting
    from korean_gan.server import create_app

    sock = _bind(args.host, args.port)
    try:
        if args.host not in LOCAL_HOSTS:
            print(f"warning: --host {args.host}: the app is reachable from other machines "
                  "on the network, and it has no login", file=sys.stderr)
        print("loading the model...", flush=True)
        writer = Handwriting.load(args.model, precision="float32")
        app = create_app(writer=writer)
        port = sock.getsockname()[1]
        shown = f"[{args.host}]" if ":" in args.host else args.host
        print(f"korean-gan serving on http://{shown}:{port} (Ctrl-C stops)", flush=True)
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
