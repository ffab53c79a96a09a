/* Helper program of tests/scripts/test_compact_errors.sh: runs seeded mutations of a .tflite
 * through the runtime library alone (load + verify, init with every kernel in an arena between
 * guard bytes, one invoke) and prints one line per mutant: "TRIAL STATUS MESSAGE" (STATUS 0:
 * it loaded, initialized and ran). Built twice, against the normal runtime (runtime_mutants)
 * and against one compiled with NML_COMPACT_ERRORS (runtime_mutants_compact), so the script
 * can compare the two verdicts mutant by mutant. Exit 1 when a guard byte or the unused arena
 * tail changed (the runtime wrote outside what it was given), 2 on usage errors.
 * usage: runtime_mutants MODEL.tflite TRIALS SEED
 * Mutations, in turn: truncation at a random length, 1-4 flipped bits, a random 32-bit value
 * at a random 4-aligned offset, and the same with a small value (0..15: counts and indices). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/guard.h"
#include "nanoml/runtime.h"

#define ARENA (256u << 10)

static uint32_t rng_state;
static uint32_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = n > 0 ? malloc((size_t)n) : NULL;
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = data ? (size_t)n : 0;
    return data;
}

/* The mutant of trial t in buf (16-byte aligned, as a model must be); returns its size. */
static size_t mutate(const unsigned char *orig, size_t size, unsigned t, unsigned char *buf) {
    memcpy(buf, orig, size);
    uint32_t v;
    switch (t % 4) {
    case 0:
        return rng() % size;
    case 1:
        for (unsigned k = 0, n = 1 + rng() % 4; k < n; k++)
            buf[rng() % size] ^= 1u << (rng() % 8);
        return size;
    default:
        v = t % 4 == 2 ? rng() : rng() % 16;
        memcpy(buf + (rng() % (size / 4)) * 4, &v, 4);
        return size;
    }
}

/* One mutant through load, init and invoke; 0 when nothing outside the arena's used part
 * changed. */
static int run(const unsigned char *model, size_t size, unsigned char *block, unsigned t) {
    nml_error err;
    nml_error_clear(&err);
    nml_model m;
    nml_interpreter it;
    uint8_t *arena = nml_guard_setup(block, ARENA);
    nml_status st = nml_model_load(&m, model, size, &err);
    if (st == NML_OK) st = nml_interpreter_init(&it, &m, nml_ops_all(), arena, ARENA, &err);
    /* after init, invoke may write the first arena_used bytes only */
    size_t used = st == NML_OK ? it.arena_used : 0;
    if (used) nml_guard_fill(arena + used, ARENA - used, t);
    if (st == NML_OK) st = nml_invoke(&it, &err);
    printf("%u %d %s\n", t, (int)st, st == NML_OK ? "" : err.msg);
    long where;
    if (!nml_guard_intact(block, ARENA, &where)) {
        fprintf(stderr, "trial %u: guard byte at arena offset %ld changed\n", t, where);
        return 1;
    }
    if (used && nml_guard_find_change(arena + used, ARENA - used, t) != ARENA - used) {
        fprintf(stderr, "trial %u: arena byte past the %zu used changed\n", t, used);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: runtime_mutants MODEL.tflite TRIALS SEED\n");
        return 2;
    }
    size_t size;
    unsigned char *orig = read_all(argv[1], &size);
    if (!orig || size < 16) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        free(orig);
        return 2;
    }
    unsigned trials = (unsigned)strtoul(argv[2], NULL, 10);
    rng_state = (uint32_t)strtoul(argv[3], NULL, 10) | 1u;
    unsigned char *buf = aligned_alloc(16, (size + 15u) & ~(size_t)15u);
    unsigned char *block = aligned_alloc(16, NML_GUARDED_BYTES(ARENA));
    int rc = buf && block ? 0 : 2;
    for (unsigned t = 0; t < trials && rc == 0; t++) {
        size_t n = mutate(orig, size, t, buf);
        rc = run(buf, n, block, t);
    }
    free(orig);
    free(buf);
    free(block);
    return rc;
}
