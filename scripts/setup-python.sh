#!/usr/bin/env bash
# Creates .venv at the repository root with what the simulator's outside-client and
# shape-conformance tests need (PyPI's `jira` client and `jsonschema`) and the hostile peer
# harness (`cryptography`, for its own Ed25519 signing). Idempotent and fast when already done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/tests/outside-client/requirements.txt"
stamp="$venv/.twinsync-requirements"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
    exit 0
fi
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup-python: $python not found; install Python 3.9 or newer" >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "setup-python: $venv ready"
