/* Hot-plug: the event handling behind the slot buttons and its flows, the C twin of
 * firmware/hotplug.py (class HotPlug).
 *
 * Python runs the event loop as one task and each flow as another; here the loop's body
 * (read IRQ_SUMMARY, read and clear each named agent's EVENTS, handle them) is
 * ms_hotplug_service(), which the mirrorswap interrupt calls, and the flows run one at a
 * time in ms_hotplug_run()'s main loop. A press is handled in the interrupt at once:
 * in the running flow's abort window it cancels the flow; on the slot of the running
 * flow after its window, or on the spare a migration reserved, it is ignored; on any
 * other slot the flow its mode calls for (ACTIVE: hot remove, OFF with a module: hot
 * add, IDLE: remove the spare) is queued and starts when the running one ended. (Python
 * would run it alongside; one CPU runs them in turn.) A second press on a queued slot
 * takes it out of the queue.
 */
#ifndef MS_HOTPLUG_H
#define MS_HOTPLUG_H

#include <stdint.h>

#include "hal.h"

/* Events the loop asks to be interrupted for (hotplug.WATCHED). */
#define MS_WATCHED (MIRRORSWAP_EVENT_BUTTON | MIRRORSWAP_EVENT_PRESENCE_CHANGED \
                    | MIRRORSWAP_EVENT_POWER_FAULT | MIRRORSWAP_EVENT_MEM_ERROR)

enum ms_flow_kind { MS_FLOW_NONE = 0, MS_FLOW_REMOVE, MS_FLOW_ADD, MS_FLOW_REMOVE_SPARE };
enum ms_outcome { MS_RUNNING = 0, MS_DONE, MS_CANCELLED, MS_REFUSED, MS_FAILED };

/* What happened to one flow (FlowRecord). */
typedef struct {
    int slot;
    int kind;           /* enum ms_flow_kind */
    int outcome;        /* enum ms_outcome */
    int moved_to;       /* hot remove: the slot that took the range over, else -1 */
    uint32_t chunks;    /* SWEEP chunks reported */
} ms_flow_record_t;

/* Parameters (HotPlug.__init__); the testbench may set the window before the BIOS runs
 * (it is also a build parameter, cbuild.py's abort_window_cycles). */
extern volatile uint32_t ms_abort_window_cycles;
extern uint32_t ms_chunk_lines;
extern uint32_t ms_power_timeout_cycles;

/* The last flow that ended, and how many have (for a testbench or a debugger). */
extern volatile ms_flow_record_t ms_last_flow;
extern volatile uint32_t ms_flows_ended;

void ms_hotplug_enable(void);
void ms_hotplug_service(void);
/* Run the flow queued first, if any; 1 when one ran. */
int ms_hotplug_run_queued(void);
/* The flows called directly: no abort window. They return the outcome; a slot in the
 * wrong mode is MS_REFUSED with nothing written (Python: ValueError). */
int ms_hot_remove(int slot, ms_flow_record_t *record);
int ms_hot_add(int slot, ms_flow_record_t *record);
int ms_remove_spare(int slot, ms_flow_record_t *record);
const char *ms_outcome_name(int outcome);

#endif /* MS_HOTPLUG_H */
