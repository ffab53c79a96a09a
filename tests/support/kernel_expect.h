/* Assertions shared by the kernel tests (header only). Include after test_util.h. */
#ifndef NML_KERNEL_EXPECT_H
#define NML_KERNEL_EXPECT_H

#include <stdio.h>
#include <string.h>

#include "kernel_harness.h"

/* prepare+eval must fail with `status` and a message containing `needle`. */
#define KH_EXPECT_FAIL(h, kernel, params, status, needle)                                          \
    do {                                                                                           \
        nml_status kh_st_ = kh_run((h), (kernel), (params));                                       \
        if (kh_st_ != (status) || !strstr((h)->err.msg, (needle)))                                 \
            fail_msg("expected status %d with \"%s\", got %d: \"%s\"", (int)(status), (needle),    \
                     (int)kh_st_, (h)->err.msg);                                                   \
    } while (0)

/* prepare+eval must succeed. */
#define KH_EXPECT_OK(h, kernel, params)                                                            \
    do {                                                                                           \
        nml_status kh_st_ = kh_run((h), (kernel), (params));                                       \
        if (kh_st_ != NML_OK) fail_msg("kernel failed (%d): %s", (int)kh_st_, (h)->err.msg);       \
    } while (0)

static inline void kh_expect_i8(const int8_t *got, const int8_t *want, int n) {
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("element %d: got %d, want %d", i, got[i], want[i]);
}

static inline void kh_expect_u8(const uint8_t *got, const uint8_t *want, int n) {
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("element %d: got %u, want %u", i, got[i], want[i]);
}

static inline void kh_expect_i32(const int32_t *got, const int32_t *want, int n) {
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("element %d: got %d, want %d", i, got[i], want[i]);
}

/* Float comparison within 1e-5 (hand computations written with rounded decimals); NaN never
 * matches. */
static inline void kh_expect_f32_near(const float *got, const float *want, int n) {
    for (int i = 0; i < n; i++)
        if (!(got[i] > want[i] - 1e-5f && got[i] < want[i] + 1e-5f))
            fail_msg("element %d: got %f, want %f", i, (double)got[i], (double)want[i]);
}

/* Exact float comparison (bit-exact kernels); NaN equals NaN. */
static inline void kh_expect_f32(const float *got, const float *want, int n) {
    for (int i = 0; i < n; i++) {
        if (got[i] != got[i] && want[i] != want[i]) continue;
        if (got[i] != want[i])
            fail_msg("element %d: got %.9g, want %.9g", i, (double)got[i], (double)want[i]);
    }
}

#endif
