/* image_png.c -- PNG files read (the PNG specification, 2nd edition): every colour type and
 * bit depth, Adam7 interlacing, PLTE/tRNS/gAMA/sRGB, chunk CRCs checked. As POV-Ray
 * 3.7.0 keeps them, palette images become indexed images, the others 8- or 16-bit samples
 * (grey of 1, 2 or 4 bits scaled to 8). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "inflate.h"
#include "png.h"

typedef struct {
    uint32_t w, h, depth, ctype, interlace;
    uint32_t plte_n, trns_n;
    uint8_t plte[256][3], trns[256];
    double gamma; /* image.h's file_gamma */
    uint8_t *idat;
    size_t idat_len;
} png_info;

#define fail(err, err_len, ...) image_fail(err, err_len, "png", __VA_ARGS__)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* samples per pixel of each colour type (0 grey, 2 rgb, 3 palette, 4 grey+alpha, 6 rgba) */
static uint32_t type_channels(uint32_t ctype)
{
    static const uint8_t CH[7] = {1, 0, 3, 1, 2, 0, 4};
    return ctype < 7 ? CH[ctype] : 0;
}

static int header(const uint8_t *d, uint32_t n, png_info *pi, char *err, size_t el)
{
    if (n != 13)
        return fail(err, el, "IHDR of %u bytes (13 expected; file damaged?)", (unsigned)n);
    pi->w = be32(d);
    pi->h = be32(d + 4);
    pi->depth = d[8];
    pi->ctype = d[9];
    pi->interlace = d[12];
    uint32_t ch = type_channels(pi->ctype), b = pi->depth;
    int depth_ok = ch && (b == 8 || (b == 16 && pi->ctype != 3) ||
                          ((b == 1 || b == 2 || b == 4) && (pi->ctype == 0 || pi->ctype == 3)));
    if (!depth_ok)
        return fail(err, el, "colour type %u with bit depth %u is not valid PNG",
                    (unsigned)pi->ctype, (unsigned)b);
    if (d[10] != 0 || d[11] != 0 || pi->interlace > 1)
        return fail(err, el, "unknown compression, filter or interlace method (file damaged?)");
    if (pi->w == 0 || pi->h == 0 || pi->w > POV_IMAGE_MAX_DIM || pi->h > POV_IMAGE_MAX_DIM ||
        (uint64_t)pi->w * pi->h > POV_IMAGE_MAX_PIXELS)
        return fail(err, el, "image of %ux%u pixels (at most %u pixels in all)",
                    (unsigned)pi->w, (unsigned)pi->h, POV_IMAGE_MAX_PIXELS);
    return 0;
}

static int add_idat(png_info *pi, const uint8_t *d, uint32_t n, char *err, size_t el)
{
    uint8_t *p = realloc(pi->idat, pi->idat_len + n + 1);
    if (!p)
        return fail(err, el, "out of memory for the image data");
    pi->idat = p;
    memcpy(p + pi->idat_len, d, n);
    pi->idat_len += n;
    return 0;
}

static int chunk(png_info *pi, const char *type, const uint8_t *d, uint32_t n, char *err,
                 size_t el)
{
    if (!memcmp(type, "IHDR", 4))
        return header(d, n, pi, err, el);
    if (pi->w == 0)
        return fail(err, el, "chunk %.4s before IHDR (file damaged?)", type);
    if (!memcmp(type, "PLTE", 4)) {
        if (n % 3 || n == 0 || n > 768)
            return fail(err, el, "PLTE of %u bytes (file damaged?)", (unsigned)n);
        pi->plte_n = n / 3;
        memcpy(pi->plte, d, n);
    } else if (!memcmp(type, "tRNS", 4) && pi->ctype == 3) {
        pi->trns_n = n < 256 ? n : 256;
        memcpy(pi->trns, d, pi->trns_n);
    } else if (!memcmp(type, "gAMA", 4) && n == 4 && be32(d) > 0 && pi->gamma == 0) {
        pi->gamma = 100000.0 / be32(d);
    } else if (!memcmp(type, "sRGB", 4)) {
        pi->gamma = -1; /* sRGB wins over gAMA, as in POV-Ray's reader */
    } else if (!memcmp(type, "IDAT", 4)) {
        return add_idat(pi, d, n, err, el);
    } else if (!(type[0] & 0x20)) {
        return fail(err, el, "critical chunk %.4s is not known to this reader", type);
    }
    return 0;
}

