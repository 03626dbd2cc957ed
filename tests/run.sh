#!/usr/bin/env bash
# Install everything Marketdesk's tests need on a Debian/Ubuntu machine, then run the checks:
# system libraries (when root or sudo allows), a virtual environment with the test extras,
# ruff, mypy and pytest. Extra arguments go to pytest, e.g. `bash tests/run.sh -k stats`.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  python3 python3-venv python3-pip
  # Qt (PySide6 wheels, offscreen platform) needs these on a bare Debian
  libglib2.0-0 libgl1 libegl1 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3
  # a private throwaway PostgreSQL server for the team-queue tests (initdb, pg_ctl)
  postgresql
  # the browser the plugin's end-to-end tests run in (headless), node for its unit tests
  chromium
  nodejs
)

install_system_packages() {
  command -v apt-get >/dev/null 2>&1 || { echo "tests/run.sh: no apt-get; assuming system libraries are present"; return; }
  local missing=() pkg
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      echo "tests/run.sh: cannot install ${missing[*]} (not root, no sudo); continuing"; return
    fi
  fi
  echo "tests/run.sh: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

pick_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  echo "tests/run.sh: Python 3.11 or newer with venv is required" >&2
  exit 1
}

install_system_packages
PY=$(pick_python)
VENV=${MARKETDESK_VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test]"

export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
unset MARKETDESK_DB_URL

echo "== ruff"; "$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== mypy"; "$VENV/bin/mypy"
echo "== pytest"; "$VENV/bin/python" -m pytest "$@"
