#!/usr/bin/env bash
# The whole test run: lint, types, layer contracts, then every test (as root: most are real).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src tests
.venv/bin/ruff format --check src tests
.venv/bin/mypy
exec .venv/bin/pytest -p no:cacheprovider "$@"
