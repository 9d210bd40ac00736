/* pattern.c -- POV-Ray 3.7's patterns, its noise and turbulence (freestanding-safe).
 *
 * One table (PATTERNS) holds every pattern: its name, how its value is computed, its
 * default wave and whether it handles turbulence itself. The parser looks names up here and
 * refuses the rest; the renderer evaluates through it, so a pattern exists in one place.
 *
 * Noise: POV-Ray 3.7's "noise_generator 1/2" lattice noise (source/core/material/
 * portablenoise.cpp and noise.cpp of POV-Ray 3.7): a 4096-entry permutation (hashTable)
 * shuffled by the LCG next = next * 1812433253 + 12345 from 0, the 267 constants of its
 * RTable (below, with the odd entries set to half the even ones), the s-curve 3t^2 - 2t^3,
 * the lattice offset -10000 and EPSILON 1e-5; generator 2 rescales by (v + 1.05242) *
 * 0.48985582. Turbulence and its vector form sum octaves with lambda and omega. The wave
 * types and blend-map search follow ContinuousPattern::Evaluate and BlendMap::Search.
 */
#include "fn.h"
#include "imagemap.h"
#include "warp.h"
#include "pattern.h"
#include "pattern_shapes.h"
#include "render.h"
#include "rt_math.h"

/* POV-Ray 3.7 noise.cpp RTable (even entries; the odd ones are 0.5 times the even ones) */
static const double RTABLE_EVEN[267] = {
    -1, 0.604974, -0.937102, 0.414115, 0.576226, -0.0161593, 0.432334, 0.103685,
    0.590539, 0.0286412, 0.46981, -0.84622, -0.0734112, -0.304097, -0.40206, -0.210132,
    -0.919127, 0.652033, -0.83151, -0.183948, -0.671107, 0.852476, 0.043595, -0.404532,
    0.75494, -0.335653, 0.618433, 0.605707, 0.708583, -0.477195, 0.899474, 0.490623,
    0.221729, -0.400381, -0.853727, -0.932586, 0.659113, 0.961303, 0.325948, -0.750851,
    0.842466, 0.734401, -0.649866, 0.394491, -0.466056, -0.434073, 0.109026, 0.0847028,
    -0.738857, 0.241505, 0.16228, -0.71426, -0.883665, -0.150408, -0.90396, -0.686549,
    -0.785214, 0.488548, 0.0246433, 0.142473, -0.602136, 0.375845, -0.00779736, 0.498955,
    -0.268147, 0.856382, -0.386007, -0.596094, -0.867735, -0.570977, -0.914366, 0.28896,
    0.672206, -0.233783, 0.94815, 0.895262, 0.343252, -0.173388, -0.767971, -0.314748,
    0.824308, -0.342092, 0.721431, -0.24004, -0.63653, 0.553277, 0.376272, 0.158984,
    -0.452659, 0.396323, -0.420676, -0.454154, 0.122179, 0.295857, 0.0664225, -0.202075,
    -0.724788, 0.453513, 0.224567, -0.908812, 0.176349, -0.320516, -0.697139, 0.742702,
    -0.900786, 0.471489, -0.133532, 0.119127, -0.889769, -0.23183, -0.669673, -0.046891,
    -0.803433, -0.966735, 0.475578, -0.652644, 0.0112459, -0.730007, 0.128283, 0.145647,
    -0.619318, 0.272023, 0.392966, 0.646418, -0.0207675, -0.315908, 0.480797, 0.535668,
    -0.250172, -0.83093, -0.653773, -0.443809, 0.119982, -0.897642, 0.89453, 0.165789,
    0.633875, -0.886839, 0.930877, -0.537194, 0.587732, 0.722011, -0.209461, -0.0424659,
    -0.814267, -0.919432, 0.280262, -0.66302, -0.558099, -0.537469, -0.598779, 0.929656,
    -0.170794, -0.537163, 0.312581, 0.959442, 0.722652, 0.499931, 0.175616, -0.534874,
    -0.685115, 0.444999, 0.17171, 0.108202, -0.768704, -0.463828, 0.254231, 0.546014,
    0.869474, 0.875212, -0.944427, 0.130724, -0.110185, 0.312184, -0.33138, -0.629206,
    0.0606546, 0.722866, -0.0979477, 0.821561, 0.0931258, -0.972808, 0.0318151, -0.867033,
    -0.387228, 0.280995, -0.218189, -0.539178, -0.427359, -0.602075, 0.311971, 0.277974,
    0.773159, 0.592493, -0.0331884, -0.630854, -0.269947, 0.339132, 0.581079, 0.209461,
    -0.317433, -0.284993, 0.181323, 0.341634, 0.804959, -0.229572, -0.758907, -0.336721,
    0.605463, -0.991272, -0.0188754, -0.300191, 0.368307, -0.176135, -0.3832, -0.749569,
    0.62356, -0.573938, 0.278309, -0.971313, 0.839994, -0.830686, 0.439078, 0.66128,
    0.694514, 0.0565042, 0.54342, -0.438804, -0.0228428, -0.687068, 0.857267, 0.301991,
    -0.494255, -0.941039, 0.775509, 0.410575, -0.362081, -0.671534, -0.348379, 0.932433,
    0.886442, 0.868681, -0.225666, -0.062211, -0.0976425, -0.641444, -0.848112, 0.724697,
    0.473503, 0.998749, 0.174701, 0.559625, -0.029099, -0.337392, -0.958129, -0.659785,
    0.236042, -0.246937, 0.659449, -0.027512, 0.821897, -0.226215, 0.0181735, 0.500481,
    -0.420127, -0.427878, 0.566186,
};

static double rtable[534];
static unsigned short hash_table[8192];
static int noise_ready;

