/* NML_OUTLINE keeps a small function that several callers share out of line where -Os would
 * copy it into each of them (measured on RV32: the copies cost more than the calls). Only for
 * code that runs at load or init, never in a kernel's inner loop. */
#ifndef NANOML_RUNTIME_OUTLINE_H
#define NANOML_RUNTIME_OUTLINE_H

#if defined(__GNUC__)
#define NML_OUTLINE __attribute__((noinline))
#else
#define NML_OUTLINE
#endif

#endif
