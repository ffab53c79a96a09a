/* One .tflite input through the whole runtime the way a microcontroller runs it, with every
 * memory promise checked: load + verify, init with every kernel inside a fixed arena between
 * guard bytes, one invoke on a deterministic input, then: guards unchanged, the unused tail of
 * the arena unchanged, the model bytes unchanged, every planned tensor inside the used arena,
 * and every failure carrying a message. Shared by the malformed-model corpus test and the
 * tflite fuzz targets (no cmocka here). */
#ifndef NML_TFL_EXERCISE_H
#define NML_TFL_EXERCISE_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/runtime_host.h"

typedef enum tfl_outcome {
    TFL_REJECTED_LOAD, /* nml_model_load said no, with a message */
    TFL_REJECTED_INIT, /* nml_interpreter_init said no (unsupported, shapes, arena...) */
    TFL_PREPARED,      /* initialized; not invoked because it exceeds the MAC budget */
    TFL_RAN,           /* initialized and invoked to completion */
    TFL_INVOKE_FAILED, /* invoke stopped with a message (data-dependent, e.g. a gather index) */
    TFL_OUTCOMES
} tfl_outcome;

typedef struct tfl_run {
    tfl_outcome outcome;
    nml_status status; /* of the step that failed, NML_OK otherwise */
    nml_error err;
    const char *violation; /* NULL, or the promise that was broken */
} tfl_run;

/* model: 16-byte aligned, `size` bytes (allocate it at its exact size so ASan sees overruns).
 * arena: from nml_guarded_arena_alloc; its contents are reset first, so runs do not depend on
 * each other. Operators are invoked only when the model's MACs stay within mac_budget. */
void tfl_exercise(const uint8_t *model, size_t size, nml_guarded_arena *arena, uint64_t mac_budget,
                  tfl_run *out);

const char *tfl_outcome_name(tfl_outcome o);

#endif
