/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "cli.h"
#include "cliopt.h"
#include "emu.h"
#include "hostbinfmt.h"
#include "json_escape.h"
#include "log.h"
#include "macros.h"
#include "native.h"
#include "trace.h"

static const char detect_usage[] =
	"Usage: ubinfmt detect [--json] [--emulator ARCH=PATH]… FILE…\n"
	"\n"
	"Prints, for each FILE, its format (elf, script, other), architecture, ELF class and byte\n"
	"order, and what ubinfmt would do with it: native, emulate (with which emulator),\n"
	"no-emulator, or host-binfmt (left to the host's binfmt_misc).\n";

struct verdict {
	const char *format;
	struct classification cls;
	const char *decision;
	const char *emulator;
	const char *error;
};

static void judge(const char *file, const struct emu_registry *emus, uint64_t native, const struct hostbinfmt *host,
		  struct verdict *v)
{
	uint8_t head[CLASSIFY_HEAD_SIZE];
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	ssize_t n;

	*v = (struct verdict){ .format = "other", .decision = "kernel" };
	if (fd < 0) {
		v->error = strerror(errno);
		v->decision = "error";
		return;
	}
	n = read(fd, head, sizeof(head));
	if (n < 0) {
		v->error = strerror(errno);
		v->decision = "error";
		return;
	}
	if (hostbinfmt_matches(host, head, (size_t)n))
		v->decision = "host-binfmt";
	if (classify(head, (size_t)n, &v->cls) < 0 || v->cls.kind == FILE_KIND_OTHER)
		return;
	if (v->cls.kind == FILE_KIND_SCRIPT) {
		v->format = "script";
		v->decision = "interpreter";
		return;
	}
	v->format = "elf";
	if (strcmp(v->decision, "host-binfmt") == 0)
		return;
	enum arch arch = v->cls.elf.arch;
	const struct emu *emu = emu_registry_get(emus, arch);
	if (arch != ARCH_UNKNOWN && (native & (UINT64_C(1) << arch)))
		v->decision = "native";
	else if (emu) {
		v->decision = "emulate";
		v->emulator = emu->path;
	} else {
		v->decision = "no-emulator";
	}
}

static void print_verdict(const char *file, const struct verdict *v, bool json)
{
	const struct classification *c = &v->cls;
	bool elf = strcmp(v->format, "elf") == 0;
	bool script = strcmp(v->format, "script") == 0;

	if (!json) {
		printf("%s: %s", file, v->format);
		if (elf)
			printf(" %s %d-bit %s-endian", arch_name(c->elf.arch), c->elf.elf_class == 2 ? 64 : 32,
			       c->elf.big_endian ? "big" : "little");
		if (script)
			printf(" interpreter=%s%s%s", c->script.interp, c->script.has_arg ? " arg=" : "",
			       c->script.has_arg ? c->script.arg : "");
		printf(" -> %s", v->decision);
		if (v->emulator)
			printf(" %s", v->emulator);
		if (v->error)
			printf(" (%s)", v->error);
		putchar('\n');
		return;
	}
	printf("{\"file\":");
	json_print_string(stdout, file);
	printf(",\"format\":\"%s\"", v->format);
	if (elf)
		printf(",\"arch\":\"%s\",\"class\":%d,\"endian\":\"%s\",\"machine\":%u,\"flags\":%u",
		       arch_name(c->elf.arch), c->elf.elf_class == 2 ? 64 : 32, c->elf.big_endian ? "big" : "little",
		       c->elf.machine, c->elf.flags);
	if (script) {
		printf(",\"interpreter\":");
		json_print_string(stdout, c->script.interp);
		if (c->script.has_arg) {
			printf(",\"interpreter_arg\":");
			json_print_string(stdout, c->script.arg);
		}
	}
	printf(",\"decision\":\"%s\",\"emulator\":", v->decision);
	if (v->emulator)
		json_print_string(stdout, v->emulator);
	else
		printf("null");
	if (v->error) {
		printf(",\"error\":");
		json_print_string(stdout, v->error);
	}
	printf("}\n");
}

struct detect_args {
	struct emu_registry *emus;
	bool json;
};

enum {
	OPT_JSON = 0x100,
	OPT_EMULATOR
};

static int handle_detect_option(int key, const char *arg, void *ctx)
{
	struct detect_args *a = ctx;
	int r;

	switch (key) {
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_EMULATOR:
		r = emu_registry_override(a->emus, arg);
		if (r < 0)
			return log_error_errno(r, "--emulator '%s': %m", arg);
		return 0;
	default:
		return -EINVAL;
	}
}

int cmd_detect(int argc, char **argv)
{
	static struct emu_registry emus;
	static const struct cliopt options[] = {
		{ "json", OPT_JSON, no_argument, NULL },
		{ "emulator", OPT_EMULATOR, required_argument, NULL },
		{ "verbose", 'v', no_argument, NULL },
		{ "help", 'h', no_argument, NULL },
	};
	const struct cliopt_spec spec = {
		.head = detect_usage,
		.options = options,
		.n_options = ARRAY_SIZE(options),
		.handle = handle_detect_option,
	};
	struct detect_args a = { .emus = &emus };
	struct hostbinfmt host;
	int r, failed = 0;

	emu_registry_init(&emus);
	r = cliopt_parse(&spec, argc, argv, &a);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	if (r >= argc) {
		fputs(detect_usage, stderr);
		return 2;
	}
	uint64_t native = native_probe();
	(void)hostbinfmt_load("/proc/sys/fs/binfmt_misc", &host);
	(void)emu_registry_discover(&emus, getenv("PATH"), false);
	for (int i = r; i < argc; i++) {
		struct verdict v;
		judge(argv[i], &emus, native, &host, &v);
		print_verdict(argv[i], &v, a.json);
		if (v.error)
			failed = 1;
	}
	fflush(stdout);
	emu_registry_close(&emus);
	return failed;
}
