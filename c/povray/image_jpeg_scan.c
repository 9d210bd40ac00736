/* image_jpeg_scan.c -- a baseline JPEG scan: the entropy-coded data read bit by bit (0xFF 00
 * stuffing, RSTn markers between restart intervals), the Huffman codes decoded as the JPEG
 * standard's DECODE procedure (F.2.2.3) does, dequantisation and the inverse DCT in double
 * precision (rounded, so within one of an exact 8-bit result). */
#include <string.h>

#include "image_jpeg.h"

/* the natural (row-major) position of the k-th coefficient in zigzag order */
static const uint8_t ZIGZAG[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

/* cos(k pi / 16) for k = 0..8 */
static const double COS16[9] = {
    1.0,
    0.98078528040323044913,
    0.92387953251128675613,
    0.83146961230254523708,
    0.70710678118654752440,
    0.55557023301960222474,
    0.38268343236508977173,
    0.19509032201612826785,
    0.0,
};

int jpeg_build_huff(jpeg_dec *d, jpeg_huff *t, const uint8_t counts[16])
{
    int32_t code = 0, k = 0;
    for (int l = 1; l <= 16; l++) {
        t->valptr[l] = k;
        t->mincode[l] = code;
        code += counts[l - 1];
        k += counts[l - 1];
        t->maxcode[l] = counts[l - 1] ? code - 1 : -1;
        if (code > (1 << l))
            return jpeg_fail(d, "bad Huffman table (more codes of %d bits than fit)", l);
        code <<= 1;
    }
    t->defined = 1;
    return 0;
}

/* cos((2x + 1) u pi / 16) with C(u) / 2, C(0) = 1 / sqrt(2), else 1 */
static void idct_table(jpeg_dec *d)
{
    for (int x = 0; x < 8; x++)
        for (int u = 0; u < 8; u++) {
            int m = (2 * x + 1) * u % 32; /* the angle in pi / 16 */
            double sign = 1;
            if (m > 16)
                m = 32 - m;
            if (m > 8) {
                m = 16 - m;
                sign = -1;
            }
            d->idct[x][u] = sign * COS16[m] * (u == 0 ? COS16[4] : 1.0) / 2;
        }
}

/* The next bit of the entropy-coded data; at a marker or the file's end sets d->bad. */
static uint32_t get_bit(jpeg_dec *d)
{
    if (d->nbits == 0) {
        if (d->bad || d->pos >= d->len || (d->p[d->pos] == 0xff && (d->pos + 1 >= d->len ||
                                                                    d->p[d->pos + 1] != 0))) {
            if (!d->bad)
                jpeg_fail(d, "the entropy-coded data ends early (truncated or damaged file?)");
            d->bad = 1;
            return 0;
        }
        d->bitbuf = d->p[d->pos];
        d->pos += d->bitbuf == 0xff ? 2 : 1;
        d->nbits = 8;
    }
    d->nbits--;
    return d->bitbuf >> d->nbits & 1;
}

static int32_t receive_extend(jpeg_dec *d, uint32_t s)
{
    int32_t v = 0;
    for (uint32_t i = 0; i < s; i++)
        v = v << 1 | (int32_t)get_bit(d);
    if (s > 0 && v < (1 << (s - 1)))
        v -= (1 << s) - 1;
    return v;
}

/* The next Huffman-coded value, or -1 (d->bad set) for a code the table lacks. */
static int huff_decode(jpeg_dec *d, const jpeg_huff *t)
{
    int32_t code = (int32_t)get_bit(d);
    int l = 1;
    while (l < 16 && code > t->maxcode[l]) {
        code = code << 1 | (int32_t)get_bit(d);
        l++;
    }
    if (d->bad)
        return -1;
    if (code > t->maxcode[l]) {
        jpeg_fail(d, "a Huffman code not in its table (damaged file?)");
        d->bad = 1;
        return -1;
    }
    return t->vals[t->valptr[l] + code - t->mincode[l]];
}

/* One block's coefficients (natural order), dequantised. */
static int decode_block(jpeg_dec *d, jpeg_comp *c, int32_t coef[64])
{
    const uint16_t *q = d->q[c->tq];
    memset(coef, 0, 64 * sizeof coef[0]);
    int t = huff_decode(d, &d->dc[c->td]);
    if (t > 11)
        return jpeg_fail(d, "a DC difference of %d bits (bad Huffman table?)", t);
    int32_t pred = c->pred + receive_extend(d, (uint32_t)(t < 0 ? 0 : t));
    c->pred = pred < -32767 ? -32767 : pred > 32767 ? 32767 : pred; /* as far as 8 bits go */
    coef[0] = c->pred * q[0];
    for (int k = 1; k < 64 && !d->bad;) {
        int rs = huff_decode(d, &d->ac[c->ta]);
        int r = rs >> 4, s = rs & 15;
        if (rs < 0 || (s == 0 && r != 15))
            break;
        k += s == 0 ? 16 : r;
        if (s == 0)
            continue;
        if (k > 63)
            return jpeg_fail(d, "AC coefficients past the block's end (damaged file?)");
        if (s > 10)
            return jpeg_fail(d, "an AC coefficient of %d bits (bad Huffman table?)", s);
        coef[ZIGZAG[k]] = receive_extend(d, (uint32_t)s) * q[k];
        k++;
    }
    return d->bad ? -1 : 0;
}

/* The inverse DCT of coef into the 8x8 samples at out (rows stride apart). */
static void idct_block(const jpeg_dec *d, const int32_t coef[64], uint8_t *out, uint32_t stride)
{
    double rows[8][8]; /* by vertical frequency v, then x */
    for (int v = 0; v < 8; v++)
        for (int x = 0; x < 8; x++) {
            double s = 0;
            for (int u = 0; u < 8; u++)
                s += d->idct[x][u] * coef[v * 8 + u];
            rows[v][x] = s;
        }
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) {
            double s = 128.5;
            for (int v = 0; v < 8; v++)
                s += d->idct[y][v] * rows[v][x];
            int i = s <= 0 ? 0 : s >= 255 ? 255 : (int)s;
            out[(size_t)y * stride + x] = (uint8_t)i;
        }
}

