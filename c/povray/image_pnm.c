/* image_pnm.c -- PGM and PPM images (Netpbm): P2 and P3 (ASCII samples), P5 and P6 (binary
 * samples, big-endian when maxval is above 255), # comments in the header. A maxval up to
 * 255 gives 8-bit samples, 256..65535 16-bit ones; either is scaled to the full range. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "image.h"

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    const char *who; /* "ppm" or "pgm" */
    char *err;
    size_t err_len;
} pnm_in;

/* the kinds this decoder reads, by the second byte of the magic */
static const struct {
    char kind;
    uint32_t channels;
    int binary;
    const char *who;
} KINDS[] = {
    {'2', 1, 0, "pgm"},
    {'3', 3, 0, "ppm"},
    {'5', 1, 1, "pgm"},
    {'6', 3, 1, "ppm"},
};

static int fail(pnm_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(pnm_in *in, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(in->err, in->err_len, "%s: %s", in->who, msg);
    return -1;
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skips whitespace and # comments (a comment runs to the end of its line). */
static void skip_space(pnm_in *in)
{
    while (in->pos < in->len) {
        uint8_t c = in->p[in->pos];
        if (c == '#') {
            while (in->pos < in->len && in->p[in->pos] != '\n' && in->p[in->pos] != '\r')
                in->pos++;
        } else if (is_space(c)) {
            in->pos++;
        } else {
            break;
        }
    }
}

/* Reads one decimal number of at most max (what names it in a message). */
static int read_number(pnm_in *in, const char *what, uint32_t max, uint32_t *v)
{
    skip_space(in);
    if (in->pos >= in->len)
        return fail(in, "the file ends before its %s", what);
    uint8_t c = in->p[in->pos];
    if (c < '0' || c > '9')
        return fail(in, "%s expected at offset %zu, found byte 0x%02x", what, in->pos, c);
    uint64_t n = 0;
    while (in->pos < in->len && in->p[in->pos] >= '0' && in->p[in->pos] <= '9') {
        if (n <= 0xffffffffu)
            n = n * 10 + (uint64_t)(in->p[in->pos] - '0');
        in->pos++;
    }
    if (n > max)
        return fail(in, "%s %llu above %u", what, (unsigned long long)n, (unsigned)max);
    *v = (uint32_t)n;
    return 0;
}

/* v (0..maxval) on the full 0..255 or 0..65535 range, rounded */
static uint16_t scale(uint32_t v, uint32_t maxval, uint32_t top)
{
    if (maxval == top)
        return (uint16_t)v;
    return (uint16_t)(((uint64_t)v * top + maxval / 2) / maxval);
}

static int read_ascii(pnm_in *in, pov_image *out, size_t n, uint32_t maxval, uint32_t top)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        if (read_number(in, "sample", maxval, &v) != 0)
            return -1;
        out->px[i] = scale(v, maxval, top);
    }
    return 0;
}

static int read_binary(pnm_in *in, pov_image *out, size_t n, uint32_t maxval, uint32_t top)
{
    size_t width = maxval > 255 ? 2 : 1;
    size_t have = in->len - in->pos;
    if (have / width < n)
        return fail(in, "pixel data truncated (%zu of %zu bytes)", have, n * width);
    const uint8_t *s = in->p + in->pos;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = width == 2 ? (uint32_t)s[2 * i] << 8 | s[2 * i + 1] : s[i];
        if (v > maxval)
            return fail(in, "sample %u above the maxval %u", (unsigned)v, (unsigned)maxval);
        out->px[i] = scale(v, maxval, top);
    }
    return 0;
}

int image_decode_pnm(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len)
{
    pnm_in in = {data, len, 2, "ppm", err, err_len};
    size_t k = 0, nkinds = sizeof KINDS / sizeof KINDS[0];
    while (k < nkinds && !(len >= 2 && data[0] == 'P' && data[1] == (uint8_t)KINDS[k].kind))
        k++;
    if (k == nkinds)
        return fail(&in, "not a PPM or PGM file (it does not start with P2, P3, P5 or P6)");
    in.who = KINDS[k].who;
    uint32_t w, h, maxval;
    if (read_number(&in, "width", POV_IMAGE_MAX_DIM, &w) != 0 ||
        read_number(&in, "height", POV_IMAGE_MAX_DIM, &h) != 0 ||
        read_number(&in, "maxval", 65535, &maxval) != 0)
        return -1;
    if (maxval == 0)
        return fail(&in, "maxval 0");
    if (KINDS[k].binary) { /* exactly one whitespace byte before the samples */
        if (in.pos >= len || !is_space(data[in.pos]))
            return fail(&in, "no whitespace between the maxval and the pixel data");
        in.pos++;
    }
    uint32_t bits = maxval > 255 ? 16 : 8, top = bits == 16 ? 65535 : 255;
    if (image_alloc(out, w, h, KINDS[k].channels, bits, in.who, err, err_len) != 0)
        return -1;
    size_t n = (size_t)w * h * KINDS[k].channels;
    return KINDS[k].binary ? read_binary(&in, out, n, maxval, top)
                           : read_ascii(&in, out, n, maxval, top);
}
