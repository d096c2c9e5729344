#!/usr/bin/env bash
# Tests the golden-path templates (python-sklearn, python-boosting) and their shared runtime
# (templates/runtime) in one pytest run: the example packages, boosted models trained in the
# tests, the binary tensor data extension and NVIDIA's tritonclient against a real server.
# Creates or updates the ML venv ($PAVED_HOME/ml-venv, default .paved/ml-venv) when the
# pinned requirements changed since the last install, then runs pytest; exits with pytest's code.
set -euo pipefail
cd "$(dirname "$0")/../.."

home="${PAVED_HOME:-.paved}"
venv="$home/ml-venv"
stamp="$venv/.paved-requirements.sha256"
reqs=(scripts/python/requirements-ml.txt test/python/requirements.txt)
digest="$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  command -v python3 >/dev/null || { echo "paved: python3 is missing (apt-get install -y python3 python3-venv)" >&2; exit 1; }
  echo "paved: preparing the ML environment in $venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r scripts/python/requirements-ml.txt -r test/python/requirements.txt >&2
  echo "$digest" > "$stamp"
fi

# Bytecode and pytest's cache stay out of the clone.
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider test/python "$@"
