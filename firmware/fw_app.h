/* What the harness needs from the generated part of a firmware (fw_data.c, written by
 * `nanoml deploy`): the exported model, its resolver, the arena, the inputs to run and,
 * optionally, the outputs to expect. Keeping this an interface lets main.c stay generic. */
#ifndef NANOML_FW_APP_H
#define NANOML_FW_APP_H

#include <stdint.h>

#include "nanoml/guard.h"
#include "nanoml/runtime.h"

extern const char fw_model_name[];
extern const uint8_t *const fw_model_data;
extern const uint32_t fw_model_size;
extern const nml_op_resolver *const fw_resolver;
/* nml_interpreter_init of the model in fw_arena with fw_resolver, or, when the export wrote an
 * arena plan (`nanoml deploy --plan-at-export`), nml_interpreter_init_planned with it: that
 * firmware then links no memory planner. */
nml_status fw_interpreter_init(nml_interpreter *it, const nml_model *model, nml_error *err);
/* fw_arena_block is [NML_GUARD_BYTES guard][fw_arena_size arena][NML_GUARD_BYTES guard]
 * (nanoml/guard.h) and fw_arena points at its middle: the harness checks that the runtime
 * wrote nothing outside the arena after every invoke. */
extern uint8_t fw_arena_block[];
extern uint8_t *const fw_arena;
extern const uint32_t fw_arena_size;

/* fw_input_sets sets of fw_input_set_bytes bytes each: every model input's raw bytes, in input
 * order, concatenated. */
extern const uint8_t fw_inputs[];
extern const uint32_t fw_input_sets, fw_input_set_bytes;
/* The same layout for outputs; fw_expected_sets is 0 when nothing is expected, otherwise it
 * equals fw_input_sets. Float outputs compare with a tolerance of 1e-5 * max(1, |expected|). */
extern const uint8_t fw_expected[];
extern const uint32_t fw_expected_sets, fw_expected_set_bytes;

/* Multiply-accumulates per operator in execution order (fw_node_count entries), or NULL when
 * the exporter could not count them. */
extern const uint64_t *const fw_node_macs;
extern const uint32_t fw_node_count;
/* Per-node profiling buffer (fw_node_count entries, at least 1). */
extern uint64_t fw_node_instret[];

#endif
