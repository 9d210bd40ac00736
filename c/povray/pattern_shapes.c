/* pattern_shapes.c -- more of POV-Ray 3.7's patterns (freestanding-safe): radial, spiral1,
 * spiral2, quilted, hexagon, brick, mandel and julia (exponents 2..4), magnet (types 1 and 2,
 * mandel and julia), waves, ripples, wrinkles, dents.
 *
 * The formulas are those of POV-Ray 3.7's pattern.cpp (RadialPattern, Spiral1Pattern,
 * QuiltedPattern with quilt_cubic, HexagonPattern, BrickPattern, Mandel2/3/4Pattern with
 * FractalPattern's exterior and interior colours, WavesPattern, RipplesPattern,
 * WrinklesPattern, DentsPattern) and the wave sources of its Initialize_Waves (noise.cpp):
 * source i is DNoise(<i, 0, 0>) normalised, frequency i the LCG next = next * 1812433253 +
 * 12345 from -560851967, ((next >> 16) & 0x7fff) * 0.000030518509476 + 0.01.
 * atan2 and asin are computed here (the sandbox has no libm): argument reduction to
 * |x| <= tan(pi / 12) and the odd power series, within a few ulp.
 */
#include "pattern_shapes.h"
#include "pattern.h"
#include "render.h"
#include "rt_math.h"

#define PI 3.14159265358979323846
#define SQRT3 1.7320508075688772935274463415059

static double atan_small(double x) /* |x| <= tan(pi/12) */
{
    double x2 = x * x, term = x, sum = x;
    for (int k = 1; k < 24; k++) {
        term *= -x2;
        sum += term / (2 * k + 1);
    }
    return sum;
}

double pov_atan(double x)
{
    if (x != x)
        return x;
    if (x < 0.0)
        return -pov_atan(-x);
    if (x > 1.0)
        return PI / 2 - pov_atan(1.0 / x);
    if (x > 2.0 - SQRT3)
        return PI / 6 + atan_small((SQRT3 * x - 1.0) / (SQRT3 + x));
    return atan_small(x);
}

double pov_atan2(double y, double x)
{
    if (x > 0.0)
        return pov_atan(y / x);
    if (x < 0.0)
        return y >= 0.0 ? pov_atan(y / x) + PI : pov_atan(y / x) - PI;
    return y > 0.0 ? PI / 2 : y < 0.0 ? -PI / 2 : 0.0;
}

static double my_asin(double x) { return pov_atan2(x, rt_sqrt(1.0 - x * x)); }

static double cycloidal(double v) { return rt_sin(v * (2.0 * PI)); }

static double triangle_wave(double v)
{
    double o = v - rt_floor(v);
    return o >= 0.5 ? 2.0 * (1.0 - o) : 2.0 * o;
}

double p_radial(vec3 q, const pigment *pg)
{
    (void)pg;
    if (rt_fabs(q.x) < 0.001 && rt_fabs(q.z) < 0.001)
        return 0.25;
    return 0.25 + (pov_atan2(q.x, q.z) + PI) / (2.0 * PI);
}

/* arg[0] = arms; the turbulence amount's x times the turbulence sum joins the value */
static double spiral_base(vec3 q, const pigment *pg, double *rad)
{
    double t = pg->has_turb ? pg->turb.x * pov_turbulence(q, pg) : 0.0;
    double r = rt_sqrt(q.x * q.x + q.y * q.y), phi = 0.0;
    if (r != 0.0)
        phi = q.x < 0.0 ? 3.0 * (PI / 2) - my_asin(q.y / r) : PI / 2 + my_asin(q.y / r);
    *rad = r;
    return q.z + r + pg->arg[0] * phi / (2.0 * PI) + t;
}

double p_spiral1(vec3 q, const pigment *pg)
{
    double r;
    return spiral_base(q, pg, &r);
}

double p_spiral2(vec3 q, const pigment *pg)
{
    double r, v = triangle_wave(spiral_base(q, pg, &r));
    return triangle_wave(r) + v;
}

