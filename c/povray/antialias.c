/* antialias.c -- anti-aliasing as POV-Ray 3.7 does it (freestanding-safe).
 *
 * The rules (POV-Ray 3.7's reference manual, "Anti-Aliasing Options", and its render loop,
 * backend/render/tracetask.cpp):
 * - A sample at (x, y) in pixel units is traced as render_sample places it. Colours are
 *   compared after the anti-aliasing gamma curve: the working space (assumed_gamma G, 1
 *   when unset) decoded, then encoded with Antialias_Gamma 2.5 (v^G)^(1/2.5); the distance
 *   is the sum of the channel differences, and "differs" means distance >= threshold.
 * - +AM1 (non-recursive) works per render block of 32 x 32 pixels aligned at (0, 0). A block
 *   first traces the row above it and the column left of it (these count as already
 *   supersampled: they never are). Then, row by row, each pixel is traced at its centre and
 *   compared with its left and top neighbours (their current colours): a neighbour that
 *   differs and is not yet supersampled is supersampled, and the pixel itself is when either
 *   differs. Supersampling adds n x n samples (n = +R depth) at offsets -r, -r + 1/n, ...
 *   r (r = 1/2 - 1/(2n)) to the centre sample and divides by n * n + 1.
 * - +AM2 (adaptive): the corners of every pixel are traced; a square whose four corners
 *   differ (any pair) is split into four, tracing the midpoints of its sides and its centre,
 *   down to depth - 1 levels; a square's colour is the mean of its corners or of its four
 *   parts. Samples shared within a pixel are traced once.
 * - +J: a sample at (x, y) moves by (jx, jy) * amount / n (+AM1) or / (2^depth + 1)
 *   (+AM2), where jx, jy come from POV-Ray's JitterTable through its noise hashTable,
 *   indexed by int(x * 1021) and int(y * 1019) (jx) and by int(x * 1019) and int(y * 1021)
 *   (jy) -- a function of the sample's position, so every worker gives the same bytes.
 *
 * Tiles. +AM2 is a function of each pixel alone. +AM1 is a function of the 32 x 32 block:
 * a pixel's colour depends on the pixels before it in its block and on its right and
 * bottom neighbours. A tile therefore runs the block loop of every block it touches from
 * the block's corner to one pixel past the tile's right and bottom edges (when the block
 * goes on): pixels of a column only ever depend on the columns up to one past them (a pixel
 * changes its left neighbour through that neighbour's colour alone), and likewise rows.
 * With tiles that are multiples of 32 (all default tile sizes) nothing is traced twice.
 */
#include "antialias.h"
#include "pattern.h"
#include "rt_math.h"

#define AA_GAMMA 2.5       /* POV-Ray 3.7's default Antialias_Gamma */
#define BLK_STRIDE (POV_AA_BLOCK + 1u) /* a block and the row above / column left of it */

