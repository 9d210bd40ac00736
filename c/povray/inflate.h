/* inflate.h -- zlib streams decoded (RFC 1950/1951), for the PNG reader. */
#ifndef POV_INFLATE_H
#define POV_INFLATE_H

#include <stddef.h>
#include <stdint.h>

/* Inflates the zlib stream data (len bytes) into out (at most out_cap bytes; more is an
   error). Returns 0 with *out_len set, or -1 with a static message in *err. The adler32
   trailer is not checked (PNG's chunk CRCs guard the bytes). */
int zlib_inflate(const uint8_t *data, size_t len, uint8_t *out, size_t out_cap,
                 size_t *out_len, const char **err);

#endif
