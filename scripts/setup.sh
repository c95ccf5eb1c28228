#!/usr/bin/env bash
# Creates (or reuses) .venv with a Python >= 3.11 and installs korean-gan with its dev extras.
# Sourced by demo.sh and test.sh; reinstalls only when pyproject.toml changed. Installs the
# potrace, chromium and strace programs with apt-get when run as root, else says how.
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

# System programs: potrace (font export runs it as a separate GPL process), chromium (the
# browser tests drive Debian's chromium through Playwright) and strace (the fault suite kills
# commands as they rename their outputs). Installed with apt-get as root, else named with the
# command that installs them.
need=()
command -v potrace >/dev/null 2>&1 || need+=(potrace)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
  need+=(chromium)
command -v strace >/dev/null 2>&1 || need+=(strace)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]} (apt-get)"
    apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need[@]}" \
          >/dev/null; }
  else
    echo "setup: ${need[*]} not installed (potrace exports fonts; chromium and strace run" \
         "tests): sudo apt-get install ${need[*]}" >&2
  fi
fi
