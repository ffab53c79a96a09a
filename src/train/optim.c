/* SGD with momentum and Adam. Adam follows Kingma & Ba with the bias corrections folded into
 * the step size: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), w -= lr_t * m / (sqrt(v) + eps),
 * which is also how Keras applies it. */
#include "nanoml/train_optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_param.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define NML_OPTIM_X86 1
#include <immintrin.h>
#endif

struct nml_optim {
    nml_optim_opts o;
    nml_net *net;
    float base_lr, lr;
    int64_t t;              /* steps taken */
    float **m, **v;         /* per trainable parameter (v only for Adam) */
};

float nml_schedule_lr(const nml_schedule *s, float base_lr, int32_t epoch, int32_t epochs,
                      double fraction) {
    const double at = (double)epoch + fraction; /* epochs done */
    const double warm = s->warmup_epochs > 0.0f ? (double)s->warmup_epochs : 0.0;
    if (at < warm) return (float)(base_lr * (at + 1e-3) / (warm + 1e-3));
    switch (s->kind) {
    case NML_SCHEDULE_STEP: {
        int32_t step = s->step_epochs > 0 ? s->step_epochs : 1;
        float gamma = s->gamma != 0.0f ? s->gamma : 0.1f;
        return base_lr * powf(gamma, (float)(epoch / step));
    }
    case NML_SCHEDULE_COSINE: {
        const double span = (double)epochs - warm;
        if (span <= 0.0) return base_lr;
        double progress = (at - warm) / span;
        if (progress > 1.0) progress = 1.0;
        return s->min_lr +
               (base_lr - s->min_lr) * (float)(0.5 * (1.0 + cos(3.14159265358979 * progress)));
    }
    case NML_SCHEDULE_CONSTANT: break;
    }
    return base_lr;
}

void nml_optim_free(nml_optim *opt) {
    if (!opt) return;
    int n = nml_net_param_count(opt->net);
    for (int i = 0; i < n; i++) {
        if (opt->m) free(opt->m[i]);
        if (opt->v) free(opt->v[i]);
    }
    free(opt->m);
    free(opt->v);
    free(opt);
}

