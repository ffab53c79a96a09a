#include "nanoml/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_INTERVAL_S 0.1
#define BAR_WIDTH 24

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void copy_text(char *dst, size_t cap, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The environment can silence the bar (NML_PROGRESS=0) or force plain lines (=1), so scripted
 * runs and CI logs stay readable without every tool growing a flag. */
static nml_progress_mode resolve_mode(FILE *out, nml_progress_mode mode) {
    if (!out) return NML_PROGRESS_OFF;
    if (mode != NML_PROGRESS_AUTO) return mode;
    const char *env = getenv("NML_PROGRESS");
    if (env && env[0] == '0') return NML_PROGRESS_OFF;
    if (env && env[0] == '1') return NML_PROGRESS_LINES;
    return isatty(fileno(out)) ? NML_PROGRESS_REDRAW : NML_PROGRESS_LINES;
}

void nml_progress_format_duration(char *buf, size_t cap, double seconds) {
    if (!(seconds >= 0) || !isfinite(seconds) || seconds > 359999.0) {
        snprintf(buf, cap, "--:--");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60);
}

static size_t append(char *buf, size_t cap, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t cap, size_t len, const char *fmt, ...) {
    if (len >= cap) return len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n < 0) return len;
    return (size_t)n >= cap - len ? cap - 1 : len + (size_t)n;
}

static size_t append_bar(char *buf, size_t cap, size_t len, uint64_t done, uint64_t total,
                         int width) {
    int filled = (int)((double)done / (double)total * width);
    if (filled > width) filled = width;
    len = append(buf, cap, len, " [");
    for (int i = 0; i < width; i++)
        len = append(buf, cap, len, "%c", i < filled ? '#' : '.');
    return append(buf, cap, len, "]");
}

size_t nml_progress_format(char *buf, size_t cap, const char *label, uint64_t done, uint64_t total,
                           const char *unit, double elapsed_s, int bar_width) {
    if (!buf || cap == 0) return 0;
    buf[0] = '\0';
    size_t len = append(buf, cap, 0, "%s", label ? label : "");
    if (!unit) unit = "it";
    if (total > 0 && bar_width > 0) len = append_bar(buf, cap, len, done, total, bar_width);
    if (total > 0) {
        len = append(buf, cap, len, " %llu/%llu %3d%%", (unsigned long long)done,
                     (unsigned long long)total, (int)(100.0 * (double)done / (double)total));
    } else {
        len = append(buf, cap, len, " %llu", (unsigned long long)done);
    }
    double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0.0;
    if (done > 0 && elapsed_s > 0) len = append(buf, cap, len, " %.1f %s/s", rate, unit);
    char dur[24];
    if (total > 0 && done >= total) {
        nml_progress_format_duration(dur, sizeof dur, elapsed_s);
        len = append(buf, cap, len, " in %s", dur);
    } else if (total > 0) {
        double eta = rate > 0 ? (double)(total - done) / rate : -1.0;
        nml_progress_format_duration(dur, sizeof dur, eta);
        len = append(buf, cap, len, " ETA %s", dur);
    }
    return len;
}

static void draw_line(nml_progress *p, double now) {
    char line[256];
    int bar = p->mode == NML_PROGRESS_REDRAW ? BAR_WIDTH : 0;
    nml_progress_format(line, sizeof line, p->label, p->done, p->total, p->unit, now - p->start_s,
                        bar);
    if (p->mode == NML_PROGRESS_REDRAW)
        fprintf(p->out, "\r%s\033[K", line); /* \033[K clears what a longer line left behind */
    else
        fprintf(p->out, "%s\n", line);
    fflush(p->out);
    p->last_draw_s = now;
}

void nml_progress_begin_ex(nml_progress *p, const char *label, uint64_t total, const char *unit,
                           FILE *out, nml_progress_mode mode) {
    memset(p, 0, sizeof *p);
    p->out = out;
    p->mode = resolve_mode(out, mode);
    copy_text(p->label, sizeof p->label, label);
    copy_text(p->unit, sizeof p->unit, unit ? unit : "it");
    p->total = total;
    p->start_s = now_seconds();
    p->last_draw_s = -1.0;
    if (p->mode == NML_PROGRESS_REDRAW) draw_line(p, p->start_s);
}

void nml_progress_begin(nml_progress *p, const char *label, uint64_t total, const char *unit) {
    nml_progress_begin_ex(p, label, total, unit, stderr, NML_PROGRESS_AUTO);
}

/* Line mode prints at each new 10% step; with an unknown total it never prints until the end. */
static void maybe_draw(nml_progress *p) {
    if (p->mode == NML_PROGRESS_OFF || p->finished) return;
    double now = now_seconds();
    if (p->mode == NML_PROGRESS_REDRAW) {
        if (now - p->last_draw_s >= REDRAW_INTERVAL_S) draw_line(p, now);
        return;
    }
    if (p->total == 0 || p->done >= p->total) return; /* the end line reports completion */
    int decile = (int)(10.0 * (double)p->done / (double)p->total);
    if (decile > p->last_decile) {
        p->last_decile = decile;
        draw_line(p, now);
    }
}

void nml_progress_set(nml_progress *p, uint64_t done) {
    p->done = done;
    maybe_draw(p);
}

void nml_progress_add(nml_progress *p, uint64_t n) {
    p->done += n;
    maybe_draw(p);
}

void nml_progress_end(nml_progress *p) {
    if (p->finished) return;
    if (p->mode != NML_PROGRESS_OFF) {
        draw_line(p, now_seconds());
        if (p->mode == NML_PROGRESS_REDRAW) {
            fputc('\n', p->out);
            fflush(p->out);
        }
    }
    p->finished = 1;
}