static int decode_mcu_blocks(jpeg_dec *d, jpeg_comp **scomp, uint32_t ns, uint32_t m)
{
    int32_t coef[64];
    for (uint32_t i = 0; i < ns; i++) {
        jpeg_comp *c = scomp[i];
        /* one component alone: its own blocks in raster order; else the MCU's h x v blocks */
        uint32_t across = ns == 1 ? (c->dw + 7) / 8 : d->mcux;
        uint32_t bw = ns == 1 ? 1 : c->h, bh = ns == 1 ? 1 : c->v;
        for (uint32_t by = 0; by < bh; by++)
            for (uint32_t bx = 0; bx < bw; bx++) {
                size_t x = ((size_t)(m % across) * bw + bx) * 8;
                size_t y = ((size_t)(m / across) * bh + by) * 8;
                if (decode_block(d, c, coef) != 0)
                    return -1;
                idct_block(d, coef, c->plane + y * c->pw + x, c->pw);
            }
    }
    return 0;
}

/* Expects RSTn (n = count % 8) after a restart interval: byte alignment, new predictors. */
static int restart(jpeg_dec *d, jpeg_comp **scomp, uint32_t ns, uint32_t count)
{
    d->nbits = 0;
    while (d->pos + 1 < d->len && d->p[d->pos] == 0xff && d->p[d->pos + 1] == 0xff)
        d->pos++;
    if (d->pos + 1 >= d->len || d->p[d->pos] != 0xff || d->p[d->pos + 1] != 0xd0 + count % 8)
        return jpeg_fail(d, "restart marker RST%u missing at offset %zu (damaged file?)",
                         (unsigned)(count % 8), d->pos);
    d->pos += 2;
    for (uint32_t i = 0; i < ns; i++)
        scomp[i]->pred = 0;
    return 0;
}

int jpeg_decode_scan(jpeg_dec *d, jpeg_comp **scomp, uint32_t ns)
{
    uint32_t mcus;
    if (ns == 1)
        mcus = ((scomp[0]->dw + 7) / 8) * ((scomp[0]->dh + 7) / 8);
    else
        mcus = d->mcux * d->mcuy;
    if (d->idct[0][0] == 0)
        idct_table(d);
    d->nbits = 0;
    d->bad = 0;
    for (uint32_t i = 0; i < ns; i++)
        scomp[i]->pred = 0;
    for (uint32_t m = 0, intervals = 0; m < mcus; m++) {
        if (d->restart && m > 0 && m % d->restart == 0 && restart(d, scomp, ns, intervals++))
            return -1;
        if (decode_mcu_blocks(d, scomp, ns, m) != 0)
            return -1;
    }
    d->nbits = 0;
    for (uint32_t i = 0; i < ns; i++)
        scomp[i]->scanned = 1;
    return 0;
}
