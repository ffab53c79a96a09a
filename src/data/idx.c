/* IDX reader. The bytes come from a source: a file through zlib's gz* interface (which also
 * reads uncompressed files), or a buffer in memory, inflated with zlib when it starts with the
 * gzip magic. The header is read first; the payload size it implies is checked against limits,
 * then the payload is read in chunks into a buffer that grows only as data actually arrives, so
 * a header claiming billions of items in a small file ends in a "truncated" error, not a huge
 * allocation. */
#include "nanoml/idx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CHUNK ((size_t)1 << 20)

typedef struct idx_source {
    const char *name; /* for messages */
    gzFile gz;        /* file source */
    /* memory source */
    const uint8_t *mem;
    size_t size, pos;
    int gzip;    /* the buffer holds gzip members */
    int zs_open; /* inside a gzip member */
    z_stream zs;
} idx_source;

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static long read_gz(idx_source *s, uint8_t *buf, size_t n, nml_error *err) {
    int got = gzread(s->gz, buf, (unsigned)n);
    if (got < 0) {
        int code = 0;
        const char *msg = gzerror(s->gz, &code);
        nml_fail(err, NML_E_FORMAT, "%s: corrupt gzip data (%s)", s->name, msg ? msg : "?");
        return -1;
    }
    return got;
}

static long read_plain(idx_source *s, uint8_t *buf, size_t n) {
    size_t left = s->size - s->pos, got = n < left ? n : left;
    if (got) memcpy(buf, s->mem + s->pos, got);
    s->pos += got;
    return (long)got;
}

/* Starts the next gzip member at s->pos; 0 at the end of the buffer, -1 on an error. Only gzip
 * members may follow one another (as `cat a.gz b.gz` makes); anything else is an error rather
 * than silently ignored. */
static int open_member(idx_source *s, nml_error *err) {
    if (s->pos >= s->size) return 0;
    if (s->size - s->pos < 2 || s->mem[s->pos] != 0x1f || s->mem[s->pos + 1] != 0x8b) {
        nml_fail(err, NML_E_FORMAT, "%s: %zu bytes after the gzip data at byte %zu", s->name,
                 s->size - s->pos, s->pos);
        return -1;
    }
    memset(&s->zs, 0, sizeof s->zs);
    if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
        nml_fail(err, NML_E_NOMEM, "%s: cannot start zlib", s->name);
        return -1;
    }
    s->zs_open = 1;
    return 1;
}

static long read_inflate(idx_source *s, uint8_t *buf, size_t n, nml_error *err) {
    size_t got = 0;
    while (got < n) {
        if (!s->zs_open) {
            int r = open_member(s, err);
            if (r < 0) return -1;
            if (r == 0) break;
        }
        size_t left = s->size - s->pos;
        s->zs.next_in = (Bytef *)(uintptr_t)(s->mem + s->pos); /* zlib does not write input */
        s->zs.avail_in = left < UINT_MAX ? (uInt)left : UINT_MAX;
        s->zs.next_out = buf + got;
        s->zs.avail_out = (uInt)(n - got); /* n <= CHUNK */
        const uInt in_before = s->zs.avail_in, out_before = s->zs.avail_out;
        int r = inflate(&s->zs, Z_NO_FLUSH);
        s->pos += in_before - s->zs.avail_in;
        got += out_before - s->zs.avail_out;
        if (r == Z_STREAM_END) {
            inflateEnd(&s->zs);
            s->zs_open = 0;
        } else if (r == Z_BUF_ERROR) { /* no progress possible: the input ran out */
            nml_fail(err, NML_E_FORMAT, "%s: truncated gzip data (ends at byte %zu)", s->name,
                     s->size);
            return -1;
        } else if (r != Z_OK) {
            nml_fail(err, NML_E_FORMAT, "%s: corrupt gzip data at byte %zu (%s)", s->name,
                     s->pos, s->zs.msg ? s->zs.msg : "zlib error");
            return -1;
        }
    }
    return (long)got;
}

