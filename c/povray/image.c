/* image.c -- one entry per image format: its magic and its decoder (image.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

typedef int (*image_decoder)(const uint8_t *, size_t, pov_image *, char *, size_t);

static const struct {
    uint32_t format;
    const char *magic; /* the file's first bytes; NULL: recognised by its decoder only */
    size_t magic_len;
    image_decoder decode;
} FORMATS[] = {
    {IMG_PNG, "\x89PNG\r\n\x1a\n", 8, image_decode_png},
    {IMG_GIF, "GIF8", 4, image_decode_gif},
    {IMG_JPEG, "\xff\xd8\xff", 3, image_decode_jpeg},
    {IMG_PPM, "P6", 2, image_decode_pnm}, /* the PNM decoder reads P2, P3, P5 and P6 */
    {IMG_PPM, "P3", 2, image_decode_pnm},
    {IMG_PGM, "P5", 2, image_decode_pnm},
    {IMG_PGM, "P2", 2, image_decode_pnm},
    {IMG_TGA, NULL, 0, image_decode_tga},
    {IMG_POT, NULL, 0, image_decode_pot},
};

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

int image_fail(char *err, size_t err_len, const char *who, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, err_len, "%s: %s", who, msg);
    return -1;
}

int image_alloc(pov_image *out, uint32_t w, uint32_t h, uint32_t channels, uint32_t bits,
                const char *who, char *err, size_t err_len)
{
    if (w == 0 || h == 0 || w > POV_IMAGE_MAX_DIM || h > POV_IMAGE_MAX_DIM ||
        (uint64_t)w * h > POV_IMAGE_MAX_PIXELS) {
        set_err(err, err_len, "%s: image of %ux%u pixels (at most %u pixels in all)", who,
                (unsigned)w, (unsigned)h, POV_IMAGE_MAX_PIXELS);
        return -1;
    }
    if (channels < 1 || channels > 4 || (bits != 8 && bits != 16)) {
        set_err(err, err_len, "%s: %u channels of %u bits", who, (unsigned)channels,
                (unsigned)bits);
        return -1;
    }
    out->px = calloc((size_t)w * h * channels, sizeof(uint16_t));
    if (!out->px) {
        set_err(err, err_len, "%s: out of memory for %ux%u pixels", who, (unsigned)w,
                (unsigned)h);
        return -1;
    }
    out->w = w;
    out->h = h;
    out->channels = channels;
    out->bits = bits;
    return 0;
}

/* POV-Ray's POT reading (its gif.cpp): the GIF's palette left out, each pixel of the left
   half the high byte of a 16-bit grey, the pixel as far right its low byte */
int image_decode_pot(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len)
{
    pov_image gif;
    if (image_decode_gif(data, len, &gif, err, err_len) != 0)
        return -1;
    int rc = -1;
    if (!gif.palette_n || gif.w % 2)
        image_fail(err, err_len, "pot", "a POT file is a palette GIF of even width (got %u)",
                   (unsigned)gif.w);
    else if (image_alloc(out, gif.w / 2, gif.h, 1, 16, "pot", err, err_len) == 0) {
        for (uint32_t y = 0; y < gif.h; y++)
            for (uint32_t x = 0; x < out->w; x++) {
                const uint16_t *row = gif.px + (size_t)y * gif.w;
                out->px[(size_t)y * out->w + x] = (uint16_t)(row[x] << 8 | row[x + out->w]);
            }
        rc = 0;
    }
    image_free(&gif);
    return rc;
}

void image_free(pov_image *img)
{
    free(img->px);
    memset(img, 0, sizeof *img);
}

int image_decode(const uint8_t *data, size_t len, uint32_t format, pov_image *out, char *err,
                 size_t err_len)
{
    memset(out, 0, sizeof *out);
    size_t n = sizeof FORMATS / sizeof FORMATS[0];
    for (size_t i = 0; i < n; i++) {
        int by_magic = format == IMG_AUTO && FORMATS[i].magic &&
                       len >= FORMATS[i].magic_len &&
                       memcmp(data, FORMATS[i].magic, FORMATS[i].magic_len) == 0;
        if (format == FORMATS[i].format || by_magic) {
            int rc = FORMATS[i].decode(data, len, out, err, err_len);
            if (rc != 0)
                image_free(out);
            return rc;
        }
    }
    set_err(err, err_len, format == IMG_AUTO ? "not an image file this renderer reads (give "
                                               "its type: png, gif, tga, ppm, pgm or jpeg)"
                                             : "this image type is not supported yet");
    return -1;
}
