/* Reset entry of the SoC's smoke programs (both CPUs): the stack at the top of the own
 * RAM, .bss cleared, main(), then a spin. Address 0x10 (PicoRV32's IRQ entry on the
 * management CPU) holds a handler that returns at once (retirq): the smoke programs
 * enable no interrupt. */
#include "soc_map.h"

    .section .text.start
    .global _start
_start:
    j 1f
    .balign 16
    .word 0x0400000b          /* retirq (PicoRV32 custom instruction) */
1:  li sp, SOC_STACK_TOP
    la t0, __bss_start
    la t1, __bss_end
2:  bgeu t0, t1, 3f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 2b
3:  call main
4:  j 4b
