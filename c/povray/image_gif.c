/* image_gif.c -- GIF87a and GIF89a: the first image of the file, as palette indices on the
 * logical screen (pixels outside the image get the background index; an image reaching
 * past the screen grows it). The local colour table, else the global one, is the palette; a
 * Graphic Control Extension before the image gives its transparent index alpha 0. LZW with
 * minimum code sizes 2..8; interlaced images are put back in row order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define LZW_MAX 4096

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    char *err;
    size_t err_len;
} gif_in;

/* where the decoded indices go: the image's frame on the canvas */
typedef struct {
    pov_image *out;
    uint32_t left, top, w, h;
    int interlaced;
    size_t at, total; /* indices stored so far, of w * h */
} gif_sink;

/* the four passes of an interlaced image: first row and row step */
static const uint32_t PASSES[4][2] = {{0, 8}, {4, 8}, {2, 4}, {1, 2}};

#define fail(err, err_len, ...) image_fail(err, err_len, "gif", __VA_ARGS__)
#define le16 image_le16

/* The frame row the n-th stored row lands on. */
static uint32_t frame_row(const gif_sink *s, uint32_t n)
{
    if (!s->interlaced)
        return n;
    for (int i = 0; i < 4; i++) {
        uint32_t start = PASSES[i][0], step = PASSES[i][1];
        uint32_t rows = s->h > start ? (s->h - start + step - 1) / step : 0;
        if (n < rows)
            return start + n * step;
        n -= rows;
    }
    return 0; /* not reached: n < h */
}

static int put_index(gif_sink *s, uint32_t idx, char *err, size_t err_len)
{
    if (s->at >= s->total)
        return 0; /* data past the image's last pixel is ignored */
    if (idx >= s->out->palette_n)
        return fail(err, err_len, "colour index %u beyond the %u-entry colour table",
                    (unsigned)idx, (unsigned)s->out->palette_n);
    uint32_t row = s->top + frame_row(s, (uint32_t)(s->at / s->w));
    uint32_t col = s->left + (uint32_t)(s->at % s->w);
    s->out->px[(size_t)row * s->out->w + col] = (uint16_t)idx;
    s->at++;
    return 0;
}

/* The next code of size bits (least significant bit first), or -1 at the data's end. */
static int read_code(const uint8_t *d, size_t n, size_t *bitpos, uint32_t size)
{
    if (*bitpos + size > n * 8)
        return -1;
    uint32_t v = 0;
    for (uint32_t i = 0; i < size; i++) {
        size_t b = *bitpos + i;
        v |= (uint32_t)(d[b >> 3] >> (b & 7) & 1) << i;
    }
    *bitpos += size;
    return (int)v;
}

/* Emits the string of code (its characters found through prefix[]), then extra when it is
   not negative; returns the string's first character or -1 with err set. */
static int emit(gif_sink *s, const uint16_t *prefix, const uint8_t *suffix, uint32_t clear,
                uint32_t code, int extra, char *err, size_t err_len)
{
    uint8_t stack[LZW_MAX];
    size_t n = 0;
    while (code >= clear && n < LZW_MAX) {
        stack[n++] = suffix[code];
        code = prefix[code];
    }
    int first = (int)code;
    if (put_index(s, code, err, err_len) != 0)
        return -1;
    while (n > 0)
        if (put_index(s, stack[--n], err, err_len) != 0)
            return -1;
    if (extra >= 0 && put_index(s, (uint32_t)extra, err, err_len) != 0)
        return -1;
    return first;
}

static int lzw_decode(const uint8_t *d, size_t n, uint32_t min, gif_sink *s, char *err,
                      size_t err_len)
{
    uint16_t prefix[LZW_MAX];
    uint8_t suffix[LZW_MAX];
    uint32_t clear = 1u << min, end = clear + 1, next = end + 1, size = min + 1;
    int prev = -1, first = 0;
    size_t bitpos = 0;
    while (s->at < s->total) {
        int code = read_code(d, n, &bitpos, size);
        if (code < 0 || (uint32_t)code == end)
            return fail(err, err_len, "the image data ends after %zu of %zu pixels%s", s->at,
                        s->total, code < 0 ? " (truncated file?)" : "");
        if ((uint32_t)code == clear) {
            next = end + 1;
            size = min + 1;
            prev = -1;
            continue;
        }
        if ((prev < 0 && (uint32_t)code > clear) || (uint32_t)code > next ||
            ((uint32_t)code == next && next == LZW_MAX))
            return fail(err, err_len, "LZW code %d beyond the table (file damaged?)", code);
        int known = (uint32_t)code < next;
        first = emit(s, prefix, suffix, clear, known ? (uint32_t)code : (uint32_t)prev,
                     known ? -1 : first, err, err_len);
        if (first < 0)
            return -1;
        if (prev >= 0 && next < LZW_MAX) {
            prefix[next] = (uint16_t)prev;
            suffix[next] = (uint8_t)first;
            if (++next == 1u << size && size < 12)
                size++;
        }
        prev = code;
    }
    return 0;
}

/* Skips a run of data sub-blocks (each a length byte and its bytes; a 0 ends it). */
static int skip_sub_blocks(gif_in *in)
{
    for (;;) {
        if (in->pos >= in->len)
            return fail(in->err, in->err_len, "the file ends inside a data block");
        uint8_t n = in->p[in->pos++];
        if (n == 0)
            return 0;
        if (in->len - in->pos < n)
            return fail(in->err, in->err_len, "a data block runs past the file's end");
        in->pos += n;
    }
}

