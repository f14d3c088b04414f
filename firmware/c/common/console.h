/* Console output for the firmware and the workload: a small printf.
 *
 * The platform provides con_putc() (the SoC's CONSOLE register on the CPU, a callback or
 * stdout in a native build); everything else is here. Conversions: %c %s %d %u %x, with
 * an optional zero flag and width (%08x). No floating point, no long long.
 */
#ifndef MS_CONSOLE_H
#define MS_CONSOLE_H

#include <stdarg.h>

void con_putc(char c);
void con_puts(const char *s);
void con_vprintf(const char *fmt, va_list ap);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MS_CONSOLE_H */
