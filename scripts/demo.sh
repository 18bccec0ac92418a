#!/usr/bin/env bash
# Set everything up and run the main job end to end on the embedded defaults:
# phantom study -> analysis -> report -> coding, stored in SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
dynaspine demo "${@}"
