/* The BIOS's platform: register access, time, console, and publishing the memory map.
 *
 * The flows (bios.c, hotplug.c) reach mirrorswap only through MS_RD/MS_WR on the
 * registers of the generated header include/mirrorswap_regs.h, e.g.
 *
 *     MS_WR(MIRRORSWAP->agent[a].CMD, MIRRORSWAP_PUT(MIRRORSWAP_CMD_OPCODE, op));
 *
 * On the SoC (the default) they are the header's volatile accesses at
 * SOC_MIRRORSWAP_BASE, one lw or sw each. In a native build (-DMS_NATIVE, the shared
 * library tests/test_c_firmware.py drives) MIRRORSWAP points at a dummy block whose
 * member addresses give the register offsets, and every access is a call to the
 * callbacks the caller installed (hal_native.c), so the same flow code runs on a
 * simulated register port. MS_WR on a read-only (const) register does not compile in
 * either build.
 */
#ifndef MS_HAL_H
#define MS_HAL_H

#include <stdint.h>

#ifdef MS_NATIVE
/* CONFIG.agents is read at run time; the struct only has to cover every agent */
#define MIRRORSWAP_AGENTS 16
#define MIRRORSWAP_BASE_ADDR (&ms_native_block)
#include "mirrorswap_regs.h"
extern mirrorswap_t ms_native_block;

uint32_t hal_native_read(uint32_t offset);
void hal_native_write(uint32_t offset, uint32_t value);
#define MS_OFFSET(reg) ((uint32_t)((uintptr_t)&(reg) - (uintptr_t)MIRRORSWAP))
#define MS_RD(reg) hal_native_read(MS_OFFSET(reg))
/* sizeof: the assignment is checked by the compiler (const registers) but not run */
#define MS_WR(reg, value) \
    ((void)sizeof((reg) = 0), hal_native_write(MS_OFFSET(reg), (uint32_t)(value)))
#else
#include "soc_map.h"
#define MIRRORSWAP_AGENTS SOC_SLOTS
#define MIRRORSWAP_BASE_ADDR SOC_MIRRORSWAP_BASE
#include "mirrorswap_regs.h"
#define MS_RD(reg) (reg)
#define MS_WR(reg, value) ((void)((reg) = (uint32_t)(value)))
#endif

/* Let `cycles` clock cycles of the hardware pass. */
void hal_pause(uint32_t cycles);
/* The SoC's free-running cycle counter (0 where there is none). */
uint32_t hal_cycles(void);
/* Tell the host CPU how many bytes of memory it has, then let it go (SoC I/O block:
 * MEM_BYTES, then GO = 1). */
void hal_publish(uint32_t mem_bytes);
/* The host CPU's HOST_STATE and HOST_PROGRESS (0 where there is no host CPU). */
uint32_t hal_host_state(void);
uint32_t hal_host_progress(void);
uint32_t hal_host_result(void);
/* Mask every interrupt and return the previous mask; restore it with hal_irq_restore.
 * The main loop takes a flow off the queue the interrupt fills between the two. */
uint32_t hal_irq_save(void);
void hal_irq_restore(uint32_t saved);

#endif /* MS_HAL_H */
