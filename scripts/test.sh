#!/usr/bin/env bash
# Set up with the dev tools and run the whole suite: ruff, mypy, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
# shellcheck disable=SC1091
. .venv/bin/activate
echo "== ruff"; ruff check src tests benchmarks
echo "== mypy"; mypy
echo "== pytest"
set +e
python -m pytest -n "${PYTEST_WORKERS:-2}" --timeout=600 "$@"
rc=$?
set -e
# pytest exits 5 when it collects no tests: a suite with nothing to run is not a failure
# of the code, but say so loudly.
if [[ $rc -eq 5 ]]; then echo "warning: pytest collected no tests" >&2; rc=0; fi
exit $rc
