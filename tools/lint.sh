#!/usr/bin/env bash
# Lints the project's sources.  `tools/lint.sh shellcheck` (the default): the shell scripts,
# warnings and errors (.shellcheckrc lets it follow the libraries the tests source): every
# tracked *.sh and the extension-less scripts below.  `tools/lint.sh clang-format`: every
# tracked C file is as .clang-format would write it (clang-format --dry-run); prints the first
# differences and the command that fixes them.  Exit 0 when clean, 1 with the findings, 77
# without the tool or a git checkout (run tools/deps.sh, which installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-shellcheck}
case $what in
shellcheck | clang-format) ;;
*)
	echo "usage: tools/lint.sh [shellcheck|clang-format]" >&2
	exit 2
	;;
esac
if ! command -v "$what" >/dev/null; then
	echo "skip: no $what (tools/deps.sh installs it)"
	exit 77
fi

if [ "$what" = clang-format ]; then
	if ! files=$(git ls-files '*.c' '*.h' 2>/dev/null) || [ -z "$files" ]; then
		echo "skip: not a git checkout: no list of the project's C files"
		exit 77
	fi
	bad=()
	for f in $files; do
		clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
	done
	if [ "${#bad[@]}" -gt 0 ]; then
		echo "clang-format: ${#bad[@]} files differ from .clang-format's layout:"
		printf '  %s\n' "${bad[@]}"
		clang-format --dry-run "${bad[0]}" 2>&1 | head -n 20
		echo "fix with: clang-format -i ${bad[*]}"
		exit 1
	fi
	echo "clang-format: $(wc -w <<<"$files") C files clean"
	exit 0
fi

if ! files=$(git ls-files '*.sh' 2>/dev/null) || [ -z "$files" ]; then
	echo "skip: not a git checkout: no list of the project's scripts"
	exit 77
fi
# shellcheck disable=SC2086 # one word per path: none has blanks
shellcheck -S warning $files .ci/run deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm \
	deploy/kubernetes/install-node
echo "shellcheck: $(wc -w <<<"$files") scripts and 5 more clean"
