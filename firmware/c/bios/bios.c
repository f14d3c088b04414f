/* The BIOS flows (bios.h): firmware/bios.py and firmware/hw.py in C, access for access. */
#include <stddef.h>

#include "bios.h"
#include "console.h"

#define AGENT(a) (MIRRORSWAP->agent[(a)])
#define STATUS_FIELD(F, value) MIRRORSWAP_GET(MIRRORSWAP_STATUS_##F, (value))

ms_bios_t ms_bios;

void ms_bios_init(uint32_t poll_cycles, uint32_t timeout_cycles)
{
    ms_bios.poll_cycles = poll_cycles ? poll_cycles : 4;
    ms_bios.timeout_cycles = timeout_cycles ? timeout_cycles : 10000000u;
    ms_bios.agents = 0;
    ms_bios.line_bytes = 0;
    ms_bios.ranges = 0;
    ms_bios.booted = 0;
    ms_bios.error = (ms_error_t){0};
}

/* ---- failures ------------------------------------------------------------------------ */

static int fail(int result, int agent, int op, int err, const char *what)
{
    ms_bios.error = (ms_error_t){.result = result, .agent = agent, .op = op, .err = err,
                                 .what = what};
    return result;
}

/* ---- registers by name (hw.py) --------------------------------------------------------- */

/* Hardware.config(): CONFIG read once; more agents than this build's struct covers are
 * not driven (the console says so). */
static void read_config(void)
{
    uint32_t config = MS_RD(MIRRORSWAP->CONFIG);
    unsigned agents = MIRRORSWAP_GET(MIRRORSWAP_CONFIG_AGENTS, config);
    if (agents > MIRRORSWAP_AGENTS) {
        con_printf("BIOS: the hardware has %u agents, this build drives %u\n", agents,
                   (unsigned)MIRRORSWAP_AGENTS);
        agents = MIRRORSWAP_AGENTS;
    }
    ms_bios.agents = agents;
    ms_bios.line_bytes = MIRRORSWAP_GET(MIRRORSWAP_CONFIG_LINE_BYTES, config);
}

unsigned ms_agents(void)
{
    if (!ms_bios.agents)
        read_config();
    return ms_bios.agents;
}

static int bad_agent(int agent)
{
    return agent < 0 || (unsigned)agent >= ms_agents();
}

uint32_t ms_status(int agent)
{
    return MS_RD(AGENT(agent).STATUS);
}

/* Hardware.set_slot(): read-modify-write SLOT_CTRL; a field given as -1 keeps its value. */
void ms_set_slot(int agent, int power_en, int power_led, int attn_led)
{
    uint32_t value = MS_RD(AGENT(agent).SLOT_CTRL);
    if (power_en >= 0)
        value = (value & ~MIRRORSWAP_SLOT_CTRL_POWER_EN_MASK)
                | MIRRORSWAP_PUT(MIRRORSWAP_SLOT_CTRL_POWER_EN, power_en);
    if (power_led >= 0)
        value = (value & ~MIRRORSWAP_SLOT_CTRL_POWER_LED_MASK)
                | MIRRORSWAP_PUT(MIRRORSWAP_SLOT_CTRL_POWER_LED, power_led);
    if (attn_led >= 0)
        value = (value & ~MIRRORSWAP_SLOT_CTRL_ATTN_LED_MASK)
                | MIRRORSWAP_PUT(MIRRORSWAP_SLOT_CTRL_ATTN_LED, attn_led);
    MS_WR(AGENT(agent).SLOT_CTRL, value);
}

void ms_lock(void)
{
    MS_WR(MIRRORSWAP->LOCK, MIRRORSWAP_PUT(MIRRORSWAP_LOCK_SECURE_ONLY, 1));
}

/* ---- commands ---------------------------------------------------------------------------- */

/* Bios.command(): refuse a busy agent without a write; clear cmd_done, write CMD, poll
 * STATUS until not busy, clear cmd_done again (so it does not hold irq up), check err. */
