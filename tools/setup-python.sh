#!/usr/bin/env bash
# Create .venv with the pinned toolchain (ansible-core, molecule, ansible-lint,
# pytest, ...) from PyPI. Re-running only installs what changed.
set -euo pipefail
venv="${VENV:-.venv}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3

if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup-python: creating $venv with $("$python" --version)"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r test-requirements.txt -c tests/constraints.txt
echo "setup-python: ok (ansible-core $("$venv/bin/python" -c "import ansible.release as r; print(r.__version__)"))"
