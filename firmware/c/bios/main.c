/* The BIOS on the SoC's management CPU: boot, publish the memory map to the host CPU,
 * then serve the slot buttons by interrupt until reset.
 *
 * The idle loop also watches the host CPU's HOST_STATE and prints when it changes, so
 * the console shows the workload starting and ending beside the flows.
 */
#include "bios.h"
#include "console.h"
#include "hotplug.h"
#include "picorv32.h"

#define IRQ_EBREAK 1u       /* ebreak, ecall or an illegal instruction */
#define IRQ_BUS_ERROR 2u

void ms_irq(uint32_t pending, uint32_t pc);
int main(void);

/* Called by start.S's IRQ entry with the IRQs being served and where the interrupted
 * code resumes. */
void ms_irq(uint32_t pending, uint32_t pc)
{
    if (pending & (1u << SOC_IRQ_MIRRORSWAP))
        ms_hotplug_service();
    if (pending & ((1u << IRQ_EBREAK) | (1u << IRQ_BUS_ERROR))) {
        con_printf("BIOS: %s near pc 0x%08x, halted\n",
                   pending & (1u << IRQ_EBREAK) ? "illegal instruction or ebreak"
                                                : "bus error", (unsigned)pc);
        for (;;)
            ;
    }
}

static void watch_host(uint32_t *last)
{
    static const char *const states[] = {"idle", "running", "done", "failed"};
    uint32_t state = hal_host_state();
    if (state == *last)
        return;
    *last = state;
    if (state == SOC_HOST_DONE || state == SOC_HOST_FAILED)
        con_printf("host: %s after %u operations, result 0x%08x\n", states[state],
                   (unsigned)hal_host_progress(), (unsigned)hal_host_result());
    else
        con_printf("host: %s\n", state < 4 ? states[state] : "?");
}

int main(void)
{
    con_printf("\nmirrorswap BIOS (C on PicoRV32)\n");
    ms_bios_init(4, 10000000u);
    if (MS_RD(MIRRORSWAP->ID) != MIRRORSWAP_ID_RESET) {
        con_printf("BIOS: no mirrorswap at 0x%08x (ID 0x%08x), halted\n",
                   (unsigned)SOC_MIRRORSWAP_BASE, (unsigned)MS_RD(MIRRORSWAP->ID));
        for (;;)
            ;
    }
    if (ms_boot(100000, 1) != MS_OK) {
        con_printf("boot failed: ");
        ms_print_error();
    }
    ms_print_e820();
    ms_print_slot_table();
    ms_hotplug_enable();
    /* unmask mirrorswap's irq and the core's own traps (timer stays masked) */
    picorv32_maskirq(~((1u << SOC_IRQ_MIRRORSWAP) | (1u << IRQ_EBREAK)
                       | (1u << IRQ_BUS_ERROR)));
    con_printf("BIOS: listening for slot events\n");
    uint32_t host = SOC_HOST_IDLE;
    for (;;) {
        watch_host(&host);
        if (ms_hotplug_run_queued()) {
            ms_print_e820();
            ms_print_slot_table();
        } else {
            hal_pause(64);
        }
    }
}
