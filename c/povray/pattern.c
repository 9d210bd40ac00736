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
#include "pattern.h"
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
    noise_ready = 1;
}

unsigned pov_hash(int i) { return hash_table[i & 0xfff]; }

#define NOISE_EPSILON 1.0e-5
#define NOISE_MIN (-10000)

static inline int hash2d(int a, int b) { return hash_table[hash_table[a] ^ b]; }
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

double pov_turbulence(vec3 p, const pigment *pg)
{
    uint32_t gen = pg->noise_gen;
    double v = pov_noise(p, gen);
    if (gen != 1) {
        v = 2.0 * v - 0.5;
        v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    }
    double l = pg->lambda, o = pg->omega;
    for (uint32_t i = 2; i <= pg->octaves; i++) {
        double n = pov_noise(vscale(p, l), gen);
        v += o * (gen == 1 ? n : 2.0 * n - 0.5);
        if (i < pg->octaves) {
            l *= pg->lambda;
            o *= pg->omega;
        }
    }
    return v;
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

static const pattern_class PATTERNS[] = {
    /* name          type            value          wave           own turbulence */
    {"gradient",    PIG_GRADIENT,    p_gradient,    WAVE_RAMP,     0},
    {"onion",       PIG_ONION,       p_onion,       WAVE_RAMP,     0},
    {"spherical",   PIG_SPHERICAL,   p_spherical,   WAVE_RAMP,     0},
    {"cylindrical", PIG_CYLINDRICAL, p_cylindrical, WAVE_RAMP,     0},
    {"planar",      PIG_PLANAR,      p_planar,      WAVE_RAMP,     0},
    {"boxed",       PIG_BOXED,       p_boxed,       WAVE_RAMP,     0},
    {"leopard",     PIG_LEOPARD,     p_leopard,     WAVE_RAMP,     0},
    {"bozo",        PIG_BOZO,        p_bozo,        WAVE_RAMP,     0},
    {"spotted",     PIG_SPOTTED,     p_bozo,        WAVE_RAMP,     0},
    {"marble",      PIG_MARBLE,      p_marble,      WAVE_TRIANGLE, 1},
    {"wood",        PIG_WOOD,        p_wood,        WAVE_TRIANGLE, 1},
    {"granite",     PIG_GRANITE,     p_granite,     WAVE_RAMP,     0},
};

const pattern_class *pattern_by_name(const char *name)
{
    for (unsigned i = 0; i < sizeof PATTERNS / sizeof PATTERNS[0]; i++) {
        const char *a = PATTERNS[i].name, *b = name;
        while (*a && *a == *b)
            a++, b++;
        if (!*a && !*b)
            return &PATTERNS[i];
    }
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

double pattern_value(const pigment *pg, vec3 q)
{
    const pattern_class *pc = pattern_by_type(pg->type);
    if (!pc)
        return 0.0; /* unreachable: the scene reader checks the type */
    if (pg->has_turb && !pc->own_turbulence)
        q = vadd(q, vmul(pov_dturbulence(q, pg), pg->turb));
    return wave(pc->value(q, pg), pg);
}

vec3 pattern_colour(const pigment *pg, const colour_map *maps, vec3 P, double ft[2])
{
    vec3 q = pg->has_trans ? xf_point(&pg->inv, P) : P;
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
