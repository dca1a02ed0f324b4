#ifndef CLONECTL_CZLIB_SHIM_H
#define CLONECTL_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 is a macro: give Swift a function. windowBits 31 = gzip wrapper, which .NET's GZipStream reads.
static inline int clonectl_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
}
static inline int clonectl_inflate_init_gzip(z_stream *s) {
    return inflateInit2(s, 15 + 16);
}
#endif
