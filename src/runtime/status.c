/* Error recording and a tiny bounded formatter, because the runtime has no stdio. */
#include "nanoml/status.h"

#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap; /* includes room for the NUL */
    size_t len;
} out_buf;

static void put_char(out_buf *o, char c) {
    if (o->len + 1 < o->cap) o->buf[o->len] = c;
    o->len++;
}

static void put_str(out_buf *o, const char *s) {
    if (!s) s = "(null)";
    while (*s) put_char(o, *s++);
}

#ifdef NML_COMPACT_ERRORS
/* The compact build's formatter: only what its context prefixes need ("operator %lu: ", "%s").
 * %s, and every other conversion reads an unsigned int (unsigned long with l or z) and prints it
 * in decimal, %x and %c too. The compact runtime formats only indices and counts: no negative
 * numbers (%d of one would print its bits), no width, no %p or %ll. "%%" is a percent sign. */
_Static_assert(sizeof(size_t) == sizeof(unsigned long), "%z reads an unsigned long");

size_t nml_vformat(char *buf, size_t cap, const char *fmt, va_list ap) {
    out_buf o = {buf, cap, 0};
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p; p++) {
        char c = *p;
        if (c == '%' && (c = *++p) != '%') {
            int longs = 0;
            for (; c == 'l' || c == 'z'; c = *++p) longs = 1;
            if (c == '\0') break;
            if (c == 's') {
                put_str(&o, va_arg(args, const char *));
                continue;
            }
            unsigned long v = longs ? va_arg(args, unsigned long) : va_arg(args, unsigned);
            char tmp[24];
            int n = 0;
            do tmp[n++] = (char)('0' + v % 10); while (v /= 10);
            while (n > 0) put_char(&o, tmp[--n]);
            continue;
        }
        put_char(&o, c);
    }
    va_end(args);
    if (cap > 0) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len < cap ? o.len : (cap ? cap - 1 : 0);
}
#else
/* *v /= d, returning the remainder, for d < 2^16 with 32-bit divisions only: a 32-bit target
 * would otherwise link libgcc's 64-bit division (about 2 KB on RV32) just for printing. */
static unsigned div_small(unsigned long long *v, unsigned d) {
    uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
    uint32_t q_hi = hi / d, r = hi % d;
    uint32_t x = (r << 16) | (lo >> 16); /* r < d < 2^16: no overflow */
    uint32_t q_mid = x / d;
    x = ((x % d) << 16) | (lo & 0xffffu);
    *v = ((unsigned long long)q_hi << 32) | ((unsigned long long)q_mid << 16) | (x / d);
    return (unsigned)(x % d);
}

/* The digits of v in base (10 or 16), '-' first when negative, padded to width with pad
 * ('0' pads after the sign, ' ' before it). */
