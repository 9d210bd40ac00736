/* image_jpeg.c -- baseline JPEG (SOF0, and SOF1 with 8-bit samples): the markers and their
 * segments (DQT 8 and 16-bit, DHT, DRI, SOF, SOS; JFIF APP0 and Adobe APP14 read for the
 * colour space, other APPn and COM skipped). Grayscale or three components (YCbCr, or RGB
 * where an Adobe segment or the component ids R, G, B say so), sampling factors 1..4 that
 * divide the largest. Progressive, lossless, hierarchical and arithmetic-coded files are
 * refused with a message saying so. The scans: image_jpeg_scan.c; the colour:
 * image_jpeg_color.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_jpeg.h"

typedef int (*segment_fn)(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n);

static int read_sof(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n);
static int read_dht(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n);
static int read_dqt(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n);
static int read_dri(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n);
static int read_sos(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n);
static int read_app(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n);

#define ARITHMETIC "arithmetic-coded JPEG is not supported; save it as baseline"

/* markers first..last with a segment: read by fn, or refused with the message; markers not
   listed are skipped */
static const struct {
    uint8_t first, last;
    segment_fn fn;
    const char *refused;
} MARKERS[] = {
    {0xc0, 0xc1, read_sof, NULL},
    {0xc2, 0xc2, NULL, "progressive JPEG is not supported; save it as baseline"},
    {0xc3, 0xc3, NULL, "lossless JPEG is not supported; save it as baseline"},
    {0xc4, 0xc4, read_dht, NULL},
    {0xc5, 0xc7, NULL, "hierarchical JPEG is not supported; save it as baseline"},
    {0xc9, 0xcc, NULL, ARITHMETIC},
    {0xcd, 0xcf, NULL, ARITHMETIC},
    {0xda, 0xda, read_sos, NULL},
    {0xdb, 0xdb, read_dqt, NULL},
    {0xdc, 0xdc, NULL, "a DNL marker (the height given after the scan) is not supported"},
    {0xdd, 0xdd, read_dri, NULL},
    {0xe0, 0xe0, read_app, NULL},
    {0xee, 0xee, read_app, NULL},
};

int jpeg_fail(jpeg_dec *d, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(d->err, d->err_len, "jpeg: %s", msg);
    return -1;
}

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static int read_components(jpeg_dec *d, const uint8_t *s)
{
    for (uint32_t i = 0; i < d->ncomp; i++) {
        jpeg_comp *c = &d->comp[i];
        c->id = s[3 * i];
        c->h = s[3 * i + 1] >> 4;
        c->v = s[3 * i + 1] & 15;
        c->tq = s[3 * i + 2];
        if (c->h < 1 || c->h > 4 || c->v < 1 || c->v > 4)
            return jpeg_fail(d, "component %u has sampling factors %ux%u (1..4 expected)",
                             (unsigned)c->id, (unsigned)c->h, (unsigned)c->v);
        if (c->tq > 3)
            return jpeg_fail(d, "component %u uses quantisation table %u (0..3 expected)",
                             (unsigned)c->id, (unsigned)c->tq);
        d->hmax = c->h > d->hmax ? c->h : d->hmax;
        d->vmax = c->v > d->vmax ? c->v : d->vmax;
    }
    return 0;
}

/* The component planes: whole MCUs, samples up to ceil(size * factor / largest factor). */
static int alloc_planes(jpeg_dec *d)
{
    d->mcux = (d->w + 8 * d->hmax - 1) / (8 * d->hmax);
    d->mcuy = (d->h + 8 * d->vmax - 1) / (8 * d->vmax);
    for (uint32_t i = 0; i < d->ncomp; i++) {
        jpeg_comp *c = &d->comp[i];
        if (d->hmax % c->h != 0 || d->vmax % c->v != 0)
            return jpeg_fail(d, "sampling factors %ux%u beside %ux%u are not supported",
                             (unsigned)c->h, (unsigned)c->v, (unsigned)d->hmax,
                             (unsigned)d->vmax);
        c->dw = (uint32_t)(((uint64_t)d->w * c->h + d->hmax - 1) / d->hmax);
        c->dh = (uint32_t)(((uint64_t)d->h * c->v + d->vmax - 1) / d->vmax);
        c->pw = d->mcux * c->h * 8;
        c->ph = d->mcuy * c->v * 8;
        c->plane = calloc((size_t)c->pw * c->ph, 1);
        if (!c->plane)
            return jpeg_fail(d, "out of memory for %ux%u samples", (unsigned)c->pw,
                             (unsigned)c->ph);
    }
    return 0;
}

