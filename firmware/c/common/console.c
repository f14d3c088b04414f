/* The printf of console.h over the platform's con_putc(). */
#include <stdint.h>

#include "console.h"

void con_puts(const char *s)
{
    while (*s)
        con_putc(*s++);
}

static void put_number(uint32_t value, unsigned base, int width, char pad, int negative)
{
    char digits[12];
    int n = 0;
    do {
        unsigned d = value % base;
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        value /= base;
    } while (value);
    if (negative)
        width--;
    if (negative && pad == '0')
        con_putc('-');
    for (; width > n; width--)
        con_putc(pad);
    if (negative && pad != '0')
        con_putc('-');
    while (n)
        con_putc(digits[--n]);
}

void con_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            con_putc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0;
        fmt++;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'c':
            con_putc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = 0;
            while (s[len])
                len++;
            for (; width > len; width--)
                con_putc(pad);
            con_puts(s);
            break;
        }
        case 'd': {
            int v = va_arg(ap, int);
            put_number(v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10, width, pad, v < 0);
            break;
        }
        case 'u':
            put_number(va_arg(ap, unsigned), 10, width, pad, 0);
            break;
        case 'x':
            put_number(va_arg(ap, unsigned), 16, width, pad, 0);
            break;
        case '%':
            con_putc('%');
            break;
        case '\0':
            return;
        default:   /* an unknown conversion is shown, not swallowed */
            con_putc('%');
            con_putc(*fmt);
        }
    }
}

void con_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    con_vprintf(fmt, ap);
    va_end(ap);
}
