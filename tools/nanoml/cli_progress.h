/* A minimal progress display on stderr for the library's nml_progress_fn callbacks: a redrawn
 * bar on a terminal, a few plain lines otherwise (logs, CI). Stand-in until the shared
 * include/nanoml/progress.h lands; commands only use cli_progress_fn / cli_progress_end, so
 * swapping the implementation touches this file alone. */
#ifndef NANOML_CLI_PROGRESS_H
#define NANOML_CLI_PROGRESS_H

#include <stdint.h>

typedef struct cli_progress {
    int enabled;
    int tty;
    int drawn;     /* a bar is on the terminal line */
    int last_step; /* last printed step (percent / 25 on logs, percent on a terminal) */
    uint64_t last_done;
} cli_progress;

void cli_progress_init(cli_progress *p, int enabled);
/* Matches nml_progress_fn; user is a cli_progress. */
void cli_progress_fn(void *user, uint64_t done, uint64_t total, const char *what);
/* Ends the bar's line. */
void cli_progress_end(cli_progress *p);

#endif
