/* The operator-order step shared by `nanoml export` and `nanoml deploy`. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_order.h"
#include "nanoml/export.h"
#include "nanoml/runtime.h"

static void print_search(const nml_op_order *o) {
    if (o->method == NML_ORDER_EXACT)
        printf("exact search, %llu sets of executed operators", (unsigned long long)o->states);
    else
        printf("%s order: %s", nml_order_method_name(o->method), o->note);
}

void cli_print_order(const nml_reorder_result *r) {
    if (r->applied) {
        printf("activation peak: original order %zu B -> chosen order %zu B (lower bound for the "
               "chosen order %zu B, for the original %zu B; ",
               r->original_activations, r->chosen_activations, r->chosen_bound, r->original_bound);
    } else if (r->order.peak < r->original_bound) {
        printf("activation peak: original order %zu B kept (lower bound %zu B; the best order's "
               "bound is %llu B, but the planner places it in no fewer bytes; ",
               r->original_activations, r->original_bound, (unsigned long long)r->order.peak);
    } else {
        printf("activation peak: original order %zu B kept (lower bound %zu B; no order plans "
               "fewer bytes; ",
               r->original_activations, r->original_bound);
    }
    print_search(&r->order);
    printf(")");
}

int cli_reorder(const char *cmd, const char *model_path, int kernels, uint8_t **data,
                size_t *size) {
    const nml_op_resolver *ops =
        kernels == NML_KERNELS_REFERENCE ? nml_ops_reference() : nml_ops_all();
    nml_reorder_result r;
    uint8_t *out = NULL;
    size_t out_size = 0;
    nml_error err;
    if (nml_reorder_model(*data, *size, ops, NULL, &out, &out_size, &r, &err) != NML_OK)
        return cli_errorf(cmd, "%s: operator order: %s", model_path, err.msg);
    cli_print_order(&r);
    printf("\n");
    if (r.applied) {
        free(*data);
        *data = out;
        *size = out_size;
    } else {
        free(out);
    }
    nml_reorder_result_free(&r);
    return 0;
}
