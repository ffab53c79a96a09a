/* A progress bar on stderr for long-running work (dataset passes, training epochs, evaluation).
 *
 * On a terminal it redraws one line in place (at most ~10 times a second):
 *     eval [#########...............]  52/128  41%  12.3 img/s  ETA 0:06
 * When stderr is not a terminal (CI logs, pipes) it prints a plain line only at every 10% step and
 * at the end, so logs stay short. NML_PROGRESS=0 in the environment silences it; NML_PROGRESS=1
 * forces the sparse line mode even on a terminal. Host only. */
#ifndef NANOML_PROGRESS_H
#define NANOML_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_progress_mode {
    NML_PROGRESS_AUTO = 0, /* redraw on a TTY, sparse lines otherwise, honour NML_PROGRESS */
    NML_PROGRESS_REDRAW,   /* always redraw in place */
    NML_PROGRESS_LINES,    /* always sparse lines */
    NML_PROGRESS_OFF       /* print nothing */
} nml_progress_mode;

typedef struct nml_progress {
    FILE *out;
    nml_progress_mode mode; /* resolved: REDRAW, LINES or OFF */
    char label[40];
    char unit[12];
    uint64_t total; /* 0 = unknown: no bar, percentage or ETA */
    uint64_t done;
    double start_s;     /* monotonic clock at begin */
    double last_draw_s; /* last redraw (REDRAW mode) */
    int last_decile;    /* last 10% step printed (LINES mode) */
    int finished;
} nml_progress;

/* Starts a bar on stderr. label names the work ("eval"), unit the items ("img"; NULL = "it"). */
void nml_progress_begin(nml_progress *p, const char *label, uint64_t total, const char *unit);
/* Same with an explicit stream and mode (tests, tools with --quiet). */
void nml_progress_begin_ex(nml_progress *p, const char *label, uint64_t total, const char *unit,
                           FILE *out, nml_progress_mode mode);
/* Records that `done` items are complete (absolute) or `n` more items are (add). */
void nml_progress_set(nml_progress *p, uint64_t done);
void nml_progress_add(nml_progress *p, uint64_t n);
/* Draws the final state and ends the line. Safe to call twice. */
void nml_progress_end(nml_progress *p);

/* Formats one status line without the bar's control characters; the pure core of the drawing,
 * exposed for tests. elapsed_s is the time since begin. Returns the line length. */
size_t nml_progress_format(char *buf, size_t cap, const char *label, uint64_t done, uint64_t total,
                           const char *unit, double elapsed_s, int bar_width);

/* "1:05", "1:02:03"; negative or non-finite -> "--:--". */
void nml_progress_format_duration(char *buf, size_t cap, double seconds);

#ifdef __cplusplus
}
#endif
#endif