nml_status nml_optim_create(nml_optim **out, nml_net *net, const nml_optim_opts *opts,
                            nml_error *err) {
    *out = NULL;
    if (opts->kind != NML_OPTIM_SGD && opts->kind != NML_OPTIM_ADAM)
        return nml_fail(err, NML_E_ARG, "unknown optimizer %d", (int)opts->kind);
    nml_optim *opt = calloc(1, sizeof *opt);
    if (!opt) return nml_fail(err, NML_E_NOMEM, "out of memory");
    opt->o = *opts;
    opt->net = net;
    const int adam = opts->kind == NML_OPTIM_ADAM;
    if (opt->o.lr == 0.0f) opt->o.lr = adam ? 1e-3f : 1e-2f;
    if (opt->o.beta1 == 0.0f) opt->o.beta1 = 0.9f;
    if (opt->o.beta2 == 0.0f) opt->o.beta2 = 0.999f;
    if (opt->o.epsilon == 0.0f) opt->o.epsilon = 1e-7f;
    if (!(opt->o.lr > 0.0f) || opt->o.momentum < 0.0f || opt->o.momentum >= 1.0f ||
        opt->o.beta1 < 0.0f || opt->o.beta1 >= 1.0f || opt->o.beta2 < 0.0f ||
        opt->o.beta2 >= 1.0f) {
        free(opt);
        return nml_fail(err, NML_E_ARG, "bad optimizer settings (lr must be positive, momentum "
                        "and betas in [0, 1))");
    }
    opt->base_lr = opt->lr = opt->o.lr;
    const int n = nml_net_param_count(net);
    opt->m = calloc(n ? (size_t)n : 1, sizeof *opt->m);
    opt->v = calloc(n ? (size_t)n : 1, sizeof *opt->v);
    if (!opt->m || !opt->v) {
        nml_optim_free(opt);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    const int need_m = adam || opt->o.momentum > 0.0f;
    for (int i = 0; i < n; i++) {
        const nml_param *p = nml_net_param(net, i);
        if (!p->trainable) continue;
        if (need_m && !(opt->m[i] = calloc(p->count, sizeof(float)))) goto nomem;
        if (adam && !(opt->v[i] = calloc(p->count, sizeof(float)))) goto nomem;
    }
    *out = opt;
    return NML_OK;
nomem:
    nml_optim_free(opt);
    return nml_fail(err, NML_E_NOMEM, "cannot allocate optimizer state");
}

float nml_optim_set_progress(nml_optim *opt, int32_t epoch, int32_t epochs, double fraction) {
    opt->lr = nml_schedule_lr(&opt->o.schedule, opt->base_lr, epoch, epochs, fraction);
    return opt->lr;
}

float nml_optim_lr(const nml_optim *opt) { return opt->lr; }

static void sgd_update(const nml_optim *opt, nml_param *p, float *m) {
    const float lr = opt->lr * p->lr_scale, mu = opt->o.momentum, wd = opt->o.weight_decay;
    float *w = p->value;
    const float *g = p->grad;
    for (size_t i = 0; i < p->count; i++) {
        float gi = g[i] + wd * w[i];
        if (!m) {
            w[i] -= lr * gi;
        } else if (opt->o.nesterov) {
            m[i] = mu * m[i] - lr * gi;
            w[i] += mu * m[i] - lr * gi;
        } else {
            m[i] = mu * m[i] - lr * gi;
            w[i] += m[i];
        }
    }
}

typedef struct adam_coef {
    float b1, b2, eps, wd, lr_t;
} adam_coef;

/* Elements [from, n) of the update, one at a time. */
static void adam_scalar(const adam_coef *c, float *w, const float *g, float *m, float *v,
                        size_t from, size_t n) {
    for (size_t i = from; i < n; i++) {
        float gi = g[i] + c->wd * w[i];
        m[i] = c->b1 * m[i] + (1.0f - c->b1) * gi;
        v[i] = c->b2 * v[i] + (1.0f - c->b2) * gi * gi;
        w[i] -= c->lr_t * m[i] / (sqrtf(v[i]) + c->eps);
    }
}

#ifdef NML_OPTIM_X86
/* The same update eight weights at a time (a square root and a division per weight are most of
 * the cost of a step for small networks). */
__attribute__((target("avx2,fma"))) static void adam_avx2(const adam_coef *c, float *w,
                                                           const float *g, float *m, float *v,
                                                           size_t n) {
    const __m256 b1 = _mm256_set1_ps(c->b1), b2 = _mm256_set1_ps(c->b2);
    const __m256 a1 = _mm256_set1_ps(1.0f - c->b1), a2 = _mm256_set1_ps(1.0f - c->b2);
    const __m256 eps = _mm256_set1_ps(c->eps), wd = _mm256_set1_ps(c->wd);
    const __m256 lr = _mm256_set1_ps(c->lr_t);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i);
        __m256 gi = _mm256_fmadd_ps(wd, wi, _mm256_loadu_ps(g + i));
        __m256 mi = _mm256_fmadd_ps(b1, _mm256_loadu_ps(m + i), _mm256_mul_ps(a1, gi));
        __m256 vi = _mm256_fmadd_ps(b2, _mm256_loadu_ps(v + i), _mm256_mul_ps(a2, _mm256_mul_ps(gi, gi)));
        __m256 step = _mm256_div_ps(_mm256_mul_ps(lr, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), eps));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(w + i, _mm256_sub_ps(wi, step));
    }
    adam_scalar(c, w, g, m, v, i, n);
}

static int have_avx2(void) {
    static int known, has;
    if (!known) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        known = 1;
    }
    return has;
}
#endif

static void adam_update(const nml_optim *opt, nml_param *p, float *m, float *v) {
    const double t = (double)opt->t;
    const adam_coef c = {opt->o.beta1, opt->o.beta2, opt->o.epsilon, opt->o.weight_decay,
                         (float)(opt->lr * p->lr_scale * sqrt(1.0 - pow(opt->o.beta2, t)) /
                                 (1.0 - pow(opt->o.beta1, t)))};
#ifdef NML_OPTIM_X86
    if (have_avx2()) {
        adam_avx2(&c, p->value, p->grad, m, v, p->count);
        return;
    }
#endif
    adam_scalar(&c, p->value, p->grad, m, v, 0, p->count);
}

nml_status nml_optim_step(nml_optim *opt, nml_error *err) {
    (void)err;
    opt->t++;
    const int n = nml_net_param_count(opt->net);
    for (int i = 0; i < n; i++) {
        nml_param *p = nml_net_param(opt->net, i);
        if (!p->trainable || !p->grad) continue;
        if (opt->o.kind == NML_OPTIM_ADAM)
            adam_update(opt, p, opt->m[i], opt->v[i]);
        else
            sgd_update(opt, p, opt->m[i]);
        if (p->mask) /* pruned weights stay exactly zero */
            for (size_t k = 0; k < p->count; k++)
                if (!p->mask[k]) p->value[k] = 0.0f;
    }
    return NML_OK;
}