/* POV-Ray 3.7's JitterTable (backend/support/jitter.cpp), single floats as there. */
static const float JITTER_TABLE[256] = {
    -0.500000,  0.005890,  0.011749, -0.490234,  0.023468, -0.470703, -0.480469,  0.017609,
    0.046906, -0.447266, -0.441406,  0.056671, -0.460938,  0.044952,  0.035187, -0.466797,
    0.093781, -0.400391, -0.394531,  0.103546, -0.382813,  0.123077,  0.113312, -0.388672,
    -0.421875,  0.084015,  0.089874, -0.412109,  0.070343, -0.423828, -0.433594,  0.064484,
    0.187531, -0.306641, -0.300781,  0.197296, -0.289063,  0.216827,  0.207062, -0.294922,
    -0.265625,  0.240265,  0.246124, -0.255859,  0.226593, -0.267578, -0.277344,  0.220734,
    -0.343750,  0.162140,  0.167999, -0.333984,  0.179718, -0.314453, -0.324219,  0.173859,
    0.140656, -0.353516, -0.347656,  0.150421, -0.367188,  0.138702,  0.128937, -0.373047,
    0.375031, -0.119141, -0.113281,  0.384796, -0.101563,  0.404327,  0.394562, -0.107422,
    -0.078125,  0.427765,  0.433624, -0.068359,  0.414093, -0.080078, -0.089844,  0.408234,
    -0.031250,  0.474640,  0.480499, -0.021484,  0.492218, -0.001953, -0.011719,  0.486359,
    0.453156, -0.041016, -0.035156,  0.462921, -0.054688,  0.451202,  0.441437, -0.060547,
    -0.187500,  0.318390,  0.324249, -0.177734,  0.335968, -0.158203, -0.167969,  0.330109,
    0.359406, -0.134766, -0.128906,  0.369171, -0.148438,  0.357452,  0.347687, -0.154297,
    0.281281, -0.212891, -0.207031,  0.291046, -0.195313,  0.310577,  0.300812, -0.201172,
    -0.234375,  0.271515,  0.277374, -0.224609,  0.257843, -0.236328, -0.246094,  0.251984,
    -0.249969,  0.255859,  0.261719, -0.240204,  0.273438, -0.220673, -0.230438,  0.267578,
    0.296875, -0.197235, -0.191376,  0.306641, -0.210907,  0.294922,  0.285156, -0.216766,
    0.343750, -0.150360, -0.144501,  0.353516, -0.132782,  0.373047,  0.363281, -0.138641,
    -0.171844,  0.333984,  0.339844, -0.162079,  0.320313, -0.173798, -0.183563,  0.314453,
    0.437500, -0.056610, -0.050751,  0.447266, -0.039032,  0.466797,  0.457031, -0.044891,
    -0.015594,  0.490234,  0.496094, -0.005829,  0.476563, -0.017548, -0.027313,  0.470703,
    -0.093719,  0.412109,  0.417969, -0.083954,  0.429688, -0.064423, -0.074188,  0.423828,
    0.390625, -0.103485, -0.097626,  0.400391, -0.117157,  0.388672,  0.378906, -0.123016,
    0.125000, -0.369110, -0.363251,  0.134766, -0.351532,  0.154297,  0.144531, -0.357391,
    -0.328094,  0.177734,  0.183594, -0.318329,  0.164063, -0.330048, -0.339813,  0.158203,
    -0.281219,  0.224609,  0.230469, -0.271454,  0.242188, -0.251923, -0.261688,  0.236328,
    0.203125, -0.290985, -0.285126,  0.212891, -0.304657,  0.201172,  0.191406, -0.310516,
    -0.437469,  0.068359,  0.074219, -0.427704,  0.085938, -0.408173, -0.417938,  0.080078,
    0.109375, -0.384735, -0.378876,  0.119141, -0.398407,  0.107422,  0.097656, -0.404266,
    0.031250, -0.462860, -0.457001,  0.041016, -0.445282,  0.060547,  0.050781, -0.451141,
    -0.484344,  0.021484,  0.027344, -0.474579,  0.007813, -0.486298, -0.496063,  0.001953
};

typedef struct {
    const render_ctx *ctx;
    uint32_t W, H, depth;
    double thr, jscale, gamma; /* gamma: the working space's G (1 when unset) */
} aa_run;

static void jitter2d(double x, double y, double *jx, double *jy)
{
    int ax = (int)(x * 1021.0), ay = (int)(y * 1019.0);
    int bx = (int)(x * 1019.0), by = (int)(y * 1021.0);
    *jx = JITTER_TABLE[pov_hash((int)(pov_hash(ax) ^ (unsigned)ay)) & 0xff];
    *jy = JITTER_TABLE[pov_hash((int)(pov_hash(bx) ^ (unsigned)by)) & 0xff];
}

/* POV-Ray keeps colours in single floats (COLC): each sample and sum is rounded to one. */
static vec3 to_float(vec3 c) { return v3((float)c.x, (float)c.y, (float)c.z); }

static vec3 fadd(vec3 a, vec3 b) { return to_float(vadd(a, b)); }

