/* png.c -- PNG writer: per-row filter choice, deflate with LZ77 (hash chains) and the
 * fixed Huffman code, zlib header and adler32, chunk CRCs. No dependencies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png.h"

typedef struct {
    uint8_t *p;
    size_t len, cap;
    uint32_t bitbuf;
    int nbits;
    int oom;
} obuf;

static void ob_byte(obuf *o, uint8_t b)
{
    if (o->oom)
        return;
    if (o->len == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 65536;
        uint8_t *np = realloc(o->p, cap);
        if (!np) {
            o->oom = 1;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
    o->p[o->len++] = b;
}

static void ob_bytes(obuf *o, const void *src, size_t n)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        ob_byte(o, s[i]);
}

static void ob_be32(obuf *o, uint32_t v)
{
    ob_byte(o, (uint8_t)(v >> 24));
    ob_byte(o, (uint8_t)(v >> 16));
    ob_byte(o, (uint8_t)(v >> 8));
    ob_byte(o, (uint8_t)v);
}

/* deflate bit output: LSB first */
static void put_bits(obuf *o, uint32_t v, int n)
{
    o->bitbuf |= v << o->nbits;
    o->nbits += n;
    while (o->nbits >= 8) {
        ob_byte(o, (uint8_t)o->bitbuf);
        o->bitbuf >>= 8;
        o->nbits -= 8;
    }
}

static void flush_bits(obuf *o)
{
    if (o->nbits > 0)
        ob_byte(o, (uint8_t)o->bitbuf);
    o->bitbuf = 0;
    o->nbits = 0;
}

/* Huffman codes go MSB first: reverse them */
static void put_code(obuf *o, uint32_t code, int len)
{
    uint32_t r = 0;
    for (int i = 0; i < len; i++)
        r |= ((code >> i) & 1u) << (len - 1 - i);
    put_bits(o, r, len);
}

static void put_litlen(obuf *o, int sym)
{
    if (sym < 144)
        put_code(o, 0x30u + (uint32_t)sym, 8);
    else if (sym < 256)
        put_code(o, 0x190u + (uint32_t)(sym - 144), 9);
    else if (sym < 280)
        put_code(o, (uint32_t)(sym - 256), 7);
    else
        put_code(o, 0xc0u + (uint32_t)(sym - 280), 8);
}

static const uint16_t LEN_BASE[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEN_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DIST_BASE[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                       193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
                                       6145, 8193, 12289, 16385, 24577};
static const uint8_t DIST_EXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static void put_match(obuf *o, int len, int dist)
{
    int i = 28;
    while (LEN_BASE[i] > len)
        i--;
    put_litlen(o, 257 + i);
    put_bits(o, (uint32_t)(len - LEN_BASE[i]), LEN_EXTRA[i]);
    int d = 29;
    while (DIST_BASE[d] > dist)
        d--;
    put_code(o, (uint32_t)d, 5);
    put_bits(o, (uint32_t)(dist - DIST_BASE[d]), DIST_EXTRA[d]);
}

#define WSIZE 32768
#define HBITS 15
#define MAX_CHAIN 32

static uint32_t hash3(const uint8_t *p)
{
    return ((uint32_t)p[0] << 10 ^ (uint32_t)p[1] << 5 ^ p[2]) & ((1u << HBITS) - 1);
}

/* One final fixed-Huffman block holding all of data. */
static int deflate_fixed(obuf *o, const uint8_t *data, size_t n)
{
    int32_t *head = malloc(sizeof(int32_t) << HBITS);
    int32_t *prev = malloc(sizeof(int32_t) * WSIZE);
    if (!head || !prev) {
        free(head);
        free(prev);
        return -1;
    }
    for (size_t i = 0; i < (1u << HBITS); i++)
        head[i] = -1;
    put_bits(o, 1, 1); /* BFINAL */
    put_bits(o, 1, 2); /* BTYPE = fixed */
    size_t i = 0;
    while (i < n) {
        int best_len = 0, best_dist = 0;
        if (i + 3 <= n) {
            uint32_t h = hash3(data + i);
            int32_t cand = head[h];
            size_t maxlen = n - i < 258 ? n - i : 258;
            for (int chain = 0; cand >= 0 && chain < MAX_CHAIN; chain++) {
                size_t dist = i - (size_t)cand;
                if (dist > WSIZE - 1)
                    break;
                size_t l = 0;
                while (l < maxlen && data[cand + l] == data[i + l])
                    l++;
                if ((int)l > best_len) {
                    best_len = (int)l;
                    best_dist = (int)dist;
                    if (l == maxlen)
                        break;
                }
                int32_t nx = prev[cand & (WSIZE - 1)];
                if (nx >= cand)
                    break;
                cand = nx;
            }
        }
        size_t step = best_len >= 3 ? (size_t)best_len : 1;
        if (best_len >= 3)
            put_match(o, best_len, best_dist);
        else
            put_litlen(o, data[i]);
        for (size_t k = 0; k < step; k++, i++) {
            if (i + 3 <= n) {
                uint32_t h = hash3(data + i);
                prev[i & (WSIZE - 1)] = head[h];
                head[h] = (int32_t)i;
            }
        }
    }
    put_litlen(o, 256);
    flush_bits(o);
    free(head);
    free(prev);
    return 0;
}

static uint32_t crc_table[256];
static int crc_ready;

uint32_t png_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = 1;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return b << 16 | a;
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return a;
    return pb <= pc ? b : c;
}

