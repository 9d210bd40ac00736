/* imagemap.c -- image_map, bump_map and the image pattern as POV-Ray 3.7 evaluates them (its
 * imageutil.cpp): a pattern-space point mapped onto the image (planar, spherical,
 * cylindrical, torus), the pixel found with or without interpolation, its colour with filter
 * and transmit. Freestanding-safe. */
#include "imagemap.h"

#include "pattern_shapes.h"
#include "render.h"
#include "rt_math.h"

#define PI 3.14159265358979323846
#define TWO_PI (2.0 * PI)

static const scene *bound;

void image_bind(const scene *s) { bound = s; }

static double trunc_toward_zero(double x) { return x < 0.0 ? -rt_floor(-x) : rt_floor(x); }

/* C's fmod for the magnitudes images meet */
static double fmod_c(double x, double y) { return x - trunc_toward_zero(x / y) * y; }

/* POV-Ray's wrap(): into [0, n) */
static double wrap(double v, double n)
{
    double t = fmod_c(v, n);
    if (t < 0.0)
        t += n;
    return t >= n ? 0.0 : t;
}

static double acos_of(double x) { return pov_atan2(rt_sqrt(1.0 - x * x), x); }

/* the angle of (x, z) from +x around y, in [0, 2 pi), as POV-Ray's mappers find it */
static double angle_xz(double x, double z, double len)
{
    if (z == 0.0)
        return x > 0 ? 0.0 : PI;
    double theta = acos_of(x / len);
    return z < 0.0 ? TWO_PI - theta : theta;
}

static int planar_map(vec3 p, const image_ref *im, double *u, double *v)
{
    /* POV-Ray's default orientation <1, -1, 0>: x along the width, y along the height */
    if (im->once && (p.x < 0.0 || p.x > 1.0 || p.y < 0.0 || p.y > 1.0))
        return 0;
    *u = fmod_c(p.x * im->width, im->width);
    *v = fmod_c(p.y * im->height, im->height);
    return 1;
}

static int spherical_map(vec3 p, const image_ref *im, double *u, double *v)
{
    double len = rt_sqrt(p.x * p.x + p.y * p.y + p.z * p.z);
    if (len == 0.0)
        return 0;
    p = vscale(p, 1.0 / len);
    double phi = 0.5 + pov_atan2(p.y, rt_sqrt(1.0 - p.y * p.y)) / PI;
    len = rt_sqrt(p.x * p.x + p.z * p.z);
    double theta = len == 0.0 ? 0.0 : angle_xz(p.x, p.z, len) / TWO_PI;
    *u = theta * im->width;
    *v = phi * im->height;
    return 1;
}

static int cylindrical_map(vec3 p, const image_ref *im, double *u, double *v)
{
    if (im->once && (p.y < 0.0 || p.y > 1.0))
        return 0;
    *v = fmod_c(p.y * im->height, im->height);
    double len = rt_sqrt(p.x * p.x + p.y * p.y + p.z * p.z);
    if (len == 0.0)
        return 0;
    double x = p.x / len, z = p.z / len;
    len = rt_sqrt(x * x + z * z);
    if (len == 0.0)
        return 0;
    *u = angle_xz(x, z, len) / TWO_PI * im->width;
    return 1;
}

static int torus_map(vec3 p, const image_ref *im, double *u, double *v)
{
    double len = rt_sqrt(p.x * p.x + p.z * p.z);
    if (len == 0.0)
        return 0;
    double theta = -angle_xz(p.x, p.z, len);
    double x = len - 1.0; /* the major radius: POV-Ray's Gradient[X], 1 */
    len = rt_sqrt(x * x + p.y * p.y);
    double phi = acos_of(-x / len);
    if (p.y > 0.0)
        phi = TWO_PI - phi;
    *u = -theta / TWO_PI * im->width;
    *v = phi / TWO_PI * im->height;
    return 1;
}

/* map_pos: 0 when the point is off the image, else 1 with pixel coordinates (x right from
   the left edge, y down from the top) */
static int map_pos(vec3 p, const image_ref *im, double *x, double *y)
{
    double u = 0.0, v = 0.0;
    int on = im->map_type == IMAP_SPHERICAL     ? spherical_map(p, im, &u, &v)
             : im->map_type == IMAP_CYLINDRICAL ? cylindrical_map(p, im, &u, &v)
             : im->map_type == IMAP_TORUS       ? torus_map(p, im, &u, &v)
                                                : planar_map(p, im, &u, &v);
    if (!on)
        return 0;
    u += im->offset_u + POV_EPSILON;
    v += im->offset_v + POV_EPSILON;
    if (im->once && (u >= im->w || v >= im->h || u < 0.0 || v < 0.0))
        return 0;
    *x = wrap(u, im->w);
    *y = wrap(-v, im->h); /* image rows run downwards */
    return 1;
}