static int read_sof(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n)
{
    if (d->ncomp)
        return jpeg_fail(d, "a second frame header (SOF)");
    if (n < 6)
        return jpeg_fail(d, "a frame header (SOF) of %zu bytes", n);
    uint32_t nf = s[5];
    if (s[0] != 8)
        return jpeg_fail(d, "%u-bit samples are not supported (8-bit only)", (unsigned)s[0]);
    if (be16(s + 1) == 0)
        return jpeg_fail(d, "height 0 (a height given by a DNL marker is not supported)");
    if (nf != 1 && nf != 3)
        return jpeg_fail(d, "%u components%s are not supported (1: grayscale, 3: colour)",
                         (unsigned)nf, nf == 4 ? " (CMYK)" : "");
    if (n != 6 + 3 * (size_t)nf)
        return jpeg_fail(d, "a frame header (SOF) of %zu bytes for %u components", n,
                         (unsigned)nf);
    d->ncomp = nf;
    d->h = be16(s + 1);
    d->w = be16(s + 3);
    if (read_components(d, s + 6) != 0 ||
        image_alloc(out, d->w, d->h, nf, 8, "jpeg", d->err, d->err_len) != 0)
        return -1;
    return alloc_planes(d);
}

static int read_dht(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n)
{
    (void)out;
    for (size_t i = 0; i < n;) {
        if (n - i < 17)
            return jpeg_fail(d, "a Huffman table segment (DHT) ends inside a table");
        uint32_t tc = s[i] >> 4, th = s[i] & 15, total = 0;
        if (tc > 1 || th > 3)
            return jpeg_fail(d, "Huffman table class %u, number %u", (unsigned)tc,
                             (unsigned)th);
        for (int l = 0; l < 16; l++)
            total += s[i + 1 + l];
        if (total > 256 || n - i - 17 < total)
            return jpeg_fail(d, "a Huffman table of %u codes in %zu bytes", (unsigned)total,
                             n - i - 17);
        jpeg_huff *t = tc ? &d->ac[th] : &d->dc[th];
        memcpy(t->vals, s + i + 17, total);
        if (jpeg_build_huff(d, t, s + i + 1) != 0)
            return -1;
        i += 17 + total;
    }
    return 0;
}

static int read_dqt(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n)
{
    (void)out;
    for (size_t i = 0; i < n;) {
        uint32_t pq = s[i] >> 4, tq = s[i] & 15, size = pq ? 128 : 64;
        if (pq > 1 || tq > 3)
            return jpeg_fail(d, "quantisation table precision %u, number %u", (unsigned)pq,
                             (unsigned)tq);
        if (n - i - 1 < size)
            return jpeg_fail(d, "a quantisation table segment (DQT) ends inside a table");
        for (int k = 0; k < 64; k++)
            d->q[tq][k] = (uint16_t)(pq ? be16(s + i + 1 + 2 * k) : s[i + 1 + k]);
        d->q_defined[tq] = 1;
        i += 1 + size;
    }
    return 0;
}

static int read_dri(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n)
{
    (void)out;
    if (n != 2)
        return jpeg_fail(d, "a restart interval segment (DRI) of %zu bytes", n);
    d->restart = be16(s);
    return 0;
}

/* JFIF (APP0) and Adobe (APP14) segments, for the colour space of three components */
static int read_app(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n)
{
    (void)out;
    if (n >= 5 && memcmp(s, "JFIF", 5) == 0)
        d->jfif = 1;
    if (n >= 12 && memcmp(s, "Adobe", 5) == 0)
        d->adobe_transform = s[11];
    return 0;
}

/* The component the scan names as id (not named twice in it), with its tables checked. */
static jpeg_comp *scan_component(jpeg_dec *d, jpeg_comp **sc, uint32_t have, const uint8_t *s)
{
    jpeg_comp *c = NULL;
    for (uint32_t i = 0; i < d->ncomp; i++)
        if (d->comp[i].id == s[0])
            c = &d->comp[i];
    for (uint32_t i = 0; i < have; i++)
        if (sc[i] == c)
            c = NULL;
    if (!c) {
        jpeg_fail(d, "the scan names component %u: not in the frame, or twice", s[0]);
        return NULL;
    }
    c->td = s[1] >> 4;
    c->ta = s[1] & 15;
    if (c->td > 3 || c->ta > 3 || !d->dc[c->td].defined || !d->ac[c->ta].defined) {
        jpeg_fail(d, "component %u uses Huffman tables %u and %u, not both defined",
                  (unsigned)c->id, (unsigned)c->td, (unsigned)c->ta);
        return NULL;
    }
    if (!d->q_defined[c->tq]) {
        jpeg_fail(d, "component %u uses quantisation table %u, which is not defined",
                  (unsigned)c->id, (unsigned)c->tq);
        return NULL;
    }
    return c;
}