/* POV-Ray 3.7's gPatternRands: the first values of a default-seeded (5489) mt19937 drawn
   through boost's uniform_real(0, 1) (u32 / 2^32); crackle and cells index it by Hash3d
   (< 4096) plus 0..2. */
#define PATTERN_RANDS 4098
static double pattern_rands[PATTERN_RANDS];

static void mt19937_fill(double *out, int n)
{
    static uint32_t mt[624];
    mt[0] = 5489u;
    for (int i = 1; i < 624; i++)
        mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint32_t)i;
    int idx = 624;
    for (int k = 0; k < n; k++) {
        if (idx >= 624) {
            for (int i = 0; i < 624; i++) {
                uint32_t y = (mt[i] & 0x80000000u) | (mt[(i + 1) % 624] & 0x7fffffffu);
                mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
            }
            idx = 0;
        }
        uint32_t y = mt[idx++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        out[k] = (double)y / 4294967296.0;
    }
}

/* noise_generator 3: POV-Ray 3.7's SolidNoise (Perlin's gradient noise, its noise.cpp):
   2048 unit gradients and a permutation drawn from its generator, seed 1 */
#define SOLID_N 2048
#define SOLID_ROLLOVER 10000000.023157213
static int solid_perm[2 * (SOLID_N + 1)];
static vec3 solid_grad[2 * (SOLID_N + 1)];

static int solid_rand(uint32_t *next)
{
    *next = *next * 1812433253u + 12345u;
    return (int)((*next >> 16) & 0x7FFF);
}

static void solid_noise_init(void)
{
    uint32_t next = 1;
    for (int i = 0; i < SOLID_N; i++) {
        double v[3], s;
        do {
            for (int j = 0; j < 3; j++)
                v[j] = (double)(solid_rand(&next) % (SOLID_N << 1) - SOLID_N) / (double)SOLID_N;
            s = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
        } while (s > 1.0 || s < 1.0e-5);
        s = rt_sqrt(s);
        solid_grad[i] = v3(v[0] / s, v[1] / s, v[2] / s);
    }
    for (int i = 0; i < SOLID_N; i++)
        solid_perm[i] = i;
    for (int i = SOLID_N; i > 0; i -= 2) {
        int k = solid_perm[i], j = solid_rand(&next) % SOLID_N;
        solid_perm[i] = solid_perm[j];
        solid_perm[j] = k;
    }
    for (int i = 0; i < SOLID_N + 2; i++) {
        solid_perm[SOLID_N + i] = solid_perm[i];
        solid_grad[SOLID_N + i] = solid_grad[i];
    }
}

static void solid_setup(double c, int *b0, int *b1, double *r0, double *r1)
{
    double t = c + SOLID_ROLLOVER;
    int it = (int)rt_floor(t);
    *b0 = it & (SOLID_N - 1);
    *b1 = (*b0 + 1) & (SOLID_N - 1);
    *r0 = t - it;
    *r1 = *r0 - 1.0;
}

static double lerp(double t, double a, double b) { return a + t * (b - a); }

static double solid_at(int g, double x, double y, double z)
{
    return x * solid_grad[g].x + y * solid_grad[g].y + z * solid_grad[g].z;
}

static double solid_noise(vec3 p)
{
    int bx0, bx1, by0, by1, bz0, bz1;
    double rx0, rx1, ry0, ry1, rz0, rz1;
    solid_setup(p.x, &bx0, &bx1, &rx0, &rx1);
    solid_setup(p.y, &by0, &by1, &ry0, &ry1);
    solid_setup(p.z, &bz0, &bz1, &rz0, &rz1);
    int i = solid_perm[bx0], j = solid_perm[bx1];
    int b00 = solid_perm[i + by0], b10 = solid_perm[j + by0];
    int b01 = solid_perm[i + by1], b11 = solid_perm[j + by1];
    double sx = rx0 * rx0 * (3.0 - 2.0 * rx0), sy = ry0 * ry0 * (3.0 - 2.0 * ry0);
    double sz = rz0 * rz0 * (3.0 - 2.0 * rz0);
    double a = lerp(sx, solid_at(b00 + bz0, rx0, ry0, rz0), solid_at(b10 + bz0, rx1, ry0, rz0));
    double b = lerp(sx, solid_at(b01 + bz0, rx0, ry1, rz0), solid_at(b11 + bz0, rx1, ry1, rz0));
    double c = lerp(sy, a, b);
    a = lerp(sx, solid_at(b00 + bz1, rx0, ry0, rz1), solid_at(b10 + bz1, rx1, ry0, rz1));
    b = lerp(sx, solid_at(b01 + bz1, rx0, ry1, rz1), solid_at(b11 + bz1, rx1, ry1, rz1));
    return lerp(sz, c, lerp(sy, a, b));
}

void pattern_init(void)
{
    if (noise_ready)
        return;
    for (int i = 0; i < 267; i++) {
        rtable[2 * i] = RTABLE_EVEN[i];
        rtable[2 * i + 1] = RTABLE_EVEN[i] * 0.5;
    }
    for (int i = 0; i < 4096; i++)
        hash_table[i] = (unsigned short)i;
    uint32_t next = 0;
    for (int i = 4095; i >= 0; i--) {
        next = next * 1812433253u + 12345u;
        int j = (int)((next >> 16) & 0x7FFF) % 4096;
        unsigned short t = hash_table[i];
        hash_table[i] = hash_table[j];
        hash_table[j] = t;
    }
    for (int i = 0; i < 4096; i++)
        hash_table[4096 + i] = hash_table[i];
    solid_noise_init();
    mt19937_fill(pattern_rands, PATTERN_RANDS);
    noise_ready = 1;
    pattern_shapes_init();
}

unsigned pov_hash(int i) { return hash_table[i & 0xfff]; }

