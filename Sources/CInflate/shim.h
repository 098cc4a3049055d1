#ifndef CAMKIT_CINFLATE_SHIM_H
#define CAMKIT_CINFLATE_SHIM_H
#include <zlib.h>

/* inflateInit is a macro over inflateInit_ (it passes the header's version and the stream's
   size), which Swift cannot import. */
static inline int camkit_inflate_init(z_stream *stream) { return inflateInit(stream); }
#endif
