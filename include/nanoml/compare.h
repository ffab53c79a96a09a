/* Side-by-side comparison of models: stored bytes, gzip bytes, parameters, weight sparsity,
 * distinct weight values and classification accuracy, as a CSV file, a markdown table and a
 * size-versus-accuracy scatter plot (`nanoml compare`). Host only. */
#ifndef NANOML_COMPARE_H
#define NANOML_COMPARE_H

#include <stdint.h>
#include <stdio.h>

#include "nanoml/classify.h"
#include "nanoml/idx.h"
#include "nanoml/model_stats.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_compare_row {
    char *label; /* owned */
    char *path;  /* owned */
    nml_model_stats stats;
    int has_accuracy;
    int64_t correct;
    int32_t images;
} nml_compare_row;

/* Loads the .tflite at path, measures it and, when ds is non-NULL, evaluates it on ds (o may be
 * NULL). label NULL: the file name. */
nml_status nml_compare_model(const char *path, const char *label, const nml_idx_dataset *ds,
                             const nml_classify_options *o, nml_compare_row *row, nml_error *err);
void nml_compare_row_free(nml_compare_row *row);

/* Accuracy in percent (0 when there is none). */
double nml_compare_accuracy(const nml_compare_row *row);
/* Zero weights / weights of the CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED filters. */
double nml_compare_sparsity(const nml_compare_row *row);

/* CSV with a header line: label,path,file_bytes,gzip_bytes,constant_bytes,parameters,
 * sparsity,max_distinct,accuracy,correct,images (sparsity and accuracy as fractions; the last
 * three empty without accuracy). Labels and paths are quoted when they need it. */
nml_status nml_compare_write_csv(FILE *f, const nml_compare_row *rows, int n, nml_error *err);
/* The same as a markdown table (sizes in bytes, percentages). */
nml_status nml_compare_write_markdown(FILE *f, const nml_compare_row *rows, int n,
                                      const char *dataset, nml_error *err);
/* Scatter plot of file bytes (x, log scale when log_x) against accuracy (y), PNG. Every row
 * needs an accuracy. */
nml_status nml_compare_plot(const nml_compare_row *rows, int n, const char *title, int log_x,
                            const char *png_path, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