/* Reads up to n (<= CHUNK) bytes; returns the count read (0 at the end), or -1 with a message. */
static long read_some(idx_source *s, void *buf, size_t n, nml_error *err) {
    if (s->gz) return read_gz(s, buf, n, err);
    if (!s->gzip) return read_plain(s, buf, n);
    return read_inflate(s, buf, n, err);
}

static void source_close(idx_source *s) {
    if (s->gz) gzclose(s->gz);
    if (s->zs_open) inflateEnd(&s->zs);
    s->gz = NULL;
    s->zs_open = 0;
}

static nml_status read_header(idx_source *s, nml_idx *idx, size_t max_bytes, size_t *payload,
                              nml_error *err) {
    const char *path = s->name;
    uint8_t magic[4];
    long got = read_some(s, magic, 4, err);
    if (got < 0) return err ? err->status : NML_E_FORMAT;
    if (got < 4) return nml_fail(err, NML_E_FORMAT, "%s: too short for an IDX header", path);
    if (magic[0] != 0 || magic[1] != 0)
        return nml_fail(err, NML_E_FORMAT, "%s: not an IDX file (magic %02x%02x%02x%02x)", path,
                        magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != 0x08)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: IDX element type 0x%02x (only unsigned "
                        "bytes, 0x08, are supported)", path, magic[2]);
    if (magic[3] < 1 || magic[3] > NML_IDX_MAX_RANK)
        return nml_fail(err, NML_E_FORMAT, "%s: IDX rank %d (expected 1 to %d)", path, magic[3],
                        NML_IDX_MAX_RANK);
    idx->type = magic[2];
    idx->rank = magic[3];
    uint8_t dims[4 * NML_IDX_MAX_RANK];
    size_t dim_bytes = 4 * (size_t)idx->rank;
    got = read_some(s, dims, dim_bytes, err);
    if (got < 0) return err ? err->status : NML_E_FORMAT;
    if ((size_t)got < dim_bytes)
        return nml_fail(err, NML_E_FORMAT, "%s: truncated IDX header", path);
    size_t total = 1;
    for (int i = 0; i < idx->rank; i++) {
        idx->dims[i] = be32(dims + 4 * i);
        if (idx->dims[i] == 0) return nml_fail(err, NML_E_FORMAT, "%s: dimension %d is 0", path, i);
        if (idx->dims[i] > max_bytes / total)
            return nml_fail(err, NML_E_LIMIT, "%s: header declares more than %zu bytes of data",
                            path, max_bytes);
        total *= idx->dims[i];
    }
    *payload = total;
    return NML_OK;
}

static nml_status read_payload(idx_source *s, nml_idx *idx, size_t total, nml_error *err) {
    const char *path = s->name;
    size_t cap = 0, have = 0;
    uint8_t *buf = NULL;
    while (have < total) {
        if (have == cap) {
            size_t grow = cap ? cap : CHUNK;
            cap = total - cap < grow ? total : cap + grow;
            uint8_t *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                return nml_fail(err, NML_E_NOMEM, "%s: cannot allocate %zu bytes", path, cap);
            }
            buf = bigger;
        }
        size_t want = cap - have < CHUNK ? cap - have : CHUNK;
        long got = read_some(s, buf + have, want, err);
        if (got < 0) {
            free(buf);
            return err ? err->status : NML_E_FORMAT;
        }
        if (got == 0) {
            free(buf);
            return nml_fail(err, NML_E_FORMAT, "%s: truncated: header declares %zu data bytes, "
                            "file has %zu", path, total, have);
        }
        have += (size_t)got;
    }
    uint8_t extra;
    long more = read_some(s, &extra, 1, err);
    if (more != 0) {
        free(buf);
        if (more < 0) return err ? err->status : NML_E_FORMAT;
        return nml_fail(err, NML_E_FORMAT, "%s: data continues past the %zu bytes the header "
                        "declares", path, total);
    }
    idx->data = buf;
    idx->bytes = total;
    return NML_OK;
}

