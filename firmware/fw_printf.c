/* A small printf for the UART: integers and strings only, so the firmware never links the
 * (large) floating-point printf of a C library. */
#include <stdarg.h>

#include "fw.h"

static void put_padded(const char *digits, int n, int negative, int width, char pad) {
    int len = n + negative;
    if (negative && pad == '0') fw_putc('-');
    for (; len < width; len++)
        fw_putc(pad);
    if (negative && pad != '0') fw_putc('-');
    while (n > 0)
        fw_putc(digits[--n]);
}

/* *v /= d, returning the remainder, for d < 2^16 with 32-bit divisions only (as the runtime's
 * formatter, src/runtime/status.c): no libgcc 64-bit division in the firmware. */
static unsigned div_small(unsigned long long *v, unsigned d) {
    uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
    uint32_t q_hi = hi / d, r = hi % d;
    uint32_t x = (r << 16) | (lo >> 16);
    uint32_t q_mid = x / d;
    x = ((x % d) << 16) | (lo & 0xffffu);
    *v = ((unsigned long long)q_hi << 32) | ((unsigned long long)q_mid << 16) | (x / d);
    return (unsigned)(x % d);
}

static void put_number(unsigned long long v, unsigned base, int negative, int width, char pad) {
    char digits[24];
    int n = 0;
    do {
        unsigned d = div_small(&v, base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    } while (v && n < (int)sizeof digits);
    put_padded(digits, n, negative, width, pad);
}

static void put_signed(long long v, int width, char pad) {
    unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    put_number(mag, 10, v < 0, width, pad);
}

void fw_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            fw_putc(*p);
            continue;
        }
        p++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*p == '0') {
            pad = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        while (*p == 'l') {
            longs++;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i':
            if (longs >= 2)
                put_signed(va_arg(ap, long long), width, pad);
            else if (longs == 1)
                put_signed(va_arg(ap, long), width, pad);
            else
                put_signed(va_arg(ap, int), width, pad);
            break;
        case 'u':
        case 'x': {
            unsigned base = *p == 'x' ? 16u : 10u;
            unsigned long long v = longs >= 2   ? va_arg(ap, unsigned long long)
                                   : longs == 1 ? va_arg(ap, unsigned long)
                                                : va_arg(ap, unsigned);
            put_number(v, base, 0, width, pad);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            fw_puts(s ? s : "(null)");
            break;
        }
        case 'c':
            fw_putc((char)va_arg(ap, int));
            break;
        case '%':
            fw_putc('%');
            break;
        case '\0':
            p--;
            break;
        default:
            fw_putc('%');
            fw_putc(*p);
            break;
        }
    }
    va_end(ap);
}

void fw_print_float(float v) {
    if (v != v) {
        fw_puts("nan");
        return;
    }
    if (v < 0) {
        fw_putc('-');
        v = -v;
    }
    if (v > 4.0e9f) {
        fw_puts(v > 3.4e38f ? "inf" : "big");
        return;
    }
    uint32_t whole = (uint32_t)v;
    uint32_t frac = (uint32_t)((v - (float)whole) * 1000000.0f + 0.5f);
    if (frac >= 1000000u) {
        whole++;
        frac -= 1000000u;
    }
    fw_printf("%u.%06u", (unsigned)whole, (unsigned)frac);
}