int ms_command(int agent, int op, int peer)
{
    if (bad_agent(agent) || peer < 0 || peer > 15 || op < 0 || op > 15)
        return fail(MS_E_ARG, agent, op, 0, "bad agent, opcode or peer");
    uint32_t value = MIRRORSWAP_PUT(MIRRORSWAP_CMD_OPCODE, op)
                     | MIRRORSWAP_PUT(MIRRORSWAP_CMD_PEER, peer);
    if (STATUS_FIELD(BUSY, ms_status(agent)))
        return fail(MS_E_COMMAND, agent, op, MIRRORSWAP_ERR_BUSY, "agent busy");
    MS_WR(AGENT(agent).EVENTS, MIRRORSWAP_EVENT_CMD_DONE);
    MS_WR(AGENT(agent).CMD, value);
    uint32_t status = ms_status(agent);
    if (STATUS_FIELD(BUSY, status) && STATUS_FIELD(ERR, status) == MIRRORSWAP_ERR_BUSY
            && (MS_RD(AGENT(agent).EVENTS) & MIRRORSWAP_EVENT_CMD_DONE)) {
        /* another flow's command came in between: ours was refused at once */
        MS_WR(AGENT(agent).EVENTS, MIRRORSWAP_EVENT_CMD_DONE);
        return fail(MS_E_COMMAND, agent, op, MIRRORSWAP_ERR_BUSY, "agent busy");
    }
    uint32_t waited = 0;
    while (STATUS_FIELD(BUSY, status)) {
        if (waited >= ms_bios.timeout_cycles)
            return fail(MS_E_TIMEOUT, agent, op, 0, "command still busy");
        hal_pause(ms_bios.poll_cycles);
        waited += ms_bios.poll_cycles;
        status = ms_status(agent);
    }
    MS_WR(AGENT(agent).EVENTS, MIRRORSWAP_EVENT_CMD_DONE);
    if (STATUS_FIELD(ERR, status) != MIRRORSWAP_ERR_OK)
        return fail(MS_E_COMMAND, agent, op, (int)STATUS_FIELD(ERR, status), "refused");
    return MS_OK;
}

/* ---- boot -------------------------------------------------------------------------------- */

static int wait_powered(int agent, uint32_t timeout_cycles)
{
    uint32_t waited = 0;
    for (;;) {
        uint32_t status = ms_status(agent);
        if (STATUS_FIELD(POWER_GOOD, status)
                && STATUS_FIELD(MODE, status) == MIRRORSWAP_MODE_IDLE)
            return MS_OK;
        if (waited >= timeout_cycles)
            return fail(MS_E_FLOW, agent, 0, 0, "did not reach power good and IDLE");
        hal_pause(ms_bios.poll_cycles);
        waited += ms_bios.poll_cycles;
    }
}

static int wait_mode(int agent, unsigned mode, uint32_t timeout_cycles)
{
    uint32_t waited = 0;
    while (STATUS_FIELD(MODE, ms_status(agent)) != mode) {
        if (waited >= timeout_cycles)
            return fail(MS_E_FLOW, agent, 0, 0, "did not reach the mode in time");
        hal_pause(ms_bios.poll_cycles);
        waited += ms_bios.poll_cycles;
    }
    return MS_OK;
}

/* Bios.boot(): power every present slot, make the largest module the spare (ties: the
 * lowest slot), ASSIGN the others consecutive ranges from line 0, publish, LOCK. */
int ms_boot(uint32_t power_good_timeout_cycles, int lock)
{
    uint32_t capacity[MIRRORSWAP_AGENTS];
    uint32_t present = 0;
    unsigned count = 0;
    int a, r;

    read_config();
    for (a = 0; a < (int)ms_bios.agents; a++)
        if (STATUS_FIELD(PRESENT, ms_status(a))) {
            present |= 1u << a;
            count++;
        }
    for (a = 0; a < (int)ms_bios.agents; a++)
        if (present >> a & 1)
            /* power LED blinking: "flow in progress", as on PCIe native hot-plug */
            ms_set_slot(a, 1, MIRRORSWAP_LED_BLINK, MIRRORSWAP_LED_OFF);
    for (a = 0; a < (int)ms_bios.agents; a++)
        if (present >> a & 1) {
            if ((r = wait_powered(a, power_good_timeout_cycles)) != MS_OK)
                return r;
            ms_set_slot(a, -1, MIRRORSWAP_LED_ON, -1);
        }
    for (a = 0; a < (int)ms_bios.agents; a++)
        if (present >> a & 1)
            capacity[a] = MS_RD(AGENT(a).CAPACITY);
    int spare = -1;
    if (count > 1)
        for (a = 0; a < (int)ms_bios.agents; a++)
            /* strictly larger only: on a tie the lower slot, found first, stays */
            if ((present >> a & 1) && (spare < 0 || capacity[a] > capacity[spare]))
                spare = a;
    uint32_t base = 0;
    ms_bios.ranges = 0;
    for (a = 0; a < (int)ms_bios.agents; a++) {
        if (!(present >> a & 1) || a == spare)
            continue;
        MS_WR(AGENT(a).BASE, base);
        MS_WR(AGENT(a).SIZE, capacity[a]);
        if ((r = ms_command(a, MIRRORSWAP_OP_ASSIGN, 0)) != MS_OK)
            return r;
        ms_bios.map[ms_bios.ranges++] = (ms_range_t){base, capacity[a], a};
        base += capacity[a];
    }
    ms_bios.booted = 1;
    if (!count)
        con_printf("boot: no module present, nothing published\n");
    if (spare >= 0)
        con_printf("boot: %u modules, spare slot %d, %u lines published\n", count, spare,
                   (unsigned)base);
    else
        con_printf("boot: %u modules, no spare, %u lines published\n", count,
                   (unsigned)base);
    hal_publish(base * ms_bios.line_bytes);
    if (lock) {
        ms_lock();
        con_printf("boot: LOCK set, non-secure register writes are refused until reset\n");
    }
    return MS_OK;
}