/* Filter one row with filter type ft into out. */
static void filter_row(int ft, const uint8_t *row, const uint8_t *up, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = (i >= 3 && up) ? up[i - 3] : 0;
        int pred = ft == 0 ? 0 : ft == 1 ? a : ft == 2 ? b : ft == 3 ? (a + b) / 2 : paeth(a, b, c);
        out[i] = (uint8_t)(row[i] - pred);
    }
}

static uint8_t *filter_image(const uint8_t *rgb, uint32_t W, uint32_t H, size_t *len_out)
{
    size_t stride = (size_t)W * 3;
    size_t total = (stride + 1) * H;
    uint8_t *raw = malloc(total ? total : 1);
    uint8_t *tmp = malloc(stride ? stride : 1);
    if (!raw || !tmp) {
        free(raw);
        free(tmp);
        return NULL;
    }
    for (uint32_t y = 0; y < H; y++) {
        const uint8_t *row = rgb + y * stride, *up = y ? row - stride : NULL;
        uint8_t *dst = raw + y * (stride + 1);
        uint64_t best = UINT64_MAX;
        for (int ft = 0; ft < 5; ft++) {
            filter_row(ft, row, up, stride, tmp);
            uint64_t cost = 0;
            for (size_t i = 0; i < stride; i++)
                cost += tmp[i] < 128 ? tmp[i] : 256 - tmp[i];
            if (cost < best) {
                best = cost;
                dst[0] = (uint8_t)ft;
                memcpy(dst + 1, tmp, stride);
            }
        }
    }
    free(tmp);
    *len_out = total;
    return raw;
}

static void chunk(obuf *o, const char *type, const uint8_t *data, size_t n)
{
    ob_be32(o, (uint32_t)n);
    size_t start = o->len;
    ob_bytes(o, type, 4);
    ob_bytes(o, data, n);
    uint32_t crc = o->oom ? 0 : png_crc32(0, o->p + start, n + 4);
    ob_be32(o, crc);
}

uint8_t *png_encode_rgb(const uint8_t *rgb, uint32_t W, uint32_t H, size_t *len_out)
{
    size_t rawlen;
    uint8_t *raw = filter_image(rgb, W, H, &rawlen);
    if (!raw)
        return NULL;
    obuf z = {0};
    ob_byte(&z, 0x78); /* zlib: deflate, 32K window */
    ob_byte(&z, 0x01);
    if (deflate_fixed(&z, raw, rawlen) < 0)
        z.oom = 1;
    ob_be32(&z, adler32(raw, rawlen));
    free(raw);
    if (z.oom) {
        free(z.p);
        return NULL;
    }
    obuf o = {0};
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ob_bytes(&o, sig, 8);
    uint8_t ihdr[13] = {(uint8_t)(W >> 24), (uint8_t)(W >> 16), (uint8_t)(W >> 8), (uint8_t)W,
                        (uint8_t)(H >> 24), (uint8_t)(H >> 16), (uint8_t)(H >> 8), (uint8_t)H,
                        8, 2, 0, 0, 0};
    chunk(&o, "IHDR", ihdr, 13);
    chunk(&o, "IDAT", z.p, z.len);
    chunk(&o, "IEND", NULL, 0);
    free(z.p);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    *len_out = o.len;
    return o.p;
}

int png_write_file(const char *path, const uint8_t *rgb, uint32_t W, uint32_t H, char *err,
                   size_t errlen)
{
    size_t n;
    uint8_t *png = png_encode_rgb(rgb, W, H, &n);
    if (!png) {
        snprintf(err, errlen, "out of memory encoding the PNG");
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        free(png);
        return -1;
    }
    size_t w = fwrite(png, 1, n, f);
    int cerr = fclose(f);
    free(png);
    if (w != n || cerr != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