/* One pixel's colour, filter and transmit (and its palette index, or -1). */
static int pixel(const scene *s, const image_ref *im, double x, double y, double c[5])
{
    int ix, iy;
    if (im->once) {
        ix = x < 0.0 ? 0 : x >= im->w ? (int)im->w - 1 : (int)x;
        iy = y < 0.0 ? 0 : y >= im->h ? (int)im->h - 1 : (int)y;
    } else {
        ix = (int)wrap(x, im->w);
        iy = (int)wrap(y, im->h);
    }
    const uint16_t *px = s->ipx + im->px_first + ((size_t)iy * im->w + (size_t)ix) * im->channels;
    const float *lut = s->ilut + im->lut_first;
    if (im->indexed) {
        for (int k = 0; k < 5; k++)
            c[k] = lut[(size_t)px[0] * 5 + (size_t)k];
        return px[0];
    }
    uint32_t ch = im->channels;
    int colour = ch >= 3;
    c[0] = lut[px[0]];
    c[1] = colour ? lut[px[1]] : c[0];
    c[2] = colour ? lut[px[2]] : c[0];
    double alpha = ch == 2 || ch == 4 ? (double)px[ch - 1] / im->max : 1.0;
    c[3] = im->all_filter;
    c[4] = 1.0 - alpha + im->all_transmit;
    return -1;
}

static void bilinear(double f[4], double x, double y)
{
    double p = x - (int)x, q = y - (int)y;
    f[0] = p * q;
    f[1] = (1 - p) * q;
    f[2] = p * (1 - q);
    f[3] = (1 - p) * (1 - q);
}

static void norm_dist(double f[4], double x, double y)
{
    double p = x - (int)x, q = y - (int)y, w[4], sum = 0.0;
    w[0] = 1.0 / ((1 - p) * (1 - p) + (1 - q) * (1 - q));
    w[1] = 1.0 / (p * p + (1 - q) * (1 - q));
    w[2] = 1.0 / ((1 - p) * (1 - p) + q * q);
    w[3] = 1.0 / (p * p + q * q);
    for (int i = 0; i < 4; i++)
        sum += w[i];
    for (int i = 0; i < 4; i++)
        f[i] = w[i] / sum;
}

static void cubic(double f[4], double x)
{
    double p = x - (int)x, q = 1 - p;
    f[0] = -0.5 * p * q * q;
    f[1] = 0.5 * q * (q * (3 * p + 1) + 1);
    f[2] = 0.5 * p * (p * (3 * q + 1) + 1);
    f[3] = -0.5 * q * p * p;
}

static int interpolate_bicubic(const scene *s, const image_ref *im, double x, double y,
                               double c[5])
{
    double fx[4], fy[4], sum_index = 0.0, corner[5];
    x += 0.5, y += 0.5;
    int ix = (int)x, iy = (int)y;
    cubic(fx, x);
    cubic(fy, y);
    for (int k = 0; k < 5; k++)
        c[k] = 0.0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int index = pixel(s, im, (double)(ix + i - 2), (double)(iy + j - 2), corner);
            double f = fx[i] * fy[j];
            for (int k = 0; k < 5; k++)
                c[k] += corner[k] * f;
            sum_index += index * f;
        }
    return (int)sum_index;
}

/* image_colour_at: the colour (r g b f t) at pixel coordinates x, y; the index or -1 */
static int colour_at(const scene *s, const image_ref *im, double x, double y, double c[5])
{
    if (im->interpolate == IMAP_NO_INTERPOLATION)
        return pixel(s, im, x, y, c);
    if (im->interpolate == IMAP_BICUBIC)
        return interpolate_bicubic(s, im, x, y, c);
    double f[4], corner[4][5], sum_index = 0.0;
    int index[4];
    x += 0.5, y += 0.5;
    int ix = (int)x, iy = (int)y;
    index[0] = pixel(s, im, ix, iy, corner[0]);
    index[1] = pixel(s, im, ix - 1, iy, corner[1]);
    index[2] = pixel(s, im, ix, iy - 1, corner[2]);
    index[3] = pixel(s, im, ix - 1, iy - 1, corner[3]);
    if (im->interpolate == IMAP_BILINEAR)
        bilinear(f, x, y);
    else
        norm_dist(f, x, y);
    for (int k = 0; k < 5; k++)
        c[k] = 0.0;
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 5; k++)
            c[k] += corner[i][k] * f[i];
        sum_index += index[i] * f[i];
    }
    return (int)sum_index;
}

