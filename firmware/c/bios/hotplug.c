/* Hot-plug event handling and flows (hotplug.h): firmware/hotplug.py in C. */
#include "hotplug.h"
#include "bios.h"
#include "console.h"

#ifndef MS_ABORT_WINDOW_CYCLES
#define MS_ABORT_WINDOW_CYCLES 20000
#endif
#ifndef MS_CHUNK_LINES
#define MS_CHUNK_LINES 1024
#endif
#define MS_WINDOW_POLL 256      /* HotPlug.poll_cycles: the window's polling step */
#define MS_SWEEP_RETRIES 3

#define AGENT(a) (MIRRORSWAP->agent[(a)])
#define STATUS_FIELD(F, value) MIRRORSWAP_GET(MIRRORSWAP_STATUS_##F, (value))

volatile uint32_t ms_abort_window_cycles = MS_ABORT_WINDOW_CYCLES;
uint32_t ms_chunk_lines = MS_CHUNK_LINES;
uint32_t ms_power_timeout_cycles = 100000;

volatile ms_flow_record_t ms_last_flow = {.slot = -1, .moved_to = -1};
volatile uint32_t ms_flows_ended;

/* Shared between the interrupt (presses) and the main loop (flows). */
static volatile int flow_slot = -1;     /* slot of the running flow */
static volatile int in_window;          /* its abort window is open */
static volatile int cancel;             /* a second press came in the window */
static volatile int reserved = -1;      /* the spare the running migration took */
static volatile uint32_t queued;        /* bit per slot: a flow waits to start */
static volatile uint8_t queued_kind[MIRRORSWAP_AGENTS];

static const char *const kind_names[] = {"-", "remove", "add", "remove-spare"};

const char *ms_outcome_name(int outcome)
{
    static const char *const names[] = {"running", "done", "cancelled", "refused",
                                        "failed"};
    return outcome >= 0 && outcome <= MS_FAILED ? names[outcome] : "?";
}

/* HotPlug.enable(): drop pending events, ask to be interrupted for the watched ones. */
void ms_hotplug_enable(void)
{
    for (int a = 0; a < (int)ms_agents(); a++) {
        MS_WR(AGENT(a).EVENTS, MS_WATCHED);
        MS_WR(AGENT(a).IRQ_EN, MS_WATCHED);
    }
}

static int kind_for(uint32_t status)
{
    unsigned mode = STATUS_FIELD(MODE, status);
    if (mode == MIRRORSWAP_MODE_ACTIVE)
        return MS_FLOW_REMOVE;
    if (mode == MIRRORSWAP_MODE_OFF && STATUS_FIELD(PRESENT, status))
        return MS_FLOW_ADD;
    if (mode == MIRRORSWAP_MODE_IDLE)
        return MS_FLOW_REMOVE_SPARE;
    return MS_FLOW_NONE;
}

/* HotPlug.press() */
static void press(int slot)
{
    if (slot == flow_slot) {
        if (in_window) {
            cancel = 1;
            con_printf("slot %d: second press in the abort window, cancelling\n", slot);
        } else {
            con_printf("slot %d: press ignored, a flow is running\n", slot);
        }
        return;
    }
    if (slot == reserved) {
        con_printf("slot %d: press ignored, it is the spare of a running migration\n", slot);
        return;
    }
    if (queued >> slot & 1) {
        queued &= ~(1u << slot);
        con_printf("slot %d: second press, the queued flow is dropped\n", slot);
        return;
    }
    uint32_t status = ms_status(slot);
    int kind = kind_for(status);
    if (kind == MS_FLOW_NONE) {
        con_printf("slot %d: press ignored in mode %s\n", slot,
                   ms_mode_name(STATUS_FIELD(MODE, status)));
        return;
    }
    queued_kind[slot] = (uint8_t)kind;
    queued |= 1u << slot;
    if (flow_slot >= 0)
        con_printf("slot %d: press, %s flow queued behind slot %d's\n", slot,
                   kind_names[kind], flow_slot);
}

