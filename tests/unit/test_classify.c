/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classify() on ELF headers.  The table in elf_headers.h holds real headers (Debian's
 * busybox-static for ten architectures) and headers built from qemu's binfmt magic for every
 * target, so each of the 35 qemu-user targets and x32 is covered.  Every call gets a heap copy of
 * exactly len bytes, so ASan reports any read past len.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "arch.h"
#include "classify.h"
#include "elf_headers.h"

/* A heap copy of exactly len bytes (none for len 0): the sanitizer guards its end. */
static int classify_exact(const uint8_t *buf, size_t len, struct classification *ret)
{
	uint8_t *copy = NULL;
	int r;

	if (len > 0) {
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, buf, len);
	}
	r = classify(copy, len, ret);
	free(copy);
	return r;
}

static size_t header_size(uint8_t elf_class)
{
	return elf_class == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
}

static void check_sample(const struct elf_sample *s, const uint8_t *bytes, size_t len)
{
	struct classification c;
	int r;

	r = classify_exact(bytes, len, &c);
	if (r != 0)
		fail_msg("%s: classify() = %d", s->source, r);
	if (c.kind != FILE_KIND_ELF || c.elf.arch != s->arch || c.elf.elf_class != s->elf_class ||
	    c.elf.big_endian != s->big_endian || c.elf.machine != s->machine || c.elf.flags != s->flags ||
	    c.elf.type != s->type)
		fail_msg("%s: got kind %d arch %s class %u be %d machine %#x flags %#x type %u, "
			 "want arch %s",
			 s->source, c.kind, arch_name(c.elf.arch), c.elf.elf_class, c.elf.big_endian, c.elf.machine,
			 c.elf.flags, c.elf.type, arch_name(s->arch));
}

static void test_samples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++) {
		const struct elf_sample *s = &elf_samples[i];

		check_sample(s, s->bytes, sizeof(s->bytes));
		assert_int_equal(arch_from_elf(s->elf_class, s->big_endian, s->machine, s->flags), s->arch);
	}
}

/* Every enum value except ARCH_UNKNOWN has at least one sample. */
static void test_samples_cover_every_arch(void **state)
{
	bool seen[ARCH_MAX] = { false };

	(void)state;
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++)
		seen[elf_samples[i].arch] = true;
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++)
		if (!seen[a])
			fail_msg("no ELF sample for %s", arch_name((enum arch)a));
}

/*
 * The bytes qemu's binfmt masks ignore (EI_OSABI, EI_ABIVERSION, the e_ident padding, the low
 * bit of e_type) must not change the answer.
 */
static void test_masked_bytes_ignored(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++) {
		struct elf_sample s = elf_samples[i];
		size_t type_lsb = s.big_endian ? 17 : 16;

		memset(s.bytes + EI_OSABI, 0xff, EI_NIDENT - EI_OSABI);
		s.bytes[type_lsb] ^= 1;
		s.type ^= 1;
		check_sample(&s, s.bytes, sizeof(s.bytes));
	}
}

/*
 * Every prefix of every header: shorter than the magic is "not ELF", shorter than the header of
 * its class is -ENOEXEC (and ret untouched), from there on the full answer.
 */
static void test_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++) {
		const struct elf_sample *s = &elf_samples[i];

		for (size_t len = 0; len <= sizeof(s->bytes); len++) {
			struct classification c, untouched;
			int r;

			if (len >= header_size(s->elf_class)) {
				check_sample(s, s->bytes, len);
				continue;
			}
			memset(&c, 0xa5, sizeof(c));
			untouched = c;
			r = classify_exact(s->bytes, len, &c);
			if (len < SELFMAG) {
				assert_int_equal(r, 0);
				assert_int_equal(c.kind, FILE_KIND_OTHER);
			} else {
				if (r != -ENOEXEC)
					fail_msg("%s: len %zu gave %d", s->source, len, r);
				assert_memory_equal(&c, &untouched, sizeof(c));
			}
		}
	}
}

