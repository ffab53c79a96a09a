/* The nanoml firmware harness: loads the exported model, runs every embedded input through the
 * interpreter, prints the outputs and the instruction counts over the UART, compares against
 * the expected outputs when there are any, and ends QEMU with pass or fail.
 *
 * Output lines that start with "nml:" are a contract with the host (`nanoml deploy` parses
 * them); everything is printed as integers or hex so no float printf is linked. */
#include <string.h>

#include "fw.h"
#include "fw_app.h"
#include "nanoml/runtime.h"

typedef struct profile {
    uint64_t last;
} profile;

static nml_model model;
static nml_interpreter interp;
static nml_error err;
static profile prof;

static void fail_with(const char *what) {
    fw_printf("nml: error %s: %s (%s)\n", what, err.msg, nml_status_str(err.status));
    fw_printf("nml: result FAIL\n");
    fw_exit(FW_EXIT_ERROR);
}

/* on_node_done hook: instructions since the previous node finished (or since invoke began). */
static void on_node_done(void *user, uint32_t node) {
    profile *p = (profile *)user;
    uint64_t now = fw_instret();
    if (node < fw_node_count) fw_node_instret[node] = now - p->last;
    p->last = fw_instret();
}

static void print_hex(const uint8_t *bytes, uint32_t n) {
    static const char digits[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; i++) {
        fw_putc(digits[bytes[i] >> 4]);
        fw_putc(digits[bytes[i] & 15]);
    }
}

static void print_shape(const nml_tensor *t) {
    if (t->rank == 0) fw_puts("scalar");
    for (uint32_t d = 0; d < t->rank; d++)
        fw_printf(d ? "x%d" : "%d", (int)t->dims[d]);
}

static void print_tensor_info(const char *kind, uint32_t i, const nml_tensor *t) {
    fw_printf("nml: %s %u %s ", kind, (unsigned)i, nml_dtype_name(t->type));
    print_shape(t);
    fw_printf(" bytes %u zero_point %d\n", (unsigned)t->bytes, (int)t->zero_point);
}

static uint32_t sum_bytes(uint32_t count, nml_tensor *(*get)(nml_interpreter *, uint32_t)) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < count; i++)
        total += get(&interp, i)->bytes;
    return total;
}

static void load_inputs(uint32_t set) {
    const uint8_t *src = fw_inputs + (size_t)set * fw_input_set_bytes;
    for (uint32_t i = 0; i < nml_input_count(&interp); i++) {
        nml_tensor *t = nml_input(&interp, i);
        if (fw_input_sets)
            memcpy(t->data, src, t->bytes);
        else
            memset(t->data, 0, t->bytes);
        src += t->bytes;
    }
}

static float read_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* 1 when output tensor t equals the expected bytes (float32: within tolerance). */
static int output_matches(const nml_tensor *t, const uint8_t *expected) {
    const uint8_t *got = (const uint8_t *)t->data;
    if (t->type != NML_FLOAT32) return memcmp(got, expected, t->bytes) == 0;
    for (uint32_t k = 0; k + 4 <= t->bytes; k += 4) {
        float a = read_f32(got + k), b = read_f32(expected + k);
        float mag = b < 0 ? -b : b;
        float diff = a > b ? a - b : b - a;
        if (!(diff <= 1e-5f * (mag > 1.0f ? mag : 1.0f))) return 0;
    }
    return 1;
}

static uint32_t print_and_check_outputs(uint32_t set) {
    uint32_t mismatches = 0;
    const uint8_t *expected = fw_expected + (size_t)set * fw_expected_set_bytes;
    for (uint32_t i = 0; i < nml_output_count(&interp); i++) {
        const nml_tensor *t = nml_output(&interp, i);
        fw_printf("nml: out %u %u ", (unsigned)set, (unsigned)i);
        print_hex((const uint8_t *)t->data, t->bytes);
        fw_putc('\n');
        if (fw_expected_sets && !output_matches(t, expected)) {
            fw_printf("nml: mismatch set %u output %u\n", (unsigned)set, (unsigned)i);
            mismatches++;
        }
        expected += t->bytes;
    }
    return mismatches;
}

static void check_data_layout(void) {
    uint32_t in_bytes = sum_bytes(nml_input_count(&interp), nml_input);
    uint32_t out_bytes = sum_bytes(nml_output_count(&interp), nml_output);
    if (fw_input_sets && in_bytes != fw_input_set_bytes) {
        fw_printf("nml: error inputs hold %u bytes per set, the model needs %u\n",
                  (unsigned)fw_input_set_bytes, (unsigned)in_bytes);
        fw_exit(FW_EXIT_ERROR);
    }
    if (fw_expected_sets && out_bytes != fw_expected_set_bytes) {
        fw_printf("nml: error expected outputs hold %u bytes per set, the model gives %u\n",
                  (unsigned)fw_expected_set_bytes, (unsigned)out_bytes);
        fw_exit(FW_EXIT_ERROR);
    }
}

