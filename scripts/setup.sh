#!/usr/bin/env bash
# Creates (or reuses) .venv with a Python >= 3.11 and installs korean-gan with its dev extras.
# Sourced by demo.sh and test.sh; reinstalls only when pyproject.toml changed. Installs the
# potrace program (font export) with apt-get when run as root, else says how.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "korean-gan needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  python=$(pick_python)
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
stamp=.venv/.korean-gan-installed
want=$(cat pyproject.toml | (sha256sum 2>/dev/null || shasum -a 256) | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing korean-gan and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi

# Font export (korean_gan.data.trace) runs the potrace program, a separate GPL process.
if ! command -v potrace >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing potrace (apt-get)"
    apt-get install -y potrace >/dev/null ||
      { apt-get update >/dev/null && apt-get install -y potrace >/dev/null; }
  else
    echo "setup: potrace is not installed (needed to export fonts): sudo apt-get install" \
         "potrace (Debian/Ubuntu) or brew install potrace (macOS)" >&2
  fi
fi
