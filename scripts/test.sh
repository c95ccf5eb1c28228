#!/usr/bin/env bash
# Quick start, command 2: set up .venv, then run the test suite (under 10 minutes on 2 cores).
# Extra arguments go to pytest (e.g. -k render).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec .venv/bin/python -m pytest -q "$@"
