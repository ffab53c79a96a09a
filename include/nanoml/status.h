/* One error style for all of nanoml: every fallible function returns an nml_status and, when
 * given a non-NULL nml_error, leaves a one-line message there that says what is wrong and where.
 * Freestanding: usable from the microcontroller runtime (no stdio, no malloc). */
#ifndef NANOML_STATUS_H
#define NANOML_STATUS_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_status {
    NML_OK = 0,
    NML_E_ARG,         /* the caller passed a bad argument */
    NML_E_FORMAT,      /* malformed input: model file, image, dataset, protobuf, ... */
    NML_E_UNSUPPORTED, /* well-formed but not supported (operator, type, option) */
    NML_E_SHAPE,       /* inconsistent or invalid tensor shapes */
    NML_E_ARENA,       /* the tensor arena is too small */
    NML_E_LIMIT,       /* an explicit limit was exceeded (rank, dimensions, sizes) */
    NML_E_IO,          /* file system or device error */
    NML_E_NOMEM,       /* host memory allocation failed */
    NML_E_STATE,       /* call made in the wrong state (e.g. invoke before init) */
    NML_E_INTERNAL,    /* a bug in nanoml */
    NML_E_PLAN         /* an export-time arena plan does not fit the model (arena_plan.h) */
} nml_status;

#define NML_ERROR_MSG_MAX 256

typedef struct nml_error {
    nml_status status;
    char msg[NML_ERROR_MSG_MAX];
} nml_error;

/* Records status and a printf-style message in err (if err is non-NULL) and returns status.
 * Supported conversions: %d %i %u %x %ld %lu %lx %lld %llu %zu %s %c %p %%, with an optional
 * width and '0' flag. No floating point (freestanding); host code formats floats itself. */
nml_status nml_fail(nml_error *err, nml_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends context to an existing message: "tensor 12: " + old message. Returns err->status
 * (or NML_E_INTERNAL when err is NULL, so callers can `return nml_error_prefix(...)`). */
nml_status nml_error_prefix(nml_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void nml_error_clear(nml_error *err);

/* "ok", "bad argument", "malformed input", ... */
const char *nml_status_str(nml_status status);

/* Bounded formatting used by nml_fail; always NUL-terminates when cap > 0.
 * Returns the number of characters written (excluding the NUL). With NML_COMPACT_ERRORS only
 * %s and unsigned decimals (%u %lu %zu) are supported (status.c). */
size_t nml_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t nml_format(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Compact errors (compile definition NML_COMPACT_ERRORS; `nanoml deploy --compact-errors`), for
 * firmware whose code memory is tight: nml_fail records the status and, as the message, the
 * status's name; the detail text and its arguments are not compiled in (nor is the formatter
 * for them). Context added with nml_error_prefix stays ("operator 12: tensor 3: malformed
 * input"), so an error still says what kind of fault and where. Every check still runs: only
 * the wording of a failure changes. Code that builds text only for a message tests
 * NML_ERROR_DETAIL. */
#ifdef NML_COMPACT_ERRORS
#define NML_ERROR_DETAIL 0
nml_status nml_fail_status(nml_error *err, nml_status status);
/* never defined nor called: the message stays type-checked and its arguments count as used,
 * inside sizeof, which evaluates nothing */
int nml_compact_message_(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
#define NML_COMPACT_MESSAGE_(...) ((void)sizeof(nml_compact_message_(__VA_ARGS__)))
#define nml_fail(err, status, ...)                                                                 \
    (NML_COMPACT_MESSAGE_(__VA_ARGS__), nml_fail_status((err), (status)))
#else
#define NML_ERROR_DETAIL 1
#endif

/* Propagate a failing status unchanged. */
#define NML_TRY(expr)                                                                              \
    do {                                                                                           \
        nml_status nml_try_st_ = (expr);                                                           \
        if (nml_try_st_ != NML_OK) return nml_try_st_;                                             \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
