/* The reader of the list and type fields of builtin options (see options_extra.h). */
#include "options_extra.h"

#include <stddef.h>
#include <string.h>

#define NEW_SHAPE_OFFSET ((uint8_t)offsetof(nml_op_params, new_shape_len))

static nml_status int_list(const nml_fb *fb, const nml_fb_table *t, const nml_option_field *f,
                           uint8_t *params, nml_error *err) {
    nml_fb_vec v;
    if (!nml_fb_has(fb, t, f->id)) return NML_OK; /* absent: the default count stays */
    NML_TRY(nml_fb_vec_field(fb, t, f->id, 4, &v, err));
    if (v.len > NML_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "%s has %lu entries (limit %d)",
                        f->offset == NEW_SHAPE_OFFSET ? "new_shape" : "squeeze_dims",
                        (unsigned long)v.len, NML_MAX_RANK);
    int32_t n = (int32_t)v.len;
    memcpy(params + f->offset, &n, 4);
    for (uint32_t i = 0; i < v.len; i++) {
        int32_t x = nml_fb_vec_i32(fb, v, i);
        memcpy(params + f->offset + 4 + 4 * i, &x, 4);
    }
    return NML_OK;
}

nml_status nml_options_read_extra(const nml_fb *fb, const nml_fb_table *t,
                                  const nml_option_field *f, uint8_t *params, nml_error *err) {
    if (f->kind == NML_F_LIST) return int_list(fb, t, f, params, err);
    if (t->n_fields == 0 && t->pos == 0) return NML_OK; /* no table: the type stays -1 */
    uint8_t b;
    NML_TRY(nml_fb_u8(fb, t, f->id, (uint8_t)f->def, &b, err));
    const int32_t w = (int8_t)b;
    memcpy(params + f->offset, &w, 4);
    return NML_OK;
}
