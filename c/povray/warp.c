/* warp.c -- one entry per warp type, as POV-Ray 3.7's warp.cpp moves a point (warp.h). */
#include "warp.h"

#include "pattern.h"
#include "pattern_shapes.h"
#include "render.h"
#include "rt_math.h"

#define PI 3.14159265358979323846
#define TWO_PI (2.0 * PI)

static const scene *bound;

void warp_bind(const scene *s) { bound = s; }

const warp_item *warps_of(const pigment *pg)
{
    if (!pg->warp_n || !bound || pg->warp_first > bound->n_warps ||
        pg->warp_n > bound->n_warps - pg->warp_first)
        return 0;
    return bound->warps + pg->warp_first;
}

static vec3 warp_vec(const warp_item *w, int at) { return v3(w->a[at], w->a[at + 1], w->a[at + 2]); }

static vec3 turbulence_warp(const warp_item *w, vec3 q)
{
    pigment t = {0}; /* pov_dturbulence reads octaves, omega, lambda from a pigment */
    t.octaves = w->octaves, t.omega = w->a[WA_OMEGA], t.lambda = w->a[WA_LAMBDA];
    return vadd(q, vmul(pov_dturbulence(q, &t), warp_vec(w, WA_TURB)));
}

/* repeat <width along one axis> offset O flip F: each odd block mirrored by F, block n
   moved by n O (the block number kept in single precision, as POV-Ray keeps it) */
static vec3 repeat_warp(const warp_item *w, vec3 q)
{
    double c[3] = {q.x, q.y, q.z};
    uint32_t a = (uint32_t)w->a[WA_AXIS];
    double width = w->a[WA_WIDTH];
    double blk = (double)(float)rt_floor(c[a] / width);
    c[a] -= blk * width;
    if ((long long)blk & 1) {
        for (int i = 0; i < 3; i++)
            c[i] *= w->a[WA_FLIP + i];
        if (w->a[WA_FLIP + a] < 0)
            c[a] = width + c[a];
    }
    return v3(c[0] + blk * w->a[WA_OFFSET], c[1] + blk * w->a[WA_OFFSET + 1],
              c[2] + blk * w->a[WA_OFFSET + 2]);
}

static vec3 black_hole_warp(const warp_item *w, vec3 q)
{
    vec3 C = warp_vec(w, WA_CENTER);
    if (w->a[WA_HAS_REPEAT] != 0.0) {
        double r[3] = {w->a[WA_REPEAT], w->a[WA_REPEAT + 1], w->a[WA_REPEAT + 2]};
        double p[3] = {q.x, q.y, q.z};
        int b[3] = {0, 0, 0};
        for (int i = 0; i < 3; i++)
            if (r[i] >= POV_EPSILON)
                b[i] = (int)rt_floor(p[i] / r[i]);
        if (w->a[WA_HAS_JITTER] != 0.0) {
            int seed = pattern_hash3d(b[0], b[1], b[2]);
            C = vadd(C, vmul(v3(pattern_rand(seed), pattern_rand(seed + 1),
                                pattern_rand(seed + 2)), warp_vec(w, WA_JITTER)));
        }
        C = vadd(C, v3(r[0] * b[0], r[1] * b[1], r[2] * b[2]));
    }
    vec3 d = vsub(q, C);
    double len = vlen(d), radius = w->a[WA_RADIUS];
    if (len >= radius)
        return q;
    double s = rt_pow((radius - len) / radius, w->a[WA_FALLOFF]) * w->a[WA_STRENGTH];
    if (s > 1.0)
        s = 1.0;
    return vadd(q, vscale(d, w->a[WA_INVERSE] != 0.0 ? -s : s));
}

/* the mapping warps' result <u, v, d> turned by their orientation (POV-Ray's formula) */
static vec3 orient(const warp_item *w, double x, double y, double z)
{
    vec3 o = warp_vec(w, WA_ORIENT);
    if (o.x == 0.0 && o.y == 0.0 && o.z == 1.0)
        return v3(x, y, z);
    return v3(o.x * z + o.y * x + o.z * x, o.x * y + o.y * -z + o.z * y,
              o.x * -x + o.y * y + o.z * z);
}

static double angle_around_y(double x, double z, double len)
{
    if (z == 0.0)
        return x > 0 ? 0.0 : PI;
    double theta = pov_atan2(rt_sqrt(1.0 - (x / len) * (x / len)), x / len);
    return z < 0.0 ? TWO_PI - theta : theta;
}

static double dist_scale(const warp_item *w, double dist)
{
    double e = w->a[WA_DIST_EXP];
    return e == 1.0 ? dist : e != 0.0 ? rt_pow(dist, e) : 1.0;
}

static vec3 planar_warp(const warp_item *w, vec3 q)
{
    return orient(w, q.x, q.y, w->a[WA_PLANE_OFFSET]);
}

