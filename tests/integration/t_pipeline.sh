#!/usr/bin/env bash
# A foreign shell pipeline with nested execs, for every fixture architecture, in a --rootfs
# sandbox: `sh -c 'uname -m; ls / | wc -l; sh -c "exit 3"; echo $?'` must print the emulated
# machine, the number of entries in /, and 3; `sh -c 'exit 5'` must make `ubinfmt run` exit 5.
# busybox ash runs applets by exec'ing /proc/self/exe, so every stage is a nested foreign exec.
# Then the same on the host's filesystem (no --rootfs), the foreign busybox named by path.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_fixtures

pipeline='uname -m; ls / | wc -l; sh -c "exit 3"; echo $?'

for arch in "${FOREIGN_ARCHS[@]}"; do
	if [ ! -d "$FIXTURES/rootfs/busybox-$arch" ]; then
		skip_check "$arch" "no rootfs fixture busybox-$arch"
		continue
	fi
	if [ -n "$(qemu_name "$arch")" ] && ! command -v "qemu-$(qemu_name "$arch")-static" >/dev/null; then
		skip_check "$arch" "no qemu-$(qemu_name "$arch")-static"
		continue
	fi
	R=$(make_rootfs "busybox-$arch") || { fail "$arch: copy rootfs"; continue; }
	entries=$(ls "$R" | wc -l)

	run urun --rootfs "$R" -- /bin/sh -c "$pipeline"
	if [ "$status" -ne 0 ]; then
		fail "$arch: pipeline exit status 0" "exit status $status"$'\n'"$out"
	else
		lines=()
		mapfile -t lines <<<"$out"
		if [[ ${#lines[@]} -eq 3 && ${lines[0]} =~ $(uname_re "$arch") && ${lines[1]// /} == "$entries" && ${lines[2]} == 3 ]]; then
			pass "$arch: pipeline output"
		else
			fail "$arch: pipeline output" "want: $(uname_re "$arch") / $entries / 3"$'\n'"got:"$'\n'"$out"
		fi
	fi
	expect_status "$arch: exit 5 comes back" 5 urun --rootfs "$R" -- /bin/sh -c 'exit 5'
	rm -rf --one-file-system "$R"
done

# i386 may run natively on an x86-64 host (the start-up probe decides); --no-native i386 makes
# ubinfmt emulate it anyway, so the qemu-i386 path is exercised on every host.
if [ -d "$FIXTURES/rootfs/busybox-i386" ] && command -v qemu-i386-static >/dev/null && ! is_baseline; then
	R=$(make_rootfs busybox-i386)
	entries=$(ls "$R" | wc -l)
	run urun --no-native i386 --trace="$T/i386.trace" --rootfs "$R" -- /bin/sh -c "$pipeline"
	lines=()
	mapfile -t lines <<<"$out"
	if [[ $status -eq 0 && ${#lines[@]} -eq 3 && ${lines[0]} =~ $(uname_re i386) && ${lines[1]// /} == "$entries" && ${lines[2]} == 3 ]]; then
		pass "i386 through qemu-i386 (--no-native i386): pipeline output"
	else
		fail "i386 through qemu-i386 (--no-native i386): pipeline output" "exit status $status"$'\n'"$out"
	fi
	expect_match "i386 execs were emulated by qemu-i386" 'arch=i386 decision=emulate emulator=[^ ]*qemu-i386' \
		"$(cat "$T/i386.trace")"
	rm -rf --one-file-system "$R"
fi

# Host filesystem: no --rootfs, the foreign busybox by absolute path at every step.
for arch in arm64 armhf s390x; do
	[ -x "$(busybox "$arch")" ] || { skip_check "host fs $arch" "no busybox fixture"; continue; }
	bb=$T/host-$arch/busybox
	mkdir -p "$(dirname "$bb")" && cp "$(busybox "$arch")" "$bb"
	want_entries=$(ls / | wc -l)
	run urun -- "$bb" sh -c "$bb uname -m; $bb ls / | $bb wc -l; $bb sh -c 'exit 3'; echo \$?"
	lines=()
	mapfile -t lines <<<"$out"
	if [[ $status -eq 0 && ${#lines[@]} -eq 3 && ${lines[0]} =~ $(uname_re "$arch") && ${lines[1]// /} == "$want_entries" && ${lines[2]} == 3 ]]; then
		pass "host fs $arch: pipeline"
	else
		fail "host fs $arch: pipeline" "exit status $status; want $(uname_re "$arch") / $want_entries / 3, got:"$'\n'"$out"
	fi
	expect_status "host fs $arch: exit 5 comes back" 5 urun -- "$bb" sh -c 'exit 5'
done

finish
