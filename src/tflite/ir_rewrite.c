/* Graph rewriting helpers for the passes that edit an IR (compression, import clean-up). */
#include <stdlib.h>
#include <string.h>

#include "nanoml/ir.h"

int nml_ir_replace_uses(nml_ir *ir, int32_t old_t, int32_t new_t, int except_op) {
    int n = 0;
    for (int i = 0; i < ir->n_ops; i++) {
        if (i == except_op) continue;
        nml_ir_op *op = &ir->ops[i];
        for (int k = 0; k < op->n_inputs; k++) {
            if (op->inputs[k] == old_t) {
                op->inputs[k] = new_t;
                n++;
            }
        }
    }
    for (int k = 0; k < ir->n_outputs; k++) {
        if (ir->outputs[k] == old_t) {
            ir->outputs[k] = new_t;
            n++;
        }
    }
    return n;
}

static int op_is_dead(const nml_ir *ir, const nml_ir_op *op) {
    for (int o = 0; o < op->n_outputs; o++)
        if (nml_ir_count_uses(ir, op->outputs[o]) > 0) return 0;
    return 1;
}

int nml_ir_remove_dead_ops(nml_ir *ir) {
    int removed = 0;
    /* Walking backwards removes a whole dead chain in one pass: consumers come after producers,
     * so a producer is examined after its dead consumers are gone. Repeat for safety with
     * graphs that are not in execution order. */
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = ir->n_ops - 1; i >= 0; i--) {
            if (!op_is_dead(ir, &ir->ops[i])) continue;
            if (nml_ir_remove_op(ir, i, NULL) == NML_OK) {
                removed++;
                changed = 1;
            }
        }
    }
    return removed;
}

static void mark(unsigned char *used, int n, int32_t t) {
    if (t >= 0 && t < n) used[t] = 1;
}

static int32_t remap(const int32_t *map, int n, int32_t t) {
    return t >= 0 && t < n ? map[t] : t;
}

nml_status nml_ir_compact(nml_ir *ir, nml_error *err) {
    int n = ir->n_tensors;
    if (n == 0) return NML_OK;
    unsigned char *used = calloc((size_t)n, 1);
    int32_t *map = malloc((size_t)n * sizeof *map);
    if (!used || !map) {
        free(used);
        free(map);
        return nml_fail(err, NML_E_NOMEM, "compact: out of memory for %d tensors", n);
    }
    for (int i = 0; i < ir->n_ops; i++) {
        for (int k = 0; k < ir->ops[i].n_inputs; k++)
            mark(used, n, ir->ops[i].inputs[k]);
        for (int k = 0; k < ir->ops[i].n_outputs; k++)
            mark(used, n, ir->ops[i].outputs[k]);
    }
    for (int k = 0; k < ir->n_inputs; k++)
        mark(used, n, ir->inputs[k]);
    for (int k = 0; k < ir->n_outputs; k++)
        mark(used, n, ir->outputs[k]);

    int kept = 0;
    for (int t = 0; t < n; t++) {
        if (used[t]) {
            map[t] = kept;
            ir->tensors[kept++] = ir->tensors[t];
        } else {
            map[t] = -1;
            nml_ir_tensor *dead = &ir->tensors[t];
            free(dead->name);
            free(dead->data);
            free(dead->scales);
            free(dead->zero_points);
        }
    }
    if (kept < n) memset(&ir->tensors[kept], 0, (size_t)(n - kept) * sizeof(nml_ir_tensor));
    ir->n_tensors = kept;
    for (int i = 0; i < ir->n_ops; i++) {
        nml_ir_op *op = &ir->ops[i];
        for (int k = 0; k < op->n_inputs; k++)
            op->inputs[k] = remap(map, n, op->inputs[k]);
        for (int k = 0; k < op->n_outputs; k++)
            op->outputs[k] = remap(map, n, op->outputs[k]);
    }
    for (int k = 0; k < ir->n_inputs; k++)
        ir->inputs[k] = remap(map, n, ir->inputs[k]);
    for (int k = 0; k < ir->n_outputs; k++)
        ir->outputs[k] = remap(map, n, ir->outputs[k]);
    free(used);
    free(map);
    return NML_OK;
}

int nml_ir_drop_tensor_names(nml_ir *ir) {
    int dropped = 0;
    for (int t = 0; t < ir->n_tensors; t++) {
        char *name = ir->tensors[t].name;
        if (!name[0] || nml_ir_is_graph_io(ir, t)) continue;
        name[0] = '\0'; /* stays a valid owned string: the IR's names are never NULL */
        dropped++;
    }
    return dropped;
}
