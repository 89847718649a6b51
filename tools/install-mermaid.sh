#!/usr/bin/env bash
# The Mermaid renderer the report's diagram test runs (tests/integration/test_report_mermaid.py):
# mermaid-cli (mmdc) from npm, at the versions tools/mermaid/package-lock.json pins (with their
# integrity hashes), into a directory of the project's own (.build/mermaid), driving Debian's
# chromium (tools/setup-system.sh installs it). Puppeteer downloads no browser.
# Idempotent: nothing is fetched when the installed lock file is the committed one.
set -euo pipefail

dest="${MERMAID_DIR:-.build/mermaid}"
src="$(dirname "$0")/mermaid"
chromium="${MERMAID_CHROMIUM:-/usr/bin/chromium}"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "install-mermaid: $tool is missing: run tools/setup-system.sh" >&2; exit 1; }
done
[[ -x "$chromium" ]] || { echo "install-mermaid: $chromium is missing: run tools/setup-system.sh" >&2; exit 1; }

mkdir -p "$dest"
if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [[ ! -x "$dest/node_modules/.bin/mmdc" ]]; then
  echo "install-mermaid: npm ci into $dest ($(sed -n 's/.*"@mermaid-js\/mermaid-cli": "\(.*\)".*/mermaid-cli \1/p' "$src/package.json"))"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# We run as root, where Chromium's sandbox cannot start: --no-sandbox.
cat >"$dest/puppeteer-config.json" <<EOF
{"executablePath": "$chromium", "args": ["--no-sandbox", "--disable-gpu"]}
EOF

# A diagram must render, or the set-up is not done.
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf 'flowchart LR\n  a["install-mermaid"] --> b(["ok"])\n' >"$probe/probe.mmd"
"$dest/node_modules/.bin/mmdc" --quiet -p "$dest/puppeteer-config.json" -i "$probe/probe.mmd" -o "$probe/probe.svg"
grep -q 'install-mermaid' "$probe/probe.svg"
echo "install-mermaid: ok ($("$dest/node_modules/.bin/mmdc" --version), $("$chromium" --version 2>/dev/null | head -1))"
