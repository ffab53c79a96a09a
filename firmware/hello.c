/* Smallest firmware: proves the toolchain, the UART, the counters, the painted stack and the
 * exit path work (tests/scripts/test_firmware_hello.sh). */
#include "fw.h"

int main(void);
int main(void) {
    uint64_t t0 = fw_instret();
    fw_puts("nml: hello from RV32\n");
    uint64_t t1 = fw_instret();
    fw_printf("nml: hello instret %llu\n", (unsigned long long)(t1 - t0));
    fw_printf("nml: printf %d %u %x %05d %s %c %lld\n", -42, 42u, 0xbeefu, 7, "str", 'c',
              -9000000000ll);
    fw_printf("nml: stack peak %u reserved %u\n", (unsigned)fw_stack_peak(),
              (unsigned)fw_stack_size());
    return 0;
}
