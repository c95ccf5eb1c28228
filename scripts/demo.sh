#!/usr/bin/env bash
# Quick start, command 1: set up .venv, then build the default dataset (seed16 × bundled fonts),
# train the reference GAN (about 15 minutes on 2 CPU cores) and write media/ganadalama.gif.
# Extra arguments go to `korean-gan demo` (e.g. --epochs 20).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec .venv/bin/korean-gan demo "$@"
