/* Guard bytes (canaries) around a tensor arena: evidence that the runtime writes nothing
 * outside the memory it was given. Header-only and freestanding (stdint/stddef only), so the
 * bare-metal firmware under QEMU and the host tests run the very same check.
 *
 * Layout of a guarded block (block 16-byte aligned, NML_GUARDED_BYTES(n) long):
 *   [NML_GUARD_BYTES guard][n bytes arena][NML_GUARD_BYTES guard]
 *
 *   static uint8_t block[NML_GUARDED_BYTES(ARENA)] __attribute__((aligned(16)));
 *   uint8_t *arena = nml_guard_setup(block, ARENA);
 *   nml_interpreter_init(&it, &model, ops, arena, ARENA, &err); ... nml_invoke(&it, &err);
 *   long bad;
 *   if (!nml_guard_intact(block, ARENA, &bad)) ...  // bad < 0: before the arena, else after
 *
 * The guard pattern depends on the byte position, so a shifted copy or a memset with any
 * constant is caught as surely as a single stray byte. The same pattern can also fill the
 * unused tail of an arena (nml_guard_fill / nml_guard_find_change), which the runtime must not
 * touch either: it writes only the first it.arena_used bytes. */
#ifndef NANOML_GUARD_H
#define NANOML_GUARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of guard on each side; a multiple of 16 so the arena stays 16-byte aligned. */
#define NML_GUARD_BYTES 64u
#define NML_GUARDED_BYTES(arena_bytes) ((arena_bytes) + 2u * NML_GUARD_BYTES)

/* Pattern byte i of a guard region with the given seed: a hash of the position, odd (so
 * never 0x00) and never 0xff, the two values a stray memset most often writes. */
static inline uint8_t nml_guard_byte(size_t i, uint32_t seed) {
    uint32_t x = (uint32_t)i * 0x9e3779b1u + seed;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    return (uint8_t)(x | 1u) == 0xffu ? 0x5b : (uint8_t)(x | 1u);
}

static inline void nml_guard_fill(uint8_t *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = nml_guard_byte(i, seed);
}

/* Index of the first byte that no longer holds the pattern, or n when all are intact. */
static inline size_t nml_guard_find_change(const uint8_t *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != nml_guard_byte(i, seed)) return i;
    return n;
}

#define NML_GUARD_SEED_BEFORE 0x6e6d6c31u
#define NML_GUARD_SEED_AFTER 0x6e6d6c32u

/* Fills both guards of a block and returns the arena inside it. */
static inline uint8_t *nml_guard_setup(uint8_t *block, size_t arena_bytes) {
    nml_guard_fill(block, NML_GUARD_BYTES, NML_GUARD_SEED_BEFORE);
    nml_guard_fill(block + NML_GUARD_BYTES + arena_bytes, NML_GUARD_BYTES, NML_GUARD_SEED_AFTER);
    return block + NML_GUARD_BYTES;
}

/* 1 when both guards are unchanged. Otherwise 0, and *where (if non-NULL) is the position of
 * the first changed byte relative to the arena start: negative before it, >= arena_bytes
 * after it. */
static inline int nml_guard_intact(const uint8_t *block, size_t arena_bytes, long *where) {
    size_t i = nml_guard_find_change(block, NML_GUARD_BYTES, NML_GUARD_SEED_BEFORE);
    if (i < NML_GUARD_BYTES) {
        if (where) *where = (long)i - (long)NML_GUARD_BYTES;
        return 0;
    }
    const uint8_t *after = block + NML_GUARD_BYTES + arena_bytes;
    i = nml_guard_find_change(after, NML_GUARD_BYTES, NML_GUARD_SEED_AFTER);
    if (i < NML_GUARD_BYTES) {
        if (where) *where = (long)(arena_bytes + i);
        return 0;
    }
    return 1;
}

#ifdef __cplusplus
}
#endif
#endif
