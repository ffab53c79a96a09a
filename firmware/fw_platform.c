/* QEMU virt devices: NS16550A UART at 0x10000000, SiFive test device at 0x100000. */
#include "fw.h"

#define UART_BASE 0x10000000u
#define UART_THR 0u /* transmit holding register */
#define UART_LSR 5u /* line status register */
#define UART_LSR_THRE 0x20u

#define TEST_DEVICE 0x100000u
#define TEST_PASS 0x5555u
#define TEST_FAIL 0x3333u

#define STACK_PAINT 0xa5a5a5a5u

/* from link.ld */
extern uint32_t __stack_bottom[], __stack_top[];

void fw_putc(char c) {
    volatile uint8_t *uart = (volatile uint8_t *)UART_BASE;
    while (!(uart[UART_LSR] & UART_LSR_THRE)) {
    }
    uart[UART_THR] = (uint8_t)c;
}

void fw_puts(const char *s) {
    while (*s)
        fw_putc(*s++);
}

void fw_exit(int code) {
    volatile uint32_t *test = (volatile uint32_t *)TEST_DEVICE;
    /* the device takes a 16-bit code; keep a failing code non-zero after truncation */
    uint32_t c = (uint32_t)code & 0xffffu;
    if (code != 0 && c == 0) c = 1;
    *test = code == 0 ? TEST_PASS : ((c << 16) | TEST_FAIL);
    for (;;)
        __asm__ volatile("wfi");
}

size_t fw_stack_peak(void) {
    const uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == STACK_PAINT)
        p++;
    return (size_t)((const uint8_t *)__stack_top - (const uint8_t *)p);
}

size_t fw_stack_size(void) {
    return (size_t)((const uint8_t *)__stack_top - (const uint8_t *)__stack_bottom);
}

/* Any exception ends the run with a message instead of hanging QEMU. */
void fw_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval);
void fw_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
    fw_printf("\nfw: trap mcause=0x%x mepc=0x%x mtval=0x%x\n", (unsigned)mcause, (unsigned)mepc,
              (unsigned)mtval);
    fw_exit(FW_EXIT_TRAP);
}