static void test_exact_header_sizes(void **state)
{
	/* The 32-bit header ends at 52 bytes, the 64-bit one at 64: e_flags is inside both. */
	uint8_t h32[52] = { 0x7f, 'E', 'L', 'F', ELFCLASS32, ELFDATA2LSB, EV_CURRENT };
	uint8_t h64[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };
	struct classification c;

	(void)state;
	h32[16] = ET_EXEC;
	h32[18] = EM_ARM;
	h32[36] = 0x00, h32[37] = 0x04, h32[38] = 0x00, h32[39] = 0x05; /* EABI5, hard float */
	assert_int_equal(classify_exact(h32, sizeof(h32), &c), 0);
	assert_int_equal(c.elf.arch, ARCH_ARM);
	assert_int_equal(c.elf.flags, 0x05000400);
	assert_int_equal(classify_exact(h32, sizeof(h32) - 1, &c), -ENOEXEC);

	h64[16] = ET_DYN;
	h64[18] = EM_RISCV;
	h64[48] = 0x05;
	assert_int_equal(classify_exact(h64, sizeof(h64), &c), 0);
	assert_int_equal(c.elf.arch, ARCH_RISCV64);
	assert_int_equal(c.elf.type, ET_DYN);
	assert_int_equal(c.elf.flags, 5);
	assert_int_equal(classify_exact(h64, sizeof(h64) - 1, &c), -ENOEXEC);
	/* A 64-bit class with only a 32-bit header's worth of bytes is still short. */
	assert_int_equal(classify_exact(h64, 52, &c), -ENOEXEC);
}

static void test_bad_class_and_data(void **state)
{
	static const uint8_t bad[] = { 0, 3, 0x80, 0xff };
	struct classification c;

	(void)state;
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++) {
		for (size_t j = 0; j < sizeof(bad); j++) {
			uint8_t h[64];

			memcpy(h, elf_samples[i].bytes, sizeof(h));
			h[EI_CLASS] = bad[j];
			assert_int_equal(classify_exact(h, sizeof(h), &c), -ENOEXEC);

			memcpy(h, elf_samples[i].bytes, sizeof(h));
			h[EI_DATA] = bad[j];
			assert_int_equal(classify_exact(h, sizeof(h), &c), -ENOEXEC);
		}
	}
}

static void test_unknown_machine(void **state)
{
	static const struct {
		uint8_t elf_class, data;
		uint16_t machine;
		/* clang-format off */
	} cases[] = {
		{ ELFCLASS64, ELFDATA2LSB, 0x1234 },
		{ ELFCLASS32, ELFDATA2LSB, EM_NONE },
		{ ELFCLASS64, ELFDATA2LSB, EM_386 },   /* no 64-bit i386 */
		{ ELFCLASS64, ELFDATA2LSB, EM_ARM },   /* no 64-bit EM_ARM */
		{ ELFCLASS32, ELFDATA2LSB, EM_AARCH64 }, /* ILP32: qemu has no target */
		{ ELFCLASS32, ELFDATA2MSB, EM_S390 },  /* 31-bit s390: qemu has no target */
		{ ELFCLASS32, ELFDATA2MSB, EM_386 },   /* big-endian x86 */
		{ ELFCLASS64, ELFDATA2MSB, EM_RISCV },
		{ ELFCLASS32, ELFDATA2MSB, EM_ALPHA },
		{ ELFCLASS32, ELFDATA2LSB, 0xffff },
	};
	/* clang-format on */
	struct classification c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t h[64] = { 0x7f, 'E', 'L', 'F', cases[i].elf_class, cases[i].data, EV_CURRENT };
		bool be = cases[i].data == ELFDATA2MSB;

		h[be ? 17 : 16] = ET_EXEC;
		h[be ? 18 : 19] = (uint8_t)(cases[i].machine >> 8);
		h[be ? 19 : 18] = (uint8_t)cases[i].machine;
		assert_int_equal(classify_exact(h, sizeof(h), &c), 0);
		assert_int_equal(c.kind, FILE_KIND_ELF);
		assert_int_equal(c.elf.arch, ARCH_UNKNOWN);
		assert_int_equal(c.elf.machine, cases[i].machine);
		assert_int_equal(c.elf.big_endian, be);
	}
}

