/* .tflite end to end as the microcontroller sees it (tests/support/tfl_exercise.c): verify,
 * initialize with every kernel inside a fixed arena between guard bytes, run one inference on
 * a deterministic input, then check that nothing outside the used arena changed: not the
 * guards, not the unused tail of the arena, not the model bytes. Byte-level mutations of the
 * shared models; fuzz_tflite_fields mutates them structurally. */
#include <stdlib.h>

#include "fuzz_target.h"
#include "tfl_exercise.h"

#define MAX_MODEL (512u << 10) /* person_detect (294 KiB) fits */
#define ARENA (256u << 10)     /* person_detect needs 88 KiB */
#define MAC_BUDGET 20000000ull /* person_detect: 7.2 M; larger graphs are only prepared */

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    static nml_guarded_arena arena;
    if (!arena.block && nml_guarded_arena_alloc(&arena, ARENA, err) != NML_OK) abort();
    tfl_run r;
    tfl_exercise(data, size, &arena, MAC_BUDGET, &r);
    nml_fuzz_check(r.violation == NULL, r.violation ? r.violation : "");
    *err = r.err;
    return r.status;
}

NML_FUZZ_TARGET(one, MAX_MODEL)
