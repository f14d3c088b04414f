/* memset and memcpy for the freestanding builds: GCC may call them for a structure's
 * initialisation or copy even with -ffreestanding (documented in its "Standards"
 * section), and there is no C library. Word-at-a-time is not worth it at these sizes. */
#include <stddef.h>

void *memset(void *dst, int value, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

void *memset(void *dst, int value, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)value;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
