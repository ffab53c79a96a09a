/* Section headers of a little-endian ELF32 file (the linked RV32 firmware), read with a
 * bounds check before every access. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/deploy.h"

#define EHDR_SIZE 52u
#define SHDR_MIN 40u

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

static int in_bounds(size_t size, uint64_t off, uint64_t len) {
    return off <= size && len <= size - off;
}

static nml_status check_header(const uint8_t *d, size_t size, nml_error *err) {
    if (size < EHDR_SIZE)
        return nml_fail(err, NML_E_FORMAT, "ELF: file of %zu bytes is too short", size);
    if (memcmp(d, "\177ELF", 4) != 0) return nml_fail(err, NML_E_FORMAT, "ELF: bad magic");
    if (d[4] != 1 || d[5] != 1)
        return nml_fail(err, NML_E_FORMAT, "ELF: class %u / data %u, expected 32-bit little-endian",
                        d[4], d[5]);
    return NML_OK;
}

static void copy_name(char *dst, size_t cap, const uint8_t *d, size_t size, uint64_t off) {
    size_t n = 0;
    while (off + n < size && d[off + n] && n + 1 < cap) {
        dst[n] = (char)d[off + n];
        n++;
    }
    dst[n] = '\0';
}

nml_status nml_elf32_sections(const uint8_t *d, size_t size, nml_elf_section **sections,
                              uint32_t *count, nml_error *err) {
    *sections = NULL;
    *count = 0;
    NML_TRY(check_header(d, size, err));
    uint32_t shoff = rd32(d + 32);
    uint16_t shentsize = rd16(d + 46), shnum = rd16(d + 48), shstrndx = rd16(d + 50);
    if (shnum == 0) return NML_OK;
    if (shentsize < SHDR_MIN || !in_bounds(size, shoff, (uint64_t)shentsize * shnum))
        return nml_fail(err, NML_E_FORMAT,
                        "ELF: %u section headers of %u bytes at %u exceed the file", shnum,
                        shentsize, (unsigned)shoff);
    if (shstrndx >= shnum)
        return nml_fail(err, NML_E_FORMAT, "ELF: string table index %u out of %u sections",
                        shstrndx, shnum);
    const uint8_t *strhdr = d + shoff + (size_t)shstrndx * shentsize;
    uint32_t stroff = rd32(strhdr + 16), strsize = rd32(strhdr + 20);
    if (!in_bounds(size, stroff, strsize))
        return nml_fail(err, NML_E_FORMAT, "ELF: section name table exceeds the file");
    nml_elf_section *out = calloc(shnum, sizeof *out);
    if (!out) return nml_fail(err, NML_E_NOMEM, "ELF: out of memory for %u sections", shnum);
    for (uint32_t i = 0; i < shnum; i++) {
        const uint8_t *h = d + shoff + (size_t)i * shentsize;
        uint32_t name = rd32(h);
        if (name < strsize)
            copy_name(out[i].name, sizeof out[i].name, d, stroff + (size_t)strsize,
                      stroff + (uint64_t)name);
        out[i].addr = rd32(h + 12);
        out[i].size = rd32(h + 20);
    }
    *sections = out;
    *count = shnum;
    return NML_OK;
}
