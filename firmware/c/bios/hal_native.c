/* The BIOS platform of the native build (-DMS_NATIVE): a shared library whose register
 * accesses, pauses and console characters are callbacks installed by the caller
 * (tests/test_c_firmware.py: ctypes callbacks that perform real AXI4-Lite accesses on
 * the simulated mirrorswap_top). The I/O block writes of hal_publish go to the io_write
 * callback with the SoC offsets of soc_map.h. There is no interrupt: the caller runs the
 * event handling (ms_hotplug_service) itself.
 */
#include <stddef.h>

#include "console.h"
#include "hal.h"
#include "soc_map.h"

typedef uint32_t (*ms_read_cb)(uint32_t offset);
typedef void (*ms_write_cb)(uint32_t offset, uint32_t value);
typedef void (*ms_pause_cb)(uint32_t cycles);
typedef void (*ms_putc_cb)(int c);

mirrorswap_t ms_native_block;

static ms_read_cb read_cb;
static ms_write_cb write_cb;
static ms_pause_cb pause_cb;
static ms_putc_cb putc_cb;
static ms_write_cb io_write_cb;

/* Install the callbacks; every one must be given (a NULL one would crash later). */
int ms_native_init(ms_read_cb read, ms_write_cb write, ms_pause_cb pause, ms_putc_cb putc,
                   ms_write_cb io_write);

int ms_native_init(ms_read_cb read, ms_write_cb write, ms_pause_cb pause, ms_putc_cb putc,
                   ms_write_cb io_write)
{
    if (!read || !write || !pause || !putc || !io_write)
        return -1;
    read_cb = read;
    write_cb = write;
    pause_cb = pause;
    putc_cb = putc;
    io_write_cb = io_write;
    return 0;
}

uint32_t hal_native_read(uint32_t offset)
{
    return read_cb(offset);
}

void hal_native_write(uint32_t offset, uint32_t value)
{
    write_cb(offset, value);
}

void con_putc(char c)
{
    putc_cb((unsigned char)c);
}

void hal_pause(uint32_t cycles)
{
    pause_cb(cycles);
}

uint32_t hal_cycles(void)
{
    return 0;
}

void hal_publish(uint32_t mem_bytes)
{
    io_write_cb(SOC_IO_MEM_BYTES, mem_bytes);
    io_write_cb(SOC_IO_GO, 1);
}

uint32_t hal_host_state(void)
{
    return 0;
}

uint32_t hal_host_progress(void)
{
    return 0;
}

uint32_t hal_host_result(void)
{
    return 0;
}

uint32_t hal_irq_save(void)
{
    return 0;
}

void hal_irq_restore(uint32_t saved)
{
    (void)saved;
}
