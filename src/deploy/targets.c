/* Memory targets: X-HEEP's documented configurations (32 KiB RAM banks, 2..16 of them; SPI
 * flash window of 16 MiB at 0x40000000) and the QEMU harness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/deploy.h"
#include "nanoml/parse.h"

static const char *const linker_names[] = {"on_chip", "flash_load", "flash_exec"};

const char *nml_xheep_linker_name(nml_xheep_linker linker) {
    return (unsigned)linker < 3u ? linker_names[linker] : "unknown";
}

nml_status nml_xheep_linker_parse(const char *name, nml_xheep_linker *linker, nml_error *err) {
    for (int i = 0; i < 3; i++)
        if (strcmp(name, linker_names[i]) == 0) {
            *linker = (nml_xheep_linker)i;
            return NML_OK;
        }
    return nml_fail(err, NML_E_ARG, "unknown linker mode '%s' (on_chip, flash_load, flash_exec)",
                    name);
}

static void set_xheep(nml_target *t, uint32_t banks) {
    snprintf(t->name, sizeof t->name, "xheep-%uk", (unsigned)(banks * 32u));
    t->banks = banks;
    t->ram_bytes = (uint64_t)banks * NML_XHEEP_BANK_BYTES;
    t->flash_bytes = NML_XHEEP_FLASH_BYTES;
}

/* "64k" -> 64, or 0 when malformed: digits (no sign, no leading zero) and a k or K. */
static unsigned parse_kib(const char *s) {
    char digits[16];
    size_t n = strlen(s);
    if (n < 2 || n > sizeof digits || (s[n - 1] != 'k' && s[n - 1] != 'K') || s[0] < '1' ||
        s[0] > '9')
        return 0;
    memcpy(digits, s, n - 1);
    digits[n - 1] = '\0';
    int v;
    if (nml_parse_int(digits, 1, 1 << 20, &v, NULL) != NML_OK) return 0;
    return (unsigned)v;
}

nml_status nml_target_parse(const char *name, nml_target *t, nml_error *err) {
    memset(t, 0, sizeof *t);
    t->linker = NML_LINK_ON_CHIP;
    if (strcmp(name, "rv32-qemu") == 0) {
        snprintf(t->name, sizeof t->name, "rv32-qemu");
        t->is_qemu = 1;
        return NML_OK;
    }
    if (strcmp(name, "xheep") == 0) {
        set_xheep(t, NML_XHEEP_MIN_BANKS);
        return NML_OK;
    }
    if (strncmp(name, "xheep-", 6) == 0) {
        unsigned kib = parse_kib(name + 6);
        unsigned lo = NML_XHEEP_MIN_BANKS * 32u, hi = NML_XHEEP_MAX_BANKS * 32u;
        if (kib >= lo && kib <= hi && kib % 32u == 0) {
            set_xheep(t, kib / 32u);
            return NML_OK;
        }
        return nml_fail(err, NML_E_ARG,
                        "target '%s': X-HEEP RAM is %u to %u KiB in 32 KiB banks "
                        "(xheep-64k, xheep-96k, ..., xheep-512k)",
                        name, lo, hi);
    }
    return nml_fail(err, NML_E_ARG,
                    "unknown target '%s' (rv32-qemu, xheep, xheep-64k ... xheep-512k)", name);
}

void nml_xheep_need(const nml_mem_need *m, nml_xheep_linker linker, uint64_t *ram,
                    uint64_t *flash) {
    uint64_t image = m->text + m->rodata + m->data;
    uint64_t runtime_ram = m->data + m->bss + m->arena + m->stack;
    switch (linker) {
    case NML_LINK_FLASH_EXEC:
        *ram = runtime_ram;
        *flash = image;
        break;
    case NML_LINK_FLASH_LOAD:
        *ram = m->text + m->rodata + runtime_ram;
        *flash = image;
        break;
    default:
        *ram = m->text + m->rodata + runtime_ram;
        *flash = 0;
        break;
    }
}

uint32_t nml_xheep_min_banks(uint64_t ram, uint64_t flash) {
    if (flash > NML_XHEEP_FLASH_BYTES) return 0;
    for (uint32_t b = NML_XHEEP_MIN_BANKS; b <= NML_XHEEP_MAX_BANKS; b++)
        if (ram <= (uint64_t)b * NML_XHEEP_BANK_BYTES) return b;
    return 0;
}

nml_status nml_target_check(const nml_target *t, const nml_mem_need *m, nml_error *err) {
    if (t->is_qemu || t->banks == 0) return NML_OK;
    uint64_t ram, flash;
    nml_xheep_need(m, t->linker, &ram, &flash);
    if (flash > t->flash_bytes)
        return nml_fail(err, NML_E_LIMIT,
                        "does not fit %s (LINKER=%s): needs %llu bytes of flash, "
                        "the flash window holds %llu",
                        t->name, nml_xheep_linker_name(t->linker), (unsigned long long)flash,
                        (unsigned long long)t->flash_bytes);
    if (ram > t->ram_bytes) {
        uint32_t banks = nml_xheep_min_banks(ram, flash);
        char hint[96], parts[200] = "";
        if (banks)
            snprintf(hint, sizeof hint, "; xheep-%uk would hold it", (unsigned)(banks * 32u));
        else
            snprintf(hint, sizeof hint, "; no X-HEEP configuration holds it in this mode");
        if (t->linker != NML_LINK_FLASH_EXEC)
            snprintf(parts, sizeof parts, "code %llu + constants %llu + ",
                     (unsigned long long)m->text, (unsigned long long)m->rodata);
        return nml_fail(err, NML_E_LIMIT,
                        "does not fit %s (LINKER=%s): needs %llu bytes of RAM (%sdata %llu + "
                        "bss %llu + arena %llu + stack %llu), the target has %llu%s",
                        t->name, nml_xheep_linker_name(t->linker), (unsigned long long)ram, parts,
                        (unsigned long long)m->data, (unsigned long long)m->bss,
                        (unsigned long long)m->arena, (unsigned long long)m->stack,
                        (unsigned long long)t->ram_bytes, hint);
    }
    return NML_OK;
}
