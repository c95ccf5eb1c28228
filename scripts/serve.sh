#!/usr/bin/env bash
# The web app from a fresh clone: set up .venv (as the quick start does), then start
# `korean-gan serve` on http://127.0.0.1:8000. Extra arguments go to it (e.g. --port 8080).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec .venv/bin/korean-gan serve "$@"
