#!/usr/bin/env bash
# runc (1.1.5 in Debian 12) with ubinfmtd as its seccomp agent: linux.seccomp sends execve and
# execveat to SCMP_ACT_NOTIFY and names ubinfmtd's OCI socket as listenerPath.  The bundle's
# rootfs is the arm64 busybox tree, with no qemu inside.  See oci_runtime_checks in oci_lib.sh.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

need_oci_base
need_cmd runc python3 timeout

oci_probe rt_runc
start_daemon
oci_runtime_checks rt_runc
finish