static nml_status read_source(idx_source *s, size_t max_bytes, nml_idx *idx, nml_error *err) {
    size_t total = 0;
    nml_status st = read_header(s, idx, max_bytes ? max_bytes : NML_IDX_MAX_BYTES, &total, err);
    if (st == NML_OK) st = read_payload(s, idx, total, err);
    source_close(s);
    if (st != NML_OK) nml_idx_free(idx);
    return st;
}

nml_status nml_idx_read(const char *path, size_t max_bytes, nml_idx *idx, nml_error *err) {
    memset(idx, 0, sizeof *idx);
    struct stat st_path;
    if (stat(path, &st_path) != 0) return nml_fail(err, NML_E_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st_path.st_mode)) return nml_fail(err, NML_E_IO, "%s: not a regular file", path);
    errno = 0;
    idx_source s;
    memset(&s, 0, sizeof s);
    s.name = path;
    s.gz = gzopen(path, "rb");
    if (!s.gz)
        return nml_fail(err, NML_E_IO, "%s: %s", path, errno ? strerror(errno) : "cannot open");
    return read_source(&s, max_bytes, idx, err);
}

nml_status nml_idx_parse(const uint8_t *data, size_t size, const char *name, size_t max_bytes,
                         nml_idx *idx, nml_error *err) {
    memset(idx, 0, sizeof *idx);
    if (!data && size) return nml_fail(err, NML_E_ARG, "idx: no data");
    idx_source s;
    memset(&s, 0, sizeof s);
    s.name = name ? name : "idx";
    s.mem = data;
    s.size = size;
    s.gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    return read_source(&s, max_bytes, idx, err);
}

void nml_idx_free(nml_idx *idx) {
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
nml_status nml_idx_load(const char *images_path, const char *labels_path, nml_idx_dataset *ds,
                        nml_error *err) {
    memset(ds, 0, sizeof *ds);
    nml_idx img, lab;
    NML_TRY(nml_idx_read(images_path, 0, &img, err));
    nml_status st = nml_idx_read(labels_path, 0, &lab, err);
    if (st != NML_OK) {
        nml_idx_free(&img);
        return st;
    }
    if (img.rank != 3)
        st = nml_fail(err, NML_E_FORMAT, "%s: images must have rank 3 (count, rows, columns), "
                      "file has rank %d", images_path, img.rank);
    else if (lab.rank != 1)
        st = nml_fail(err, NML_E_FORMAT, "%s: labels must have rank 1, file has rank %d",
                      labels_path, lab.rank);
    else if (img.dims[0] != lab.dims[0])
        st = nml_fail(err, NML_E_FORMAT, "%s has %u images but %s has %u labels", images_path,
                      img.dims[0], labels_path, lab.dims[0]);
    else if (img.dims[0] > (uint32_t)INT32_MAX || img.dims[1] > 65536 || img.dims[2] > 65536)
        st = nml_fail(err, NML_E_LIMIT, "%s: %u images of %ux%u is too large", images_path,
                      img.dims[0], img.dims[1], img.dims[2]);
    if (st != NML_OK) {
        nml_idx_free(&img);
        nml_idx_free(&lab);
        return st;
    }
    ds->n = (int32_t)img.dims[0];
    ds->rows = (int32_t)img.dims[1];
    ds->cols = (int32_t)img.dims[2];
    ds->images = img.data;
    ds->labels = lab.data;
    for (int32_t i = 0; i < ds->n; i++)
        if (ds->labels[i] + 1 > ds->n_classes) ds->n_classes = ds->labels[i] + 1;
    return NML_OK;
}

nml_status nml_idx_load_split(const char *dir, const char *split, nml_idx_dataset *ds,
                              nml_error *err) {
    char images[4096], labels[4096];
    int a = snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, split);
    int b = snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    if (a < 0 || b < 0 || (size_t)a >= sizeof images || (size_t)b >= sizeof labels)
        return nml_fail(err, NML_E_ARG, "dataset path too long");
    return nml_idx_load(images, labels, ds, err);
}

void nml_idx_dataset_free(nml_idx_dataset *ds) {
    free(ds->images);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}