static vec3 sample(const aa_run *r, double x, double y)
{
    return to_float(render_sample(r->ctx, r->W, r->H, x, y));
}

/* a sample at (x, y) moved by its jitter */
static vec3 sample_jittered(const aa_run *r, double x, double y)
{
    if (!(r->jscale > 0.0))
        return sample(r, x, y);
    double jx, jy;
    jitter2d(x, y, &jx, &jy);
    return sample(r, x + jx * r->jscale, y + jy * r->jscale);
}

static double aa_encode(const aa_run *r, double v)
{
    if (!(v > 0.0))
        return 0.0;
    if (r->gamma != 1.0)
        v = rt_pow(v, r->gamma);
    return rt_pow(v, 1.0 / AA_GAMMA);
}

static vec3 encode3(const aa_run *r, vec3 c)
{
    return v3(aa_encode(r, c.x), aa_encode(r, c.y), aa_encode(r, c.z));
}

static int differs(const aa_run *r, vec3 ea, vec3 eb)
{
    double d = rt_fabs(ea.x - eb.x) + rt_fabs(ea.y - eb.y) + rt_fabs(ea.z - eb.z);
    return d >= r->thr;
}

/* ---------------------------------------------------------------- +AM1 */

/* The centre sample c of pixel (x, y) with its n x n supersamples. */
static vec3 supersample(const aa_run *r, double x, double y, vec3 c)
{
    double step = 1.0 / (double)r->depth, range = 0.5 - step * 0.5;
    for (double yy = -range; yy <= range + POV_EPSILON; yy += step)
        for (double xx = -range; xx <= range + POV_EPSILON; xx += step)
            c = fadd(c, sample_jittered(r, x + xx, y + yy));
    double k = (double)(r->depth * r->depth + 1);
    return v3((float)(c.x / k), (float)(c.y / k), (float)(c.z / k));
}

typedef struct {
    vec3 col[BLK_STRIDE * BLK_STRIDE];
    vec3 enc[BLK_STRIDE * BLK_STRIDE];     /* col through the anti-aliasing gamma */
    uint8_t done[BLK_STRIDE * BLK_STRIDE]; /* supersampled (or a border sample) */
} m1_block;

static void m1_set(const aa_run *r, m1_block *b, uint32_t k, vec3 c)
{
    b->col[k] = c;
    b->enc[k] = encode3(r, c);
}

#define AT(i, j) ((uint32_t)((j) + 1) * BLK_STRIDE + (uint32_t)((i) + 1))

/* One pixel of the block loop: trace it, compare with its left and top neighbours. */
static void m1_pixel(const aa_run *r, m1_block *b, int i, int j, int x, int y)
{
    uint32_t c = AT(i, j), l = AT(i - 1, j), t = AT(i, j - 1);
    m1_set(r, b, c, sample(r, x, y));
    int ld = differs(r, b->enc[l], b->enc[c]);
    int td = differs(r, b->enc[t], b->enc[c]);
    if (ld && !b->done[l]) {
        m1_set(r, b, l, supersample(r, x - 1.0, y, b->col[l]));
        b->done[l] = 1;
    }
    if (td && !b->done[t]) {
        m1_set(r, b, t, supersample(r, x, y - 1.0, b->col[t]));
        b->done[t] = 1;
    }
    b->done[c] = (uint8_t)(ld || td);
    if (b->done[c])
        m1_set(r, b, c, supersample(r, x, y, b->col[c]));
}

/* The block loop of the block at (bx, by) over its first cw columns and ch rows. */
static void m1_run_block(const aa_run *r, m1_block *b, int bx, int by, int cw, int ch)
{
    for (int i = 0; i < cw; i++) {
        m1_set(r, b, AT(i, -1), sample(r, bx + i, by - 1.0));
        b->done[AT(i, -1)] = 1;
    }
    for (int j = 0; j < ch; j++) {
        m1_set(r, b, AT(-1, j), sample(r, bx - 1.0, by + j));
        b->done[AT(-1, j)] = 1;
        for (int i = 0; i < cw; i++)
            m1_pixel(r, b, i, j, bx + i, by + j);
    }
}

