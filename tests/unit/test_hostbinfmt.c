/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "hostbinfmt.h"

/* What /proc/sys/fs/binfmt_misc/qemu-aarch64 shows once Debian's entry is registered. */
static const char aarch64_entry[] = "enabled\n"
				    "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
				    "flags: POCF\n"
				    "offset 0\n"
				    "magic 7f454c460201010000000000000000000200b700\n"
				    "mask ffffffffffffff00fffffffffffffffffeffffff\n";

static const uint8_t aarch64_head[20] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0xb7, 0 };
static const uint8_t armhf_head[20] = { 0x7f, 'E', 'L', 'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x28, 0 };

static void test_parse_and_match(void **state)
{
	struct hostbinfmt h = { .n = 1 };
	uint8_t dyn[20];

	(void)state;
	assert_int_equal(hostbinfmt_parse_entry(aarch64_entry, strlen(aarch64_entry), &h.entries[0]), 0);
	assert_true(h.entries[0].enabled);
	assert_true(h.entries[0].is_magic);
	assert_int_equal(h.entries[0].size, 20);
	assert_true(hostbinfmt_matches(&h, aarch64_head, sizeof(aarch64_head)));
	assert_false(hostbinfmt_matches(&h, armhf_head, sizeof(armhf_head)));
	/* The mask ignores e_type's low bit: ET_DYN matches too. */
	memcpy(dyn, aarch64_head, sizeof(dyn));
	dyn[16] = 3;
	assert_true(hostbinfmt_matches(&h, dyn, sizeof(dyn)));
	/*
	 * A head shorter than the magic is compared as if zeros followed, like the kernel's
	 * zero-filled buffer (found by fuzz_hostbinfmt): aarch64's last magic byte is 0, so 19
	 * bytes still match; 18 do not (e_machine's 0xb7 is missing).
	 */
	assert_true(hostbinfmt_matches(&h, aarch64_head, 19));
	assert_false(hostbinfmt_matches(&h, aarch64_head, 18));
	assert_false(hostbinfmt_matches(&h, aarch64_head, 0));
	/* Disabled entries do not count. */
	h.entries[0].enabled = false;
	assert_false(hostbinfmt_matches(&h, aarch64_head, sizeof(aarch64_head)));
}

static void test_no_mask(void **state)
{
	static const char text[] = "enabled\ninterpreter /x\nflags: \noffset 2\nmagic 4c46\n";
	struct hostbinfmt h = { .n = 1 };

	(void)state;
	assert_int_equal(hostbinfmt_parse_entry(text, strlen(text), &h.entries[0]), 0);
	assert_true(hostbinfmt_matches(&h, aarch64_head, sizeof(aarch64_head)));
	assert_false(hostbinfmt_matches(&h,
					(const uint8_t *)"\x7f"
							 "ELG",
					4));
}

/*
 * Since Linux 5.1 BINPRM_BUF_SIZE is 256: an entry may look at any of the first 256 bytes
 * (the parser used to refuse offset + size > 128, so such a host entry was ignored).
 */
static void test_magic_up_to_byte_256(void **state)
{
	static const char text[] = "enabled\ninterpreter /x\nflags: \noffset 250\nmagic 00000000aabb\n";
	struct hostbinfmt h = { .n = 1 };
	uint8_t head[256] = { 0 };

	(void)state;
	assert_int_equal(hostbinfmt_parse_entry(text, strlen(text), &h.entries[0]), 0);
	assert_int_equal(h.entries[0].offset, 250);
	assert_int_equal(h.entries[0].size, 6);
	head[254] = 0xaa;
	head[255] = 0xbb;
	assert_true(hostbinfmt_matches(&h, head, sizeof(head)));
	head[255] = 0xbc;
	assert_false(hostbinfmt_matches(&h, head, sizeof(head)));
	/* A file of 254 bytes reads zeros where the magic wants aa bb. */
	assert_false(hostbinfmt_matches(&h, head, 254));
}

static void test_extension_entries_never_match(void **state)
{
	static const char text[] = "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n";
	struct hostbinfmt h = { .n = 1 };

	(void)state;
	assert_int_equal(hostbinfmt_parse_entry(text, strlen(text), &h.entries[0]), 0);
	assert_false(h.entries[0].is_magic);
	assert_false(hostbinfmt_matches(&h, aarch64_head, sizeof(aarch64_head)));
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"enabled\nmagic 7f45z\n",	     /* not hex */
		"enabled\nmagic 7f454\n",	     /* odd length */
		"enabled\nmagic 7f45\nmask ff\n",    /* mask shorter than magic */
		"enabled\noffset 255\nmagic 7f45\n", /* past BINPRM_BUF_SIZE (256) */
		"enabled\noffset 256\nmagic 7f\n",
		"enabled\noffset 99999999999999999999\nmagic 7f\n",
	};
	struct hostbinfmt_entry e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hostbinfmt_parse_entry(bad[i], strlen(bad[i]), &e), -EINVAL);
	for (size_t len = 0; len < strlen(aarch64_entry); len++)
		(void)hostbinfmt_parse_entry(aarch64_entry, len, &e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_match),
		cmocka_unit_test(test_no_mask),
		cmocka_unit_test(test_magic_up_to_byte_256),
		cmocka_unit_test(test_extension_entries_never_match),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
