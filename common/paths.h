/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PATHS_H
#define UBINFMT_PATHS_H

/* Where ubinfmtd listens unless told otherwise, and where the agent and the CLI look. */
#define UBINFMT_RUN_DIR "/run/ubinfmt"
#define UBINFMT_AGENT_SOCKET UBINFMT_RUN_DIR "/agent.sock"
#define UBINFMT_OCI_SOCKET UBINFMT_RUN_DIR "/oci.sock"
#define UBINFMT_CONTROL_SOCKET UBINFMT_RUN_DIR "/control.sock"

#define UBINFMT_VERSION_STRING "0.1.0"

#endif
