/* Weak references to packed.c, for the runtime code that calls it: the loader (model.c) and the
 * kernels that decode packed filters (packed_filter.h). A static link from an archive takes
 * packed.c only for a strong reference (NML_LINK_PACKED_WEIGHTS, packed.h), so firmware whose
 * model has no packed weights carries neither their verifier nor their decoders. Packed tensors
 * reach a kernel only after the loader accepted them, which it does only when packed.c is
 * linked (NML_PACKED_LINKED), so no call through a missing weak reference can happen. Not to
 * be included by packed.c itself, nor by host code that calls packed.c directly. */
#ifndef NANOML_RUNTIME_PACKED_WEAK_H
#define NANOML_RUNTIME_PACKED_WEAK_H

#include <stddef.h>

#include "packed.h"

#if defined(__GNUC__) && defined(__ELF__)
#pragma weak nml_packed_support
#pragma weak nml_packed_read_tensor
#pragma weak nml_packed_verify_tensor
#pragma weak nml_packed_check_io
#pragma weak nml_packed_check_use
#pragma weak nml_packed_parse
#pragma weak nml_packed_verify
#pragma weak nml_packed_begin
#pragma weak nml_packed_next_dense
#pragma weak nml_packed_next_sparse
#endif

#if defined(NML_NO_PACKED_WEIGHTS)
/* Firmware for a model without packed tensors (`nanoml deploy` compiles the runtime so when the
 * exported model has none): the same as a link without packed.c, known at compile time, so the
 * loader and kernels carry no code for the calls either. A packed tensor is refused at load. */
#define NML_PACKED_LINKED() 0
#define NML_PACKED_DECODERS_LINKED() 0
#elif defined(__GNUC__) && defined(__ELF__)
/* 1 when the loader's checks (and so packed.c) are part of the link. */
#define NML_PACKED_LINKED() (&nml_packed_support != NULL)
/* 1 when packed.c's decoders are (kernels driven without the loader, e.g. by unit tests,
 * may have them without the loader's checks). */
#define NML_PACKED_DECODERS_LINKED() (nml_packed_parse != NULL)
#else
#define NML_PACKED_LINKED() 1
#define NML_PACKED_DECODERS_LINKED() 1
#endif

#endif
