/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "oci.h"
#include "oci_options.h"
#include "reason.h"
#include "sandbox_options.h"

/* ubinfmt-runtime's annotations (runtime/profile.h): its business, not the daemon's. */
#define KEY_RUNTIME_REWRITTEN OCI_ANNOTATION_PREFIX "runtime"
#define KEY_RUNTIME_ENABLE OCI_ANNOTATION_PREFIX "enable"

static const struct sandbox_options_source metadata_source = {
	.name = "listenerMetadata",
	.prefix = OCI_ANNOTATION_PREFIX,
	.trust = SANDBOX_OPTIONS_OPERATOR,
};
static const struct sandbox_options_source annotation_source = {
	.name = "annotation",
	.prefix = OCI_ANNOTATION_PREFIX,
	.trust = SANDBOX_OPTIONS_TENANT,
};

/* Trust boundary: annotations are bounded and NUL-free (oci_parse_state); only ours are read. */
static int parse_annotations(struct sandbox_options *o, const struct oci_state *st, char *reason, size_t reason_size)
{
	for (size_t i = 0; i < st->n_annotations; i++) {
		const struct oci_annotation *a = &st->annotations[i];
		int r;

		if (strncmp(a->key, OCI_ANNOTATION_PREFIX, strlen(OCI_ANNOTATION_PREFIX)) != 0 ||
		    strcmp(a->key, KEY_RUNTIME_REWRITTEN) == 0 || strcmp(a->key, KEY_RUNTIME_ENABLE) == 0)
			continue;
		r = sandbox_options_add(o, &annotation_source, a->key, a->value, reason, reason_size);
		if (r < 0)
			return r;
	}
	return sandbox_options_check(o, &annotation_source, reason, reason_size);
}

/*
 * Trust boundary: both places are written by whoever wrote config.json.  listenerMetadata
 * (bounded to OCI_METADATA_MAX bytes without NUL by oci_parse_state) is taken as the
 * operator's, annotations as possibly the image's or pod's author's: they may only narrow the
 * operator's choices, and never name a host path (sandbox_options.h).
 */
int oci_parse_options(const struct oci_state *st, struct sandbox_options *ret, char *reason, size_t reason_size)
{
	struct sandbox_options meta, ann;
	int r;

	if (reason && reason_size > 0)
		reason[0] = '\0';
	if (st->options_refused[0] != '\0')
		return reason_set(reason, reason_size, -EINVAL, "%s", st->options_refused);
	sandbox_options_init(&meta);
	sandbox_options_init(&ann);
	r = st->metadata ? sandbox_options_add_list(&meta, &metadata_source, st->metadata, reason, reason_size) : 0;
	if (r == 0)
		r = sandbox_options_check(&meta, &metadata_source, reason, reason_size);
	if (r == 0)
		r = parse_annotations(&ann, st, reason, reason_size);
	if (r < 0) {
		sandbox_options_free(&meta);
		sandbox_options_free(&ann);
		return r;
	}
	sandbox_options_narrow(&meta, &ann);
	sandbox_options_free(&ann);
	*ret = meta;
	return 0;
}