#define NOISE_EPSILON 1.0e-5
#define NOISE_MIN (-10000)

static inline int hash2d(int a, int b) { return hash_table[hash_table[a] ^ b]; }
/* POV-Ray's Hash3d: each coordinate masked to 12 bits */
static inline int hash3d(int a, int b, int c)
{
    return hash_table[hash_table[hash_table[a & 0xfff] ^ (b & 0xfff)] ^ (c & 0xfff)];
}
static inline const double *rt_at(int h, int iz) { return &rtable[(hash_table[h ^ iz] & 0xFF) * 2]; }
static inline double scurve(double a) { return a * a * (3.0 - 2.0 * a); }
static inline double incr(const double *m, double s, double x, double y, double z)
{
    return s * (m[1] + m[2] * x + m[4] * y + m[6] * z);
}

static int lattice(double x, double *frac)
{
    int t = x >= 0 ? (int)x : (int)(x - (1 - NOISE_EPSILON));
    *frac = x - t;
    return (t - NOISE_MIN) & 0xFFF;
}

typedef struct {
    int ixiy, jxiy, ixjy, jxjy, iz;
    double x0, x1, y0, y1, z0, z1, txty, sxty, txsy, sxsy, sz, tz;
} lat;

static void lattice_setup(vec3 p, lat *L)
{
    int ix = lattice(p.x, &L->x0), iy = lattice(p.y, &L->y0);
    L->iz = lattice(p.z, &L->z0);
    L->x1 = L->x0 - 1;
    L->y1 = L->y0 - 1;
    L->z1 = L->z0 - 1;
    double sx = scurve(L->x0), sy = scurve(L->y0);
    L->sz = scurve(L->z0);
    double tx = 1 - sx, ty = 1 - sy;
    L->tz = 1 - L->sz;
    L->txty = tx * ty;
    L->sxty = sx * ty;
    L->txsy = tx * sy;
    L->sxsy = sx * sy;
    L->ixiy = hash2d(ix, iy);
    L->jxiy = hash2d(ix + 1, iy);
    L->ixjy = hash2d(ix, iy + 1);
    L->jxjy = hash2d(ix + 1, iy + 1);
}

double pov_noise(vec3 p, uint32_t gen)
{
    if (gen == 3) { /* POV-Ray's correction of its tables' bias */
        double v = 0.5 * (1.59 * solid_noise(p) + 0.985);
        return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    }
    lat L;
    lattice_setup(p, &L);
    int iz = L.iz;
    double s;
    s = incr(rt_at(L.ixiy, iz), L.txty * L.tz, L.x0, L.y0, L.z0);
    s += incr(rt_at(L.jxiy, iz), L.sxty * L.tz, L.x1, L.y0, L.z0);
    s += incr(rt_at(L.ixjy, iz), L.txsy * L.tz, L.x0, L.y1, L.z0);
    s += incr(rt_at(L.jxjy, iz), L.sxsy * L.tz, L.x1, L.y1, L.z0);
    s += incr(rt_at(L.ixiy, iz + 1), L.txty * L.sz, L.x0, L.y0, L.z1);
    s += incr(rt_at(L.jxiy, iz + 1), L.sxty * L.sz, L.x1, L.y0, L.z1);
    s += incr(rt_at(L.ixjy, iz + 1), L.txsy * L.sz, L.x0, L.y1, L.z1);
    s += incr(rt_at(L.jxjy, iz + 1), L.sxsy * L.sz, L.x1, L.y1, L.z1);
    if (gen == 2) {
        s += 1.05242;
        s *= 0.48985582;
    } else {
        s += 0.5;
    }
    return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
}

static void dincr(vec3 *r, const double *m, double s, double x, double y, double z)
{
    r->x += incr(m, s, x, y, z);
    r->y += incr(m + 8, s, x, y, z);
    r->z += incr(m + 16, s, x, y, z);
}

vec3 pov_dnoise(vec3 p)
{
    lat L;
    lattice_setup(p, &L);
    int iz = L.iz;
    vec3 r = {0, 0, 0};
    /* the order of POV-Ray's sums (it matters for the last bits) */
    dincr(&r, rt_at(L.ixiy, iz), L.txty * L.tz, L.x0, L.y0, L.z0);
    dincr(&r, rt_at(L.jxiy, iz), L.sxty * L.tz, L.x1, L.y0, L.z0);
    dincr(&r, rt_at(L.jxjy, iz), L.sxsy * L.tz, L.x1, L.y1, L.z0);
    dincr(&r, rt_at(L.ixjy, iz), L.txsy * L.tz, L.x0, L.y1, L.z0);
    dincr(&r, rt_at(L.ixjy, iz + 1), L.txsy * L.sz, L.x0, L.y1, L.z1);
    dincr(&r, rt_at(L.jxjy, iz + 1), L.sxsy * L.sz, L.x1, L.y1, L.z1);
    dincr(&r, rt_at(L.jxiy, iz + 1), L.sxty * L.sz, L.x1, L.y0, L.z1);
    dincr(&r, rt_at(L.ixiy, iz + 1), L.txty * L.sz, L.x0, L.y0, L.z1);
    return r;
}

double pov_turbulence_of(vec3 p, uint32_t gen, uint32_t octaves, double omega, double lambda)
{
    double v = pov_noise(p, gen);
    if (gen != 1) {
        v = 2.0 * v - 0.5;
        v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    }
    double l = lambda, o = omega;
    for (uint32_t i = 2; i <= octaves; i++) {
        double n = pov_noise(vscale(p, l), gen);
        v += o * (gen == 1 ? n : 2.0 * n - 0.5);
        if (i < octaves) {
            l *= lambda;
            o *= omega;
        }
    }
    return v;
}

