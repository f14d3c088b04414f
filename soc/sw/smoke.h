/* Console helpers of the smoke programs. */
#ifndef SMOKE_H
#define SMOKE_H
#include "soc_map.h"

static inline void put_char(char c) { SOC_IO(SOC_IO_CONSOLE) = (uint8_t)c; }

static inline void put_str(const char *s)
{
    while (*s)
        put_char(*s++);
}

static inline void put_hex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4)
        put_char("0123456789abcdef"[(v >> i) & 15]);
}
#endif