static void describe_model(void) {
    fw_printf("nml: model %s bytes %u operators %u\n", fw_model_name, (unsigned)fw_model_size,
              (unsigned)interp.n_nodes);
    fw_printf("nml: arena used %u reserved %u persistent %u activations %u\n",
              (unsigned)interp.arena_used, (unsigned)fw_arena_size,
              (unsigned)interp.persistent_bytes, (unsigned)interp.activation_bytes);
    fw_printf("nml: arena activations lower_bound %u\n", (unsigned)interp.activation_min_bytes);
    for (uint32_t i = 0; i < nml_input_count(&interp); i++)
        print_tensor_info("input", i, nml_input(&interp, i));
    for (uint32_t i = 0; i < nml_output_count(&interp); i++)
        print_tensor_info("output", i, nml_output(&interp, i));
}

/* Evidence that the runtime writes nothing outside its arena: the guard bytes around it and
 * the unused tail after arena_used (filled with the same kind of pattern once init is done)
 * must be unchanged after every invoke. */
#define TAIL_SEED 0x6e6d6c33u
static uint32_t guard_checks;

static void fill_arena_tail(void) {
    nml_guard_fill(fw_arena + interp.arena_used, fw_arena_size - interp.arena_used, TAIL_SEED);
}

static void check_guards(const char *after) {
    long where;
    if (!nml_guard_intact(fw_arena_block, fw_arena_size, &where)) {
        fw_printf("nml: error guard byte at arena offset %ld changed after %s\n", where, after);
        fw_printf("nml: result FAIL\n");
        fw_exit(FW_EXIT_ERROR);
    }
    size_t tail = fw_arena_size - interp.arena_used;
    size_t i = nml_guard_find_change(fw_arena + interp.arena_used, tail, TAIL_SEED);
    if (i < tail) {
        fw_printf("nml: error arena byte %u (past the %u used) changed after %s\n",
                  (unsigned)(interp.arena_used + i), (unsigned)interp.arena_used, after);
        fw_printf("nml: result FAIL\n");
        fw_exit(FW_EXIT_ERROR);
    }
    guard_checks++;
}

/* Runs every input set; returns the number of mismatching outputs. */
static uint32_t run_all_sets(void) {
    uint32_t sets = fw_input_sets ? fw_input_sets : 1, mismatches = 0;
    for (uint32_t s = 0; s < sets; s++) {
        load_inputs(s);
        uint64_t c0 = fw_cycles(), t0 = fw_instret();
        nml_status st = nml_invoke(&interp, &err);
        uint64_t t1 = fw_instret(), c1 = fw_cycles();
        if (st != NML_OK) fail_with("invoke");
        check_guards("invoke");
        fw_printf("nml: run %u instret %llu cycles %llu\n", (unsigned)s,
                  (unsigned long long)(t1 - t0), (unsigned long long)(c1 - c0));
        mismatches += print_and_check_outputs(s);
    }
    return mismatches;
}

/* One more invoke of set 0 with the per-operator hook installed. */
static void profile_operators(void) {
    uint32_t n = interp.n_nodes < fw_node_count ? interp.n_nodes : fw_node_count;
    for (uint32_t i = 0; i < n; i++)
        fw_node_instret[i] = 0;
    load_inputs(0);
    interp.on_node_done = on_node_done;
    interp.hook_user = &prof;
    prof.last = fw_instret();
    nml_status st = nml_invoke(&interp, &err);
    interp.on_node_done = 0;
    if (st != NML_OK) fail_with("profiling invoke");
    check_guards("the profiling invoke");
    /* what the hook itself adds to each count: two counter reads and a store */
    profile probe = {0};
    probe.last = fw_instret();
    on_node_done(&probe, fw_node_count);
    uint64_t t0 = fw_instret();
    on_node_done(&probe, fw_node_count);
    uint64_t overhead = fw_instret() - t0;
    fw_printf("nml: hook_overhead %llu\n", (unsigned long long)overhead);
    for (uint32_t i = 0; i < n; i++) {
        fw_printf("nml: op %u %s instret %llu", (unsigned)i,
                  nml_op_name(nml_node_builtin(&interp, i)),
                  (unsigned long long)fw_node_instret[i]);
        if (fw_node_macs) fw_printf(" macs %llu", (unsigned long long)fw_node_macs[i]);
        fw_putc('\n');
    }
}

int main(void);
int main(void) {
    fw_printf("nml: nanoml firmware harness (RV32)\n");
    uint64_t t0 = fw_instret();
    if (nml_model_load(&model, fw_model_data, fw_model_size, &err) != NML_OK) fail_with("load");
    nml_guard_setup(fw_arena_block, fw_arena_size);
    if (fw_interpreter_init(&interp, &model, &err) != NML_OK) fail_with("init");
    fill_arena_tail();
    check_guards("init");
    fw_printf("nml: setup instret %llu\n", (unsigned long long)(fw_instret() - t0));
    describe_model();
    check_data_layout();
    uint32_t mismatches = run_all_sets();
    profile_operators();
    fw_printf("nml: guard intact checks %u guard_bytes %u tail %u\n", (unsigned)guard_checks,
              (unsigned)NML_GUARD_BYTES, (unsigned)(fw_arena_size - interp.arena_used));
    fw_printf("nml: stack peak %u reserved %u\n", (unsigned)fw_stack_peak(),
              (unsigned)fw_stack_size());
    if (mismatches) {
        fw_printf("nml: result FAIL %u mismatching outputs\n", (unsigned)mismatches);
        return FW_EXIT_MISMATCH;
    }
    fw_printf(fw_expected_sets ? "nml: result PASS outputs match\n" : "nml: result PASS\n");
    return FW_EXIT_PASS;
}
