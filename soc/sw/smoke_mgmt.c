/* Management CPU smoke program: says hello, reads mirrorswap's ID register through its
 * window, publishes GO, waits for the host CPU to finish and reports its result. */
#include "smoke.h"

#define MS_ID (*(volatile uint32_t *)(SOC_MIRRORSWAP_BASE + 0x000))

int main(void)
{
    put_str("bios: hello, id ");
    put_hex(MS_ID);
    put_char('\n');
    SOC_IO(SOC_IO_MEM_BYTES) = 0;
    SOC_IO(SOC_IO_GO) = 1;
    while (SOC_IO(SOC_IO_HOST_STATE) < SOC_HOST_DONE)
        ;
    put_str("bios: host result ");
    put_hex(SOC_IO(SOC_IO_HOST_RESULT));
    put_char('\n');
    return 0;
}