static uint32_t umin(uint32_t a, uint32_t b) { return a < b ? a : b; }

static void put_rgb(const render_ctx *ctx, uint8_t *px, vec3 c)
{
    px[0] = render_encode_fast(ctx, c.x);
    px[1] = render_encode_fast(ctx, c.y);
    px[2] = render_encode_fast(ctx, c.z);
}

static void m1_tile(const aa_run *r, const tile_spec *t, m1_block *b, uint8_t *band,
                    row_fn on_row, void *user)
{
    const uint32_t B = POV_AA_BLOCK, x1 = t->x0 + t->w, y1 = t->y0 + t->h;
    for (uint32_t by = t->y0 / B * B; by < y1; by += B) {
        uint32_t bh = umin(B, r->H - by), ry0 = by > t->y0 ? by : t->y0;
        uint32_t ry1 = umin(y1, by + bh), ch = umin(bh, ry1 - by + 1);
        for (uint32_t bx = t->x0 / B * B; bx < x1; bx += B) {
            uint32_t bw = umin(B, r->W - bx), rx0 = bx > t->x0 ? bx : t->x0;
            uint32_t rx1 = umin(x1, bx + bw), cw = umin(bw, rx1 - bx + 1);
            m1_run_block(r, b, (int)bx, (int)by, (int)cw, (int)ch);
            for (uint32_t y = ry0; y < ry1; y++)
                for (uint32_t x = rx0; x < rx1; x++)
                    put_rgb(r->ctx, band + ((size_t)(y - ry0) * t->w + (x - t->x0)) * 3,
                            b->col[AT(x - bx, y - by)]);
        }
        for (uint32_t y = ry0; y < ry1; y++)
            on_row(user, y, band + (size_t)(y - ry0) * t->w * 3, t->w * 3);
    }
}

/* ---------------------------------------------------------------- +AM2 */

typedef struct {
    uint32_t n;     /* cells per side - 1: 2^(depth - 1) */
    vec3 *col;      /* (n + 1)^2 */
    uint8_t *have;  /* traced */
} sub_buf;

static vec3 quarter(vec3 c) { return v3((float)(c.x / 4.0), (float)(c.y / 4.0), (float)(c.z / 4.0)); }

/* Trace the point (x, y) into cell (i, j) unless it already holds one. */
static void sub_fill(const aa_run *r, sub_buf *s, uint32_t i, uint32_t j, double x, double y)
{
    uint32_t k = j * (s->n + 1) + i;
    if (!s->have[k]) {
        s->col[k] = sample_jittered(r, x, y);
        s->have[k] = 1;
    }
}

/* The square centred at (x, y) of half-size d whose corners are cells (i, j) and
   (i + step, j + step). */
static vec3 subdivide(const aa_run *r, sub_buf *s, double x, double y, double d, uint32_t i,
                      uint32_t j, uint32_t step, uint32_t level)
{
    uint32_t n1 = s->n + 1, hs = step / 2;
    vec3 c00 = s->col[j * n1 + i], c02 = s->col[(j + step) * n1 + i];
    vec3 c20 = s->col[j * n1 + i + step], c22 = s->col[(j + step) * n1 + i + step];
    vec3 e00 = encode3(r, c00), e02 = encode3(r, c02), e20 = encode3(r, c20);
    vec3 e22 = encode3(r, c22);
    if (level == 0 || !(differs(r, e00, e02) || differs(r, e00, e20) || differs(r, e00, e22) ||
                        differs(r, e02, e20) || differs(r, e02, e22) || differs(r, e20, e22)))
        return quarter(fadd(fadd(fadd(c00, c02), c20), c22));
    sub_fill(r, s, i, j + hs, x - d, y);
    sub_fill(r, s, i + hs, j, x, y - d);
    sub_fill(r, s, i + step, j + hs, x + d, y);
    sub_fill(r, s, i + hs, j + step, x, y + d);
    sub_fill(r, s, i + hs, j + hs, x, y);
    double d2 = d * 0.5;
    vec3 a = subdivide(r, s, x - d2, y - d2, d2, i, j, hs, level - 1);
    vec3 b = subdivide(r, s, x - d2, y + d2, d2, i, j + hs, hs, level - 1);
    vec3 c = subdivide(r, s, x + d2, y - d2, d2, i + hs, j, hs, level - 1);
    vec3 e = subdivide(r, s, x + d2, y + d2, d2, i + hs, j + hs, hs, level - 1);
    return quarter(fadd(fadd(fadd(a, b), c), e));
}

