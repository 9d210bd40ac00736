/* inflate.c -- zlib streams decoded (RFC 1950 and 1951): stored, fixed and dynamic Huffman
 * blocks, every read checked against the input and every write against the expected size. */
#include <stdio.h>
#include <string.h>

#include "inflate.h"

#define MAX_BITS 15
#define LITLEN_CODES 288
#define DIST_CODES 32

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    uint32_t bitbuf;
    int nbits;
    uint8_t *out;
    size_t out_len, out_cap;
    const char *err;
} inflater;

/* canonical Huffman code: how many codes of each length, and the symbols by code */
typedef struct {
    uint16_t count[MAX_BITS + 1];
    uint16_t symbol[LITLEN_CODES];
} huffman;

/* RFC 1951 3.2.5: base and extra bits of length codes 257..285 and distance codes 0..29 */
static const uint16_t LEN_BASE[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,
                                      15, 17, 19, 23, 27, 31, 35, 43, 51,  59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEN_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DIST_BASE[30] = {1,    2,    3,    4,    5,    7,     9,     13,
                                       17,   25,   33,   49,   65,   97,    129,   193,
                                       257,  385,  513,  769,  1025, 1537,  2049,  3073,
                                       4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t DIST_EXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int need(inflater *s, int n)
{
    while (s->nbits < n) {
        if (s->pos >= s->len) {
            s->err = "compressed data ends early (file truncated?)";
            return -1;
        }
        s->bitbuf |= (uint32_t)s->p[s->pos++] << s->nbits;
        s->nbits += 8;
    }
    return 0;
}

static int bits(inflater *s, int n, uint32_t *v)
{
    if (n == 0) {
        *v = 0;
        return 0;
    }
    if (need(s, n) != 0)
        return -1;
    *v = s->bitbuf & ((1u << n) - 1);
    s->bitbuf >>= n;
    s->nbits -= n;
    return 0;
}

/* Builds the code from its lengths; an over-subscribed set is refused (an incomplete one is
   allowed, as zlib allows it for a single distance code). */
static int build(huffman *h, const uint8_t *lengths, int n, inflater *s)
{
    uint16_t offs[MAX_BITS + 2];
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++)
        h->count[lengths[i]]++;
    int left = 1;
    for (int len = 1; len <= MAX_BITS; len++) {
        left = (left << 1) - h->count[len];
        if (left < 0) {
            s->err = "a Huffman code with too many codes (data damaged?)";
            return -1;
        }
    }
    offs[1] = 0;
    for (int len = 1; len <= MAX_BITS; len++)
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    for (int i = 0; i < n; i++)
        if (lengths[i])
            h->symbol[offs[lengths[i]]++] = (uint16_t)i;
    return 0;
}

static int decode(inflater *s, const huffman *h)
{
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAX_BITS; len++) {
        uint32_t b;
        if (bits(s, 1, &b) != 0)
            return -1;
        code |= (int)b;
        int count = h->count[len];
        if (code - first < count)
            return h->symbol[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    s->err = "a Huffman code not in the table (data damaged?)";
    return -1;
}

static int put(inflater *s, uint8_t b)
{
    if (s->out_len >= s->out_cap) {
        s->err = "more data than the image holds (data damaged?)";
        return -1;
    }
    s->out[s->out_len++] = b;
    return 0;
}

static int stored(inflater *s)
{
    s->bitbuf = 0;
    s->nbits = 0;
    if (s->pos + 4 > s->len) {
        s->err = "compressed data ends early (file truncated?)";
        return -1;
    }
    unsigned n = s->p[s->pos] | (unsigned)s->p[s->pos + 1] << 8;
    unsigned nc = s->p[s->pos + 2] | (unsigned)s->p[s->pos + 3] << 8;
    s->pos += 4;
    if ((n ^ 0xffffu) != nc) {
        s->err = "a stored block's length check fails (data damaged?)";
        return -1;
    }
    if (s->pos + n > s->len) {
        s->err = "compressed data ends early (file truncated?)";
        return -1;
    }
    if (s->out_len + n > s->out_cap) {
        s->err = "more data than the image holds (data damaged?)";
        return -1;
    }
    memcpy(s->out + s->out_len, s->p + s->pos, n);
    s->out_len += n;
    s->pos += n;
    return 0;
}

static int copy_match(inflater *s, int sym, const huffman *dist)
{
    uint32_t extra;
    sym -= 257;
    if (sym >= 29 || bits(s, LEN_EXTRA[sym], &extra) != 0) {
        if (!s->err)
            s->err = "a length code beyond 285 (data damaged?)";
        return -1;
    }
    size_t len = LEN_BASE[sym] + extra;
    int d = decode(s, dist);
    if (d < 0)
        return -1;
    if (d >= 30 || bits(s, DIST_EXTRA[d], &extra) != 0) {
        if (!s->err)
            s->err = "a distance code beyond 29 (data damaged?)";
        return -1;
    }
    size_t back = DIST_BASE[d] + extra;
    if (back > s->out_len) {
        s->err = "a match reaching before the data's start (data damaged?)";
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (put(s, s->out[s->out_len - back]) != 0)
            return -1;
    return 0;
}

static int codes(inflater *s, const huffman *lit, const huffman *dist)
{
    for (;;) {
        int sym = decode(s, lit);
        if (sym < 0)
            return -1;
        if (sym < 256) {
            if (put(s, (uint8_t)sym) != 0)
                return -1;
        } else if (sym == 256) {
            return 0;
        } else if (copy_match(s, sym, dist) != 0) {
            return -1;
        }
    }
}

static int fixed(inflater *s)
{
    uint8_t lengths[LITLEN_CODES];
    huffman lit, dist;
    for (int i = 0; i < LITLEN_CODES; i++)
        lengths[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
    build(&lit, lengths, LITLEN_CODES, s);
    for (int i = 0; i < 30; i++)
        lengths[i] = 5;
    build(&dist, lengths, 30, s);
    return codes(s, &lit, &dist);
}

/* the code-length code's order (RFC 1951 3.2.7) */
static const uint8_t CL_ORDER[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

static int read_lengths(inflater *s, const huffman *cl, uint8_t *lengths, int n)
{
    for (int i = 0; i < n;) {
        int sym = decode(s, cl);
        uint32_t rep;
        if (sym < 0)
            return -1;
        if (sym < 16) {
            lengths[i++] = (uint8_t)sym;
            continue;
        }
        uint8_t value = 0;
        if (sym == 16) {
            if (i == 0) {
                s->err = "a repeated code length with none before it (data damaged?)";
                return -1;
            }
            value = lengths[i - 1];
        }
        int extra = sym == 16 ? 2 : sym == 17 ? 3 : 7, base = sym == 18 ? 11 : 3;
        if (bits(s, extra, &rep) != 0)
            return -1;
        if (i + base + (int)rep > n) {
            s->err = "code lengths beyond the table (data damaged?)";
            return -1;
        }
        for (int k = 0; k < base + (int)rep; k++)
            lengths[i++] = value;
    }
    return 0;
}

static int dynamic(inflater *s)
{
    uint32_t nlen, ndist, ncode;
    if (bits(s, 5, &nlen) != 0 || bits(s, 5, &ndist) != 0 || bits(s, 4, &ncode) != 0)
        return -1;
    nlen += 257;
    ndist += 1;
    ncode += 4;
    if (nlen > 286 || ndist > 30) {
        s->err = "a block with too many codes (data damaged?)";
        return -1;
    }
    uint8_t lengths[LITLEN_CODES + DIST_CODES] = {0};
    for (uint32_t i = 0; i < ncode; i++) {
        uint32_t v;
        if (bits(s, 3, &v) != 0)
            return -1;
        lengths[CL_ORDER[i]] = (uint8_t)v;
    }
    huffman cl, lit, dist;
    if (build(&cl, lengths, 19, s) != 0)
        return -1;
    memset(lengths, 0, sizeof lengths);
    if (read_lengths(s, &cl, lengths, (int)(nlen + ndist)) != 0)
        return -1;
    if (lengths[256] == 0) {
        s->err = "a block without an end code (data damaged?)";
        return -1;
    }
    if (build(&lit, lengths, (int)nlen, s) != 0 ||
        build(&dist, lengths + nlen, (int)ndist, s) != 0)
        return -1;
    return codes(s, &lit, &dist);
}

static int blocks(inflater *s)
{
    uint32_t last, type;
    do {
        if (bits(s, 1, &last) != 0 || bits(s, 2, &type) != 0)
            return -1;
        int rc = type == 0 ? stored(s) : type == 1 ? fixed(s) : type == 2 ? dynamic(s) : -1;
        if (type == 3)
            s->err = "a block of the reserved type 3 (data damaged?)";
        if (rc != 0)
            return -1;
    } while (!last);
    return 0;
}

int zlib_inflate(const uint8_t *data, size_t len, uint8_t *out, size_t out_cap,
                 size_t *out_len, const char **err)
{
    inflater s = {.p = data, .len = len, .out = out, .out_cap = out_cap};
    if (len < 2 || (data[0] & 0x0f) != 8 || ((data[0] << 8) | data[1]) % 31 != 0 ||
        (data[1] & 0x20)) {
        *err = "not a zlib stream (data damaged?)";
        return -1;
    }
    s.pos = 2;
    if (blocks(&s) != 0) {
        *err = s.err ? s.err : "compressed data damaged";
        return -1;
    }
    *out_len = s.out_len;
    return 0;
}
