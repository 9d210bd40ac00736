/* png.h -- dependency-free PNG writer (8-bit RGB, zlib with our own deflate). */
#ifndef POV_PNG_H
#define POV_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Encode W x H RGB8 pixels (rows top to bottom) as a PNG in a malloc'ed buffer.
   Returns NULL when out of memory. */
uint8_t *png_encode_rgb(const uint8_t *rgb, uint32_t W, uint32_t H, size_t *len_out);
/* Write the PNG to path; returns 0, or -1 with a message in err. */
int png_write_file(const char *path, const uint8_t *rgb, uint32_t W, uint32_t H, char *err,
                   size_t errlen);
uint32_t png_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