/* arg[0] = control0 (1), arg[1] = control1 (1) */
double p_quilted(vec3 q, const pigment *pg)
{
    vec3 v = {q.x - rt_floor(q.x) - 0.5, q.y - rt_floor(q.y) - 0.5, q.z - rt_floor(q.z) - 0.5};
    double t = vlen(v), it = 1.0 - t;
    t = (t * t * t + 3.0 * t * it * it * pg->arg[0] + 3.0 * t * t * it * pg->arg[1]) * 1.154700538;
    v = vscale(v, t);
    return (rt_fabs(v.x) + rt_fabs(v.y) + rt_fabs(v.z)) / 3.0;
}

/* The 6 x 6 grid of HexagonPattern: the value of the easy blocks (xm 0, 5 and 2, 3) by zm,
   and of the diagonal blocks (xm 1, 4) below and above their diagonal. */
static const unsigned char HEX_EDGE[6] = {0, 1, 1, 2, 2, 0};
static const unsigned char HEX_MID[6] = {2, 2, 0, 0, 1, 1};
static const unsigned char HEX_LOW[6] = {0, 2, 1, 0, 2, 1};
static const unsigned char HEX_HIGH[6] = {2, 1, 0, 2, 1, 0};

double p_hexagon(vec3 q, const pigment *pg)
{
    (void)pg;
    double x = rt_fabs(q.x), z = q.z < 0.0 ? 5.196152424 - rt_fabs(q.z) : q.z;
    double xs = x / 0.5, zs = z / 0.866025404;
    xs -= rt_floor(xs / 6.0) * 6.0;
    zs -= rt_floor(zs / 6.0) * 6.0;
    int xm = (int)rt_floor(xs) % 6, zm = (int)rt_floor(zs) % 6;
    if (xm == 0 || xm == 5)
        return HEX_EDGE[zm];
    if (xm == 2 || xm == 3)
        return HEX_MID[zm];
    double xl = xs - xm, zl = zs - zm;
    if ((xm + zm) % 2 == 1)
        xl = 1.0 - xl;
    if (xl == 0.0)
        xl = 0.0001;
    return zl / xl < 1.0 ? HEX_LOW[zm] : HEX_HIGH[zm];
}

/* the fraction of v as BrickPattern takes it (truncation, then + 1 when negative) */
static double brick_frac(double v)
{
    double f = v - (double)(int)v;
    return f < 0.0 ? f + 1.0 : f;
}

/* arg[0..2] = brick_size (8, 3, 4.5), arg[3] = mortar (0.5): 0 mortar, 1 brick */
double p_brick(vec3 q, const pigment *pg)
{
    double m = pg->arg[3], fudge = 1.0e-10 + m;
    double x = q.x + fudge, y = q.y + fudge, z = q.z + fudge;
    double w = pg->arg[0], h = pg->arg[1], d = pg->arg[2];
    if (brick_frac(y / h) <= m / h)
        return 0.0;
    double by = brick_frac((y / h) * 0.5);
    if (brick_frac(x / w) <= m / w && by <= 0.5)
        return 0.0;
    if (brick_frac(x / w + 0.5) <= m / w && by > 0.5)
        return 0.0;
    if (brick_frac(z / d) <= m / d && by > 0.5)
        return 0.0;
    if (brick_frac(z / d + 0.5) <= m / d && by <= 0.5)
        return 0.0;
    return 1.0;
}

/* FractalPattern's exterior colour (types 0..8) and interior colour (types 0..6) */
static double fractal_exterior(int type, double f, int iters, int max_it, double a, double b)
{
    switch (type) {
    case 0: return f;
    case 1: return (double)iters / (double)max_it;
    case 2: return a * f;
    case 3: return b * f;
    case 4: return a * a * f;
    case 5: return b * b * f;
    case 6: return rt_sqrt(a * a + b * b) * f;
    case 7: return f >= 1.0 && f < 4e9 ? (double)(iters % (unsigned)f) / f : 0.0;
    case 8: return f >= 1.0 && f < 4e9 ? (double)(iters % (unsigned)(1 + f)) / f : 0.0;
    default: return 0.0;
    }
}

