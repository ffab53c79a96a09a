/* Reads what the firmware harness printed: the "nml: ..." lines of firmware/main.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/deploy.h"

void nml_fw_report_free(nml_fw_report *r) {
    free(r->run_instret);
    free(r->run_cycles);
    free(r->ops);
    free(r->outputs);
    memset(r, 0, sizeof *r);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static nml_status append_hex(nml_fw_report *r, const char *hex, size_t n, nml_error *err) {
    if (n % 2) return nml_fail(err, NML_E_FORMAT, "firmware output: odd hex length %zu", n);
    uint8_t *p = realloc(r->outputs, r->outputs_size + n / 2 + 1);
    if (!p) return nml_fail(err, NML_E_NOMEM, "out of memory for firmware outputs");
    r->outputs = p;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return nml_fail(err, NML_E_FORMAT, "firmware output: bad hex digit");
        r->outputs[r->outputs_size++] = (uint8_t)(hi << 4 | lo);
    }
    return NML_OK;
}

static nml_status add_run(nml_fw_report *r, uint64_t instret, uint64_t cycles, nml_error *err) {
    uint64_t *a = realloc(r->run_instret, (r->n_runs + 1) * sizeof *a);
    if (a) r->run_instret = a;
    uint64_t *b = realloc(r->run_cycles, (r->n_runs + 1) * sizeof *b);
    if (b) r->run_cycles = b;
    if (!a || !b) return nml_fail(err, NML_E_NOMEM, "out of memory for firmware runs");
    r->run_instret[r->n_runs] = instret;
    r->run_cycles[r->n_runs] = cycles;
    r->n_runs++;
    return NML_OK;
}

static nml_status add_op(nml_fw_report *r, const char *line, nml_error *err) {
    nml_fw_op op;
    memset(&op, 0, sizeof op);
    unsigned idx;
    int used = 0;
    if (sscanf(line, "%u %39s instret %" SCNu64 "%n", &idx, op.name, &op.instret, &used) < 3)
        return nml_fail(err, NML_E_FORMAT, "firmware output: bad op line '%s'", line);
    if (sscanf(line + used, " macs %" SCNu64, &op.macs) == 1) op.has_macs = 1;
    nml_fw_op *p = realloc(r->ops, (r->n_ops + 1) * sizeof *p);
    if (!p) return nml_fail(err, NML_E_NOMEM, "out of memory for firmware ops");
    r->ops = p;
    r->ops[r->n_ops++] = op;
    return NML_OK;
}

static nml_status parse_line(nml_fw_report *r, const char *s, size_t len, nml_error *err) {
    uint64_t a, b, c, d;
    unsigned set, out;
    int used = 0;
    if (sscanf(s, "run %u instret %" SCNu64 " cycles %" SCNu64, &set, &a, &b) == 3)
        return add_run(r, a, b, err);
    if (sscanf(s, "out %u %u %n", &set, &out, &used) == 2 && used > 0) {
        size_t n = 0;
        while ((size_t)used + n < len && hex_value(s[used + n]) >= 0)
            n++;
        return append_hex(r, s + used, n, err);
    }
    if (strncmp(s, "op ", 3) == 0) return add_op(r, s + 3, err);
    if (sscanf(s,
               "arena used %" SCNu64 " reserved %" SCNu64 " persistent %" SCNu64
               " activations %" SCNu64,
               &a, &b, &c, &d) == 4) {
        r->arena_used = a;
        r->arena_reserved = b;
        r->persistent_bytes = c;
        r->activation_bytes = d;
    } else if (sscanf(s, "arena activations lower_bound %" SCNu64, &a) == 1) {
        r->activation_min_bytes = a;
    } else if (sscanf(s, "stack peak %" SCNu64 " reserved %" SCNu64, &a, &b) == 2) {
        r->stack_peak = a;
        r->stack_reserved = b;
    } else if (sscanf(s, "setup instret %" SCNu64, &a) == 1) {
        r->setup_instret = a;
    } else if (sscanf(s, "hook_overhead %" SCNu64, &a) == 1) {
        r->hook_overhead = a;
    } else if (strncmp(s, "mismatch ", 9) == 0) {
        r->mismatches++;
    } else if (strncmp(s, "error ", 6) == 0) {
        size_t n = len - 6 < sizeof r->error - 1 ? len - 6 : sizeof r->error - 1;
        memcpy(r->error, s + 6, n);
        r->error[n] = '\0';
    } else if (strncmp(s, "result ", 7) == 0) {
        r->finished = 1;
        r->passed = strncmp(s + 7, "PASS", 4) == 0;
    }
    return NML_OK;
}

nml_status nml_fw_parse_report(const char *text, nml_fw_report *r, nml_error *err) {
    memset(r, 0, sizeof *r);
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 5 && strncmp(p, "nml: ", 5) == 0) {
            /* copy so sscanf never reads past the line */
            char *line = malloc(len - 5 + 1);
            if (!line) return nml_fail(err, NML_E_NOMEM, "out of memory");
            memcpy(line, p + 5, len - 5);
            line[len - 5] = '\0';
            size_t l = len - 5;
            while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
                line[--l] = '\0';
            nml_status st = parse_line(r, line, l, err);
            free(line);
            if (st != NML_OK) {
                nml_fw_report_free(r);
                return st;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return NML_OK;
}