static int read_chunks(const uint8_t *data, size_t len, png_info *pi, char *err, size_t el)
{
    size_t pos = 8;
    for (;;) {
        if (len - pos < 12)
            return fail(err, el, "file ends before IEND (truncated?)");
        uint32_t n = be32(data + pos);
        const char *type = (const char *)data + pos + 4;
        if (n > len - pos - 12)
            return fail(err, el, "chunk %.4s runs past the end of the file (truncated?)",
                        type);
        if (png_crc32(0, data + pos + 4, n + 4) != be32(data + pos + 8 + n))
            return fail(err, el, "chunk %.4s fails its CRC (file damaged)", type);
        if (!memcmp(type, "IEND", 4))
            return 0;
        if (chunk(pi, type, data + pos + 8, n, err, el) != 0)
            return -1;
        pos += 12 + (size_t)n;
    }
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undoes one row's filter in place; prev is the row above (NULL on a pass's first row). */
static int unfilter(uint8_t ft, uint8_t *row, const uint8_t *prev, size_t n, size_t bpp)
{
    for (size_t i = 0; i < n; i++) {
        int a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0;
        int c = prev && i >= bpp ? prev[i - bpp] : 0;
        static const int NONE = 0, SUB = 1, UP = 2, AVG = 3, PAETH = 4;
        int add = ft == NONE ? 0 : ft == SUB ? a : ft == UP ? b : ft == AVG ? (a + b) / 2
                : ft == PAETH ? paeth(a, b, c) : -1;
        if (add < 0)
            return -1;
        row[i] = (uint8_t)(row[i] + add);
    }
    return 0;
}

/* the sample of pixel x in an unfiltered row */
static uint16_t sample(const uint8_t *row, uint32_t x, uint32_t c, uint32_t ch, uint32_t depth)
{
    if (depth == 16) {
        const uint8_t *p = row + ((size_t)x * ch + c) * 2;
        return (uint16_t)(p[0] << 8 | p[1]);
    }
    if (depth == 8)
        return row[(size_t)x * ch + c];
    size_t bit = (size_t)x * depth;
    return (uint16_t)((row[bit / 8] >> (8 - depth - bit % 8)) & ((1u << depth) - 1));
}

