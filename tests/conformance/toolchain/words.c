#include "wc.h"

/* Words as wc -w counts them in the C locale: runs of bytes other than space, \t\n\v\f\r. */
size_t count_words(const unsigned char *p, size_t n, int *in_word)
{
	size_t words = 0;
	for (size_t i = 0; i < n; i++) {
		int space = p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r');
		if (!space && !*in_word)
			words++;
		*in_word = !space;
	}
	return words;
}
