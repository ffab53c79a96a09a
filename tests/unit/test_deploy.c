/* Host-side deployment pieces that need no runtime: X-HEEP targets and fit arithmetic, the
 * ELF32 section reader, the firmware report parser, export naming and C generation, fw_data.c
 * set checks and child processes. Expected values are worked out by hand in each test. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/deploy.h"
#include "nanoml/export.h"
#include "nanoml/ops.h"
#include "test_util.h"

/* ---------------------------------------------------------------- targets */

static void test_target_names(void **state) {
    (void)state;
    nml_target t;
    nml_error err;
    assert_int_equal(nml_target_parse("xheep", &t, &err), NML_OK);
    assert_int_equal(t.banks, 2); /* X-HEEP's default MEMORY_BANKS */
    assert_int_equal(t.ram_bytes, 65536);
    assert_int_equal(t.flash_bytes, 16u << 20);
    assert_int_equal(nml_target_parse("xheep-512k", &t, &err), NML_OK);
    assert_int_equal(t.banks, 16);
    assert_int_equal(t.ram_bytes, 16 * 32768);
    assert_int_equal(nml_target_parse("xheep-96k", &t, &err), NML_OK);
    assert_int_equal(t.banks, 3);
    assert_int_equal(nml_target_parse("rv32-qemu", &t, &err), NML_OK);
    assert_true(t.is_qemu);
    const char *bad[] = {"xheep-32k",  "xheep-544k", "xheep-100k",
                         "xheep-064k", "xheep-64",   "xheep-k",
                         "xheep-64kb", "arm",        ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nml_target_parse(bad[i], &t, &err), NML_E_ARG);
        assert_non_null(strstr(err.msg, "target"));
    }
    nml_xheep_linker l;
    assert_int_equal(nml_xheep_linker_parse("flash_exec", &l, &err), NML_OK);
    assert_int_equal(l, NML_LINK_FLASH_EXEC);
    assert_int_equal(nml_xheep_linker_parse("flash", &l, &err), NML_E_ARG);
}

static void test_fit_arithmetic(void **state) {
    (void)state;
    nml_mem_need m = {
        .text = 30000, .rodata = 10000, .data = 100, .bss = 400, .arena = 20000, .stack = 2048};
    uint64_t ram, flash;
    nml_xheep_need(&m, NML_LINK_ON_CHIP, &ram, &flash);
    assert_int_equal(ram, 30000 + 10000 + 100 + 400 + 20000 + 2048); /* 62548 */
    assert_int_equal(flash, 0);
    nml_xheep_need(&m, NML_LINK_FLASH_LOAD, &ram, &flash);
    assert_int_equal(ram, 62548);
    assert_int_equal(flash, 30000 + 10000 + 100);
    nml_xheep_need(&m, NML_LINK_FLASH_EXEC, &ram, &flash);
    assert_int_equal(ram, 100 + 400 + 20000 + 2048);
    assert_int_equal(flash, 40100);
    /* 62548 <= 65536: two banks; 65537 needs three; 16 banks max */
    assert_int_equal(nml_xheep_min_banks(62548, 0), 2);
    assert_int_equal(nml_xheep_min_banks(65537, 0), 3);
    assert_int_equal(nml_xheep_min_banks(1, 0), 2);
    assert_int_equal(nml_xheep_min_banks(524288, 0), 16);
    assert_int_equal(nml_xheep_min_banks(524289, 0), 0);
    assert_int_equal(nml_xheep_min_banks(1, (16u << 20) + 1), 0);

    nml_target t;
    nml_error err;
    assert_int_equal(nml_target_parse("xheep-64k", &t, &err), NML_OK);
    assert_int_equal(nml_target_check(&t, &m, &err), NML_OK);
    m.arena += 3000; /* 65548 > 65536 */
    assert_int_equal(nml_target_check(&t, &m, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "needs 65548 bytes of RAM"));
    assert_non_null(strstr(err.msg, "the target has 65536"));
    assert_non_null(strstr(err.msg, "xheep-96k would hold it"));
    t.linker = NML_LINK_FLASH_EXEC; /* code and constants leave RAM */
    assert_int_equal(nml_target_check(&t, &m, &err), NML_OK);
}

