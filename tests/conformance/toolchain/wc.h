#pragma once
#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n);
size_t count_words(const unsigned char *p, size_t n, int *in_word);