static double fractal_interior(int type, double f, double a, double b, double mindist2)
{
    switch (type) {
    case 0: return f;
    case 1: return rt_sqrt(mindist2) * f;
    case 2: return a * f;
    case 3: return b * f;
    case 4: return a * a * f;
    case 5: return b * b * f;
    case 6: return a * a + b * b * f; /* sic: POV-Ray 3.7 multiplies b * b only */
    default: return 0.0;
    }
}

/* One step of magnet type 1 or 2 (POV-Ray's magnet1m/1j/2m/2j patterns): z = (N / D)^2 with
   c = cr + ci i; a, b in and out. */
static void magnet_step(int type, double *a, double *b, double cr, double ci)
{
    double A = *a, B = *b, a2 = A * A, b2 = B * B, t1r, t1i, t2r, t2i;
    if (type == 1) {
        t1r = a2 - b2 + cr - 1, t1i = 2 * A * B + ci;
        t2r = 2 * A + cr - 2, t2i = 2 * B + ci;
    } else {
        double c1r = cr - 1, c2r = cr - 2, c1c2r = c1r * c2r - ci * ci, c1c2i = (c1r + c2r) * ci;
        t1r = a2 * A - 3 * A * b2 + 3 * (A * c1r - B * ci) + c1c2r;
        t1i = 3 * a2 * B - b2 * B + 3 * (A * ci + B * c1r) + c1c2i;
        t2r = 3 * (a2 - b2) + 3 * (A * c2r - B * ci) + c1c2r + 1;
        t2i = 6 * A * B + 3 * (A * ci + B * c2r) + c1c2i;
    }
    double t = t2r * t2r + t2i * t2i;
    A = (t1r * t2r + t1i * t2i) / t;
    B = (t1i * t2r - t1r * t2i) / t;
    b2 = B * B;
    *b = 2 * A * B;
    *a = A * A - b2;
}

/* magnet { 1 | 2 } { mandel N | julia <c>, N }: arg[8] 2 + 2 (type - 1) + (julia) */
static double p_magnet(vec3 q, const pigment *pg)
{
    int max_it = (int)pg->arg[0], kind = (int)pg->arg[8], col;
    int type = kind < 4 ? 1 : 2, julia = kind & 1;
    double cr = julia ? pg->arg[6] : q.x, ci = julia ? pg->arg[7] : q.y;
    double a = julia ? q.x : 0.0, b = julia ? q.y : 0.0;
    double mind = julia ? a * a + b * b : 10000.0;
    for (col = 0; col < max_it; col++) {
        magnet_step(type, &a, &b, cr, ci);
        double a2 = a * a, b2 = b * b, d2 = a2 + b2;
        if (d2 < mind)
            mind = d2;
        if (d2 > 10000.0 || (a - 1) * (a - 1) + b2 < 1 / 10000.0)
            return fractal_exterior((int)pg->arg[2], pg->arg[3], col, max_it, a, b);
    }
    return fractal_interior((int)pg->arg[4], pg->arg[5], a, b, mind);
}

/* arg[0] = iterations, arg[1] = exponent (2..4), arg[2], arg[3] = exterior type and factor
   (1, 1), arg[4], arg[5] = interior type and factor (0, 1); arg[8] = 0 mandel, 1 julia (of
   c = arg[6] + arg[7] i: z starts at the point), 2..5 magnet (p_magnet) */
double p_mandel(vec3 q, const pigment *pg)
{
    if (pg->arg[8] >= 2.0)
        return p_magnet(q, pg);
    int max_it = (int)pg->arg[0], e = (int)pg->arg[1], col;
    int julia = pg->arg[8] == 1.0;
    double x = julia ? pg->arg[6] : q.x, y = julia ? pg->arg[7] : q.y;
    double a = q.x, b = q.y, a2 = a * a, b2 = b * b, mind = a2 + b2;
    for (col = 0; col < max_it; col++) {
        if (e == 2) {
            b = 2.0 * a * b + y;
            a = a2 - b2 + x;
        } else if (e == 3) {
            b = 3.0 * a2 * b - b2 * b + y;
            a = a2 * a - 3.0 * a * b2 + x;
        } else {
            b = 4.0 * (a2 * a * b - a * b2 * b) + y;
            a = a2 * a2 - 6.0 * a2 * b2 + b2 * b2 + x;
        }
        a2 = a * a;
        b2 = b * b;
        double d2 = a2 + b2;
        if (d2 < mind)
            mind = d2;
        if (d2 > 4.0)
            return fractal_exterior((int)pg->arg[2], pg->arg[3], col, max_it, a, b);
    }
    return fractal_interior((int)pg->arg[4], pg->arg[5], a, b, mind);
}