/* ---------------------------------------------------------------- ELF32 */

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* header (52) + names at 52 + 3 section headers (40 each) at 80 */
static size_t build_elf(uint8_t *b) {
    memset(b, 0, 200);
    memcpy(b, "\177ELF", 4);
    b[4] = 1;                                           /* 32-bit */
    b[5] = 1;                                           /* little-endian */
    static const char names[] = "\0.shstrtab\0.text\0"; /* offsets 1 and 11 */
    memcpy(b + 52, names, sizeof names);
    put32(b + 32, 80); /* e_shoff */
    put16(b + 46, 40); /* e_shentsize */
    put16(b + 48, 3);  /* e_shnum */
    put16(b + 50, 1);  /* e_shstrndx */
    uint8_t *s1 = b + 80 + 40, *s2 = b + 80 + 80;
    put32(s1, 1);
    put32(s1 + 16, 52);
    put32(s1 + 20, sizeof names);
    put32(s2, 11);
    put32(s2 + 12, 0x80000000u);
    put32(s2 + 20, 1234);
    return 200;
}

static void test_elf_sections(void **state) {
    (void)state;
    uint8_t b[200];
    size_t n = build_elf(b);
    nml_elf_section *sec;
    uint32_t count;
    nml_error err;
    assert_int_equal(nml_elf32_sections(b, n, &sec, &count, &err), NML_OK);
    assert_int_equal(count, 3);
    assert_string_equal(sec[1].name, ".shstrtab");
    assert_string_equal(sec[2].name, ".text");
    assert_int_equal(sec[2].size, 1234);
    assert_int_equal(sec[2].addr, 0x80000000u);
    free(sec);
}

static void test_elf_malformed(void **state) {
    (void)state;
    uint8_t b[200];
    nml_elf_section *sec;
    uint32_t count;
    nml_error err;
    size_t n = build_elf(b);
    assert_int_equal(nml_elf32_sections(b, 40, &sec, &count, &err), NML_E_FORMAT);
    b[4] = 2; /* 64-bit */
    assert_int_equal(nml_elf32_sections(b, n, &sec, &count, &err), NML_E_FORMAT);
    build_elf(b);
    put16(b + 48, 200); /* headers beyond the file */
    assert_int_equal(nml_elf32_sections(b, n, &sec, &count, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "exceed the file"));
    build_elf(b);
    put16(b + 50, 7); /* string table index out of range */
    assert_int_equal(nml_elf32_sections(b, n, &sec, &count, &err), NML_E_FORMAT);
    build_elf(b);
    put32(b + 80 + 40 + 20, 5000); /* name table too long */
    assert_int_equal(nml_elf32_sections(b, n, &sec, &count, &err), NML_E_FORMAT);
    build_elf(b);
    put32(b + 80 + 80, 300); /* name offset outside the table: empty name, no read past it */
    assert_int_equal(nml_elf32_sections(b, n, &sec, &count, &err), NML_OK);
    assert_string_equal(sec[2].name, "");
    free(sec);
    /* every truncation is an error or a clean result, never a read out of bounds (ASan) */
    build_elf(b);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b, len);
        if (nml_elf32_sections(copy, len, &sec, &count, &err) == NML_OK) free(sec);
        free(copy);
    }
}

/* ---------------------------------------------------------------- firmware report */

static const char sample_report[] =
    "nml: nanoml firmware harness (RV32)\n"
    "nml: setup instret 121812\n"
    "nml: model hw bytes 2704 operators 3\n"
    "nml: arena used 1376 reserved 1696 persistent 1344 activations 32\n"
    "nml: run 0 instret 8561 cycles 8600\n"
    "nml: out 0 0 04\n"
    "nml: run 1 instret 8545 cycles 8590\n"
    "nml: out 1 0 fF\r\n"
    "some other text\n"
    "nml: hook_overhead 39\n"
    "nml: op 0 FULLY_CONNECTED instret 2119 macs 16\n"
    "nml: op 1 ADD instret 77\n"
    "nml: stack peak 956 reserved 16384\n"
    "nml: mismatch set 1 output 0\n"
    "nml: result FAIL 1 mismatching outputs\n";