static const struct elf_sample *find_sample(const char *source_prefix)
{
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++)
		if (strncmp(elf_samples[i].source, source_prefix, strlen(source_prefix)) == 0)
			return &elf_samples[i];
	fail_msg("no sample from '%s'", source_prefix);
	return NULL;
}

/* Only EF_MIPS_ABI2 tells n32 from o32; the ISA and other flag bits do not matter. */
static void test_mips_abi(void **state)
{
	static const struct {
		const char *sample;
		size_t flags_offset; /* the byte of e_flags that holds bit 5 */
		enum arch o32, n32;
	} cases[] = {
		{ "busybox-static mipsel", 36, ARCH_MIPSEL, ARCH_MIPSN32EL },
		{ "binfmt magic of /usr/lib/binfmt.d/qemu-mips.conf", 39, ARCH_MIPS, ARCH_MIPSN32 },
	};
	struct classification c;
	uint8_t h64[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t h[64];

		memcpy(h, find_sample(cases[i].sample)->bytes, sizeof(h));
		h[cases[i].flags_offset] &= (uint8_t)~EF_MIPS_ABI2;
		assert_int_equal(classify_exact(h, sizeof(h), &c), 0);
		assert_int_equal(c.elf.arch, cases[i].o32);

		h[cases[i].flags_offset] |= EF_MIPS_ABI2;
		assert_int_equal(classify_exact(h, sizeof(h), &c), 0);
		assert_int_equal(c.elf.arch, cases[i].n32);
		assert_true(c.elf.flags & EF_MIPS_ABI2);

		/* Every other bit set, ABI2 clear: still o32. */
		for (size_t b = 36; b < 40; b++)
			h[b] = 0xff;
		h[cases[i].flags_offset] &= (uint8_t)~EF_MIPS_ABI2;
		assert_int_equal(classify_exact(h, sizeof(h), &c), 0);
		assert_int_equal(c.elf.arch, cases[i].o32);
		assert_int_equal(c.elf.flags, 0xffffffffu & ~(uint32_t)EF_MIPS_ABI2);
	}

	/* ABI2 in a 64-bit file is not n32: 64-bit MIPS stays mips64el. */
	memcpy(h64, find_sample("busybox-static mips64el")->bytes, sizeof(h64));
	h64[48] |= EF_MIPS_ABI2;
	assert_int_equal(classify_exact(h64, sizeof(h64), &c), 0);
	assert_int_equal(c.elf.arch, ARCH_MIPS64EL);
}

