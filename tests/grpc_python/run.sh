#!/usr/bin/env bash
# The Python end-to-end test of `newsarc serve`: a virtualenv with the pinned
# grpcio packages (requirements.txt), then pytest. Expects target/debug/newsarc
# to be built (cargo test builds it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${NEWSARC_PY_VENV:-$here/../../target/grpc-python-venv}"
if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
exec "$venv/bin/pytest" -q -p no:cacheprovider "$here/test_grpc.py"
