/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "oci_options.h"

/*
 * libFuzzer target for the OCI seccomp-agent payload (oci_parse_state) and the option language
 * (oci_parse_options).  The input is one payload as a runtime would send it; seeds are the
 * captured runc and crun payloads in fuzz/corpus/oci/.  The same bytes are also tried as
 * listenerMetadata, so the option parser gets mutated input even when the JSON is broken.
 *
 *   clang -fsanitize=fuzzer,address,undefined … fuzz_oci.c → ./fuzz_oci fuzz/corpus/oci
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_options(const struct oci_state *st)
{
	char reason[OCI_REASON_MAX];
	struct sandbox_options o;

	if (!memchr(st->options_refused, '\0', sizeof(st->options_refused)))
		abort();
	if (oci_parse_options(st, &o, reason, sizeof(reason)) == 0) {
		if (st->options_refused[0] != '\0')
			abort(); /* refused options never serve */
		if (o.arch_mask & ~SANDBOX_ARCH_ALL)
			abort();
		for (int a = 0; a < ARCH_MAX; a++)
			if (o.emulator[a] && o.emulator[a][0] != '/')
				abort();
		sandbox_options_free(&o);
	} else if (!memchr(reason, '\0', sizeof(reason)) || reason[0] == '\0') {
		abort(); /* every refusal explains itself */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[OCI_REASON_MAX];
	struct oci_state st;
	char *metadata;
	int r;

	r = oci_parse_state((const char *)data, size, &st, reason, sizeof(reason));
	if (r == 0) {
		if (st.seccomp_fd_index >= st.n_fds || st.pid < 0 || st.init_pid < 0 || st.id[0] == '\0')
			abort();
		if (st.n_annotations > OCI_ANNOTATIONS_MAX)
			abort();
		for (size_t i = 0; i < st.n_annotations; i++) {
			if (strlen(st.annotations[i].key) > OCI_ANNOTATION_KEY_MAX ||
			    strlen(st.annotations[i].value) > OCI_ANNOTATION_VALUE_MAX)
				abort();
			/* Refused options keep nothing they were made of. */
			if (st.options_refused[0] &&
			    strncmp(st.annotations[i].key, OCI_ANNOTATION_PREFIX, strlen(OCI_ANNOTATION_PREFIX)) == 0)
				abort();
		}
		if (st.options_refused[0] && st.metadata)
			abort();
		check_options(&st);
		oci_state_free(&st);
	} else if ((reason[0] == '\0' && r != -ENOMEM) ||
		   (r != -ENODATA && r != -EPROTO && r != -EMSGSIZE && r != -ENOMEM)) {
		abort();
	}

	/* The same bytes as listenerMetadata, when they could be one. */
	if (size > OCI_METADATA_MAX || memchr(data, '\0', size))
		return 0;
	metadata = malloc(size + 1);
	if (!metadata)
		return 0;
	memcpy(metadata, data, size);
	metadata[size] = '\0';
	st = (struct oci_state){ .metadata = metadata };
	check_options(&st);
	free(metadata);
	return 0;
}
