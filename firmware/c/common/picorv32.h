/* PicoRV32's custom instructions (picorv32 README, "Custom Instructions for IRQ
 * Handling"), as GNU assembler .insn directives, for assembly and for C.
 *
 * They sit in the custom-0 opcode space (0x0b) as R-type instructions. q0..q3 are the
 * core's four extra registers (ENABLE_IRQ_QREGS): on IRQ entry q0 holds the return
 * address and q1 the bit mask of the IRQs being served; q2 and q3 are free for the
 * handler. A q-register is named by its number in the rs1/rd field, which the
 * assembler spells x0..x3.
 */
#ifndef MS_PICORV32_H
#define MS_PICORV32_H

#ifdef __ASSEMBLER__
/* rd = q[qs] */
#define PICORV32_GETQ(rd, qs)    .insn r 0x0b, 4, 0, rd, qs, x0
/* q[qd] = rs */
#define PICORV32_SETQ(qd, rs)    .insn r 0x0b, 2, 1, qd, rs, x0
/* return from the IRQ handler: jump to q0, IRQs enabled again */
#define PICORV32_RETIRQ()        .insn r 0x0b, 0, 2, x0, x0, x0
/* rd = old IRQ mask, mask = rs (a set bit disables that IRQ) */
#define PICORV32_MASKIRQ(rd, rs) .insn r 0x0b, 6, 3, rd, rs, x0
/* wait until an IRQ is pending; rd = the pending mask */
#define PICORV32_WAITIRQ(rd)     .insn r 0x0b, 4, 4, rd, x0, x0
#else
#include <stdint.h>

/* Set the IRQ mask (a set bit disables that IRQ); returns the previous mask. */
static inline uint32_t picorv32_maskirq(uint32_t mask)
{
    uint32_t old;
    __asm__ volatile (".insn r 0x0b, 6, 3, %0, %1, x0" : "=r"(old) : "r"(mask) : "memory");
    return old;
}

/* Sleep until an IRQ is pending; returns the pending mask (the IRQ is then taken as
 * usual when it is not masked). */
static inline uint32_t picorv32_waitirq(void)
{
    uint32_t pending;
    __asm__ volatile (".insn r 0x0b, 4, 4, %0, x0, x0" : "=r"(pending) : : "memory");
    return pending;
}
#endif

#endif /* MS_PICORV32_H */