/* Adam7: each pass's first column and row and their steps */
static const uint8_t PASS[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                   {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

static size_t row_bytes(const png_info *pi, uint32_t w)
{
    return ((size_t)w * type_channels(pi->ctype) * pi->depth + 7) / 8;
}

/* Unfilters one pass (the whole image when not interlaced) and stores its pixels. */
static int pass_pixels(const png_info *pi, uint8_t *raw, size_t *pos, size_t raw_len,
                       const uint8_t *pass, pov_image *out, char *err, size_t el)
{
    uint32_t pw = (pi->w - pass[0] + pass[2] - 1) / pass[2];
    uint32_t ph = (pi->h - pass[1] + pass[3] - 1) / pass[3];
    if (pi->w <= pass[0] || pi->h <= pass[1])
        return 0;
    uint32_t ch = type_channels(pi->ctype);
    size_t rb = row_bytes(pi, pw), bpp = (ch * pi->depth + 7) / 8;
    const uint8_t *prev = NULL;
    for (uint32_t y = 0; y < ph; y++) {
        if (raw_len - *pos < rb + 1)
            return fail(err, el, "image data ends early (file truncated?)");
        uint8_t *row = raw + *pos + 1;
        if (unfilter(raw[*pos], row, prev, rb, bpp) != 0)
            return fail(err, el, "row filter %u is unknown (file damaged?)", raw[*pos]);
        uint16_t *dst = out->px + ((size_t)(pass[1] + y * pass[3]) * pi->w) * ch;
        for (uint32_t x = 0; x < pw; x++)
            for (uint32_t c = 0; c < ch; c++)
                dst[(size_t)(pass[0] + x * pass[2]) * ch + c] = sample(row, x, c, ch, pi->depth);
        prev = row;
        *pos += rb + 1;
    }
    return 0;
}

static size_t raw_size(const png_info *pi)
{
    static const uint8_t WHOLE[4] = {0, 0, 1, 1};
    size_t total = 0;
    for (int p = 0; p < (pi->interlace ? 7 : 1); p++) {
        const uint8_t *pass = pi->interlace ? PASS[p] : WHOLE;
        if (pi->w <= pass[0] || pi->h <= pass[1])
            continue;
        uint32_t pw = (pi->w - pass[0] + pass[2] - 1) / pass[2];
        uint32_t ph = (pi->h - pass[1] + pass[3] - 1) / pass[3];
        total += (row_bytes(pi, pw) + 1) * ph;
    }
    return total;
}

static void set_palette(const png_info *pi, pov_image *out)
{
    out->palette_n = pi->plte_n;
    for (uint32_t i = 0; i < pi->plte_n; i++) {
        memcpy(out->palette[i], pi->plte[i], 3);
        out->palette[i][3] = i < pi->trns_n ? pi->trns[i] : 255;
    }
}

/* grey of 1, 2 or 4 bits to 8 (255 / (2^depth - 1) is a whole number) */
static void widen_grey(const png_info *pi, pov_image *out)
{
    uint32_t k = 255u / ((1u << pi->depth) - 1u);
    for (size_t i = 0; i < (size_t)out->w * out->h; i++)
        out->px[i] = (uint16_t)(out->px[i] * k);
}

static int decode_pixels(png_info *pi, pov_image *out, char *err, size_t el)
{
    static const uint8_t WHOLE[4] = {0, 0, 1, 1};
    if (pi->ctype == 3 && pi->plte_n == 0)
        return fail(err, el, "a palette image without PLTE (file damaged?)");
    if (!pi->idat)
        return fail(err, el, "no image data (IDAT missing)");
    size_t need = raw_size(pi), got = 0;
    uint8_t *raw = malloc(need ? need : 1);
    if (!raw)
        return fail(err, el, "out of memory for %ux%u pixels", (unsigned)pi->w, (unsigned)pi->h);
    const char *why = NULL;
    int rc = zlib_inflate(pi->idat, pi->idat_len, raw, need, &got, &why);
    if (rc != 0)
        rc = fail(err, el, "%s", why);
    else if (got < need)
        rc = fail(err, el, "image data ends early (file truncated?)");
    uint32_t bits = pi->depth == 16 ? 16 : 8;
    if (rc == 0)
        rc = image_alloc(out, pi->w, pi->h, type_channels(pi->ctype), bits, "png", err, el);
    size_t pos = 0;
    for (int p = 0; rc == 0 && p < (pi->interlace ? 7 : 1); p++)
        rc = pass_pixels(pi, raw, &pos, got, pi->interlace ? PASS[p] : WHOLE, out, err, el);
    free(raw);
    if (rc == 0 && pi->ctype == 3)
        set_palette(pi, out);
    if (rc == 0 && pi->ctype == 0 && pi->depth < 8)
        widen_grey(pi, out);
    return rc;
}

int image_decode_png(const uint8_t *data, size_t len, pov_image *out, char *err,
                     size_t err_len)
{
    if (len < 8 || memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0)
        return fail(err, err_len, "not a PNG file (its signature is missing)");
    png_info pi;
    memset(&pi, 0, sizeof pi);
    int rc = read_chunks(data, len, &pi, err, err_len);
    if (rc == 0 && pi.w == 0)
        rc = fail(err, err_len, "no IHDR chunk (file damaged?)");
    if (rc == 0)
        rc = decode_pixels(&pi, out, err, err_len);
    if (rc == 0)
        out->file_gamma = pi.gamma;
    free(pi.idat);
    return rc;
}