double pov_turbulence(vec3 p, const pigment *pg)
{
    return pov_turbulence_of(p, pg->noise_gen, pg->octaves, pg->omega, pg->lambda);
}

vec3 pov_dturbulence(vec3 p, const pigment *pg)
{
    vec3 r = pov_dnoise(p);
    double l = pg->lambda, o = pg->omega;
    for (uint32_t i = 2; i <= pg->octaves; i++) {
        vec3 v = pov_dnoise(vscale(p, l));
        r = vadd(r, vscale(v, o));
        if (i < pg->octaves) {
            l *= pg->lambda;
            o *= pg->omega;
        }
    }
    return r;
}

/* ------------------------------------------------------------------ patterns */
static double frac(double v) { return v - rt_floor(v); }

/* POV-Ray 3.7's cycloidal(): sin(2 pi v) */
static double cycloidal(double v) { return rt_sin(v * (2.0 * RT_PI)); }

static double p_gradient(vec3 q, const pigment *pg)
{
    double v = vdot(q, pg->vec);
    return frac(v);
}

static double p_onion(vec3 q, const pigment *pg)
{
    (void)pg;
    return frac(vlen(q));
}

static double p_spherical(vec3 q, const pigment *pg)
{
    (void)pg;
    double l = vlen(q);
    return l < 1.0 ? 1.0 - l : 0.0;
}

static double p_cylindrical(vec3 q, const pigment *pg)
{
    (void)pg;
    double l = rt_sqrt(q.x * q.x + q.z * q.z);
    return l < 1.0 ? 1.0 - l : 0.0;
}

static double p_planar(vec3 q, const pigment *pg)
{
    (void)pg;
    double l = rt_fabs(q.y);
    return l < 1.0 ? 1.0 - l : 0.0;
}

static double p_boxed(vec3 q, const pigment *pg)
{
    (void)pg;
    double l = rt_fmax(rt_fabs(q.x), rt_fmax(rt_fabs(q.y), rt_fabs(q.z)));
    return l < 1.0 ? 1.0 - l : 0.0;
}

static double p_leopard(vec3 q, const pigment *pg)
{
    (void)pg;
    double t = (rt_sin(q.x) + rt_sin(q.y) + rt_sin(q.z)) / 3.0;
    return t * t;
}

static double p_bozo(vec3 q, const pigment *pg) { return pov_noise(q, pg->noise_gen); }

static double p_marble(vec3 q, const pigment *pg)
{
    double v = q.x;
    if (pg->has_turb)
        v += pg->turb.x * pov_turbulence(q, pg);
    return v;
}

static double p_wood(vec3 q, const pigment *pg)
{
    double x = q.x, y = q.y;
    if (pg->has_turb) {
        vec3 t = pov_dturbulence(q, pg);
        x += cycloidal((q.x + t.x) * pg->turb.x);
        y += cycloidal((q.y + t.y) * pg->turb.y);
    }
    return rt_sqrt(x * x + y * y);
}

static double p_granite(vec3 q, const pigment *pg)
{
    double v = 0.0, f = 1.0;
    for (int i = 0; i < 6; i++) {
        double n = pov_noise(vscale(q, 4.0 * f), pg->noise_gen), t;
        if (pg->noise_gen == 1) {
            t = rt_fabs(0.5 - n);
        } else { /* generators 2 and 3: 1 - 2n, at most 0.5 */
            t = rt_fabs(1.0 - 2.0 * n);
            if (t > 0.5)
                t = 0.5;
        }
        v += t / f;
        f *= 2.0;
    }
    return v;
}


/* agate: arg[0] = agate_turb (1); its own turbulence sum (octaves, omega, lambda) always
   applies, and a turbulence warp displaces the point first as for the other patterns */
static double p_agate(vec3 q, const pigment *pg)
{
    double t = pg->arg[0] * pov_turbulence(q, pg);
    double n = 0.5 * (cycloidal(1.3 * t + 1.1 * q.z) + 1.0);
    if (n < 0.0)
        return 0.0;
    return rt_pow(n < 1.0 ? n : 1.0, 0.77);
}

/* cells: one value of the table per unit cube */
static double p_cells(vec3 q, const pigment *pg)
{
    (void)pg;
    int h = hash3d((int)rt_floor(q.x + POV_EPSILON), (int)rt_floor(q.y + POV_EPSILON),
                   (int)rt_floor(q.z + POV_EPSILON));
    double v = pattern_rands[h];
    return v < 1.0 ? v : 1.0;
}

/* crackle: arg[0..2] = form (-1, 1, 0), arg[3] = metric (2), arg[4] = offset (0),
   arg[5] = solid (0). The nuclei of the 81 cubes within a "3d knight move" of the point's
   cube (offsets -2..2, at most one of them +-2, in x, y, z order), each at its cube's corner
   plus three table values from Hash3d; the three smallest distances (in POV-Ray's order of
   comparison) weighted by form, or the noise at the nearest nucleus when solid. */
typedef struct { int x, y, z, ok; vec3 nuc[81]; } crackle_cell;

static void crackle_nuclei(crackle_cell *c, int fx, int fy, int fz)
{
    int k = 0;
    for (int ax = -2; ax <= 2; ax++)
        for (int ay = -2; ay <= 2; ay++)
            for (int az = -2; az <= 2; az++) {
                if ((ax == 2 || ax == -2) + (ay == 2 || ay == -2) + (az == 2 || az == -2) > 1)
                    continue;
                int x = fx + ax, y = fy + ay, z = fz + az;
                int h = hash3d(x, y, z);
                c->nuc[k++] = (vec3){x + pattern_rands[h], y + pattern_rands[h + 1],
                                     z + pattern_rands[h + 2]};
            }
    c->x = fx, c->y = fy, c->z = fz, c->ok = 1;
}

