/* image_tga.c -- Truevision TGA: types 1 (colour-mapped, 8-bit indices), 2 (truecolour 15,
 * 16, 24 or 32 bits, BGR(A) order) and 3 (8-bit grayscale), and their run-length forms 9, 10
 * and 11. The image descriptor's bit 5 chooses a top-left origin (else the rows are stored
 * bottom-up) and bit 4 right-to-left columns. 15/16-bit pixels carry no alpha. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "image.h"

#define TGA_HEADER 18

typedef struct {
    uint8_t id_len, cmap_type, type;
    uint32_t cmap_first, cmap_len, cmap_bits;
    uint32_t w, h, bpp, desc;
} tga_header;

/* the pixel source: the raw pixels or the run-length packets, read one pixel at a time */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
    uint32_t bytes; /* per pixel */
    int rle;
    uint32_t run;   /* pixels left in the current packet */
    int repeat;     /* the packet repeats one pixel */
    const uint8_t *cur;
} tga_src;

#define fail(err, err_len, ...) image_fail(err, err_len, "tga", __VA_ARGS__)
#define le16 image_le16

static uint8_t five_to_eight(uint32_t v)
{
    return (uint8_t)(((v & 31) * 255 + 15) / 31);
}

/* one pixel of 2, 3 or 4 bytes (BGR order) as r, g, b, a */
static void rgba_of(const uint8_t *b, uint32_t bytes, uint8_t rgba[4])
{
    if (bytes == 2) {
        uint32_t v = le16(b);
        rgba[0] = five_to_eight(v >> 10);
        rgba[1] = five_to_eight(v >> 5);
        rgba[2] = five_to_eight(v);
        rgba[3] = 255;
        return;
    }
    rgba[0] = b[2];
    rgba[1] = b[1];
    rgba[2] = b[0];
    rgba[3] = bytes == 4 ? b[3] : 255;
}

static int truecolour_bits(uint32_t bits)
{
    return bits == 15 || bits == 16 || bits == 24 || bits == 32;
}

static int check_header(const tga_header *t, char *err, size_t err_len)
{
    uint32_t base = t->type & 7u;
    if (t->type == 0)
        return fail(err, err_len, "the file holds no image (type 0)");
    if ((t->type & ~8u) < 1 || (t->type & ~8u) > 3)
        return fail(err, err_len, "image type %u is not supported (1, 2, 3, 9, 10 and 11 are)",
                    (unsigned)t->type);
    if (t->cmap_type > 1)
        return fail(err, err_len, "colour map type %u (0 or 1 expected)", (unsigned)t->cmap_type);
    if (base == 1 && (t->cmap_type != 1 || t->cmap_len == 0))
        return fail(err, err_len, "a colour-mapped image without a colour map");
    if (base == 1 && !truecolour_bits(t->cmap_bits))
        return fail(err, err_len, "colour map entries of %u bits", (unsigned)t->cmap_bits);
    if ((base == 1 || base == 3) && t->bpp != 8)
        return fail(err, err_len, "%u bits per pixel in a type %u image (8 expected)",
                    (unsigned)t->bpp, (unsigned)t->type);
    if (base == 2 && !truecolour_bits(t->bpp))
        return fail(err, err_len, "%u bits per pixel (15, 16, 24 or 32 expected)",
                    (unsigned)t->bpp);
    return 0;
}

static void read_header(const uint8_t *d, tga_header *t)
{
    t->id_len = d[0];
    t->cmap_type = d[1];
    t->type = d[2];
    t->cmap_first = le16(d + 3);
    t->cmap_len = le16(d + 5);
    t->cmap_bits = d[7];
    t->w = le16(d + 12);
    t->h = le16(d + 14);
    t->bpp = d[16];
    t->desc = d[17];
}

/* Loads the colour map (entry i is the palette's index first + i); a map the image does not
   use is skipped. Returns the offset after it, or 0 with err set. */
