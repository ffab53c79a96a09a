/* A progress bar for nml_fit on stderr. */
#include <stdio.h>
#include <unistd.h>

#include "nanoml/train_fit.h"

#define BAR 30

static void metrics(FILE *out, const nml_fit_progress *p) {
    fprintf(out, "loss %.4f", p->loss);
    if (p->accuracy >= 0.0) fprintf(out, " acc %.2f%%", 100.0 * p->accuracy);
}

void nml_fit_print_progress(const nml_fit_progress *p, void *user) {
    FILE *out = user ? (FILE *)user : stderr;
    static double last_draw = -1.0;
    const int tty = isatty(fileno(out));
    if (!p->end_of_epoch) {
        if (!tty) return;
        if (p->done < p->total && p->seconds - last_draw < 0.1 && p->seconds >= last_draw) return;
        last_draw = p->seconds;
    } else {
        last_draw = -1.0;
    }
    const int filled = p->total > 0 ? (int)((int64_t)BAR * p->done / p->total) : BAR;
    if (tty) fputc('\r', out);
    fprintf(out, "epoch %d/%d [", (int)p->epoch + 1, (int)p->epochs);
    for (int i = 0; i < BAR; i++) fputc(i < filled ? '=' : (i == filled ? '>' : ' '), out);
    fprintf(out, "] %d/%d ", (int)p->done, (int)p->total);
    metrics(out, p);
    fprintf(out, " %.1fs", p->seconds);
    if (p->end_of_epoch) {
        if (p->val_loss >= 0.0) {
            fprintf(out, " | val loss %.4f", p->val_loss);
            if (p->val_accuracy >= 0.0) fprintf(out, " val acc %.2f%%", 100.0 * p->val_accuracy);
        }
        fprintf(out, " | %.0f img/s lr %.2g\n", p->seconds > 0 ? p->done / p->seconds : 0.0,
                (double)p->lr);
    } else {
        fputs("\033[K", out); /* clear what a longer previous line left behind */
    }
    fflush(out);
}
