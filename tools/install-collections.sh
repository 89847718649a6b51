#!/usr/bin/env bash
# Provide the collections this one depends on without Ansible Galaxy.
#
# The `ansible` package on PyPI bundles kubernetes.core; we download that one
# wheel (no dependencies) and unpack only the collections we need into the
# collections tree the tests use. Users who have Galaxy install from
# requirements.yml instead (see README).
set -euo pipefail
venv="${VENV:-.venv}"
dest="${COLLECTIONS_DIR:-.build/collections}/ansible_collections"
ansible_bundle="${ANSIBLE_BUNDLE_VERSION:-12.3.0}"
wanted=(kubernetes/core awx/awx)  # awx.awx: playbooks/awx/configure.yml

have_all=1
for c in "${wanted[@]}"; do [[ -f "$dest/$c/MANIFEST.json" ]] || have_all=0; done
((have_all)) && { echo "install-collections: ok (already present)"; exit 0; }

cache=.cache/pypi
mkdir -p "$cache" "$dest"
wheel=$(ls "$cache"/ansible-"$ansible_bundle"-py3-none-any.whl 2>/dev/null || true)
if [[ -z "$wheel" ]]; then
  echo "install-collections: downloading ansible==$ansible_bundle from PyPI (bundle of collections)"
  "$venv/bin/python" -m pip download -q --no-deps "ansible==$ansible_bundle" -d "$cache"
  wheel=$(ls "$cache"/ansible-"$ansible_bundle"-py3-none-any.whl)
fi
"$venv/bin/python" - "$wheel" "$dest" "${wanted[@]}" <<'PY'
import json, sys, zipfile
wheel, dest, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for coll in wanted:
        prefix = f"ansible_collections/{coll}/"
        members = [n for n in z.namelist() if n.startswith(prefix)]
        for name in members:
            z.extract(name, dest.rsplit("ansible_collections", 1)[0])
        version = json.loads(z.read(prefix + "MANIFEST.json"))["collection_info"]["version"]
        print(f"install-collections: {coll.replace('/', '.')} {version} ({len(members)} files)")
PY
