#!/usr/bin/env bash
# crun (1.8.1 in Debian 12) with ubinfmtd as its seccomp agent: the same checks as t_oci_runc
# (oci_runtime_checks in oci_lib.sh).  crun 1.8.1 refuses hybrid cgroups (v1 controllers plus a
# cgroup2 at /sys/fs/cgroup/unified): on such a host every crun command runs in a private mount
# namespace with that cgroup2 unmounted (the host's own mounts are untouched).  When crun cannot
# start even a plain container here, the test says why and skips.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

need_oci_base
need_cmd crun runc python3 timeout

if hybrid_cgroups; then
	need_cmd unshare umount
	CRUN_PRIVATE_NS=1
	echo "# hybrid cgroups: crun runs in a private mount namespace without /sys/fs/cgroup/unified"
fi
oci_probe rt_crun
start_daemon
oci_runtime_checks rt_crun
finish
