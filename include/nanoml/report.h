/* Reports as one self-contained HTML page: a Markdown subset converted to HTML with every
 * picture inlined as a data: URI, so the page needs no other file and no network to show
 * everything. `nanoml report` and the demo (scripts/demo.sh) use it. Host only (allocates).
 *
 * The subset: ATX headings (# .. ######), paragraphs, pipe tables with a --- separator row
 * (':' for alignment), "- " / "* " and "1. " lists (one level), fenced code blocks (```),
 * HTML comments (dropped), and inline `code`, **strong**, *emphasis*, [text](href),
 * ![alt](picture.png|.jpg), a literal <br>, and backslash escapes. Everything else is text
 * (HTML-escaped). */
#ifndef NANOML_REPORT_H
#define NANOML_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_REPORT_MAX_IMAGE_BYTES ((size_t)32 << 20) /* one picture */

typedef struct nml_report_options {
    const char *base_dir; /* pictures are read relative to this folder (NULL: ".") */
    const char *name;     /* the Markdown file's name, for error messages (NULL: "markdown") */
    const char *title;    /* <title> (NULL: the first heading's text) */
} nml_report_options;

/* Converts md (len bytes) into a NUL-terminated HTML page in a new buffer (free with free()).
 * Pictures must be local PNG or JPEG files (sniffed from their bytes); a missing, unreadable or
 * other picture, or a remote one (http:, https:, //), is an error naming the line. Links are
 * kept as written (relative links resolve against the page's folder). */
nml_status nml_report_html(const char *md, size_t len, const nml_report_options *o, char **html,
                           size_t *html_len, nml_error *err);

/* Standard base64 (RFC 4648, with '=' padding) of n bytes into out, which holds at least
 * 4 * ((n + 2) / 3) + 1 bytes; returns the characters written (a NUL follows them). */
size_t nml_base64_encode(const uint8_t *in, size_t n, char *out);

/* "image/png", "image/jpeg" or NULL, from a picture's first bytes. */
const char *nml_picture_mime(const uint8_t *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