static void test_report_parse(void **state) {
    (void)state;
    nml_fw_report r;
    nml_error err;
    assert_int_equal(nml_fw_parse_report(sample_report, &r, &err), NML_OK);
    assert_true(r.finished);
    assert_false(r.passed);
    assert_int_equal(r.mismatches, 1);
    assert_int_equal(r.setup_instret, 121812);
    assert_int_equal(r.arena_used, 1376);
    assert_int_equal(r.arena_reserved, 1696);
    assert_int_equal(r.persistent_bytes, 1344);
    assert_int_equal(r.activation_bytes, 32);
    assert_int_equal(r.n_runs, 2);
    assert_int_equal(r.run_instret[1], 8545);
    assert_int_equal(r.run_cycles[0], 8600);
    assert_int_equal(r.outputs_size, 2);
    assert_int_equal(r.outputs[0], 0x04);
    assert_int_equal(r.outputs[1], 0xff);
    assert_int_equal(r.hook_overhead, 39);
    assert_int_equal(r.n_ops, 2);
    assert_string_equal(r.ops[0].name, "FULLY_CONNECTED");
    assert_int_equal(r.ops[0].instret, 2119);
    assert_true(r.ops[0].has_macs);
    assert_int_equal(r.ops[0].macs, 16);
    assert_false(r.ops[1].has_macs);
    assert_int_equal(r.stack_peak, 956);
    assert_int_equal(r.stack_reserved, 16384);
    nml_fw_report_free(&r);

    assert_int_equal(nml_fw_parse_report("nml: out 0 0 abc\n", &r, &err), NML_E_FORMAT);
    assert_int_equal(nml_fw_parse_report("nml: op x\n", &r, &err), NML_E_FORMAT);
    assert_int_equal(nml_fw_parse_report("nml: result PASS\n", &r, &err), NML_OK);
    assert_true(r.passed);
    nml_fw_report_free(&r);
    assert_int_equal(nml_fw_parse_report("", &r, &err), NML_OK);
    assert_false(r.finished);
    nml_fw_report_free(&r);
}

/* ---------------------------------------------------------------- export */

static void test_names(void **state) {
    (void)state;
    char buf[64];
    nml_export_name_from_path("hello-world.v2", buf, sizeof buf);
    assert_string_equal(buf, "hello_world_v2");
    nml_export_name_from_path("9x-y.bin", buf, sizeof buf); /* what xxd -i prints */
    assert_string_equal(buf, "__9x_y_bin");
    assert_true(nml_export_name_valid("_model1"));
    assert_false(nml_export_name_valid("1model"));
    assert_false(nml_export_name_valid("a-b"));
    assert_false(nml_export_name_valid(""));
    assert_int_equal(nml_export_kernel_symbol(9, buf, sizeof buf), 1);
    assert_string_equal(buf, "nml_kernel_fully_connected");
    assert_int_equal(nml_export_kernel_symbol(4, buf, sizeof buf), 1);
    assert_string_equal(buf, "nml_kernel_depthwise_conv_2d");
    assert_int_equal(nml_export_kernel_symbol(32, buf, sizeof buf), 0);   /* CUSTOM */
    assert_int_equal(nml_export_kernel_symbol(1000, buf, sizeof buf), 0); /* unknown */
    assert_int_equal(nml_export_kernel_symbol(9, buf, 10), 0);            /* too small */
}

/* xxd -i: 12 bytes per line, "  " indent, ", " between bytes, no comma after the last */
static void test_xxd_text(void **state) {
    (void)state;
    uint8_t data[13];
    for (int i = 0; i < 13; i++)
        data[i] = (uint8_t)(i * 20);
    nml_export_options o = {.format = NML_EXPORT_XXD};
    char *h, *c;
    nml_error err;
    assert_int_equal(nml_export_sources(NULL, data, sizeof data, "t", &o, &h, &c, &err), NML_OK);
    assert_string_equal(
        c, "unsigned char t[] = {\n"
           "  0x00, 0x14, 0x28, 0x3c, 0x50, 0x64, 0x78, 0x8c, 0xa0, 0xb4, 0xc8, 0xdc,\n"
           "  0xf0\n"
           "};\n"
           "unsigned int t_len = 13;\n");
    assert_non_null(strstr(h, "#define T_MODEL_BYTES 13u"));
    free(h);
    free(c);
    assert_int_equal(nml_export_sources(NULL, data, 13, "t", NULL, &h, &c, &err), NML_E_ARG);
    o.format = NML_EXPORT_XXD;
    assert_int_equal(nml_export_sources(NULL, data, 13, "2t", &o, &h, &c, &err), NML_E_ARG);
}

static nml_model_info sample_info(void) {
    static int32_t builtin[3] = {3, 3, 25};
    static uint64_t macs[3] = {100, 200, 10};
    static int32_t ops[2] = {3, 25};
    nml_model_info info;
    memset(&info, 0, sizeof info);
    info.model_bytes = 4;
    info.arena_bytes = 512;
    info.n_nodes = 3;
    info.node_builtin = builtin;
    info.node_macs = macs;
    info.total_macs = 310;
    info.n_ops = 2;
    info.ops = ops;
    info.n_inputs = info.n_outputs = 1;
    nml_io_info *in = &info.inputs[0];
    strcpy(in->name, "in */ x");
    in->type = NML_INT8;
    in->rank = 4;
    in->dims[0] = 1, in->dims[1] = 28, in->dims[2] = 28, in->dims[3] = 1;
    in->bytes = 784;
    in->scale = 1.0f;
    in->zero_point = -128;
    nml_io_info *out = &info.outputs[0];
    out->type = NML_FLOAT32;
    out->rank = 2;
    out->dims[0] = 1, out->dims[1] = 10;
    out->bytes = 40;
    return info;
}