static double crackle_dist(vec3 d, double metric)
{
    if (metric == 2.0)
        return d.x * d.x + d.y * d.y + d.z * d.z;
    if (metric == 1.0)
        return rt_fabs(d.x) + rt_fabs(d.y) + rt_fabs(d.z);
    return rt_pow(rt_fabs(d.x), metric) + rt_pow(rt_fabs(d.y), metric) +
           rt_pow(rt_fabs(d.z), metric);
}

static double crackle_root(double s, double metric)
{
    if (metric == 2.0)
        return rt_sqrt(s);
    if (metric == 1.0)
        return s;
    return rt_pow(s, 1.0 / metric);
}

static double p_crackle(vec3 q, const pigment *pg)
{
    static crackle_cell cache; /* the nuclei depend only on the cube: same values */
    double metric = pg->arg[3], offset = pg->arg[4];
    int fx = (int)rt_floor(q.x - POV_EPSILON), fy = (int)rt_floor(q.y - POV_EPSILON),
        fz = (int)rt_floor(q.z - POV_EPSILON);
    if (!cache.ok || cache.x != fx || cache.y != fy || cache.z != fz)
        crackle_nuclei(&cache, fx, fy, fz);
    const vec3 *nuc = cache.nuc;
    double m[3];
    int near = 0;
    for (int i = 0; i < 3; i++)
        m[i] = crackle_dist(vsub(nuc[i], q), metric);
    double t;
    if (m[1] < m[0])
        t = m[0], m[0] = m[1], m[1] = t, near = 1;
    if (m[2] < m[0])
        t = m[0], m[0] = m[2], m[2] = t, near = 2;
    if (m[2] < m[1])
        t = m[1], m[1] = m[2], m[2] = t;
    for (int i = 3; i < 81; i++) {
        double d = crackle_dist(vsub(nuc[i], q), metric);
        if (d < m[0])
            m[2] = m[1], m[1] = m[0], m[0] = d, near = i;
        else if (d < m[1])
            m[2] = m[1], m[1] = d;
        else if (d < m[2])
            m[2] = d;
    }
    if (offset != 0.0) {
        double add = metric == 2.0 ? offset * offset
                     : metric == 1.0 ? offset : rt_pow(offset, metric);
        m[0] += add, m[1] += add, m[2] += add;
    }
    double v;
    if (pg->arg[5] != 0.0)
        v = pov_noise(nuc[near], pg->noise_gen);
    else
        v = pg->arg[0] * crackle_root(m[0], metric) + pg->arg[1] * crackle_root(m[1], metric) +
            pg->arg[2] * crackle_root(m[2], metric);
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

/* POV-Ray 3.7's default colour maps (pattern.cpp gaDefaultBlendMapEntries_*) */
static const pattern_map_entry MAP_GRAY[] = {{0.0, 0, 0, 0}, {1.0, 1, 1, 1}};
static const pattern_map_entry MAP_AGATE[] = {
    {0.0, 1.0, 1.0, 1.0}, {0.5, 0.95, 0.75, 0.5}, {0.5, 0.9, 0.7, 0.5},
    {0.6, 0.9, 0.7, 0.4}, {0.6, 1.0, 0.7, 0.4},   {1.0, 0.6, 0.3, 0.0}};
static const pattern_map_entry MAP_BOZO[] = {
    {0.4, 1, 1, 1}, {0.4, 0, 1, 0}, {0.6, 0, 1, 0}, {0.6, 0, 0, 1}, {0.8, 0, 0, 1}, {0.8, 1, 0, 0}};
static const pattern_map_entry MAP_MARBLE[] = {
    {0.0, 0.9, 0.8, 0.8}, {0.9, 0.9, 0.08, 0.08}, {0.9, 0.0, 0.0, 0.0}};
static const pattern_map_entry MAP_WOOD[] = {
    {0.6, 0.666, 0.312, 0.2}, {0.6, 0.4, 0.1333, 0.066}};
static const pattern_map_entry MAP_CHECKER[] = {{0.0, 0, 0, 1}, {1.0, 0, 1, 0}};
static const pattern_map_entry MAP_HEXAGON[] = {{0.0, 0, 0, 1}, {1.0, 0, 1, 0}, {2.0, 1, 0, 0}};
static const pattern_map_entry MAP_BRICK[] = {{0.0, 0.5, 0.5, 0.5}, {1.0, 0.6, 0.15, 0.15}};
static const pattern_map_entry MAP_RADIAL[] = {
    {0.0, 0, 1, 1}, {0.333, 1, 1, 0}, {0.666, 1, 0, 1}, {1.0, 0, 1, 1}};
static const pattern_map_entry MAP_MANDEL[] = {
    {0.001, 0, 0, 0}, {0.001, 0, 1, 1}, {0.012, 1, 1, 0}, {0.015, 1, 0, 1}, {0.1, 0, 1, 1}};
#define MAP(m) m, (uint32_t)(sizeof m / sizeof m[0])
/* lead numbers, discrete, colours */
#define PLAIN 0, 0, 0

static double p_zero(vec3 q, const pigment *pg)
{
    (void)q, (void)pg;
    return 0.0; /* average: pigment_colour weighs its entries */
}

/* checker as a pattern (CheckerPattern::Evaluate): 1 where floor(x + e) + floor(y + e) +
   floor(z + e) is odd */
static double p_checker(vec3 q, const pigment *pg)
{
    (void)pg;
    double v = rt_floor(q.x + POV_EPSILON) + rt_floor(q.y + POV_EPSILON) +
               rt_floor(q.z + POV_EPSILON), half = v * 0.5;
    return rt_floor(half) != half ? 1.0 : 0.0;
}

/* The surface being shaded (pattern_set_surface), for the slope pattern. */
pattern_surface_t pattern_surface;

/* fmod(v, 1) (exact: v less its integer part) */
static double fmod1(double v) { return v - (v < 0.0 ? rt_ceil(v) : rt_floor(v)); }

/* POV-Ray 3.7's wrap of the slope pattern's value into [0, 1): 1 (and, with an altitude, up
   to 1 + EPSILON) kept just below 1, the rest as fmod does */
static double slope_wrap(double v, int altitude)
{
    if (altitude ? (v >= 1.0 && v - 1.0 < POV_EPSILON) : v == 1.0)
        return v - POV_EPSILON;
    return v < 0.0 ? 1.0 + fmod1(v) : fmod1(v);
}

/* slope (POV-Ray 3.7's slope_pattern): the angle between the surface normal and the slope
   vector (vec; with point_at, the direction from the surface to the point vec), asin(N.v)
   mapped to [0, 1] and rescaled by [arg 0, arg 0 + arg 1] when arg 1 is not 0; with an
   altitude (arg 2..4, rescaled by arg 5, 6 the same way), arg 7 * slope + (1 - arg 7) *
   the height along it at pattern-space point q. arg 8: point_at. */
static double p_slope(vec3 q, const pigment *pg)
{
    if (!pattern_surface.known)
        return 0.0;
    const double *a = pg->arg;
    vec3 v = pg->vec;
    if (a[8] != 0.0) {
        v = vsub(pg->vec, pattern_surface.P);
        double len = rt_sqrt(vdot(v, v));
        if (len > 0.0)
            v = vscale(v, 1.0 / len);
    }
    double s = rt_fmin(1.0, rt_fmax(-1.0, vdot(pattern_surface.N, v)));
    s = (pov_atan2(s, rt_sqrt(1.0 - s * s)) / RT_PI * 2.0 + 1.0) * 0.5;
    if (a[1] != 0.0)
        s = (s - a[0]) / a[1];
    double alt_weight = a[8] != 0.0 ? 0.0 : 1.0 - a[7];
    if (alt_weight == 0.0)
        return slope_wrap(s, 0);
    double h = vdot(q, v3(a[2], a[3], a[4]));
    if (a[6] != 0.0)
        h = (h - a[5]) / a[6];
    return slope_wrap(a[7] * s + alt_weight * h, 1);
}

static const pattern_class PATTERNS[] = {
    /* name          type            value          wave           own turb  default map */
    {"gradient",    PIG_GRADIENT,    p_gradient,    WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"onion",       PIG_ONION,       p_onion,       WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"spherical",   PIG_SPHERICAL,   p_spherical,   WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"cylindrical", PIG_CYLINDRICAL, p_cylindrical, WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"planar",      PIG_PLANAR,      p_planar,      WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"boxed",       PIG_BOXED,       p_boxed,       WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"leopard",     PIG_LEOPARD,     p_leopard,     WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"bozo",        PIG_BOZO,        p_bozo,        WAVE_RAMP,     0, MAP(MAP_BOZO), PLAIN},
    {"spotted",     PIG_SPOTTED,     p_bozo,        WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"marble",      PIG_MARBLE,      p_marble,      WAVE_TRIANGLE, 1, MAP(MAP_MARBLE), PLAIN},
    {"wood",        PIG_WOOD,        p_wood,        WAVE_TRIANGLE, 1, MAP(MAP_WOOD), PLAIN},
    {"granite",     PIG_GRANITE,     p_granite,     WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"agate",       PIG_AGATE,       p_agate,       WAVE_RAMP,     0, MAP(MAP_AGATE), PLAIN},
    {"crackle",     PIG_CRACKLE,     p_crackle,     WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"cells",       PIG_CELLS,       p_cells,       WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"average",     PIG_AVERAGE,     p_zero,        WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    /* reached through "checker pigment { } pigment { }" (parse.c), not by its name */
    {"checker pigments", PIG_CHECKER_MAP, p_checker, WAVE_RAMP,  0, MAP(MAP_CHECKER), 0, 1, 2},
    {"radial",      PIG_RADIAL,      p_radial,      WAVE_RAMP,     0, MAP(MAP_RADIAL), PLAIN},
    {"spiral1",     PIG_SPIRAL1,     p_spiral1,     WAVE_TRIANGLE, 0, MAP(MAP_GRAY), 1, 0, 0},
    {"spiral2",     PIG_SPIRAL2,     p_spiral2,     WAVE_TRIANGLE, 0, MAP(MAP_GRAY), 1, 0, 0},
    {"quilted",     PIG_QUILTED,     p_quilted,     WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"hexagon",     PIG_HEXAGON,     p_hexagon,     WAVE_RAMP,     0, MAP(MAP_HEXAGON), 0, 1, 3},
    {"brick",       PIG_BRICK,       p_brick,       WAVE_RAMP,     0, MAP(MAP_BRICK), 0, 1, 2},
    {"mandel",      PIG_MANDEL,      p_mandel,      WAVE_RAMP,     0, MAP(MAP_MANDEL), 1, 0, 0},
    {"waves",       PIG_WAVES,       p_waves,       WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"ripples",     PIG_RIPPLES,     p_ripples,     WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"wrinkles",    PIG_WRINKLES,    p_wrinkles,    WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"bumps",       PIG_BUMPS,       p_bozo,        WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"dents",       PIG_DENTS,       p_dents,       WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
    {"function",    PIG_FUNCTION,    fn_pattern_value, WAVE_RAMP,  0, MAP(MAP_GRAY), PLAIN},
    {"pigment_pattern", PIG_PIGMENT_PATTERN, fn_pigment_pattern_value, WAVE_RAMP, 0, MAP(MAP_GRAY),
     PLAIN},
    /* reached through "image_map { }" in a pigment (imagemap_parse.c), not by its name */
    {"image_map pigment", PIG_IMAGE_MAP, image_pattern_value, WAVE_RAMP, 0, MAP(MAP_GRAY), PLAIN},
    {"slope",       PIG_SLOPE,       p_slope,       WAVE_RAMP,     0, MAP(MAP_GRAY), PLAIN},
};

/* every pattern type has its row: a new PIG_* without one does not compile */
_Static_assert(sizeof PATTERNS / sizeof PATTERNS[0] == PIG_COUNT - PIG_GRADIENT,
               "PATTERNS needs one row per pattern type");

/* The patterns' own keywords and their defaults. */
static const pattern_arg PATTERN_ARGS[] = {
    {PIG_AGATE, "agate_turb", 0, 1},
    {PIG_CRACKLE, "form", 0, 3},
    {PIG_CRACKLE, "metric", 3, 1},
    {PIG_CRACKLE, "offset", 4, 1},
    {PIG_CRACKLE, "solid", 5, 0},
    {PIG_QUILTED, "control0", 0, 1},
    {PIG_QUILTED, "control1", 1, 1},
    {PIG_BRICK, "brick_size", 0, 3},
    {PIG_BRICK, "mortar", 3, 1},
    {PIG_MANDEL, "exponent", 1, 1},
    {PIG_MANDEL, "exterior", 2, 2},
    {PIG_MANDEL, "interior", 4, 2},
};
static const struct { uint32_t type; double arg[POV_PATTERN_ARGS]; } PATTERN_ARG_DEFAULTS[] = {
    {PIG_AGATE, {1.0}},
    {PIG_CRACKLE, {-1.0, 1.0, 0.0, 2.0, 0.0, 0.0}},
    {PIG_QUILTED, {1.0, 1.0}},
    {PIG_BRICK, {8.0, 3.0, 4.5, 0.5}},
    {PIG_MANDEL, {0.0, 2.0, 1.0, 1.0, 0.0, 1.0}},
};

static int same_word(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return !*a && !*b;
}

const pattern_arg *pattern_arg_by_name(uint32_t type, const char *word)
{
    for (unsigned i = 0; i < sizeof PATTERN_ARGS / sizeof PATTERN_ARGS[0]; i++)
        if (PATTERN_ARGS[i].type == type && same_word(PATTERN_ARGS[i].word, word))
            return &PATTERN_ARGS[i];
    return 0;
}

void pattern_default_args(uint32_t type, double arg[POV_PATTERN_ARGS])
{
    for (int k = 0; k < POV_PATTERN_ARGS; k++)
        arg[k] = 0.0;
    for (unsigned i = 0; i < sizeof PATTERN_ARG_DEFAULTS / sizeof PATTERN_ARG_DEFAULTS[0]; i++)
        if (PATTERN_ARG_DEFAULTS[i].type == type)
            for (int k = 0; k < POV_PATTERN_ARGS; k++)
                arg[k] = PATTERN_ARG_DEFAULTS[i].arg[k];
}

void pattern_default_map(const pattern_class *pc, colour_map *m)
{
    unsigned char *b = (unsigned char *)m;
    for (size_t i = 0; i < sizeof *m; i++)
        b[i] = 0;
    m->n = pc->default_map_n;
    for (uint32_t i = 0; i < m->n; i++) {
        m->v[i] = pc->default_map[i].v;
        m->c[i] = (vec3){pc->default_map[i].r, pc->default_map[i].g, pc->default_map[i].b};
    }
}

const pattern_class *pattern_by_name(const char *name)
{
    for (unsigned i = 0; i < sizeof PATTERNS / sizeof PATTERNS[0]; i++)
        if (same_word(PATTERNS[i].name, name))
            return &PATTERNS[i];
    return 0;
}

const pattern_class *pattern_by_type(uint32_t type)
{
    for (unsigned i = 0; i < sizeof PATTERNS / sizeof PATTERNS[0]; i++)
        if (PATTERNS[i].type == type)
            return &PATTERNS[i];
    return 0;
}

static double wave(double v, const pigment *pg)
{
    if (pg->frequency != 0.0) {
        double x = v * pg->frequency + pg->phase;
        /* fmod(x, 1.00001) as C defines it (truncated) */
        double m = 1.00001;
        double qt = x / m;
        qt = qt < 0 ? -rt_floor(-qt) : rt_floor(qt);
        v = x - qt * m;
    }
    if (v < 0.0)
        v -= rt_floor(v);
    switch (pg->wave) {
    case WAVE_SINE:
        return (1.0 + cycloidal(v)) * 0.5;
    case WAVE_TRIANGLE: {
        double o = v - rt_floor(v);
        return o >= 0.5 ? 2.0 * (1.0 - o) : 2.0 * o;
    }
    case WAVE_SCALLOP:
        return rt_fabs(cycloidal(v * 0.5));
    case WAVE_CUBIC:
        return v * v * (-2.0 * v + 3.0);
    case WAVE_POLY:
        return rt_pow(v, pg->exponent);
    default:
        return v;
    }
}

vec3 pattern_warp(const pigment *pg, vec3 q)
{
    const pattern_class *pc = pattern_by_type(pg->type);
    if (pc && pg->has_turb && !pc->own_turbulence)
        q = vadd(q, vmul(pov_dturbulence(q, pg), pg->turb));
    return q;
}

double pattern_value_warped(const pigment *pg, vec3 q)
{
    const pattern_class *pc = pattern_by_type(pg->type);
    if (!pc)
        return 0.0; /* unreachable: the scene reader checks the type */
    double v = pc->value(q, pg);
    return pc->discrete ? v : wave(v, pg);
}

double pattern_value(const pigment *pg, vec3 q)
{
    return pattern_value_warped(pg, pattern_warp(pg, q));
}

/* World point P into the pattern's space (before its own turbulence): the transforms given
   after the last warp, then each warp from the last to the first with the transforms given
   before it, as POV-Ray walks its warp list (warp.c). */
vec3 pattern_space(const pigment *pg, vec3 P)
{
    vec3 q = pg->has_trans ? xf_point(&pg->inv, P) : P;
    const warp_item *w = warps_of(pg);
    for (uint32_t i = w ? pg->warp_n : 0; i-- > 0;)
        q = warp_point(&w[i], q);
    return q;
}

int pattern_hash3d(int a, int b, int c) { return hash3d(a, b, c); }

double pattern_rand(int i) { return pattern_rands[(unsigned)i % PATTERN_RANDS]; }

double pattern_value_at(const pigment *pg, vec3 P)
{
    return pattern_value_warped(pg, pattern_warp(pg, pattern_space(pg, P)));
}

vec3 pattern_colour(const pigment *pg, const colour_map *maps, vec3 P, double ft[2])
{
    vec3 q = pattern_space(pg, P);
    double v = pattern_value(pg, q);
    const colour_map *m = &maps[pg->map];
    uint32_t last = m->n - 1, i = 0;
    if (v >= m->v[last]) {
        ft[0] = m->ft[last][0], ft[1] = m->ft[last][1];
        return m->c[last];
    }
    while (v > m->v[i])
        i++;
    if (v == m->v[i] || i == 0) {
        ft[0] = m->ft[i][0], ft[1] = m->ft[i][1];
        return m->c[i];
    }
    double wp = (m->v[i] - v) / (m->v[i] - m->v[i - 1]), wn = 1.0 - wp;
    ft[0] = m->ft[i - 1][0] * wp + m->ft[i][0] * wn;
    ft[1] = m->ft[i - 1][1] * wp + m->ft[i][1] * wn;
    return vadd(vscale(m->c[i - 1], wp), vscale(m->c[i], wn));
}

/* ------------------------------------------------------------------ pigment_map, average */
static vec3 solid_or_checker(const pigment *pg, vec3 P, double ft[2])
{
    int second = 0;
    if (pg->type == PIG_CHECKER) {
        vec3 q = pg->has_trans ? xf_point(&pg->inv, P) : P; /* no warp: refused */
        double v = rt_floor(q.x + POV_EPSILON) + rt_floor(q.y + POV_EPSILON) +
                   rt_floor(q.z + POV_EPSILON);
        double half = v * 0.5;
        second = rt_floor(half) != half;
    }
    const double *f = second ? pg->ft2 : pg->ft1;
    ft[0] = f[0];
    ft[1] = f[1];
    return second ? pg->c2 : pg->c1;
}

static vec3 entry_colour(const scene *s, const pigment *parent, uint32_t k, vec3 P, double ft[2])
{
    const pigment_entry *e = &s->pentries[parent->sub_first + k];
    return pigment_colour(s, &e->pig, P, ft);
}

/* POV-Ray's average: the entries' colours weighted by their values, at the average
   pigment's own point. */
static vec3 average_colour(const scene *s, const pigment *pg, vec3 P, double ft[2])
{
    vec3 q = pattern_warp(pg, pattern_space(pg, P));
    vec3 sum = {0, 0, 0};
    double total = 0.0, f0 = 0.0, f1 = 0.0;
    for (uint32_t k = 0; k < pg->sub_n; k++) {
        double w = s->pentries[pg->sub_first + k].v, e[2];
        sum = vadd(sum, vscale(entry_colour(s, pg, k, q, e), w));
        f0 += w * e[0], f1 += w * e[1];
        total += w;
    }
    if (total == 0.0)
        total = 1.0; /* all weights 0: black, as the sum is */
    ft[0] = f0 / total, ft[1] = f1 / total;
    return vscale(sum, 1.0 / total);
}

/* A pattern with a pigment_map: BlendMap::Search over the entries' values, the entries'
   pigments evaluated at the pattern's own point (its transforms and turbulence applied, as
   POV-Ray's Warp_EPoint hands it on). */
static vec3 pigment_map_colour(const scene *s, const pigment *pg, vec3 P, double ft[2])
{
    vec3 C = pattern_warp(pg, pattern_space(pg, P));
    double v = pattern_value_warped(pg, C);
    const pigment_entry *m = &s->pentries[pg->sub_first];
    uint32_t last = pg->sub_n - 1, i = 0;
    if (v >= m[last].v)
        return entry_colour(s, pg, last, C, ft);
    while (v > m[i].v)
        i++;
    if (v == m[i].v || i == 0)
        return entry_colour(s, pg, i, C, ft);
    double wp = (m[i].v - v) / (m[i].v - m[i - 1].v), wn = 1.0 - wp, a[2], b[2];
    vec3 ca = entry_colour(s, pg, i - 1, C, a), cb = entry_colour(s, pg, i, C, b);
    ft[0] = a[0] * wp + b[0] * wn;
    ft[1] = a[1] * wp + b[1] * wn;
    return vadd(vscale(ca, wp), vscale(cb, wn));
}

vec3 pigment_colour(const scene *s, const pigment *pg, vec3 P, double ft[2])
{
    if (pg->type < PIG_GRADIENT)
        return solid_or_checker(pg, P, ft);
    if (pg->type == PIG_AVERAGE)
        return average_colour(s, pg, P, ft);
    if (pg->type == PIG_IMAGE_MAP) /* imagemap.c: colours of its own */
        return image_map_colour(s, pg, pattern_warp(pg, pattern_space(pg, P)), ft);
    if (pg->sub_n)
        return pigment_map_colour(s, pg, P, ft);
    return pattern_colour(pg, s->maps, P, ft);
}