static void corner_row(const aa_run *r, const tile_spec *t, uint32_t y, vec3 *row)
{
    for (uint32_t i = 0; i <= t->w; i++)
        row[i] = sample(r, (double)(t->x0 + i) - 0.5, (double)y - 0.5);
}

static void m2_tile(const aa_run *r, const tile_spec *t, vec3 *top, vec3 *bot, sub_buf *s,
                    uint8_t *rowbuf, row_fn on_row, void *user)
{
    uint32_t n = s->n, n1 = n + 1;
    corner_row(r, t, t->y0, top);
    for (uint32_t y = t->y0; y < t->y0 + t->h; y++) {
        corner_row(r, t, y + 1, bot);
        for (uint32_t i = 0; i < t->w; i++) {
            for (uint32_t k = 0; k < n1 * n1; k++)
                s->have[k] = 0;
            s->col[0] = top[i];
            s->col[n * n1] = bot[i];
            s->col[n] = top[i + 1];
            s->col[n * n1 + n] = bot[i + 1];
            s->have[0] = s->have[n * n1] = s->have[n] = s->have[n * n1 + n] = 1;
            vec3 c = subdivide(r, s, (double)(t->x0 + i), (double)y, 0.5, 0, 0, n, r->depth - 1);
            put_rgb(r->ctx, rowbuf + 3 * i, c);
        }
        on_row(user, y, rowbuf, t->w * 3);
        vec3 *tmp = top;
        top = bot;
        bot = tmp;
    }
}

/* ---------------------------------------------------------------- the tile */

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

static uint32_t sub_cells(const aa_opts *aa)
{
    uint32_t n = 1u << (aa->depth - 1);
    return (n + 1) * (n + 1);
}

size_t aa_work_bytes(const aa_opts *aa, uint32_t w)
{
    if (aa->method == 1)
        return align8(sizeof(m1_block)) + (size_t)w * POV_AA_BLOCK * 3;
    return 2 * (size_t)(w + 1) * sizeof(vec3) + sub_cells(aa) * sizeof(vec3) +
           align8(sub_cells(aa)) + (size_t)w * 3;
}

void aa_render_tile(const render_ctx *ctx, const tile_spec *t, void *work, row_fn on_row,
                    void *user)
{
    const aa_opts *aa = &t->aa;
    double gamma = ctx->s->gamma == 0.0 ? 1.0 : ctx->s->gamma; /* off: as 1 */
    double div = aa->method == 1 ? (double)aa->depth : (double)((1u << aa->depth) + 1u);
    aa_run r = {ctx, t->W, t->H, aa->depth, (double)aa->threshold, (double)aa->jitter / div,
                gamma};
    uint8_t *w = work;
    if (aa->method == 1) {
        m1_tile(&r, t, (m1_block *)w, w + align8(sizeof(m1_block)), on_row, user);
        return;
    }
    vec3 *top = (vec3 *)w, *bot = top + t->w + 1;
    sub_buf s = {1u << (aa->depth - 1), bot + t->w + 1, NULL};
    s.have = (uint8_t *)(s.col + sub_cells(aa));
    m2_tile(&r, t, top, bot, &s, s.have + align8(sub_cells(aa)), on_row, user);
}