static vec3 cylindrical_warp(const warp_item *w, vec3 q)
{
    double len = rt_sqrt(q.x * q.x + q.z * q.z);
    if (len == 0.0)
        return q; /* POV-Ray leaves the point as it is */
    double theta = angle_around_y(q.x, q.z, len) / TWO_PI * dist_scale(w, len);
    return orient(w, theta, q.y, len);
}

static vec3 spherical_warp(const warp_item *w, vec3 q)
{
    double dist = rt_sqrt(q.x * q.x + q.y * q.y + q.z * q.z);
    if (dist == 0.0)
        return q;
    double x = q.x / dist, y = q.y / dist, z = q.z / dist;
    double phi = 0.5 + pov_atan2(y, rt_sqrt(1.0 - y * y)) / PI, len = rt_sqrt(x * x + z * z);
    double theta = len == 0.0 ? 0.0 : angle_around_y(x, z, len) / TWO_PI, k = dist_scale(w, dist);
    return orient(w, theta * k, phi * k, dist);
}

static vec3 toroidal_warp(const warp_item *w, vec3 q)
{
    double len = rt_sqrt(q.x * q.x + q.z * q.z);
    if (len == 0.0)
        return q;
    double theta = -angle_around_y(q.x, q.z, len);
    double x = len - w->a[WA_MAJOR];
    len = rt_sqrt(x * x + q.y * q.y);
    double c = -x / len, phi = pov_atan2(rt_sqrt(1.0 - c * c), c);
    if (q.y > 0.0)
        phi = TWO_PI - phi;
    double k = dist_scale(w, len);
    return orient(w, theta / -TWO_PI * k, phi / TWO_PI * k, len);
}

/* cubic: the six faces of a cube unfolded onto the plane (POV-Ray's CubicWarp) */
static vec3 cubic_warp(const warp_item *w, vec3 q)
{
    (void)w;
    double x = q.x, y = q.y, z = q.z, ax = rt_fabs(x), ay = rt_fabs(y), az = rt_fabs(z);
    if (x >= 0 && x >= ay && x >= az)
        return v3(0.75 - 0.25 * (z / x + 1.0) / 2.0, 1.0 / 3.0 + (1.0 / 3.0) * (y / x + 1.0) / 2.0, x);
    if (y >= 0 && y >= ax && y >= az)
        return v3(0.25 + 0.25 * (x / y + 1.0) / 2.0, 1.0 - (1.0 / 3.0) * (z / y + 1.0) / 2.0, y);
    if (z >= 0 && z >= ax && z >= ay)
        return v3(0.25 + 0.25 * (x / z + 1.0) / 2.0, 1.0 / 3.0 + (1.0 / 3.0) * (y / z + 1.0) / 2.0, z);
    if (x < 0 && x <= -ay && x <= -az)
        return v3(0.25 * (z / -x + 1.0) / 2.0, 1.0 / 3.0 + (1.0 / 3.0) * (y / -x + 1.0) / 2.0, -x);
    if (y < 0 && y <= -ax && y <= -az)
        return v3(0.25 + 0.25 * (x / -y + 1.0) / 2.0, (1.0 / 3.0) * (z / -y + 1.0) / 2.0, -y);
    return v3(1.0 - 0.25 * (x / -z + 1.0) / 2.0, 1.0 / 3.0 + (1.0 / 3.0) * (y / -z + 1.0) / 2.0, -z);
}

static vec3 (*const WARPS[WARP_COUNT])(const warp_item *, vec3) = {
    [WARP_TURBULENCE] = turbulence_warp, [WARP_REPEAT] = repeat_warp,
    [WARP_BLACK_HOLE] = black_hole_warp, [WARP_PLANAR] = planar_warp,
    [WARP_SPHERICAL] = spherical_warp,   [WARP_CYLINDRICAL] = cylindrical_warp,
    [WARP_TOROIDAL] = toroidal_warp,     [WARP_CUBIC] = cubic_warp,
};

vec3 warp_point(const warp_item *w, vec3 q)
{
    return xf_point(&w->pre, WARPS[w->type](w, q));
}

const char *warp_check(const warp_item *w)
{
    const double *a = w->a;
    if (w->type == WARP_NONE || w->type >= WARP_COUNT)
        return "scene data: unknown warp";
    if (w->type == WARP_TURBULENCE && (w->octaves < 1 || w->octaves > 10))
        return "scene data: bad turbulence warp";
    if (w->type == WARP_REPEAT &&
        (!(a[WA_AXIS] == 0.0 || a[WA_AXIS] == 1.0 || a[WA_AXIS] == 2.0) || a[WA_WIDTH] == 0.0 ||
         rt_fabs(a[WA_FLIP]) != 1.0 || rt_fabs(a[WA_FLIP + 1]) != 1.0 ||
         rt_fabs(a[WA_FLIP + 2]) != 1.0))
        return "scene data: bad repeat warp";
    if (w->type == WARP_BLACK_HOLE && !(a[WA_RADIUS] > 0.0))
        return "scene data: bad black_hole warp";
    return 0;
}
