/* The bare-metal platform layer of the nanoml firmware harness (RV32IMC on QEMU virt):
 * UART output with a tiny printf, exit with a pass/fail code, hardware counters and the
 * painted-stack measurement. No libc stdio: the harness must stay small and predictable. */
#ifndef NANOML_FW_H
#define NANOML_FW_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes: 0 = pass; anything else ends QEMU with that code (see fw_exit). */
#define FW_EXIT_PASS 0
#define FW_EXIT_ERROR 1    /* the runtime reported an error */
#define FW_EXIT_MISMATCH 2 /* outputs differ from the expected outputs */
#define FW_EXIT_TRAP 3     /* an exception was taken */

void fw_putc(char c);
void fw_puts(const char *s);
/* printf subset: %d %i %u %x %s %c %%, the l and ll length modifiers, a width and the '0'
 * flag. No floating point (the harness prints floats with fw_print_float). */
void fw_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Prints a float as a decimal with 6 fraction digits (or inf/nan), without printf's float
 * support: enough to read outputs, not a round-trip format (outputs are also printed as hex). */
void fw_print_float(float v);

/* Ends the simulation through QEMU virt's test device: code 0 passes, others fail with it. */
void fw_exit(int code) __attribute__((noreturn));

/* Instructions retired / cycles since reset (64-bit, read consistently on RV32). */
static inline uint64_t fw_instret(void) {
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi));
        __asm__ volatile("csrr %0, minstret" : "=r"(lo));
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t fw_cycles(void) {
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, mcycleh" : "=r"(hi));
        __asm__ volatile("csrr %0, mcycle" : "=r"(lo));
        __asm__ volatile("csrr %0, mcycleh" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

/* Bytes of the stack region ever written since reset (crt0 paints it before main). */
size_t fw_stack_peak(void);
/* Bytes reserved for the stack by the linker script. */
size_t fw_stack_size(void);

#endif
