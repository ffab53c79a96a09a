/* Child processes for the cross compiler and QEMU: spawn, capture stdout+stderr, enforce a
 * time limit (the child is killed by its pid, nothing else). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nanoml/deploy.h"

extern char **environ;

#define OUTPUT_LIMIT ((size_t)64 << 20)

void nml_proc_result_free(nml_proc_result *r) {
    free(r->output);
    memset(r, 0, sizeof *r);
}

int nml_program_exists(const char *program) {
    if (!program || !program[0]) return 0;
    if (strchr(program, '/')) return access(program, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path) return 0;
    size_t plen = strlen(program);
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        char *full = malloc(dlen + plen + 2);
        if (!full) return 0;
        memcpy(full, dlen ? p : ".", dlen ? dlen : 1);
        size_t n = dlen ? dlen : 1;
        full[n] = '/';
        memcpy(full + n + 1, program, plen + 1);
        struct stat st;
        int ok = stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0;
        free(full);
        if (ok) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int append(nml_proc_result *r, size_t *cap, const char *buf, size_t n) {
    size_t room = r->output_len < OUTPUT_LIMIT ? OUTPUT_LIMIT - r->output_len : 0;
    if (n > room) n = room;
    if (r->output_len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < r->output_len + n + 1)
            c *= 2;
        char *p = realloc(r->output, c);
        if (!p) return 0;
        r->output = p;
        *cap = c;
    }
    memcpy(r->output + r->output_len, buf, n);
    r->output_len += n;
    r->output[r->output_len] = '\0';
    return 1;
}

static nml_status spawn(char *const argv[], int out_fd, pid_t *pid, nml_error *err) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    int rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return nml_fail(err, NML_E_IO, "cannot run %s: %s", argv[0], strerror(rc));
    return NML_OK;
}

/* Reads until EOF or the deadline; returns 1 on EOF, 0 on timeout, -1 on memory failure. */
static int drain(int fd, nml_proc_result *r, double deadline) {
    size_t cap = 0;
    char buf[8192];
    for (;;) {
        int wait_ms = -1;
        if (deadline > 0) {
            double left = deadline - now_s();
            if (left <= 0) return 0;
            wait_ms = (int)(left * 1000.0) + 1;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, wait_ms);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) continue; /* re-check the deadline */
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 1;
        if (!append(r, &cap, buf, (size_t)n)) return -1;
    }
}

nml_status nml_run_process(char *const argv[], int timeout_s, nml_proc_result *r, nml_error *err) {
    memset(r, 0, sizeof *r);
    int fds[2];
    if (pipe(fds) != 0) return nml_fail(err, NML_E_IO, "pipe: %s", strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    pid_t pid;
    nml_status st = spawn(argv, fds[1], &pid, err);
    close(fds[1]);
    if (st != NML_OK) {
        close(fds[0]);
        return st;
    }
    int done = drain(fds[0], r, timeout_s > 0 ? now_s() + timeout_s : 0);
    close(fds[0]);
    if (done <= 0) {
        kill(pid, SIGKILL);
        r->timed_out = done == 0;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (done < 0) {
        nml_proc_result_free(r);
        return nml_fail(err, NML_E_NOMEM, "out of memory reading the output of %s", argv[0]);
    }
    if (!r->output && !append(r, &(size_t){0}, "", 0)) {
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    if (!r->timed_out) {
        r->signaled = WIFSIGNALED(status);
        r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return NML_OK;
}