/* HotPlug.handle() */
static void handle(int slot, uint32_t events)
{
    if (events & MIRRORSWAP_EVENT_POWER_FAULT)
        con_printf("slot %d: power fault\n", slot);
    if (events & MIRRORSWAP_EVENT_PRESENCE_CHANGED) {
        int present = (int)STATUS_FIELD(PRESENT, ms_status(slot));
        con_printf("slot %d: module %s\n", slot, present ? "inserted" : "removed");
        const ms_range_t *lost = ms_range_of(slot);
        if (!present && lost)
            /* the one case that loses data: the module serving a range was pulled */
            con_printf("slot %d was pulled while serving lines %u-%u: their data is lost, "
                       "accesses to them answer errors\n", slot, (unsigned)lost->base,
                       (unsigned)(lost->base + lost->size - 1));
    }
    if (events & MIRRORSWAP_EVENT_MEM_ERROR)
        con_printf("slot %d: memory error at line %u\n", slot,
                   (unsigned)MS_RD(AGENT(slot).ERR_ADDR));
    if (events & MIRRORSWAP_EVENT_BUTTON)
        press(slot);
}

/* One pass of HotPlug.run()'s loop: the mirrorswap interrupt's handler. Clearing the
 * handled events drops irq (it is a level). */
void ms_hotplug_service(void)
{
    uint32_t summary = MS_RD(MIRRORSWAP->IRQ_SUMMARY);
    for (int a = 0; a < (int)ms_agents(); a++)
        if (summary >> a & 1) {
            uint32_t events = MS_RD(AGENT(a).EVENTS) & MS_WATCHED;
            MS_WR(AGENT(a).EVENTS, events);
            handle(a, events);
        }
}

/* ---- the flows --------------------------------------------------------------------------- */

/* SWEEP progress is noted while the range moves and printed once it moved: a console
 * line costs the CPU thousands of cycles, which would stretch the mirror phase. */
#define MS_PROGRESS_NOTES 32
struct progress_note {
    uint32_t done, total, cycles, host_op;
};
static struct progress_note notes[MS_PROGRESS_NOTES];

static void progress(int slot, uint32_t done, uint32_t total)
{
    (void)slot;
    if (ms_last_flow.chunks < MS_PROGRESS_NOTES)
        notes[ms_last_flow.chunks] = (struct progress_note){done, total, hal_cycles(),
                                                             hal_host_progress()};
    ms_last_flow.chunks++;
}

static void print_progress(int slot, uint32_t start)
{
    uint32_t n = ms_last_flow.chunks < MS_PROGRESS_NOTES ? ms_last_flow.chunks
                                                          : MS_PROGRESS_NOTES;
    for (uint32_t i = 0; i < n; i++)
        con_printf("slot %d: swept %u/%u lines at +%u cycles, host at op %u\n", slot,
                   (unsigned)notes[i].done, (unsigned)notes[i].total,
                   (unsigned)(notes[i].cycles - start), (unsigned)notes[i].host_op);
}

/* HotPlug._abort_window(): wait it out; 1 when a second press cancelled the flow. */
static int abort_window(void)
{
    uint32_t waited = 0, window = ms_abort_window_cycles;
    in_window = 1;
    while (waited < window && !cancel) {
        uint32_t step = window - waited < MS_WINDOW_POLL ? window - waited : MS_WINDOW_POLL;
        hal_pause(step);
        waited += step;
    }
    in_window = 0;
    return cancel;
}

static int hot_remove(volatile ms_flow_record_t *rec, int window)
{
    int slot = rec->slot, spare, r;
    ms_set_slot(slot, -1, MIRRORSWAP_LED_BLINK, MIRRORSWAP_LED_BLINK);
    if (window) {
        con_printf("slot %d: hot remove in %u cycles, press again to cancel\n", slot,
                   (unsigned)ms_abort_window_cycles);
        if (abort_window()) {
            ms_set_slot(slot, -1, MIRRORSWAP_LED_ON, MIRRORSWAP_LED_OFF);
            return MS_CANCELLED;
        }
    }
    uint32_t size = MS_RD(AGENT(slot).SIZE);
    if ((r = ms_pick_spare(size, 1u << slot, &spare)) != MS_OK)
        return r;
    reserved = spare;
    con_printf("slot %d: migrating %u lines to slot %d\n", slot, (unsigned)size, spare);
    int moved_to = -1;
    uint32_t start = hal_cycles();
    r = ms_migrate(slot, spare, ms_chunk_lines, MS_SWEEP_RETRIES, progress, &moved_to);
    reserved = -1;
    print_progress(slot, start);
    if (r != MS_OK)
        return r;
    rec->moved_to = moved_to;
    con_printf("slot %d: migration took %u cycles from ESTABLISH to RELEASE done\n", slot,
               (unsigned)ms_bios.migrate_cycles);
    if ((r = ms_power_off(slot, ms_power_timeout_cycles)) != MS_OK)
        return r;
    con_printf("slot %d: powered off, the module may be pulled\n", slot);
    return MS_DONE;
}

