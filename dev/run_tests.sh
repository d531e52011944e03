#!/usr/bin/env bash
# The whole test suite (soak tests excluded: `make soak`). Models are required: tests that need
# them fail, not skip, when FACESENSE_MODEL_DIR does not hold them.
set -eo pipefail
cd "$(dirname "$0")/.."
export FACESENSE_REQUIRE_MODELS=1
exec python -m pytest -ra -m 'not soak' test "$@"
