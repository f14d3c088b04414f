/* The BIOS flows of SPEC section 6 in C: boot, one command, migration, slot power, the
 * memory map; the C twin of firmware/bios.py (class Bios), which stays the reference.
 *
 * Each flow is the same sequence of register accesses as its Python twin, so the two
 * register traces can be compared (tests/test_c_firmware.py). Where Python raises, a
 * flow here returns a non-zero ms_result and fills ms_bios.error; MS_OK is 0.
 */
#ifndef MS_BIOS_H
#define MS_BIOS_H

#include <stdint.h>

#include "hal.h"

/* What a flow returns; the Python exception each stands for in brackets. */
enum ms_result {
    MS_OK = 0,
    MS_E_ARG = 1,       /* a bad argument, nothing written (ValueError) */
    MS_E_COMMAND = 2,   /* a command finished with err != OK (CommandError, Busy) */
    MS_E_TIMEOUT = 3,   /* a command stayed busy too long (CommandTimeout) */
    MS_E_NO_SPARE = 4,  /* no IDLE module fits, nothing written (NoSpareError) */
    MS_E_FLOW = 5,      /* a flow failed part way (FlowError) */
};

/* The last failure: what went wrong and, for a command, which one. */
typedef struct {
    int result;         /* enum ms_result */
    int agent;
    int op;             /* opcode of the failed command, 0 when none */
    int err;            /* its STATUS.err (enum mirrorswap_err) */
    int aborted;        /* MS_E_FLOW of a migration: 1 aborted, 0 could not be */
    const char *what;   /* a short text, e.g. "did not reach power good" */
    int cause;          /* MS_E_FLOW: the result that stopped the flow */
} ms_error_t;

/* One published range of host lines and the slot serving it now (MemoryMap). */
typedef struct {
    uint32_t base;
    uint32_t size;
    int slot;
} ms_range_t;

typedef struct {
    /* parameters (Bios.__init__), set by ms_bios_init */
    uint32_t poll_cycles;
    uint32_t timeout_cycles;
    /* CONFIG, read once (an elaboration parameter) */
    unsigned agents;
    uint32_t line_bytes;
    /* the memory map boot published: never changes, only its owners do */
    unsigned ranges;
    ms_range_t map[MIRRORSWAP_AGENTS];
    int booted;
    /* cycles of the last migration from ESTABLISH written to RELEASE done (SoC CYCLES) */
    uint32_t migrate_cycles;
    ms_error_t error;
} ms_bios_t;

extern ms_bios_t ms_bios;

/* Called after each SWEEP chunk with the lines swept so far and the range's size. */
typedef void (*ms_progress_fn)(int slot, uint32_t done, uint32_t total);

void ms_bios_init(uint32_t poll_cycles, uint32_t timeout_cycles);

/* registers by name (firmware/hw.py) */
unsigned ms_agents(void);
uint32_t ms_status(int agent);
void ms_set_slot(int agent, int power_en, int power_led, int attn_led);   /* -1: keep */
void ms_lock(void);

/* flows (firmware/bios.py) */
int ms_command(int agent, int op, int peer);
int ms_boot(uint32_t power_good_timeout_cycles, int lock);
int ms_power_on(int slot, uint32_t timeout_cycles);
int ms_power_off(int slot, uint32_t timeout_cycles);
int ms_pick_spare(uint32_t size_lines, uint32_t exclude_mask, int *spare);
int ms_migrate(int slot, int spare, uint32_t chunk_lines, unsigned max_sweep_retries,
               ms_progress_fn progress, int *moved_to);

/* the slot serving host line `line` now, -1 when none; the range a slot serves, or NULL */
int ms_slot_of(uint32_t line);
const ms_range_t *ms_range_of(int slot);

/* console output */
const char *ms_mode_name(unsigned mode);
const char *ms_err_name(unsigned err);
const char *ms_op_name(unsigned op);
void ms_print_error(void);
void ms_print_e820(void);
void ms_print_slot_table(void);

#endif /* MS_BIOS_H */