static void test_nanoml_sources(void **state) {
    (void)state;
    nml_model_info info = sample_info();
    const uint8_t data[4] = {1, 2, 3, 4};
    nml_export_options o = {.source_name = "m.tflite"};
    char *h, *c;
    nml_error err;
    assert_int_equal(nml_export_sources(&info, data, 4, "net", &o, &h, &c, &err), NML_OK);
    assert_non_null(strstr(h, "#define NET_ARENA_BYTES 512u\n"));
    assert_non_null(strstr(h, "#define NET_OPS \"CONV_2D,SOFTMAX\"\n"));
    assert_non_null(strstr(h, "#define NET_INPUT0_DIMS {1, 28, 28, 1}\n"));
    assert_non_null(strstr(h, "#define NET_INPUT0_SCALE 1.0f\n")); /* never the invalid "1f" */
    assert_non_null(strstr(h, "#define NET_INPUT0_ZERO_POINT (-128)\n"));
    assert_non_null(strstr(h, "#define NET_OUTPUT0_TYPE NML_FLOAT32\n"));
    assert_non_null(strstr(h, "#define NET_OUTPUT0_SCALE 0.0f\n"));
    assert_non_null(strstr(h, "#define NET_TOTAL_MACS 310ull\n"));
    assert_null(strstr(h, "in */ x")); /* a tensor name cannot end the comment */
    assert_non_null(strstr(c, "_Alignas(16) const uint8_t net_model[NET_MODEL_BYTES] = {\n"
                              "    0x01, 0x02, 0x03, 0x04\n};\n"));
    /* the default kernel set names the optimized kernels */
    assert_non_null(
        strstr(c, "    &nml_kernel_conv_2d_opt,\n    &nml_kernel_softmax_opt,\n};\n"));
    assert_non_null(strstr(c, "const nml_op_resolver net_op_resolver = {net_kernels, 2u};"));
    assert_non_null(strstr(c, "100u, 200u, 10u"));
    free(h);
    free(c);
    /* operators the analysis found all-int8 name their int8-only variant */
    uint8_t variants[2] = {3, 0}; /* CONV_2D: its third variant (_opt_lean, _opt_lean_c1 first) */
    info.op_variants = variants;
    assert_int_equal(nml_export_sources(&info, data, 4, "net", &o, &h, &c, &err), NML_OK);
    assert_non_null(
        strstr(c, "    &nml_kernel_conv_2d_opt_int8,\n    &nml_kernel_softmax_opt,\n};\n"));
    info.op_variants = NULL;
    free(h);
    free(c);
    info.kernels = NML_KERNELS_REFERENCE;
    assert_int_equal(nml_export_sources(&info, data, 4, "net", &o, &h, &c, &err), NML_OK);
    assert_non_null(strstr(c, "    &nml_kernel_conv_2d,\n    &nml_kernel_softmax,\n};\n"));
    free(h);
    free(c);
    char sym[64];
    assert_int_equal(nml_export_kernel_symbol_for(NML_OP_FULLY_CONNECTED, NML_KERNELS_OPTIMIZED,
                                                  sym, sizeof sym),
                     1);
    assert_string_equal(sym, "nml_kernel_fully_connected_opt");
    /* RESHAPE has only the one kernel */
    assert_int_equal(
        nml_export_kernel_symbol_for(NML_OP_RESHAPE, NML_KERNELS_OPTIMIZED, sym, sizeof sym), 1);
    assert_string_equal(sym, "nml_kernel_reshape");
    int k = -1;
    assert_int_equal(nml_kernel_set_parse("reference", &k, &err), NML_OK);
    assert_int_equal(k, NML_KERNELS_REFERENCE);
    assert_int_equal(nml_kernel_set_parse("fast", &k, &err), NML_E_ARG);
    /* an operator without a kernel symbol cannot be exported */
    int32_t custom[1] = {32};
    info.ops = custom;
    info.n_ops = 1;
    assert_int_equal(nml_export_sources(&info, data, 4, "net", &o, &h, &c, &err),
                     NML_E_UNSUPPORTED);
    assert_null(h);
}

