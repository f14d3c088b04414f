/* The BIOS platform on the SoC's management CPU: the I/O block of soc_map.h. */
#include "console.h"
#include "hal.h"
#include "picorv32.h"

void con_putc(char c)
{
    SOC_IO(SOC_IO_CONSOLE) = (uint32_t)(unsigned char)c;
}

uint32_t hal_cycles(void)
{
    return SOC_IO(SOC_IO_CYCLES);
}

void hal_pause(uint32_t cycles)
{
    uint32_t start = SOC_IO(SOC_IO_CYCLES);
    /* unsigned difference: right across the counter's wrap */
    while (SOC_IO(SOC_IO_CYCLES) - start < cycles)
        ;
}

void hal_publish(uint32_t mem_bytes)
{
    SOC_IO(SOC_IO_MEM_BYTES) = mem_bytes;
    SOC_IO(SOC_IO_GO) = 1;
}

uint32_t hal_host_state(void)
{
    return SOC_IO(SOC_IO_HOST_STATE);
}

uint32_t hal_host_progress(void)
{
    return SOC_IO(SOC_IO_HOST_PROGRESS);
}

uint32_t hal_host_result(void)
{
    return SOC_IO(SOC_IO_HOST_RESULT);
}

uint32_t hal_irq_save(void)
{
    return picorv32_maskirq(~0u);
}

void hal_irq_restore(uint32_t saved)
{
    picorv32_maskirq(saved);
}
