/* image_jpeg_color.c -- a decoded JPEG's planes to the image: chroma upsampled with the
 * triangle ("fancy") filter libjpeg applies by default to 2:1 sampling (each output sample
 * 3/4 of its nearer input sample and 1/4 of the next one; the image's edge samples repeated),
 * plain replication for other ratios; YCbCr to RGB as JFIF gives it. */
#include <stdlib.h>
#include <string.h>

#include "image_jpeg.h"

/* Two outputs for each input across: 3/4 of it and 1/4 of its left or right neighbour,
   rounded with bias0 and bias1, then shifted right by shift (2, or 4 for inputs that are
   already 4 times the samples). */
static void triangle_across(const int32_t *in, uint32_t n, uint8_t *dst, uint32_t w, int shift,
                            int32_t bias0, int32_t bias1)
{
    for (uint32_t i = 0; i < n; i++) {
        int32_t left = in[i > 0 ? i - 1 : 0], right = in[i + 1 < n ? i + 1 : i];
        if (2 * i < w)
            dst[2 * i] = (uint8_t)((3 * in[i] + left + bias0) >> shift);
        if (2 * i + 1 < w)
            dst[2 * i + 1] = (uint8_t)((3 * in[i] + right + bias1) >> shift);
    }
}

/* Output row y of component c (w samples) into dst; sum holds dw values. */
static void upsample_row(const jpeg_dec *d, const jpeg_comp *c, uint32_t y, uint8_t *dst,
                         int32_t *sum)
{
    uint32_t hx = d->hmax / c->h, vy = d->vmax / c->v, sy = y / vy;
    const uint8_t *row = c->plane + (size_t)sy * c->pw;
    if (hx <= 2 && vy == 2) { /* 3/4 of this row, 1/4 of the row above or below */
        uint32_t near = y % 2 == 0 ? (sy > 0 ? sy - 1 : 0) : (sy + 1 < c->dh ? sy + 1 : sy);
        const uint8_t *other = c->plane + (size_t)near * c->pw;
        for (uint32_t i = 0; i < c->dw; i++)
            sum[i] = 3 * row[i] + other[i];
        if (hx == 2) {
            triangle_across(sum, c->dw, dst, d->w, 4, 8, 7);
        } else {
            for (uint32_t i = 0; i < d->w; i++)
                dst[i] = (uint8_t)((sum[i] + (y % 2 == 0 ? 1 : 2)) >> 2);
        }
    } else if (hx == 2 && vy == 1) {
        for (uint32_t i = 0; i < c->dw; i++)
            sum[i] = row[i];
        triangle_across(sum, c->dw, dst, d->w, 2, 1, 2);
    } else {
        for (uint32_t i = 0; i < d->w; i++)
            dst[i] = row[i / hx];
    }
}

static uint16_t clamp_round(double v)
{
    v += 0.5;
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint16_t)(int)v;
}

static void ycc_to_rgb(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint32_t w,
                       uint16_t *out)
{
    for (uint32_t i = 0; i < w; i++, out += 3) {
        double b = cb[i] - 128.0, r = cr[i] - 128.0;
        out[0] = clamp_round(y[i] + 1.402 * r);
        out[1] = clamp_round(y[i] - 0.344136 * b - 0.714136 * r);
        out[2] = clamp_round(y[i] + 1.772 * b);
    }
}

int jpeg_output(const jpeg_dec *d, pov_image *out)
{
    uint32_t n = d->ncomp, w = d->w, widest = 0;
    for (uint32_t c = 0; c < n; c++)
        widest = d->comp[c].pw > widest ? d->comp[c].pw : widest;
    uint8_t *rows = malloc((size_t)w * n);
    int32_t *sum = malloc((size_t)widest * sizeof *sum);
    int rgb = n == 3 && !d->jfif &&
              (d->adobe_transform == 0 ||
               (d->adobe_transform < 0 && d->comp[0].id == 'R' && d->comp[1].id == 'G' &&
                d->comp[2].id == 'B'));
    if (!rows || !sum) {
        free(rows);
        free(sum);
        return -1;
    }
    for (uint32_t y = 0; y < d->h; y++) {
        uint16_t *o = out->px + (size_t)y * w * n;
        for (uint32_t c = 0; c < n; c++)
            upsample_row(d, &d->comp[c], y, rows + (size_t)c * w, sum);
        if (n == 3 && !rgb) {
            ycc_to_rgb(rows, rows + w, rows + 2 * w, w, o);
            continue;
        }
        for (uint32_t i = 0; i < w; i++)
            for (uint32_t c = 0; c < n; c++)
                o[i * n + c] = rows[(size_t)c * w + i];
    }
    free(rows);
    free(sum);
    return 0;
}
