/* The QEMU deployment flow: export the model into the harness, build, run, read the sizes of
 * the linked sections and what the firmware printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/deploy.h"
#include "nanoml/file.h"
#include "paths.h"

#define ELF_LIMIT ((size_t)256 << 20)

void nml_deploy_result_free(nml_deploy_result *r) {
    nml_fw_report_free(&r->report);
    free(r->uart);
    memset(r, 0, sizeof *r);
}

static nml_status write_gen(const char *gen, const char *file, const char *text, nml_error *err) {
    char p[NML_PATH_CAP];
    NML_TRY(nml_path_join(p, sizeof p, gen, file, err));
    return nml_write_file(p, text, strlen(text), err);
}

static nml_status generate(const nml_fw_options *o, const nml_model_info *info, const char *name,
                           const char *model_file, const uint8_t *model, size_t model_size,
                           const uint8_t *inputs, size_t inputs_size, const uint8_t *expected,
                           size_t expected_size, nml_error *err) {
    char gen[NML_PATH_CAP], file[NML_EXPORT_NAME_MAX + 16];
    NML_TRY(nml_path_join(gen, sizeof gen, o->work_dir, "gen", err));
    NML_TRY(nml_make_dirs(gen, err));
    nml_export_options eo = {0};
    eo.source_name = model_file;
    eo.plan_at_export = o->plan_at_export;
    char *h, *c, *data;
    NML_TRY(nml_export_sources(info, model, model_size, name, &eo, &h, &c, err));
    size_t n = strlen(name); /* a valid export name: shorter than NML_EXPORT_NAME_MAX */
    memcpy(file, name, n);
    memcpy(file + n, "_model.h", 9);
    nml_status st = write_gen(gen, file, h, err);
    file[n + 7] = 'c';
    if (st == NML_OK) st = write_gen(gen, file, c, err);
    free(h);
    free(c);
    if (st != NML_OK) return st;
    NML_TRY(nml_fw_data_source(info, name, info->arena_bytes, inputs, inputs_size, expected,
                               expected_size, &data, err));
    st = write_gen(gen, "fw_data.c", data, err);
    free(data);
    return st;
}

static void pick(nml_deploy_result *r, const nml_elf_section *s) {
    if (strcmp(s->name, ".text") == 0)
        r->measured.text = s->size;
    else if (strcmp(s->name, ".rodata") == 0)
        r->measured.rodata = s->size;
    else if (strcmp(s->name, ".data") == 0)
        r->measured.data = s->size;
    else if (strcmp(s->name, ".bss") == 0)
        r->measured.bss = s->size;
    else if (strcmp(s->name, ".nml_arena") == 0)
        r->arena_reserved = s->size;
    else if (strcmp(s->name, ".nml_testdata") == 0)
        r->test_data = s->size;
}

static nml_status read_sections(const nml_fw_options *o, nml_deploy_result *r, nml_error *err) {
    char p[NML_PATH_CAP];
    NML_TRY(nml_path_join(p, sizeof p, o->work_dir, "firmware.elf", err));
    uint8_t *elf;
    size_t size;
    NML_TRY(nml_read_file(p, ELF_LIMIT, &elf, &size, err));
    nml_elf_section *sec;
    uint32_t n;
    nml_status st = nml_elf32_sections(elf, size, &sec, &n, err);
    free(elf);
    if (st != NML_OK) return nml_error_prefix(err, "%s: ", p);
    for (uint32_t i = 0; i < n; i++)
        pick(r, &sec[i]);
    free(sec);
    return NML_OK;
}

nml_status nml_deploy_qemu(const nml_fw_options *o, const nml_model_info *info, const char *name,
                           const char *model_file, const uint8_t *model, size_t model_size,
                           const uint8_t *inputs, size_t inputs_size, const uint8_t *expected,
                           size_t expected_size, nml_deploy_result *r, nml_error *err) {
    memset(r, 0, sizeof *r);
    r->model_bytes = model_size;
    /* a model without packed tensors: no code for them (FastestDet: 100 B less runtime code) */
    nml_fw_options own = *o;
    nml_fw_options_trim_for(&own, info);
    o = &own;
    NML_TRY(nml_fw_check_setup(o, 1, err));
    NML_TRY(generate(o, info, name, model_file, model, model_size, inputs, inputs_size, expected,
                     expected_size, err));
    NML_TRY(nml_fw_build(o, err));
    NML_TRY(read_sections(o, r, err));
    nml_proc_result pr;
    nml_status st = nml_fw_run(o, &pr, err);
    r->uart = pr.output;
    r->qemu_exit = pr.exit_code;
    pr.output = NULL;
    nml_proc_result_free(&pr);
    if (st != NML_OK) return st;
    NML_TRY(nml_fw_parse_report(r->uart ? r->uart : "", &r->report, err));
    if (!r->report.finished && r->qemu_exit == 0)
        return nml_fail(err, NML_E_INTERNAL, "the firmware exited without a result line");
    r->measured.arena = r->report.arena_used;
    /* the peak, with room to spare: rounded up to 1 KiB */
    r->measured.stack = (r->report.stack_peak + 1023u) & ~(uint64_t)1023u;
    return NML_OK;
}
