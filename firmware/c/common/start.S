/* Reset and IRQ entry of both SoC CPUs (PicoRV32, PROGADDR_RESET 0, PROGADDR_IRQ 0x10).
 *
 * Reset: set sp to the top of the CPU's own RAM (STACKADDR does it too; this keeps a
 * reset by the debugger honest), zero .bss (the RAM image holds .text, .rodata and
 * .data in place, so nothing is copied), call main(); if main returns, spin.
 *
 * IRQ (built with -DMS_IRQ, the management CPU only): ra and sp are parked in q2 and
 * q3, the handler runs on its own stack, the registers the C calling convention lets a
 * callee clobber are saved there, and ms_irq(pending mask, return address) is called; callee-saved
 * registers are the C function's to keep. retirq returns to q0. Nested IRQs cannot
 * happen: PicoRV32 masks IRQs until retirq.
 */
#include "picorv32.h"
#include "soc_map.h"

    .section .text.start, "ax"
    .globl _reset
_reset:
    j _start

    /* PROGADDR_IRQ: the reset vector above must fit before it */
    .org SOC_PROGADDR_IRQ - SOC_PROGADDR_RESET
_irq_entry:
#ifdef MS_IRQ
    PICORV32_SETQ(x2, ra)           /* q2 = ra */
    PICORV32_SETQ(x3, sp)           /* q3 = sp */
    la sp, _irq_stack_top
    addi sp, sp, -64
    sw ra,   0(sp)                  /* ra is free to use from here on */
    sw t0,   4(sp)
    sw t1,   8(sp)
    sw t2,  12(sp)
    sw a0,  16(sp)
    sw a1,  20(sp)
    sw a2,  24(sp)
    sw a3,  28(sp)
    sw a4,  32(sp)
    sw a5,  36(sp)
    sw a6,  40(sp)
    sw a7,  44(sp)
    sw t3,  48(sp)
    sw t4,  52(sp)
    sw t5,  56(sp)
    sw t6,  60(sp)
    PICORV32_GETQ(a0, x1)           /* a0 = q1, the IRQs being served */
    PICORV32_GETQ(a1, x0)           /* a1 = q0, where the interrupted code resumes */
    call ms_irq
    lw t0,   4(sp)
    lw t1,   8(sp)
    lw t2,  12(sp)
    lw a0,  16(sp)
    lw a1,  20(sp)
    lw a2,  24(sp)
    lw a3,  28(sp)
    lw a4,  32(sp)
    lw a5,  36(sp)
    lw a6,  40(sp)
    lw a7,  44(sp)
    lw t3,  48(sp)
    lw t4,  52(sp)
    lw t5,  56(sp)
    lw t6,  60(sp)
    PICORV32_GETQ(ra, x2)
    PICORV32_GETQ(sp, x3)
    PICORV32_RETIRQ()
#else
    /* a CPU built without ENABLE_IRQ never comes here */
1:  j 1b
#endif

_start:
    la sp, _stack_top
    la t0, _bss_start
    la t1, _bss_end
2:  bgeu t0, t1, 3f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 2b
3:  call main
4:  j 4b

#ifdef MS_IRQ
    .section .bss.irq_stack, "aw", @nobits
    .balign 16
    .space 1024
_irq_stack_top:
#endif
