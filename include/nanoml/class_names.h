/* Class names of a detector: the 80 COCO names built in (FastestDet's coco.names; YOLOv8's metadata
 * has the same classes in the same order), or a names file with one name per line. Host only. */
#ifndef NANOML_CLASS_NAMES_H
#define NANOML_CLASS_NAMES_H

#include <stddef.h>

#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_COCO_CLASSES 80
#define NML_NAMES_MAX_FILE_BYTES ((size_t)1 << 20)
#define NML_NAMES_MAX_LEN 64 /* bytes per name, without the NUL */

typedef struct nml_class_names {
    char **names; /* count entries; owned unless built in */
    int count;
    int owned;
} nml_class_names;

/* The built-in COCO list (nothing to free, but nml_class_names_free is harmless). */
nml_class_names nml_class_names_coco(void);

/* Reads a names file: one name per line, surrounding blanks and a trailing CR removed, empty
 * lines skipped. Errors name the file and line (empty file, a name longer than
 * NML_NAMES_MAX_LEN, control characters). */
nml_status nml_class_names_load(const char *path, nml_class_names *names, nml_error *err);
void nml_class_names_free(nml_class_names *names);

/* Name of class cls, or NULL when out of range. */
const char *nml_class_name(const nml_class_names *names, int cls);

#ifdef __cplusplus
}
#endif
#endif
