#include <stdio.h>
#include <sys/utsname.h>
#include "wc.h"

/* wc32 FILE: prints "crc32=HEX words=N machine=M" for FILE, M being uname's machine. */
int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: wc32 FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	unsigned char buf[4096];
	uint32_t crc = 0;
	size_t words = 0, n;
	int in_word = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		crc = crc32_update(crc, buf, n);
		words += count_words(buf, n, &in_word);
	}
	fclose(f);
	struct utsname u;
	if (uname(&u) != 0) {
		perror("uname");
		return 1;
	}
	printf("crc32=%08x words=%zu machine=%s\n", (unsigned)crc, words, u.machine);
	return 0;
}