/* HotPlug._report_failure(): attention LED on, power LED steady and saying whether the
 * slot is powered. */
static int report_failure(volatile ms_flow_record_t *rec, int result)
{
    int slot = rec->slot;
    int refused = result == MS_E_NO_SPARE || result == MS_E_COMMAND;
    int powered = (int)MIRRORSWAP_GET(MIRRORSWAP_SLOT_CTRL_POWER_EN,
                                      MS_RD(AGENT(slot).SLOT_CTRL));
    ms_set_slot(slot, -1, powered ? MIRRORSWAP_LED_ON : MIRRORSWAP_LED_OFF, MIRRORSWAP_LED_ON);
    con_printf("slot %d: %s flow %s: ", slot, kind_names[rec->kind],
               refused ? "refused" : "failed");
    ms_print_error();
    return refused ? MS_REFUSED : MS_FAILED;
}

/* HotPlug._guard() around one flow. */
static int run_flow(int slot, int kind, int window, ms_flow_record_t *record)
{
    int r;
    flow_slot = slot;
    if (!window)
        cancel = 0;
    ms_last_flow.slot = slot;
    ms_last_flow.kind = kind;
    ms_last_flow.outcome = MS_RUNNING;
    ms_last_flow.moved_to = -1;
    ms_last_flow.chunks = 0;
    con_printf("slot %d: %s flow\n", slot, kind_names[kind]);
    if (kind == MS_FLOW_REMOVE) {
        r = hot_remove(&ms_last_flow, window);
    } else if (kind == MS_FLOW_ADD) {
        r = ms_power_on(slot, ms_power_timeout_cycles);
        r = r == MS_OK ? MS_DONE : r;
    } else {
        r = ms_power_off(slot, ms_power_timeout_cycles);
        r = r == MS_OK ? MS_DONE : r;
    }
    /* hot_remove answers an outcome or a failure; MS_DONE/MS_CANCELLED are no failure */
    int outcome = r == MS_DONE || r == MS_CANCELLED ? r : report_failure(&ms_last_flow, r);
    ms_last_flow.outcome = outcome;
    con_printf("slot %d: %s flow %s\n", slot, kind_names[kind], ms_outcome_name(outcome));
    flow_slot = -1;
    in_window = 0;
    cancel = 0;
    ms_flows_ended++;
    if (record) {
        record->slot = ms_last_flow.slot;
        record->kind = ms_last_flow.kind;
        record->outcome = ms_last_flow.outcome;
        record->moved_to = ms_last_flow.moved_to;
        record->chunks = ms_last_flow.chunks;
    }
    return outcome;
}

int ms_hotplug_run_queued(void)
{
    uint32_t saved = hal_irq_save();
    int slot = -1, kind = MS_FLOW_NONE;
    for (int a = 0; a < (int)ms_agents(); a++)
        if (queued >> a & 1) {
            slot = a;
            kind = queued_kind[a];
            queued &= ~(1u << a);
            /* the slot counts as in a flow before the interrupt comes back, and a hot
             * remove's abort window is open from here: the console lines printed before
             * its wait begins take the CPU thousands of cycles, and a second press in
             * them must cancel as one in the wait does */
            flow_slot = a;
            cancel = 0;
            in_window = kind == MS_FLOW_REMOVE;
            break;
        }
    hal_irq_restore(saved);
    if (slot < 0)
        return 0;
    run_flow(slot, kind, 1, NULL);
    return 1;
}

/* HotPlug._run_now(): a flow called directly, no abort window. */
static int run_now(int slot, int kind, ms_flow_record_t *record)
{
    if (slot < 0 || slot >= (int)ms_agents() || slot == flow_slot || slot == reserved
            || kind_for(ms_status(slot)) != kind) {
        con_printf("slot %d: not in a state for the %s flow\n", slot, kind_names[kind]);
        return MS_REFUSED;
    }
    return run_flow(slot, kind, 0, record);
}

int ms_hot_remove(int slot, ms_flow_record_t *record)
{
    return run_now(slot, MS_FLOW_REMOVE, record);
}

int ms_hot_add(int slot, ms_flow_record_t *record)
{
    return run_now(slot, MS_FLOW_ADD, record);
}

int ms_remove_spare(int slot, ms_flow_record_t *record)
{
    return run_now(slot, MS_FLOW_REMOVE_SPARE, record);
}