/* Reads the blocks before the first image (noting a Graphic Control Extension's transparent
   index); leaves pos after the image separator. */
static int find_image(gif_in *in, int *transparent)
{
    for (;;) {
        if (in->pos >= in->len)
            return fail(in->err, in->err_len, "the file ends before its first image");
        uint8_t b = in->p[in->pos++];
        if (b == 0x2c)
            return 0;
        if (b == 0x3b)
            return fail(in->err, in->err_len, "no image in the file");
        if (b != 0x21)
            return fail(in->err, in->err_len, "unknown block 0x%02x at offset %zu", b,
                        in->pos - 1);
        if (in->pos >= in->len)
            return fail(in->err, in->err_len, "the file ends inside an extension");
        uint8_t label = in->p[in->pos++];
        if (label == 0xf9 && in->len - in->pos >= 5 && in->p[in->pos] >= 4)
            *transparent = in->p[in->pos + 1] & 1 ? in->p[in->pos + 4] : -1;
        if (skip_sub_blocks(in) != 0)
            return -1;
    }
}

/* The image's data sub-blocks joined in one malloc'ed buffer; NULL with err set. */
static uint8_t *join_sub_blocks(gif_in *in, size_t *n)
{
    size_t start = in->pos, total = 0;
    if (skip_sub_blocks(in) != 0)
        return NULL;
    uint8_t *d = malloc(in->pos - start);
    if (!d) {
        fail(in->err, in->err_len, "out of memory for the image data");
        return NULL;
    }
    for (size_t pos = start; in->p[pos] != 0; pos += 1 + in->p[pos]) {
        memcpy(d + total, in->p + pos + 1, in->p[pos]);
        total += in->p[pos];
    }
    *n = total;
    return d;
}

/* Reads a colour table of n entries at pos into the palette. */
static int read_table(gif_in *in, uint32_t n, pov_image *out)
{
    if (in->len - in->pos < (size_t)n * 3)
        return fail(in->err, in->err_len, "the colour table runs past the file's end");
    for (uint32_t i = 0; i < n; i++) {
        memcpy(out->palette[i], in->p + in->pos + 3 * i, 3);
        out->palette[i][3] = 255;
    }
    out->palette_n = n;
    in->pos += (size_t)n * 3;
    return 0;
}

static int decode_frame(gif_in *in, gif_sink *s, pov_image *out, int transparent,
                        uint32_t background)
{
    if (in->pos >= in->len)
        return fail(in->err, in->err_len, "the file ends before the image data");
    uint32_t min = in->p[in->pos++];
    if (min < 2 || min > 8)
        return fail(in->err, in->err_len, "LZW minimum code size %u (2..8 expected)",
                    (unsigned)min);
    if (transparent >= 0 && (uint32_t)transparent < out->palette_n)
        out->palette[transparent][3] = 0;
    uint16_t bg = (uint16_t)(background < out->palette_n ? background : 0);
    for (size_t i = 0; i < (size_t)out->w * out->h; i++)
        out->px[i] = bg;
    size_t n = 0;
    uint8_t *d = join_sub_blocks(in, &n);
    if (!d)
        return -1;
    int rc = lzw_decode(d, n, min, s, in->err, in->err_len);
    free(d);
    return rc;
}

int image_decode_gif(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len)
{
    gif_in in = {data, len, 13, err, err_len};
    if (len < 6 || (memcmp(data, "GIF87a", 6) != 0 && memcmp(data, "GIF89a", 6) != 0))
        return fail(err, err_len, "not a GIF file (no GIF87a or GIF89a at its start)");
    if (len < 13)
        return fail(err, err_len, "file of %zu bytes, shorter than its 13-byte header", len);
    uint32_t screen_w = le16(data + 6), screen_h = le16(data + 8), global = data[10];
    size_t global_at = in.pos;
    if (global & 0x80)
        in.pos += (size_t)3 << ((global & 7) + 1);
    int transparent = -1;
    if (in.pos > len)
        return fail(err, err_len, "the colour table runs past the file's end");
    if (find_image(&in, &transparent) != 0)
        return -1;
    if (len - in.pos < 9)
        return fail(err, err_len, "the file ends inside the image descriptor");
    const uint8_t *id = data + in.pos;
    gif_sink s = {out, le16(id), le16(id + 2), le16(id + 4), le16(id + 6), id[8] & 0x40, 0, 0};
    int local = (id[8] & 0x80) != 0;
    in.pos += 9;
    if (!local && !(global & 0x80))
        return fail(err, err_len, "no colour table (neither a global nor a local one)");
    gif_in table = in;
    table.pos = local ? in.pos : global_at;
    if (read_table(&table, 2u << ((local ? id[8] : global) & 7), out) != 0)
        return -1;
    if (local)
        in.pos = table.pos;
    if (s.w == 0 || s.h == 0)
        return fail(err, err_len, "an image of %ux%u pixels", (unsigned)s.w, (unsigned)s.h);
    s.total = (size_t)s.w * s.h;
    uint32_t cw = s.left + s.w > screen_w ? s.left + s.w : screen_w;
    uint32_t ch = s.top + s.h > screen_h ? s.top + s.h : screen_h;
    if (image_alloc(out, cw, ch, 1, 8, "gif", err, err_len) != 0)
        return -1;
    return decode_frame(&in, &s, out, transparent, data[11]);
}
