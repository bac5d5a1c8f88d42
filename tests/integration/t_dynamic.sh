#!/usr/bin/env bash
# A dynamically linked foreign program: arm64 bash and coreutils with their own glibc and loader
# in the arm64-dyn rootfs.  `bash -c 'echo $BASH_VERSION; ls /'` must print bash's version and
# the rootfs's entries (ls is a nested dynamic foreign exec); also the loader run as a program,
# a pipeline of coreutils, and bash re-exec'ing itself through /proc/self/exe.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_fixtures
need_rootfs arm64-dyn
need_qemu arm64

R=$(make_rootfs arm64-dyn) || skip "cannot copy the rootfs"
[ -x "$R/bin/bash" ] || skip "arm64-dyn has no bin/bash"
entries=$(ls "$R" | paste -sd' ')

run urun --rootfs "$R" -- /bin/bash -c 'echo $BASH_VERSION; ls /'
lines=()
mapfile -t lines <<<"$out"
expect_match "bash -c: \$BASH_VERSION" '^[0-9]+\.[0-9]+\.[0-9]+' "${lines[0]:-}" "exit status $status"$'\n'"$out"
expect_eq "bash -c: ls / (nested dynamic exec)" "$entries" "$(printf '%s\n' "${lines[@]:1}" | paste -sd' ')" \
	"exit status $status"
expect_eq "bash -c: exit status" 0 "$status"

run urun --rootfs "$R" -- /bin/bash -c 'uname -m; cat /etc/passwd | head -n 1 | cut -d: -f1; exit 4'
expect_eq "coreutils pipeline, exit status 4" $'aarch64\nroot [4]' "$out [$status]"

run urun --rootfs "$R" -- /lib/ld-linux-aarch64.so.1 /bin/echo loader-ok
expect_eq "the guest's loader as the program" loader-ok "$out" "exit status $status"

run urun --rootfs "$R" -- /bin/bash -c 'exec /proc/self/exe -c "echo reexec-ok \$BASH_VERSION"'
expect_match "bash re-execs itself through /proc/self/exe" '^reexec-ok [0-9]+\.' "$out" "exit status $status"

run urun --rootfs "$R" -- /bin/bash -c 'env -i /bin/bash -c "echo env-i-ok"'
expect_eq "empty environment" env-i-ok "$out" "exit status $status"

finish