const image_ref *image_of(const scene *s, const pigment *pg)
{
    uint32_t i = (uint32_t)pg->arg[0];
    return s && i < s->n_images ? &s->images[i] : 0;
}

vec3 image_map_colour(const scene *s, const pigment *pg, vec3 q, double ft[2])
{
    const image_ref *im = image_of(s, pg);
    double x, y, c[5];
    if (!im || !map_pos(q, im, &x, &y)) { /* off the image: clear */
        ft[0] = 0.0, ft[1] = 1.0;
        return v3(1.0, 1.0, 1.0);
    }
    colour_at(s, im, x, y, c);
    ft[0] = c[3], ft[1] = c[4];
    return v3(c[0], c[1], c[2]);
}

static double grey5(const double c[5]) { return 0.297 * c[0] + 0.589 * c[1] + 0.114 * c[2]; }

/* material_map's choice (pg->arg[1] textures): the palette index, or the red (a float, as
   POV-Ray's colours are) times 255; beyond the count wrapped as POV-Ray 3.7.0 wraps it (an
   index equal to the count takes the last texture: its walk along the list stops there);
   off the image, the first */
static double material_number(const image_ref *im, const pigment *pg, vec3 q)
{
    double x, y, c[5];
    uint32_t n = (uint32_t)pg->arg[1];
    if (!map_pos(q, im, &x, &y))
        return 0.0;
    int index = colour_at(bound, im, x, y, c);
    double red = (double)(float)c[0] * 255.0;
    uint32_t k = index != -1 ? (uint32_t)index : red > 0.0 && red < 4e9 ? (uint32_t)red : 0;
    if (k > n)
        k %= n;
    return (double)(k < n ? k : n - 1);
}

double image_pattern_value(vec3 q, const pigment *pg)
{
    const image_ref *im = image_of(bound, pg);
    double x, y, c[5];
    if (im && pg->arg[1] >= 1.0)
        return material_number(im, pg, q);
    if (!im || !map_pos(q, im, &x, &y))
        return 0.0;
    int index = colour_at(bound, im, x, y, c);
    double v = index == -1 || im->use_colour ? grey5(c) : index / 255.0;
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

/* bump_map's neighbours: one pixel along x, wrapping around the image */
static double wrap_step(double v, double n)
{
    return v < 0.0 ? v + n : v >= n ? v - n : v;
}

/* The heights of the three points of bump_map's triangle */
static void bump_heights(const scene *s, const image_ref *im, double x, double y, double amount,
                         double h[3])
{
    double c[3][5];
    int index[3];
    index[0] = colour_at(s, im, x, y, c[0]);
    x = wrap_step(x - 1.0, im->w);
    y = wrap_step(y + 1.0, im->h);
    index[1] = colour_at(s, im, x, y, c[1]);
    x = wrap_step(x + 2.0, im->w);
    index[2] = colour_at(s, im, x, y, c[2]);
    int by_colour = im->use_colour || index[0] == -1 || index[1] == -1 || index[2] == -1;
    for (int i = 0; i < 3; i++)
        h[i] = amount * (by_colour ? grey5(c[i]) : (double)index[i]);
}

vec3 image_bump_normal(const scene *s, const tnormal *n, vec3 q, vec3 N)
{
    const image_ref *im = image_of(s, &n->pat);
    double x, y, h[3];
    if (!im || !map_pos(q, im, &x, &y))
        return N;
    bump_heights(s, im, x, y, n->amount, h);
    vec3 p1 = v3(0.0, h[0], 0.0), p2 = v3(-1.0, h[1], 1.0), p3 = v3(1.0, h[2], 1.0);
    vec3 bump = vnorm(vcross(vsub(p3, p2), vsub(p1, p2)));
    vec3 yp = N, xp = vcross(yp, v3(0.0, 1.0, 0.0));
    double len = vlen(xp);
    if (len < POV_EPSILON) {
        yp = rt_fabs(N.y - 1.0) < POV_EPSILON ? v3(0.0, 1.0, 0.0) : v3(0.0, -1.0, 0.0);
        xp = v3(1.0, 0.0, 0.0);
        len = 1.0;
    }
    xp = vscale(xp, 1.0 / len);
    vec3 zp = vnorm(vcross(xp, yp));
    return vsub(vadd(vscale(xp, bump.x), vscale(yp, bump.y)), vscale(zp, bump.z));
}
