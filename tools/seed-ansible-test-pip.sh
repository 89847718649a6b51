#!/usr/bin/env bash
# Make `ansible-test sanity/units --requirements` work without internet.
#
# ansible-test bootstraps pip into each of its test venvs by downloading a
# get-pip script from ci-files.testing.ansible.com into
# ~/.ansible/test/cache/get_pip_<version>.py, and only downloads it when that
# file is missing. This machine reaches PyPI but not that host, so we put a
# stand-in there: it installs the very same pip version from PyPI's own wheel.
set -euo pipefail
venv="${VENV:-.venv}"
pip_version=$("$venv/bin/python" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="3.11", path="/usr/bin/python3"))["pip"])
PY
)
cache_dir="$HOME/.ansible/test/cache"
target="$cache_dir/get_pip_${pip_version//./_}.py"
wheel_dir="$PWD/.cache/wheels"
mkdir -p "$cache_dir" "$wheel_dir"
wheel=$(ls "$wheel_dir"/pip-"$pip_version"-*.whl 2>/dev/null || true)
if [[ -z "$wheel" ]]; then
  "$venv/bin/python" -m pip download -q --no-deps "pip==$pip_version" -d "$wheel_dir"
  wheel=$(ls "$wheel_dir"/pip-"$pip_version"-*.whl)
fi
cat >"$target" <<PY
# Stand-in for get-pip.py, written by baremetal.metallb's tools/seed-ansible-test-pip.sh:
# installs pip $pip_version from its PyPI wheel (a wheel of pip can run pip itself).
import sys
sys.path.insert(0, "$wheel")
from pip._internal.cli.main import main
# get-pip.py options that pip itself does not know
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-cache-dir", "$wheel"] + [a for a in args if not a.startswith("pip==")]))
PY
echo "seed-ansible-test-pip: $target -> pip $pip_version"
