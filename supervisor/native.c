/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"
#include "macros.h"
#include "native.h"

#define PROBE_VADDR 0x08048000u

static const struct host_probe *find_probe(enum arch arch)
{
	size_t n;
	const struct host_probe *probes = host_probes(&n);

	for (size_t i = 0; i < n; i++)
		if (probes[i].arch == arch)
			return &probes[i];
	return NULL;
}

int native_probe_image(enum arch arch, uint8_t *buf, size_t size)
{
	const uint8_t *code;
	size_t code_len;
	uint16_t machine;
	Elf32_Ehdr eh = { 0 };
	Elf32_Phdr ph = { 0 };
	size_t total;

	const struct host_probe *probe = find_probe(arch);
	if (!probe)
		return -EINVAL;
	code = probe->code;
	code_len = probe->code_len;
	machine = probe->machine;
	total = sizeof(eh) + sizeof(ph) + code_len;
	if (size < total)
		return -E2BIG;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = machine;
	eh.e_version = EV_CURRENT;
	eh.e_flags = probe->flags;
	eh.e_entry = PROBE_VADDR + sizeof(eh) + sizeof(ph);
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	ph.p_type = PT_LOAD;
	ph.p_vaddr = ph.p_paddr = PROBE_VADDR;
	ph.p_filesz = ph.p_memsz = (Elf32_Word)total;
	ph.p_flags = PF_R | PF_X;
	ph.p_align = 0x1000;

	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memcpy(buf + sizeof(eh) + sizeof(ph), code, code_len);
	return (int)total;
}

static bool probe_one(enum arch arch)
{
	uint8_t image[256];
	_cleanup_close_ int fd = -1;
	int n, status;
	pid_t pid;

	n = native_probe_image(arch, image, sizeof(image));
	if (n < 0)
		return false;
	fd = memfd_create("ubinfmt-probe", MFD_CLOEXEC);
	if (fd < 0 || write(fd, image, (size_t)n) != n)
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		char *const argv[] = { (char *)"ubinfmt-probe", NULL };
		char *const envp[] = { NULL };
		fexecve(fd, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == NATIVE_PROBE_STATUS;
}

uint64_t native_probe(void)
{
	uint64_t mask = UINT64_C(1) << host_arch();
	size_t n;
	const struct host_probe *probes = host_probes(&n);

	for (size_t i = 0; i < n; i++)
		if (probes[i].continued && probe_one(probes[i].arch))
			mask |= UINT64_C(1) << probes[i].arch;
	return mask;
}