static vec3 wave_source[POV_MAX_WAVES];
static double wave_freq[POV_MAX_WAVES];

void pattern_shapes_init(void)
{
    uint32_t next = (uint32_t)-560851967;
    for (int i = 0; i < POV_MAX_WAVES; i++) {
        wave_source[i] = vnorm(pov_dnoise((vec3){(double)i, 0.0, 0.0}));
        next = next * 1812433253u + 12345u;
        wave_freq[i] = (double)((int)((int32_t)next >> 16) & 0x7FFF) * 0.000030518509476 + 0.01;
    }
}

/* arg[0] = number_of_waves (global_settings, 10) */
double p_waves(vec3 q, const pigment *pg)
{
    int n = (int)pg->arg[0];
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        double l = vlen(vsub(q, wave_source[i]));
        if (l == 0.0)
            l = 1.0;
        s += cycloidal(l * pg->frequency * wave_freq[i] + pg->phase) / wave_freq[i];
    }
    return 0.2 * (2.5 + s / (double)n);
}

double p_ripples(vec3 q, const pigment *pg)
{
    int n = (int)pg->arg[0];
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        double l = vlen(vsub(q, wave_source[i]));
        if (l == 0.0)
            l = 1.0;
        s += cycloidal(l * pg->frequency + pg->phase);
    }
    return 0.5 * (1.0 + s / (double)n);
}

/* generator 1 sums the noise as it is; 2 and 3 stretch it (2n - 0.5, clipped to 0..1) */
static double noise_term(vec3 p, uint32_t gen)
{
    double n = pov_noise(p, gen);
    if (gen == 1)
        return n;
    n = n * 2.0 - 0.5;
    return n < 0.0 ? 0.0 : n > 1.0 ? 1.0 : n;
}

double p_wrinkles(vec3 q, const pigment *pg)
{
    double lambda = 2.0, omega = 0.5, v = noise_term(q, pg->noise_gen);
    for (int i = 1; i < 10; i++) {
        v += omega * noise_term(vscale(q, lambda), pg->noise_gen);
        lambda *= 2.0;
        omega *= 0.5;
    }
    return v / 2.0;
}

double p_dents(vec3 q, const pigment *pg)
{
    double n = pov_noise(q, pg->noise_gen);
    return n * n * n;
}

vec3 normal_waves(vec3 q, const pigment *pg, double amount, int ripples)
{
    int n = (int)pg->arg[0];
    vec3 r = {0.0, 0.0, 0.0};
    for (int i = 0; i < n; i++) {
        vec3 d = vsub(q, wave_source[i]);
        double l = vlen(d);
        if (l == 0.0)
            l = 1.0;
        double s;
        if (ripples)
            s = cycloidal(l * pg->frequency + pg->phase) * amount;
        else
            s = cycloidal(l * pg->frequency * wave_freq[i] + pg->phase) * amount / wave_freq[i];
        r = vadd(r, vscale(d, s / (l * (double)n)));
    }
    return r;
}

vec3 normal_quilted(vec3 q, const pigment *pg, double amount)
{
    vec3 v = {q.x - rt_floor(q.x) - 0.5, q.y - rt_floor(q.y) - 0.5, q.z - rt_floor(q.z) - 0.5};
    double t = vlen(v), it = 1.0 - t;
    t = (t * t * t + 3.0 * t * it * it * pg->arg[0] + 3.0 * t * t * it * pg->arg[1]) * 1.154700538;
    return vscale(v, t * amount);
}