/* ---- slot power -------------------------------------------------------------------------- */

int ms_power_on(int slot, uint32_t timeout_cycles)
{
    if (bad_agent(slot) || !timeout_cycles)
        return fail(MS_E_ARG, slot, 0, 0, "bad slot or timeout");
    ms_set_slot(slot, 1, MIRRORSWAP_LED_BLINK, MIRRORSWAP_LED_OFF);
    int r = wait_powered(slot, timeout_cycles);
    if (r != MS_OK) {
        /* a module that never came up is not left half powered */
        ms_set_slot(slot, 0, MIRRORSWAP_LED_OFF, -1);
        return r;
    }
    ms_set_slot(slot, -1, MIRRORSWAP_LED_ON, -1);
    return MS_OK;
}

int ms_power_off(int slot, uint32_t timeout_cycles)
{
    if (bad_agent(slot) || !timeout_cycles)
        return fail(MS_E_ARG, slot, 0, 0, "bad slot or timeout");
    ms_set_slot(slot, 0, MIRRORSWAP_LED_OFF, MIRRORSWAP_LED_OFF);
    if (MIRRORSWAP_GET(MIRRORSWAP_SLOT_CTRL_POWER_EN, MS_RD(AGENT(slot).SLOT_CTRL))) {
        /* refused (err POWER): an owner or a mirror slave keeps its power */
        MS_WR(AGENT(slot).EVENTS, MIRRORSWAP_EVENT_CMD_DONE);
        uint32_t status = ms_status(slot);
        return fail(MS_E_FLOW, slot, 0, (int)STATUS_FIELD(ERR, status),
                    "refused to switch off");
    }
    return wait_mode(slot, MIRRORSWAP_MODE_OFF, timeout_cycles);
}

/* ---- migration --------------------------------------------------------------------------- */

/* Bios.pick_spare(): the largest IDLE module with CAPACITY >= size (ties: lowest slot). */
int ms_pick_spare(uint32_t size_lines, uint32_t exclude_mask, int *spare)
{
    int best = -1;
    uint32_t best_cap = 0;
    if (!size_lines)
        return fail(MS_E_ARG, -1, 0, 0, "range size 0");
    for (int a = 0; a < (int)ms_agents(); a++) {
        if (exclude_mask >> a & 1)
            continue;
        if (STATUS_FIELD(MODE, ms_status(a)) != MIRRORSWAP_MODE_IDLE)
            continue;
        uint32_t cap = MS_RD(AGENT(a).CAPACITY);
        if (cap >= size_lines && (best < 0 || cap > best_cap)) {
            best = a;
            best_cap = cap;
        }
    }
    if (best < 0)
        return fail(MS_E_NO_SPARE, -1, 0, 0, "no IDLE module holds the range");
    *spare = best;
    return MS_OK;
}

static int is_command_error(int r, int err)
{
    return r == MS_E_COMMAND && ms_bios.error.err == err;
}

/* Bios._sweep_and_release(): SWEEP from SWEPT_UPTO until swept, then RELEASE; a SWEEP
 * stopped by a memory error, or a watermark cleared by a failed forwarded write, is
 * retried from SWEPT_UPTO, up to max_sweep_retries times in all. */
