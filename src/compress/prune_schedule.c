/* Sparsity schedules: TF-MOT's ConstantSparsity and PolynomialDecay. */
#include <math.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/prune.h"

void nml_prune_schedule_default(nml_prune_schedule *s) {
    memset(s, 0, sizeof *s);
    s->kind = NML_PRUNE_CONSTANT;
    s->power = 3.0f;
    s->frequency = 100;
    s->end_step = -1;
}

static int in_unit(float v) {
    return v >= 0.0f && v < 1.0f;
}

nml_status nml_prune_schedule_check(const nml_prune_schedule *s, nml_error *err) {
    nml_gbuf g;
    if (s->kind != NML_PRUNE_CONSTANT && s->kind != NML_PRUNE_POLYNOMIAL)
        return nml_fail(err, NML_E_ARG, "unknown sparsity schedule %d", (int)s->kind);
    if (!in_unit(s->target_sparsity))
        return nml_fail(err, NML_E_ARG, "sparsity %s is outside [0, 1)",
                        nml_g(&g, s->target_sparsity));
    if (s->kind == NML_PRUNE_POLYNOMIAL && !in_unit(s->initial_sparsity))
        return nml_fail(err, NML_E_ARG, "initial sparsity %s is outside [0, 1)",
                        nml_g(&g, s->initial_sparsity));
    if (s->kind == NML_PRUNE_POLYNOMIAL && !(s->power > 0.0f && s->power <= 100.0f))
        return nml_fail(err, NML_E_ARG, "power %s is outside (0, 100]", nml_g(&g, s->power));
    if (s->frequency < 1)
        return nml_fail(err, NML_E_ARG, "frequency %lld must be at least 1 step",
                        (long long)s->frequency);
    if (s->begin_step < 0)
        return nml_fail(err, NML_E_ARG, "begin step %lld is negative", (long long)s->begin_step);
    if (s->kind == NML_PRUNE_POLYNOMIAL && s->end_step <= s->begin_step)
        return nml_fail(err, NML_E_ARG, "polynomial decay needs end step %lld > begin step %lld",
                        (long long)s->end_step, (long long)s->begin_step);
    if (s->kind == NML_PRUNE_CONSTANT && s->end_step >= 0 && s->end_step < s->begin_step)
        return nml_fail(err, NML_E_ARG, "end step %lld is before begin step %lld",
                        (long long)s->end_step, (long long)s->begin_step);
    return NML_OK;
}

float nml_prune_sparsity_at(const nml_prune_schedule *s, int64_t step) {
    if (s->kind != NML_PRUNE_POLYNOMIAL) return s->target_sparsity;
    double p = (double)(step - s->begin_step) / (double)(s->end_step - s->begin_step);
    p = p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
    return (float)((double)s->target_sparsity +
                   ((double)s->initial_sparsity - (double)s->target_sparsity) *
                       pow(1.0 - p, (double)s->power));
}

/* TF-MOT's rule, plus the end step itself, so that the final target is always reached even when
 * (end - begin) is not a multiple of the frequency. */
int nml_prune_should_update(const nml_prune_schedule *s, int64_t step) {
    if (step < s->begin_step) return 0;
    if (s->end_step >= 0 && step > s->end_step) return 0;
    if (s->end_step >= 0 && step == s->end_step) return 1;
    return (step - s->begin_step) % (s->frequency > 0 ? s->frequency : 1) == 0;
}