static void put_number(out_buf *o, unsigned long long v, unsigned base, int negative, int width,
                       char pad) {
    char tmp[24];
    int n = 0;
    do {
        unsigned d = div_small(&v, base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    } while (v);
    if (negative) {
        if (pad == '0') put_char(o, '-');
        width--;
    }
    for (; width > n; width--) put_char(o, pad);
    if (negative && pad != '0') put_char(o, '-');
    while (n > 0) put_char(o, tmp[--n]);
}

/* The next integer argument as 64 bits: `longs` 'l's, or a size_t, or an int; signed
 * conversions are sign-extended from the argument's width. The type given to va_arg is always
 * the argument's own, whatever the target's sizes. */
static unsigned long long int_arg(va_list *ap, int longs, int size_t_arg, int is_signed) {
    unsigned long long v;
    unsigned bits;
    if (longs >= 2) {
        v = va_arg(*ap, unsigned long long);
        bits = 64;
    } else if (longs == 1) {
        v = va_arg(*ap, unsigned long);
        bits = 8 * sizeof(long);
    } else if (size_t_arg) {
        v = va_arg(*ap, size_t);
        bits = 8 * sizeof(size_t);
    } else {
        v = va_arg(*ap, unsigned);
        bits = 8 * sizeof(unsigned);
    }
    if (is_signed && bits < 64 && (v >> (bits - 1)) & 1) v |= ~0ULL << bits;
    return v;
}

size_t nml_vformat(char *buf, size_t cap, const char *fmt, va_list ap) {
    out_buf o = {buf, cap, 0};
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put_char(&o, *p);
            continue;
        }
        p++;
        char pad = ' ';
        int width = 0, longs = 0, size_t_arg = 0;
        if (*p == '0') pad = *p++;
        while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        while (*p == 'l') longs++, p++;
        if (*p == 'z') size_t_arg = 1, p++;
        char c = *p;
        if (c == 'd' || c == 'i') {
            unsigned long long v = int_arg(&args, longs, size_t_arg, 1);
            int negative = (long long)v < 0;
            put_number(&o, negative ? 0ULL - v : v, 10, negative, width, pad);
        } else if (c == 'u' || c == 'x') {
            put_number(&o, int_arg(&args, longs, size_t_arg, 0), c == 'x' ? 16 : 10, 0, width,
                       pad);
        } else if (c == 'p') {
            put_str(&o, "0x");
            put_number(&o, (uintptr_t)va_arg(args, void *), 16, 0, 0, ' ');
        } else if (c == 's') {
            put_str(&o, va_arg(args, const char *));
        } else if (c == 'c') {
            put_char(&o, (char)va_arg(args, int));
        } else if (c == '\0') {
            p--; /* a lone trailing '%': stop at the terminator */
        } else { /* "%%", or an unsupported conversion: shown rather than misreading arguments */
            if (c != '%') put_char(&o, '%');
            put_char(&o, c);
        }
    }
    va_end(args);
    if (cap > 0) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len < cap ? o.len : (cap ? cap - 1 : 0);
}
#endif

size_t nml_format(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = nml_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

#ifdef NML_COMPACT_ERRORS
nml_status nml_fail_status(nml_error *err, nml_status status) {
    if (err) {
        const char *s = nml_status_str(status);
        size_t i = 0;
        for (; s[i] && i + 1 < sizeof err->msg; i++) err->msg[i] = s[i];
        err->msg[i] = '\0';
        err->status = status;
    }
    return status;
}
#else
nml_status nml_fail(nml_error *err, nml_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        nml_vformat(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}
#endif

nml_status nml_error_prefix(nml_error *err, const char *fmt, ...) {
    if (!err) return NML_E_INTERNAL;
    /* the context is formatted aside, the message moved right by its length (as much as still
     * fits) and the context copied in front: no second formatting pass (byte loops: memmove
     * would be linked for this alone) */
    char pre[NML_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    const size_t n = nml_vformat(pre, sizeof pre, fmt, ap); /* <= sizeof pre - 1 */
    va_end(ap);
    size_t len = 0;
    while (len + 1 < sizeof err->msg && err->msg[len]) len++;
    if (len > sizeof err->msg - 1 - n) len = sizeof err->msg - 1 - n;
    err->msg[n + len] = '\0';
    while (len--) err->msg[n + len] = err->msg[len]; /* backwards: the ranges overlap */
    for (size_t i = 0; i < n; i++) err->msg[i] = pre[i];
    return err->status;
}

void nml_error_clear(nml_error *err) {
    if (!err) return;
    err->status = NML_OK;
    err->msg[0] = '\0';
}

const char *nml_status_str(nml_status status) {
    switch (status) {
    case NML_OK: return "ok";
    case NML_E_ARG: return "bad argument";
    case NML_E_FORMAT: return "malformed input";
    case NML_E_UNSUPPORTED: return "unsupported";
    case NML_E_SHAPE: return "shape mismatch";
    case NML_E_ARENA: return "arena too small";
    case NML_E_LIMIT: return "limit exceeded";
    case NML_E_IO: return "i/o error";
    case NML_E_NOMEM: return "out of memory";
    case NML_E_STATE: return "bad state";
    case NML_E_INTERNAL: return "internal error";
    case NML_E_PLAN: return "arena plan mismatch";
    }
    return "unknown status";
}