static int sweep_and_release(int slot, int spare, uint32_t size, uint32_t chunk_lines,
                             unsigned max_sweep_retries, ms_progress_fn progress)
{
    unsigned retries = 0;
    uint32_t reached = 0;
    int r;
    for (;;) {
        uint32_t done = MS_RD(AGENT(slot).SWEPT_UPTO);
        if (done >= size) {
            r = ms_command(slot, MIRRORSWAP_OP_RELEASE, 0);
            if (r == MS_OK)
                return MS_OK;
            if (!is_command_error(r, MIRRORSWAP_ERR_NOT_SWEPT))
                return r;
            /* a forwarded write failed after the last SWEEP and cleared the watermark */
            done = MS_RD(AGENT(slot).SWEPT_UPTO);
        }
        if (done < reached) {
            retries++;
            con_printf("slot %d: SWEPT_UPTO fell from %u to %u (write error at slot %d), "
                       "retry %u\n", slot, (unsigned)reached, (unsigned)done, spare, retries);
            if (retries > max_sweep_retries)
                return fail(MS_E_FLOW, spare, 0, 0, "keeps failing forwarded writes");
        }
        reached = done;
        uint32_t count = size - done < chunk_lines ? size - done : chunk_lines;
        MS_WR(AGENT(slot).SWEEP_START, done);
        MS_WR(AGENT(slot).SWEEP_COUNT, count);
        r = ms_command(slot, MIRRORSWAP_OP_SWEEP, 0);
        if (is_command_error(r, MIRRORSWAP_ERR_MEM_ERROR)) {
            retries++;
            if (retries > max_sweep_retries)
                return r;
            con_printf("slot %d: sweep memory error at line %u, retry %u\n", slot,
                       (unsigned)MS_RD(AGENT(slot).ERR_ADDR), retries);
            continue;
        }
        if (r != MS_OK)
            return r;
        reached = done + count;
        if (progress)
            progress(slot, reached, size);
    }
}

/* Bios._abort(): ABORT if the mirror is still there; the flow failed either way. */
static int abort_migration(int slot, int spare)
{
    ms_error_t cause = ms_bios.error;
    int aborted = 1;
    if (STATUS_FIELD(MODE, ms_status(slot)) == MIRRORSWAP_MODE_MIRROR_MASTER
            && ms_command(slot, MIRRORSWAP_OP_ABORT, 0) != MS_OK)
        aborted = 0;    /* e.g. a SWEEP that timed out is still busy: ABORT answers BUSY */
    con_printf("slot %d: migration to slot %d failed and %s: ", slot, spare,
               aborted ? "was aborted" : "could not be aborted");
    ms_bios.error = cause;
    ms_print_error();
    ms_bios.error.cause = cause.result;
    ms_bios.error.result = MS_E_FLOW;
    ms_bios.error.aborted = aborted;
    return MS_E_FLOW;
}

static void rehome(int old_slot, int new_slot)
{
    for (unsigned i = 0; i < ms_bios.ranges; i++)
        if (ms_bios.map[i].slot == old_slot) {
            ms_bios.map[i].slot = new_slot;
            return;
        }
    /* a range set up by hand, outside boot: the hardware moved it all the same */
    con_printf("slot %d served no published range; memory map unchanged\n", old_slot);
}

/* Bios.migrate(): move ACTIVE slot's range to a spare while the host runs. spare -1:
 * ms_pick_spare. The range's new slot is stored in *moved_to. */
int ms_migrate(int slot, int spare, uint32_t chunk_lines, unsigned max_sweep_retries,
               ms_progress_fn progress, int *moved_to)
{
    if (bad_agent(slot) || !chunk_lines)
        return fail(MS_E_ARG, slot, 0, 0, "bad slot or chunk");
    if (spare >= 0 && (bad_agent(spare) || spare == slot))
        return fail(MS_E_ARG, spare, 0, 0, "bad spare");
    uint32_t status = ms_status(slot);
    if (STATUS_FIELD(MODE, status) != MIRRORSWAP_MODE_ACTIVE)
        return fail(MS_E_FLOW, slot, 0, 0, "is not ACTIVE");
    uint32_t size = MS_RD(AGENT(slot).SIZE);
    int r;
    if (spare < 0 && (r = ms_pick_spare(size, 1u << slot, &spare)) != MS_OK)
        return r;
    uint32_t start = hal_cycles();
    if ((r = ms_command(slot, MIRRORSWAP_OP_ESTABLISH, spare)) != MS_OK)
        return r;
    r = sweep_and_release(slot, spare, size, chunk_lines, max_sweep_retries, progress);
    if (r != MS_OK)
        return abort_migration(slot, spare);
    ms_bios.migrate_cycles = hal_cycles() - start;
    if (ms_bios.booted)
        rehome(slot, spare);
    con_printf("slot %d: range moved to slot %d\n", slot, spare);
    if (moved_to)
        *moved_to = spare;
    return MS_OK;
}

