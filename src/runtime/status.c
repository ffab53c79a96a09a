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

static void put_unsigned(out_buf *o, unsigned long long v, unsigned base, int width, char pad,
                         int negative) {
    char tmp[24];
    int n = 0;
    do {
        unsigned d = div_small(&v, base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    } while (v && n < (int)sizeof tmp);
    int total = n + (negative ? 1 : 0);
    if (negative && pad == '0') put_char(o, '-');
    for (; total < width; total++) put_char(o, pad);
    if (negative && pad != '0') put_char(o, '-');
    while (n > 0) put_char(o, tmp[--n]);
}

static void put_signed(out_buf *o, long long v, int width, char pad) {
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    put_unsigned(o, mag, 10, width, pad, v < 0);
}

size_t nml_vformat(char *buf, size_t cap, const char *fmt, va_list ap) {
    out_buf o = {buf, cap, 0};
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put_char(&o, *p);
            continue;
        }
        p++;
        char pad = ' ';
        int width = 0;
        if (*p == '0') {
            pad = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        int longs = 0, size_t_arg = 0;
        while (*p == 'l') {
            longs++;
            p++;
        }
        if (*p == 'z') {
            size_t_arg = 1;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i':
            if (size_t_arg) put_signed(&o, (long long)va_arg(ap, size_t), width, pad);
            else if (longs >= 2) put_signed(&o, va_arg(ap, long long), width, pad);
            else if (longs == 1) put_signed(&o, va_arg(ap, long), width, pad);
            else put_signed(&o, va_arg(ap, int), width, pad);
            break;
        case 'u':
        case 'x': {
            unsigned base = *p == 'x' ? 16u : 10u;
            unsigned long long v;
            if (size_t_arg) v = va_arg(ap, size_t);
            else if (longs >= 2) v = va_arg(ap, unsigned long long);
            else if (longs == 1) v = va_arg(ap, unsigned long);
            else v = va_arg(ap, unsigned);
            put_unsigned(&o, v, base, width, pad, 0);
            break;
        }
        case 'p':
            put_str(&o, "0x");
            put_unsigned(&o, (unsigned long long)(uintptr_t)va_arg(ap, void *), 16, 0, ' ', 0);
            break;
        case 's':
            put_str(&o, va_arg(ap, const char *));
            break;
        case 'c':
            put_char(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put_char(&o, '%');
            break;
        case '\0':
            p--; /* a lone trailing '%': stop at the terminator */
            break;
        default: /* unsupported conversion: show it rather than misread the arguments */
            put_char(&o, '%');
            put_char(&o, *p);
            break;
        }
    }
    if (cap > 0) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len < cap ? o.len : (cap ? cap - 1 : 0);
}

size_t nml_format(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = nml_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

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

nml_status nml_error_prefix(nml_error *err, const char *fmt, ...) {
    if (!err) return NML_E_INTERNAL;
    char prefix[NML_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t n = nml_vformat(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[NML_ERROR_MSG_MAX];
    size_t i = 0;
    for (; i + 1 < sizeof old && err->msg[i]; i++) old[i] = err->msg[i];
    old[i] = '\0';
    nml_format(err->msg, sizeof err->msg, "%s%s", prefix, old);
    (void)n;
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
    }
    return "unknown status";
}