static int read_sos(jpeg_dec *d, pov_image *out, const uint8_t *s, size_t n)
{
    (void)out;
    jpeg_comp *sc[JPEG_MAX_COMPONENTS];
    uint32_t ns = n > 0 ? s[0] : 0, blocks = 0;
    if (!d->ncomp)
        return jpeg_fail(d, "a scan before the frame header (SOF)");
    if (ns < 1 || ns > d->ncomp || n != 4 + 2 * (size_t)ns)
        return jpeg_fail(d, "a scan header (SOS) of %zu bytes for %u components", n,
                         (unsigned)ns);
    for (uint32_t i = 0; i < ns; i++) {
        if (!(sc[i] = scan_component(d, sc, i, s + 1 + 2 * i)))
            return -1;
        blocks += sc[i]->h * sc[i]->v;
    }
    if (ns > 1 && blocks > 10)
        return jpeg_fail(d, "%u blocks in an MCU (at most 10)", (unsigned)blocks);
    const uint8_t *sel = s + 1 + 2 * ns;
    if (sel[0] != 0 || sel[1] != 63 || sel[2] != 0)
        return jpeg_fail(d, "a scan of coefficients %u..%u, approximation 0x%02x: not baseline",
                         sel[0], sel[1], sel[2]);
    return jpeg_decode_scan(d, sc, ns);
}

/* The next marker (fill bytes and stray bytes between segments skipped); 0 at the end. */
static int next_marker(jpeg_dec *d, uint8_t *m)
{
    for (;;) {
        while (d->pos < d->len && d->p[d->pos] != 0xff)
            d->pos++;
        while (d->pos < d->len && d->p[d->pos] == 0xff)
            d->pos++;
        if (d->pos >= d->len)
            return 0;
        *m = d->p[d->pos++];
        if (*m != 0 && *m != 0x01 && (*m < 0xd0 || *m > 0xd7)) /* not data, TEM, RSTn */
            return 1;
    }
}

static int segment(jpeg_dec *d, pov_image *out, uint8_t m)
{
    if (d->len - d->pos < 2)
        return jpeg_fail(d, "the file ends inside the header of segment 0x%02x", m);
    size_t n = be16(d->p + d->pos);
    if (n < 2 || n > d->len - d->pos)
        return jpeg_fail(d, "segment 0x%02x of %zu bytes runs past the file's end", m, n);
    const uint8_t *s = d->p + d->pos + 2;
    d->pos += n;
    for (size_t i = 0; i < sizeof MARKERS / sizeof MARKERS[0]; i++) {
        if (m < MARKERS[i].first || m > MARKERS[i].last)
            continue;
        return MARKERS[i].fn ? MARKERS[i].fn(d, out, s, n - 2)
                             : jpeg_fail(d, "%s", MARKERS[i].refused);
    }
    return 0;
}

static int read_segments(jpeg_dec *d, pov_image *out)
{
    uint8_t m;
    while (next_marker(d, &m) && m != 0xd9)
        if (segment(d, out, m) != 0)
            return -1;
    if (!d->ncomp)
        return jpeg_fail(d, "no frame header (SOF): truncated file?");
    for (uint32_t i = 0; i < d->ncomp; i++)
        if (!d->comp[i].scanned)
            return jpeg_fail(d, "no scan of component %u (truncated file?)",
                             (unsigned)d->comp[i].id);
    return 0;
}

int image_decode_jpeg(const uint8_t *data, size_t len, pov_image *out, char *err,
                      size_t err_len)
{
    if (len < 3 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff) {
        snprintf(err, err_len, "jpeg: not a JPEG file (no SOI marker at its start)");
        return -1;
    }
    jpeg_dec *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, err_len, "jpeg: out of memory");
        return -1;
    }
    *d = (jpeg_dec){.p = data, .len = len, .pos = 2, .err = err, .err_len = err_len,
                    .adobe_transform = -1};
    int rc = read_segments(d, out);
    if (rc == 0 && jpeg_output(d, out) != 0)
        rc = jpeg_fail(d, "out of memory");
    for (uint32_t i = 0; i < JPEG_MAX_COMPONENTS; i++)
        free(d->comp[i].plane);
    free(d);
    return rc;
}
