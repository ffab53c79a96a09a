#include "cli_progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 30

void cli_progress_init(cli_progress *p, int enabled) {
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
    p->tty = isatty(STDERR_FILENO);
    p->last_step = -1;
}

static void draw_bar(cli_progress *p, uint64_t done, uint64_t total, const char *what) {
    char bar[BAR_WIDTH + 1];
    const int filled = total ? (int)(done * BAR_WIDTH / total) : 0;
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    if (total)
        fprintf(stderr, "\r%s [%s] %llu/%llu", what, bar, (unsigned long long)done,
                (unsigned long long)total);
    else
        fprintf(stderr, "\r%s %llu", what, (unsigned long long)done);
    fflush(stderr);
    p->drawn = 1;
}

void cli_progress_fn(void *user, uint64_t done, uint64_t total, const char *what) {
    cli_progress *p = user;
    if (!p || !p->enabled) return;
    p->last_done = done;
    const int percent = total ? (int)(done * 100 / total) : -1;
    if (p->tty) {
        /* redraw at most once per percent (or per 64 items when the total is unknown) */
        const int step = total ? percent : (int)(done / 64);
        if (step != p->last_step || done == total) draw_bar(p, done, total, what);
        p->last_step = step;
        return;
    }
    const int step = total ? percent / 25 : -1;
    if (total && step != p->last_step && (step > 0 || done == total)) {
        fprintf(stderr, "%s: %llu/%llu\n", what, (unsigned long long)done,
                (unsigned long long)total);
        p->last_step = step;
    }
}

void cli_progress_end(cli_progress *p) {
    if (p->drawn) fputc('\n', stderr);
    p->drawn = 0;
}