static size_t load_palette(const uint8_t *data, size_t len, const tga_header *t, pov_image *out,
                           char *err, size_t err_len)
{
    size_t pos = TGA_HEADER + t->id_len;
    if (pos > len) {
        fail(err, err_len, "the image ID field runs past the file's end");
        return 0;
    }
    if (t->cmap_type == 0)
        return pos;
    uint32_t bytes = (t->cmap_bits + 7) / 8;
    size_t size = (size_t)t->cmap_len * bytes;
    if (len - pos < size) {
        fail(err, err_len, "the colour map runs past the file's end");
        return 0;
    }
    if ((t->type & 7u) == 1) {
        uint32_t n = t->cmap_first + t->cmap_len;
        out->palette_n = n > 256 ? 256 : n;
        for (uint32_t i = 0; i < out->palette_n; i++)
            out->palette[i][3] = 255;
        for (uint32_t i = 0; i < t->cmap_len && t->cmap_first + i < 256; i++)
            rgba_of(data + pos + (size_t)i * bytes, bytes, out->palette[t->cmap_first + i]);
    }
    return pos + size;
}

/* The next pixel's bytes, or NULL with err set. */
static const uint8_t *next_pixel(tga_src *s, char *err, size_t err_len)
{
    if (s->rle && s->run == 0) {
        if (s->pos >= s->len) {
            fail(err, err_len, "the run-length data ends early (truncated file?)");
            return NULL;
        }
        uint8_t h = s->p[s->pos++];
        s->run = (h & 127u) + 1;
        s->repeat = h & 128u;
        s->cur = NULL;
    }
    if (!s->rle || !s->repeat || !s->cur) {
        if (s->len - s->pos < s->bytes) {
            fail(err, err_len, "the pixel data ends early (truncated file?)");
            return NULL;
        }
        s->cur = s->p + s->pos;
        s->pos += s->bytes;
    }
    if (s->rle)
        s->run--;
    return s->cur;
}

static int store_pixel(pov_image *out, size_t at, const uint8_t *b, uint32_t bytes, char *err,
                       size_t err_len)
{
    if (out->palette_n > 0 && b[0] >= out->palette_n)
        return fail(err, err_len, "colour index %u beyond the %u-entry colour map",
                    (unsigned)b[0], (unsigned)out->palette_n);
    if (out->channels == 1) {
        out->px[at] = b[0];
        return 0;
    }
    uint8_t rgba[4];
    rgba_of(b, bytes, rgba);
    for (uint32_t c = 0; c < out->channels; c++)
        out->px[at + c] = rgba[c];
    return 0;
}

static int read_pixels(tga_src *s, const tga_header *t, pov_image *out, char *err,
                       size_t err_len)
{
    int top_origin = (t->desc & 0x20) != 0, right_to_left = (t->desc & 0x10) != 0;
    for (uint32_t y = 0; y < t->h; y++) {
        uint32_t row = top_origin ? y : t->h - 1 - y;
        for (uint32_t x = 0; x < t->w; x++) {
            uint32_t col = right_to_left ? t->w - 1 - x : x;
            const uint8_t *b = next_pixel(s, err, err_len);
            size_t at = ((size_t)row * t->w + col) * out->channels;
            if (!b || store_pixel(out, at, b, s->bytes, err, err_len) != 0)
                return -1;
        }
    }
    if (s->run > 0)
        return fail(err, err_len, "a run-length packet runs %u pixels past the image's end",
                    (unsigned)s->run);
    return 0;
}

int image_decode_tga(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len)
{
    tga_header t;
    if (len < TGA_HEADER)
        return fail(err, err_len, "file of %zu bytes, shorter than the %d-byte header", len,
                    TGA_HEADER);
    read_header(data, &t);
    if (check_header(&t, err, err_len) != 0)
        return -1;
    size_t pos = load_palette(data, len, &t, out, err, err_len);
    if (pos == 0)
        return -1;
    uint32_t channels = (t.type & 7u) == 2 ? (t.bpp == 32 ? 4 : 3) : 1;
    if (image_alloc(out, t.w, t.h, channels, 8, "tga", err, err_len) != 0)
        return -1;
    tga_src s = {data, len, pos, (t.bpp + 7) / 8, (t.type & 8u) != 0, 0, 0, NULL};
    return read_pixels(&s, &t, out, err, err_len);
}