/* Multi-byte fields follow EI_DATA, not the host. */
static void test_byte_order(void **state)
{
	uint8_t h[52] = { 0x7f, 'E', 'L', 'F', ELFCLASS32, ELFDATA2MSB, EV_CURRENT };
	struct classification c;

	(void)state;
	h[16] = 0x00, h[17] = 0x03;				/* e_type */
	h[18] = 0x00, h[19] = EM_PPC;				/* e_machine */
	h[36] = 0x01, h[37] = 0x02, h[38] = 0x03, h[39] = 0x04; /* e_flags */
	assert_int_equal(classify_exact(h, sizeof(h), &c), 0);
	assert_int_equal(c.elf.arch, ARCH_PPC);
	assert_true(c.elf.big_endian);
	assert_int_equal(c.elf.type, ET_DYN);
	assert_int_equal(c.elf.machine, EM_PPC);
	assert_int_equal(c.elf.flags, 0x01020304);

	/* The same bytes read little-endian. */
	h[EI_DATA] = ELFDATA2LSB;
	assert_int_equal(classify_exact(h, sizeof(h), &c), 0);
	assert_false(c.elf.big_endian);
	assert_int_equal(c.elf.type, 0x0300);
	assert_int_equal(c.elf.machine, EM_PPC << 8);
	assert_int_equal(c.elf.flags, 0x04030201);
	assert_int_equal(c.elf.arch, ARCH_UNKNOWN);

	/* High bytes of a big-endian e_machine: alpha's 0x9026 and microblaze's old 0xbaab. */
	h[EI_DATA] = ELFDATA2MSB;
	h[18] = 0xba, h[19] = 0xab;
	assert_int_equal(classify_exact(h, sizeof(h), &c), 0);
	assert_int_equal(c.elf.machine, 0xbaab);
	assert_int_equal(c.elf.arch, ARCH_MICROBLAZE);
}

static void test_not_elf(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		/* clang-format off */
	} cases[] = {
		{ "", 0 },
		{ "#", 1 },
		{ "\x7f", 1 },
		{ "\x7f" "EL", 3 },
		{ "\x7f" "elf\x02\x01\x01", 7 },
		{ "MZ\x90\x00", 4 },
		{ "echo hello\n", 11 },
		{ " #!/bin/sh\n", 11 },
		{ "!#/bin/sh\n", 10 },
		{ "\0\0\0\0\0\0\0\0", 8 },
	};
	/* clang-format on */
	struct classification c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(classify_exact((const uint8_t *)cases[i].bytes, cases[i].len, &c), 0);
		assert_int_equal(c.kind, FILE_KIND_OTHER);
	}
}

static void test_scripts(void **state)
{
	struct classification c, untouched;

	(void)state;
	assert_int_equal(classify_exact((const uint8_t *)"#!/bin/sh -e\n", 13, &c), 0);
	assert_int_equal(c.kind, FILE_KIND_SCRIPT);
	assert_string_equal(c.script.interp, "/bin/sh");
	assert_true(c.script.has_arg);
	assert_string_equal(c.script.arg, "-e");

	/* The kernel's parser takes a bare "#!" as an empty name (the exec then fails, EACCES). */
	assert_int_equal(classify_exact((const uint8_t *)"#!", 2, &c), 0);
	assert_int_equal(c.kind, FILE_KIND_SCRIPT);
	assert_string_equal(c.script.interp, "");

	memset(&c, 0x5a, sizeof(c));
	untouched = c;
	assert_int_equal(classify_exact((const uint8_t *)"#!  \n/bin/sh", 12, &c), -ENOEXEC);
	assert_memory_equal(&c, &untouched, sizeof(c));
}

/* Bytes past CLASSIFY_HEAD_SIZE are never looked at, whatever len says. */
static void test_long_input(void **state)
{
	uint8_t buf[4096];
	struct classification c;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, find_sample("busybox-static s390x")->bytes, 64);
	assert_int_equal(classify_exact(buf, sizeof(buf), &c), 0);
	assert_int_equal(c.elf.arch, ARCH_S390X);

	/* A "#!" line whose newline is at byte 300: the name runs off the 256-byte window. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "#!/", 3);
	buf[300] = '\n';
	assert_int_equal(classify_exact(buf, sizeof(buf), &c), -ENOEXEC);
	buf[255] = ' ';
	assert_int_equal(classify_exact(buf, sizeof(buf), &c), 0);
	assert_int_equal(strlen(c.script.interp), 253);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_samples_cover_every_arch),
		cmocka_unit_test(test_masked_bytes_ignored),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_exact_header_sizes),
		cmocka_unit_test(test_bad_class_and_data),
		cmocka_unit_test(test_unknown_machine),
		cmocka_unit_test(test_mips_abi),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_long_input),
	};

	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
