#!/usr/bin/env bash
# k8s-validate.sh MANIFEST_DIR VERSION UNIT_FILE: validates and lints Kubernetes manifests
# (tools/k8s-validate/validate.cjs says what it checks).  Installs the validator's pinned
# packages (tools/k8s-validate/package-lock.json: kubernetes-models, the Kubernetes API's
# schemas as validators, and yaml) from the npm registry with `npm ci` into .cache/k8s-validate,
# again only when the lock file changes.  Exit status: 0 clean, 1 findings, 2 usage, 3 when
# node or npm is missing or the install fails (said on stderr).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
src=$repo/tools/k8s-validate
cache=${UBINFMT_K8S_VALIDATE_CACHE:-$repo/.cache/k8s-validate}

if [ $# -ne 3 ]; then
	echo "usage: $0 MANIFEST_DIR VERSION UNIT_FILE" >&2
	exit 2
fi
for c in node npm; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "k8s-validate: no $c on PATH (tools/deps.sh installs Debian's nodejs and npm)" >&2
		exit 3
	fi
done
if [ ! -d "$cache/node_modules" ] || ! cmp -s "$src/package-lock.json" "$cache/package-lock.json"; then
	rm -rf "$cache"
	mkdir -p "$cache"
	cp "$src/package.json" "$src/package-lock.json" "$cache/"
	if ! (cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >"$cache/npm.log" 2>&1); then
		echo "k8s-validate: npm ci of the pinned validator failed:" >&2
		tail -n 20 "$cache/npm.log" >&2
		rm -rf "$cache/node_modules"
		exit 3
	fi
fi
cp "$src/validate.cjs" "$cache/validate.cjs"
exec node "$cache/validate.cjs" "$@"
