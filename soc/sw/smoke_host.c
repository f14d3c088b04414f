/* Host CPU smoke program: waits for GO, computes a small checksum with multiply and
 * divide from its own RAM and stack, reports it and says done. */
#include "smoke.h"

static uint32_t table[64];

int main(void)
{
    while (!SOC_IO(SOC_IO_GO))
        ;
    SOC_IO(SOC_IO_HOST_STATE) = SOC_HOST_RUNNING;
    put_str("host: hello\n");
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 64; i++) {
        table[i] = i * 2654435761u;
        sum = sum * 31 + table[i] / (i + 1) + table[i] % 7;
        SOC_IO(SOC_IO_HOST_PROGRESS) = i + 1;
    }
    SOC_IO(SOC_IO_HOST_RESULT) = sum;
    SOC_IO(SOC_IO_HOST_STATE) = SOC_HOST_DONE;
    return 0;
}