int ms_slot_of(uint32_t line)
{
    for (unsigned i = 0; i < ms_bios.ranges; i++)
        if (line - ms_bios.map[i].base < ms_bios.map[i].size)
            return ms_bios.map[i].slot;
    return -1;
}

const ms_range_t *ms_range_of(int slot)
{
    for (unsigned i = 0; i < ms_bios.ranges; i++)
        if (ms_bios.map[i].slot == slot)
            return &ms_bios.map[i];
    return NULL;
}

/* ---- console ----------------------------------------------------------------------------- */

const char *ms_mode_name(unsigned mode)
{
    static const char *const names[] = {"OFF", "IDLE", "ACTIVE", "MIRROR_MASTER",
                                        "MIRROR_SLAVE"};
    return mode < sizeof names / sizeof names[0] ? names[mode] : "?";
}

const char *ms_err_name(unsigned err)
{
    static const char *const names[] = {"OK", "BAD_STATE", "BAD_PEER", "CAPACITY",
                                        "NOT_SWEPT", "MEM_ERROR", "OVERLAP", "BAD_RANGE",
                                        "POWER", "BAD_OPCODE", "BUSY"};
    return err < sizeof names / sizeof names[0] ? names[err] : "?";
}

const char *ms_op_name(unsigned op)
{
    static const char *const names[] = {"-", "ASSIGN", "ESTABLISH", "SWEEP", "RELEASE",
                                        "ABORT", "UNASSIGN"};
    return op < sizeof names / sizeof names[0] ? names[op] : "?";
}

void ms_print_error(void)
{
    const ms_error_t *e = &ms_bios.error;
    switch (e->result) {
    case MS_OK:
        con_printf("no error\n");
        break;
    case MS_E_COMMAND:
        con_printf("agent %d: %s %s with %s\n", e->agent, ms_op_name((unsigned)e->op),
                   e->what, ms_err_name((unsigned)e->err));
        break;
    case MS_E_TIMEOUT:
        con_printf("agent %d: %s %s\n", e->agent, ms_op_name((unsigned)e->op), e->what);
        break;
    default:
        if (e->agent >= 0)
            con_printf("slot %d %s", e->agent, e->what);
        else
            con_printf("%s", e->what);
        if (e->err)
            con_printf(" (err %s)", ms_err_name((unsigned)e->err));
        con_printf("\n");
    }
}

void ms_print_e820(void)
{
    for (unsigned i = 0; i < ms_bios.ranges; i++) {
        uint32_t first = ms_bios.map[i].base * ms_bios.line_bytes;
        uint32_t last = (ms_bios.map[i].base + ms_bios.map[i].size) * ms_bios.line_bytes - 1;
        con_printf("BIOS-e820: [mem 0x%016x-0x%016x] usable (slot %d)\n", (unsigned)first,
                   (unsigned)last, ms_bios.map[i].slot);
    }
}

void ms_print_slot_table(void)
{
    con_printf("slot  present  power_good           mode   base   size  capacity  peer"
               "  swept_upto  err\n");
    for (int a = 0; a < (int)ms_agents(); a++) {
        uint32_t st = ms_status(a);
        con_printf("%4d  %7u  %10u  %13s  %5u  %5u  %8u  %4u  %10u  %s\n", a,
                   (unsigned)STATUS_FIELD(PRESENT, st), (unsigned)STATUS_FIELD(POWER_GOOD, st),
                   ms_mode_name(STATUS_FIELD(MODE, st)), (unsigned)MS_RD(AGENT(a).BASE),
                   (unsigned)MS_RD(AGENT(a).SIZE), (unsigned)MS_RD(AGENT(a).CAPACITY),
                   (unsigned)STATUS_FIELD(PEER, st), (unsigned)MS_RD(AGENT(a).SWEPT_UPTO),
                   ms_err_name(STATUS_FIELD(ERR, st)));
    }
}
