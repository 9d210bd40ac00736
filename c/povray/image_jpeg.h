/* image_jpeg.h -- the JPEG decoder's parts, shared by image_jpeg.c (markers and segments),
 * image_jpeg_scan.c (Huffman decoding, the inverse DCT) and image_jpeg_color.c (chroma
 * upsampling, YCbCr to RGB). Private to those three files. */
#ifndef POV_IMAGE_JPEG_H
#define POV_IMAGE_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define JPEG_MAX_COMPONENTS 3

typedef struct {
    uint8_t vals[256];
    int32_t mincode[17], maxcode[17], valptr[17]; /* by code length 1..16; maxcode -1: none */
    int defined;
} jpeg_huff;

typedef struct {
    uint32_t id, h, v, tq; /* component id, sampling factors, quantisation table */
    uint32_t td, ta;       /* the current scan's DC and AC Huffman tables */
    uint32_t dw, dh;       /* samples that hold the image: ceil(width * h / hmax) etc. */
    uint32_t pw, ph;       /* the plane: whole MCUs (pw = mcux * h * 8) */
    uint8_t *plane;        /* pw * ph samples after the inverse DCT */
    int32_t pred;          /* DC predictor */
    int scanned;           /* a scan has given its samples */
} jpeg_comp;

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    char *err;
    size_t err_len;
    uint16_t q[4][64]; /* quantisation tables in zigzag order */
    int q_defined[4];
    jpeg_huff dc[4], ac[4];
    uint32_t w, h, ncomp, hmax, vmax, mcux, mcuy, restart;
    jpeg_comp comp[JPEG_MAX_COMPONENTS];
    int jfif, adobe_transform; /* adobe_transform -1: no Adobe APP14 segment */
    uint32_t bitbuf;           /* the entropy-coded data being read */
    int nbits, bad;
    double idct[8][8]; /* C(u)/2 cos((2x+1) u pi / 16) by x, u */
} jpeg_dec;

int jpeg_fail(jpeg_dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Builds the decoding tables from the 16 code-length counts (vals already set). */
int jpeg_build_huff(jpeg_dec *d, jpeg_huff *t, const uint8_t counts[16]);
/* Decodes one scan's entropy-coded data (from d->pos) into the planes of its ns components;
   leaves d->pos after the data. */
int jpeg_decode_scan(jpeg_dec *d, jpeg_comp **scomp, uint32_t ns);
/* Upsamples the chroma and converts the planes into out (allocated); -1 when out of memory. */
int jpeg_output(const jpeg_dec *d, pov_image *out);

#endif
