/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RT_PROFILE_H
#define UBINFMT_RT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/*
 * The seccomp merge: what ubinfmt-runtime does to a bundle's config.json so that ubinfmtd
 * serves the container, whatever profile the engine wrote (none at all for --privileged or
 * `runc spec`; Docker's and podman's defaults, with defaultAction SCMP_ACT_ERRNO, a 300-name
 * SCMP_ACT_ALLOW rule, conditional rules and an architectures list).
 *
 * Pure: works on a parsed document, no syscalls.
 */

/* Annotations: ours, read by ubinfmt-runtime (ubinfmtd ignores them). */
#define RT_ANNOTATION_REWRITTEN "io.ubinfmt.runtime"
#define RT_ANNOTATION_REWRITTEN_VALUE "rewritten"
#define RT_ANNOTATION_ENABLE "io.ubinfmt.enable"

enum rt_profile_result {
	RT_PROFILE_REWRITTEN,
	RT_PROFILE_ALREADY, /* annotated io.ubinfmt.runtime=rewritten: a second pass does nothing */
	RT_PROFILE_DENIED,  /* the profile forbids both execve and execveat: nothing to serve, untouched */
	RT_PROFILE_RESULT_MAX,
};

struct rt_profile_report {
	bool created;	      /* there was no linux.seccomp: one was made, defaultAction SCMP_ACT_ALLOW */
	bool denied[2];	      /* execve, execveat: forbidden by the profile, left so */
	unsigned conditional; /* conditional rules (with "args") execve or execveat was taken out of */
	unsigned dropped;     /* rules dropped because no name was left in them */
	/* The first conditional rule taken apart, for the warning: "rule 7 (SCMP_ACT_ALLOW, with args)". */
	char first_conditional[96];
};

struct rt_profile_params {
	const char *socket;   /* listenerPath to set */
	const char *metadata; /* listenerMetadata for a profile that has none; NULL: leave it unset */
};

/*
 * Rewrites config (a parsed config.json) in place, unless it is annotated as done already:
 *  - linux.seccomp is created when absent or null ({"defaultAction": "SCMP_ACT_ALLOW"});
 *  - execve and execveat are taken out of every rule that allows them (SCMP_ACT_ALLOW,
 *    SCMP_ACT_LOG, SCMP_ACT_NOTIFY), conditional ones included (counted in the report: the
 *    notify rule then covers the calls the condition left to defaultAction); a rule left
 *    with no names is dropped; one rule {"names": [execve, execveat], "action":
 *    "SCMP_ACT_NOTIFY"} is appended;
 *  - a syscall the profile forbids stays forbidden: one named by an unconditional rule with
 *    another action (SCMP_ACT_ERRNO, SCMP_ACT_KILL…), or named by no rule under a
 *    defaultAction that is not ALLOW or LOG, is left as it is and kept out of the notify rule
 *    (ubinfmtd would let it through).  When both are forbidden nothing is changed
 *    (RT_PROFILE_DENIED);
 *  - listenerPath is set to p->socket; listenerMetadata is kept, or set from p->metadata;
 *  - the annotation io.ubinfmt.runtime=rewritten is added.
 * defaultAction, architectures, flags and every other rule and member stay as they were.
 *
 * Refused, with a one-line reason and config untouched: -EBUSY when listenerPath names another
 * socket (two agents cannot share one filter); -EINVAL for a profile ubinfmtd cannot serve
 * (defaultAction SCMP_ACT_NOTIFY, a notify rule for other syscalls, a conditional rule that
 * forbids execve or execveat under some arguments) or one that is malformed where the merge
 * reads it (runc would refuse it too); -ENOMEM.
 */
int rt_profile_merge(struct json_object *config, const struct rt_profile_params *p, enum rt_profile_result *ret,
		     struct rt_profile_report *report, char *reason, size_t reason_size);

/*
 * The string value of annotation key in config, or NULL (no such annotation, or not a
 * string, or config/annotations not objects).
 */
const char *rt_annotation(struct json_object *config, const char *key);

#endif
