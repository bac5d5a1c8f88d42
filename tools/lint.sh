#!/usr/bin/env bash
# Lints the project's shell scripts with shellcheck (warnings and errors; .shellcheckrc lets it
# follow the libraries the tests source): every tracked *.sh and the extension-less scripts
# below.  Exit 0 when clean, 1 with the findings, 77 without shellcheck or a git checkout (run
# tools/deps.sh, which installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
	echo "skip: no shellcheck (tools/deps.sh installs it)"
	exit 77
fi
if ! files=$(git ls-files '*.sh' 2>/dev/null) || [ -z "$files" ]; then
	echo "skip: not a git checkout: no list of the project's scripts"
	exit 77
fi
# shellcheck disable=SC2086 # one word per path: none has blanks
shellcheck -S warning $files .ci/run deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm \
	deploy/kubernetes/install-node
echo "shellcheck: $(wc -w <<<"$files") scripts and 5 more clean"
