#!/usr/bin/env bash
# Installs what clonectl's build, tests and demo need, skipping what is already there:
#   - Debian packages: libcurl (OpenSSL flavour) and OpenSSL headers, SQLite, libxml2, and chromium (the report's
#     browser check renders the HTML report headless: tests/test_report_browser.py);
#   - .venv: a Python venv with the pinned tools of scripts/requirements.txt (moto[server], awscli, pytest, tree-sitter).
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

apt_packages=(libcurl4-openssl-dev libssl-dev zlib1g-dev libsqlite3-dev libxml2 pkg-config chromium)
# The venv module: pyenv and python.org builds have it; Debian's python3 needs python3-venv.
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    log "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# CLONECTL_SETUP_NO_SWIFT=1: the caller runs an installed clonectl and builds nothing.
[ -n "${CLONECTL_SETUP_NO_SWIFT:-}" ] || command -v swift >/dev/null \
    || { log "swift is not on PATH: install Swift 6.x (see swift.org) and retry"; exit 1; }

stamp=.venv/.requirements.sha256
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing the pinned test tools into .venv"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements.txt
    # A .venv that is a link to a venv shared by several checkouts keeps its stamp: the checkouts' requirement
    # lists may differ for a while, and each one installs what it lacks (a no-op when nothing is missing).
    [ -L .venv ] || echo "$want" > "$stamp"
fi