static void test_fw_data_sets(void **state) {
    (void)state;
    nml_model_info info = sample_info(); /* 784 input bytes, 40 output bytes per set */
    uint8_t *in = calloc(784 * 3, 1), *out = calloc(40 * 3, 1);
    char *src;
    nml_error err;
    assert_int_equal(nml_fw_data_source(&info, "net", 512, in, 784 * 3, out, 40 * 3, &src, &err),
                     NML_OK);
    assert_non_null(strstr(src, "fw_input_sets = 3u, fw_input_set_bytes = 784u;"));
    assert_non_null(strstr(src, "fw_expected_sets = 3u, fw_expected_set_bytes = 40u;"));
    assert_non_null(strstr(src, "uint8_t fw_arena_block[NML_GUARDED_BYTES(512u)]"));
    assert_non_null(strstr(src, "fw_arena = fw_arena_block + NML_GUARD_BYTES;"));
    assert_non_null(strstr(src, "fw_arena_size = 512u;"));
    free(src);
    assert_int_equal(nml_fw_data_source(&info, "net", 512, in, 785, NULL, 0, &src, &err),
                     NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "785 bytes is not a whole number of sets of 784"));
    assert_int_equal(nml_fw_data_source(&info, "net", 512, in, 784 * 3, out, 40 * 2, &src, &err),
                     NML_E_SHAPE);
    /* no inputs: one zero set, expected outputs for exactly one set */
    assert_int_equal(nml_fw_data_source(&info, "net", 512, NULL, 0, out, 40, &src, &err), NML_OK);
    assert_non_null(strstr(src, "fw_input_sets = 0u"));
    free(src);
    free(in);
    free(out);
}

/* ---------------------------------------------------------------- processes */

static void test_process(void **state) {
    (void)state;
    nml_proc_result r;
    nml_error err;
    char *ok[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    assert_int_equal(nml_run_process(ok, 10, &r, &err), NML_OK);
    assert_int_equal(r.exit_code, 3);
    assert_false(r.timed_out);
    assert_non_null(strstr(r.output, "out\n"));
    assert_non_null(strstr(r.output, "err\n"));
    nml_proc_result_free(&r);
    char *slow[] = {"sh", "-c", "exec sleep 30", NULL};
    assert_int_equal(nml_run_process(slow, 1, &r, &err), NML_OK);
    assert_true(r.timed_out);
    nml_proc_result_free(&r);
    char *missing[] = {"nanoml-no-such-program", NULL};
    assert_int_equal(nml_run_process(missing, 10, &r, &err), NML_E_IO);
    assert_true(nml_program_exists("sh"));
    assert_false(nml_program_exists("nanoml-no-such-program"));
}

/* The analysis picks the int8-only kernel variant exactly when every node of the operator is
 * int8: the TFLM hello_world model's three FULLY_CONNECTED layers, int8 vs float32. */
static void analyze_int8_only(const char *model, int expect) {
    size_t size = 0;
    uint8_t *data = nml_test_read(nml_test_shared(model), &size);
    assert_non_null(data);
    nml_model_info info;
    nml_error err;
    assert_int_equal(nml_model_info_analyze(&info, data, size, &err), NML_OK);
    assert_int_equal(info.n_ops, 1);
    assert_int_equal(info.ops[0], NML_OP_FULLY_CONNECTED);
    assert_non_null(info.op_variants);
    assert_int_equal(info.op_variants[0], expect);
    nml_model_info_free(&info);
    assert_int_equal(nml_model_info_analyze_kernels(&info, data, size, NML_KERNELS_REFERENCE, &err),
                     NML_OK);
    assert_null(info.op_variants);
    nml_model_info_free(&info);
    free(data);
}

static void test_int8_only_choice(void **state) {
    (void)state;
    /* FULLY_CONNECTED's second variant: its first (_opt_narrow) rejects the 16-unit layers */
    analyze_int8_only("models/tflm/hello_world_int8.tflite", 2);
    analyze_int8_only("models/tflm/hello_world_float.tflite", 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_names), cmocka_unit_test(test_fit_arithmetic),
        cmocka_unit_test(test_elf_sections), cmocka_unit_test(test_elf_malformed),
        cmocka_unit_test(test_report_parse), cmocka_unit_test(test_names),
        cmocka_unit_test(test_xxd_text),     cmocka_unit_test(test_nanoml_sources),
        cmocka_unit_test(test_fw_data_sets), cmocka_unit_test(test_process),
        cmocka_unit_test(test_int8_only_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
