/* nanoml compare's library part: one row per model, CSV / markdown / PNG output. */
#include "nanoml/compare.h"

#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/plot.h"

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void nml_compare_row_free(nml_compare_row *row) {
    if (!row) return;
    free(row->label);
    free(row->path);
    memset(row, 0, sizeof *row);
}

nml_status nml_compare_model(const char *path, const char *label, const nml_idx_dataset *ds,
                             const nml_classify_options *o, nml_compare_row *row, nml_error *err) {
    memset(row, 0, sizeof *row);
    uint8_t *bytes = NULL;
    size_t size = 0;
    nml_model model;
    nml_status st = nml_read_file(path, NML_MAX_MODEL_BYTES, &bytes, &size, err);
    if (st == NML_OK) st = nml_model_load(&model, bytes, size, err);
    if (st == NML_OK) st = nml_model_stats_of(&model, bytes, size, &row->stats, err);
    if (st == NML_OK && ds) {
        nml_classify_result r;
        st = nml_classify_eval(&model, ds, o, &r, err);
        if (st == NML_OK) {
            row->has_accuracy = 1;
            row->correct = r.correct;
            row->images = r.n;
            nml_classify_result_free(&r);
        }
    }
    free(bytes);
    if (st == NML_OK) {
        row->label = dup_str(label ? label : base_name(path));
        row->path = dup_str(path);
        if (!row->label || !row->path) st = nml_fail(err, NML_E_NOMEM, "out of memory");
    } else {
        nml_error_prefix(err, "%s: ", path);
    }
    if (st != NML_OK) nml_compare_row_free(row);
    return st;
}

double nml_compare_accuracy(const nml_compare_row *row) {
    return row->has_accuracy && row->images ? 100.0 * (double)row->correct / row->images : 0.0;
}

double nml_compare_sparsity(const nml_compare_row *row) {
    const nml_model_stats *s = &row->stats;
    return s->weight_count ? (double)s->weight_zeros / (double)s->weight_count : 0.0;
}

/* A CSV field: quoted (with doubled quotes) when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static nml_status write_status(FILE *f, nml_error *err) {
    if (ferror(f)) return nml_fail(err, NML_E_IO, "write error");
    return NML_OK;
}

nml_status nml_compare_write_csv(FILE *f, const nml_compare_row *rows, int n, nml_error *err) {
    fprintf(f, "label,path,file_bytes,gzip_bytes,constant_bytes,parameters,sparsity,max_distinct,"
               "accuracy,correct,images\n");
    for (int i = 0; i < n; i++) {
        const nml_compare_row *r = &rows[i];
        csv_field(f, r->label);
        fputc(',', f);
        csv_field(f, r->path);
        fprintf(f, ",%zu,%zu,%llu,%llu,%.6f,%u,", r->stats.file_bytes, r->stats.gzip_bytes,
                (unsigned long long)r->stats.constant_bytes,
                (unsigned long long)r->stats.parameters, nml_compare_sparsity(r),
                (unsigned)r->stats.max_distinct);
        if (r->has_accuracy)
            fprintf(f, "%.6f,%lld,%d\n", nml_compare_accuracy(r) / 100.0, (long long)r->correct,
                    (int)r->images);
        else
            fprintf(f, ",,\n");
    }
    return write_status(f, err);
}

/* Markdown cells must not break the table: '|' is escaped. */
static void md_cell(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
}

nml_status nml_compare_write_markdown(FILE *f, const nml_compare_row *rows, int n,
                                      const char *dataset, nml_error *err) {
    fprintf(f,
            "| model | file bytes | gzip bytes | constant bytes | parameters | sparsity | "
            "distinct (max) | accuracy%s%s%s |\n",
            dataset ? " (" : "", dataset ? dataset : "", dataset ? ")" : "");
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < n; i++) {
        const nml_compare_row *r = &rows[i];
        fputs("| ", f);
        md_cell(f, r->label);
        fprintf(f, " | %zu | %zu | %llu | %llu | %.1f %% | %u | ", r->stats.file_bytes,
                r->stats.gzip_bytes, (unsigned long long)r->stats.constant_bytes,
                (unsigned long long)r->stats.parameters, 100.0 * nml_compare_sparsity(r),
                (unsigned)r->stats.max_distinct);
        if (r->has_accuracy)
            fprintf(f, "%.2f %% |\n", nml_compare_accuracy(r));
        else
            fprintf(f, "- |\n");
    }
    return write_status(f, err);
}

nml_status nml_compare_plot(const nml_compare_row *rows, int n, const char *title, int log_x,
                            const char *png_path, nml_error *err) {
    if (n < 1) return nml_fail(err, NML_E_ARG, "plot: no models");
    nml_plot_point *pts = calloc((size_t)n, sizeof *pts);
    if (!pts) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        if (!rows[i].has_accuracy) {
            free(pts);
            return nml_fail(err, NML_E_ARG, "plot: %s has no accuracy", rows[i].label);
        }
        pts[i].x = (double)rows[i].stats.file_bytes;
        pts[i].y = nml_compare_accuracy(&rows[i]);
        pts[i].label = rows[i].label;
    }
    nml_plot_options o;
    nml_plot_options_default(&o);
    o.log_x = log_x;
    o.title = title;
    o.x_label = log_x ? "file bytes (log scale)" : "file bytes";
    o.y_label = "accuracy (%)";
    nml_image img;
    memset(&img, 0, sizeof img);
    nml_status st = nml_plot_scatter(pts, n, &o, &img, NULL, err);
    if (st == NML_OK) st = nml_image_write_png(png_path, &img, err);
    nml_image_free(&img);
    free(pts);
    return st;
}
