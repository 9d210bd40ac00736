/* prims.c -- every primitive in one table (freestanding-safe).
 *
 * POV_PRIMITIVES (scene.h) lists the primitives once; the object enum, this table and the
 * parser's table (parse.c) are generated from it, so a primitive added to the list without
 * its NAME_isect, NAME_normal, NAME_bounds and NAME_check functions here (and its
 * parse_NAME in parse.c) does not link. The renderer and the scene reader only go through
 * prim_class_of(), which answers NULL for an unknown type: the reader refuses the scene, the
 * renderer never sees one. Geometry follows POV-Ray 3.7 (minimum depth 1e-4 in render.c,
 * sphere and plane tolerances here). render.c includes this file (one unit, so the hot
 * intersection calls inline); it is not compiled on its own.
 */
#include "fn.h"
#include "prims.h"
#include "render.h"
#include "rt_math.h"

#define DEPTH_TOLERANCE 1.0e-6  /* POV-Ray: per-object depth tolerance */
#define PLANE_EPSILON 1.0e-10
#define MAX_DISTANCE 1.0e7
#define HUGE_DEPTH 1.0e30
#define INSIDE_EPSILON 1.0e-10 /* POV-Ray's EPSILON in inside tests */

static double comp(vec3 v, int axis) { return axis == 0 ? v.x : axis == 1 ? v.y : v.z; }



/* Nearest root of the sphere in (DEPTH_TOLERANCE, ...) that is >= tmin, as POV-Ray. */
static int isect_sphere(vec3 c, double r, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    vec3 oc = vsub(c, O);
    double r2 = r * r;
    double ocsq = vdot(oc, oc);
    double tca = vdot(oc, D);
    double dd = vdot(D, D); /* 1 for world rays, not for transformed ones */
    if (dd != 1.0) {
        /* solve |O + tD - c|^2 = r^2 with general D */
        double b = tca / dd;
        double disc = b * b - (ocsq - r2) / dd;
        if (disc <= 0.0)
            return 0;
        double hc = rt_sqrt(disc);
        double t1 = b - hc, t2 = b + hc;
        if (t1 > DEPTH_TOLERANCE && t1 >= tmin && t1 < tmax) { h->t = t1; return 1; }
        if (t2 > DEPTH_TOLERANCE && t2 >= tmin && t2 < tmax) { h->t = t2; return 1; }
        return 0;
    }
    if (ocsq >= r2 && tca < 1.0e-10)
        return 0;
    double half_sq = r2 - ocsq + tca * tca;
    if (half_sq <= 1.0e-10)
        return 0;
    double hc = rt_sqrt(half_sq);
    double t1 = tca - hc, t2 = tca + hc;
    if (t1 > DEPTH_TOLERANCE && t1 >= tmin && t1 < tmax) { h->t = t1; return 1; }
    if (t2 > DEPTH_TOLERANCE && t2 >= tmin && t2 < tmax) { h->t = t2; return 1; }
    return 0;
}

static int isect_plane(vec3 n, double d, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double nd = vdot(n, D);
    if (rt_fabs(nd) < PLANE_EPSILON)
        return 0;
    double no = vdot(n, O);
    double t = -(no + -d) / nd;
    if (t >= DEPTH_TOLERANCE && t <= MAX_DISTANCE && t >= tmin && t < tmax) {
        h->t = t;
        return 1;
    }
    return 0;
}

static int isect_box(vec3 lo, vec3 hi, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double tnear = -HUGE_DEPTH, tfar = HUGE_DEPTH;
    int snear = -1, sfar = -1;
    for (int a = 0; a < 3; a++) {
        double o = comp(O, a), d = comp(D, a), l = comp(lo, a), u = comp(hi, a);
        if (rt_fabs(d) < 1.0e-12) {
            if (o < l || o > u)
                return 0;
            continue;
        }
        double t1 = (l - o) / d, t2 = (u - o) / d;
        int s1 = 2 * a, s2 = 2 * a + 1;
        if (t1 > t2) {
            double tt = t1; t1 = t2; t2 = tt;
            int ss = s1; s1 = s2; s2 = ss;
        }
        if (t1 > tnear) { tnear = t1; snear = s1; }
        if (t2 < tfar) { tfar = t2; sfar = s2; }
        if (tnear > tfar)
            return 0;
    }
    if (snear >= 0 && tnear > DEPTH_TOLERANCE && tnear >= tmin && tnear < tmax) {
        h->t = tnear; h->side = snear; return 1;
    }
    if (sfar >= 0 && tfar > DEPTH_TOLERANCE && tfar >= tmin && tfar < tmax) {
        h->t = tfar; h->side = sfar; return 1;
    }
    return 0;
}

static void consider(double t, int side, double tmin, double tmax, hit_info *best, int *found)
{
    if (t > DEPTH_TOLERANCE && t >= tmin && t < tmax && (!*found || t < best->t)) {
        best->t = t;
        best->side = side;
        *found = 1;
    }
}

/* Cylinder from a to b with radius r (caps unless open). */
static int isect_cyl(vec3 a, vec3 b, double r, int open, vec3 O, vec3 D, double tmin,
                     double tmax, hit_info *h)
{
    vec3 axis = vsub(b, a);
    double len = vlen(axis);
    if (!(len > 0.0))
        return 0;
    vec3 u = vscale(axis, 1.0 / len);
    vec3 oa = vsub(O, a);
    double du = vdot(D, u), ou = vdot(oa, u);
    vec3 dp = vsub(D, vscale(u, du));
    vec3 op = vsub(oa, vscale(u, ou));
    double qa = vdot(dp, dp), qb = vdot(dp, op), qc = vdot(op, op) - r * r;
    int found = 0;
    if (qa > 1.0e-20) {
        double disc = qb * qb - qa * qc;
        if (disc > 0.0) {
            double sq = rt_sqrt(disc);
            double t1 = (-qb - sq) / qa, t2 = (-qb + sq) / qa;
            double z1 = ou + t1 * du, z2 = ou + t2 * du;
            if (z1 >= 0.0 && z1 <= len) consider(t1, 0, tmin, tmax, h, &found);
            if (z2 >= 0.0 && z2 <= len) consider(t2, 0, tmin, tmax, h, &found);
        }
    }
    if (!open && rt_fabs(du) > 1.0e-12) {
        double caps[2] = {0.0, len};
        for (int i = 0; i < 2; i++) {
            double t = (caps[i] - ou) / du;
            vec3 p = vadd(op, vscale(dp, t));
            if (vdot(p, p) <= r * r)
                consider(t, 1 + i, tmin, tmax, h, &found);
        }
    }
    return found;
}


/* ---------------------------------------------------------------- the table's functions */
static int sphere_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    return isect_sphere(p->a, p->r, O, D, tmin, tmax, h);
}

static vec3 sphere_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)h;
    vec3 d = vsub(q, p->a);
    return v3(d.x / p->r, d.y / p->r, d.z / p->r);
}

static int sphere_inside(const prim *p, vec3 q)
{
    vec3 d = vsub(q, p->a);
    double d2 = vdot(d, d), r2 = p->r * p->r;
    return d2 < r2 ? 1 : d2 > r2 ? -1 : 0;
}

static int sphere_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    *lo = vsub(p->a, v3(p->r, p->r, p->r));
    *hi = vadd(p->a, v3(p->r, p->r, p->r));
    return 1;
}

static const char *sphere_check(const prim *p)
{
    return p->r > 0.0 ? 0 : "scene data: radius must be positive";
}

static int plane_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    return isect_plane(p->a, p->r, O, D, tmin, tmax, h);
}

static vec3 plane_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)q, (void)h;
    return p->a;
}

static int plane_inside(const prim *p, vec3 q)
{
    return vdot(q, p->a) - p->r < INSIDE_EPSILON ? 1 : -1;
}

static int plane_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    (void)p, (void)lo, (void)hi;
    return 0; /* unbounded */
}

static const char *plane_check(const prim *p)
{
    vec3 n = p->a;
    return rt_fabs(n.x * n.x + n.y * n.y + n.z * n.z - 1.0) < 1e-6
               ? 0 : "scene data: plane normal is not a unit vector";
}

static int box_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    return isect_box(p->a, p->b, O, D, tmin, tmax, h);
}

static vec3 box_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)p, (void)q;
    static const double sgn[2] = {-1.0, 1.0};
    int axis = h->side / 2;
    double s = sgn[h->side & 1];
    return v3(axis == 0 ? s : 0.0, axis == 1 ? s : 0.0, axis == 2 ? s : 0.0);
}

static int box_inside(const prim *p, vec3 q)
{
    if (q.x < p->a.x || q.y < p->a.y || q.z < p->a.z || q.x > p->b.x || q.y > p->b.y ||
        q.z > p->b.z)
        return -1;
    return 1;
}

static int box_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    *lo = p->a;
    *hi = p->b;
    return 1;
}

static const char *box_check(const prim *p)
{
    return p->a.x > p->b.x || p->a.y > p->b.y || p->a.z > p->b.z
               ? "scene data: box corners out of order" : 0;
}

static int cylinder_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    return isect_cyl(p->a, p->b, p->r, (p->flags & PRIM_OPEN) != 0, O, D, tmin, tmax, h);
}

static vec3 cylinder_normal(const prim *p, vec3 q, const hit_info *h)
{
    vec3 u = vnorm(vsub(p->b, p->a));
    if (h->side == 1)
        return vscale(u, -1.0);
    if (h->side == 2)
        return u;
    vec3 d = vsub(q, p->a);
    return vscale(vsub(d, vscale(u, vdot(d, u))), 1.0 / p->r);
}

/* POV-Ray's cylinder and cone inside test, in the unit space of the axis (height 0..1,
   radius 1): a closed one is EPSILON smaller, an open one EPSILON larger. */
static int axial_inside(const prim *p, vec3 q, double r_base, double r_cap)
{
    vec3 axis = vsub(p->b, p->a);
    double len2 = vdot(axis, axis);
    vec3 d = vsub(q, p->a);
    double z = vdot(d, axis) / len2;
    vec3 radial = vsub(d, vscale(axis, z));
    double rz = r_base + (r_cap - r_base) * z;
    double off = (p->flags & PRIM_OPEN) ? INSIDE_EPSILON : -INSIDE_EPSILON;
    double rmax = rt_fmax(r_base, r_cap);
    double w2 = vdot(radial, radial) / (rmax * rmax), z2 = rz * rz / (rmax * rmax);
    if (w2 > z2 + off || z < 0.0 - off || z > 1.0 + off)
        return -1;
    return 1;
}

static int cylinder_inside(const prim *p, vec3 q)
{
    return axial_inside(p, q, p->r, p->r);
}

static int cylinder_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    /* endpoints +- r on every axis (conservative) */
    *lo = v3(rt_fmin(p->a.x, p->b.x) - p->r, rt_fmin(p->a.y, p->b.y) - p->r,
             rt_fmin(p->a.z, p->b.z) - p->r);
    *hi = v3(rt_fmax(p->a.x, p->b.x) + p->r, rt_fmax(p->a.y, p->b.y) + p->r,
             rt_fmax(p->a.z, p->b.z) + p->r);
    return 1;
}

static const char *cylinder_check(const prim *p)
{
    return p->r > 0.0 ? 0 : "scene data: radius must be positive";
}

/* Cone from a (radius r) to b (radius r2), caps unless open: on the axis u at height z the
   radius is r + k z, k = (r2 - r) / |b - a|; |radial|^2 = (r + k z)^2 is a quadratic in t. */
static int cone_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    vec3 axis = vsub(p->b, p->a);
    double len = vlen(axis);
    vec3 u = vscale(axis, 1.0 / len);
    double k = (p->r2 - p->r) / len;
    vec3 oa = vsub(O, p->a);
    double du = vdot(D, u), ou = vdot(oa, u);
    vec3 dp = vsub(D, vscale(u, du)), op = vsub(oa, vscale(u, ou));
    double r0 = p->r + k * ou;
    double qa = vdot(dp, dp) - k * k * du * du;
    double qb = vdot(dp, op) - k * r0 * du;
    double qc = vdot(op, op) - r0 * r0;
    int found = 0;
    if (rt_fabs(qa) > 1.0e-20) {
        double disc = qb * qb - qa * qc;
        if (disc > 0.0) {
            double sq = rt_sqrt(disc);
            double ts[2] = {(-qb - sq) / qa, (-qb + sq) / qa};
            for (int i = 0; i < 2; i++) {
                double z = ou + ts[i] * du;
                if (z >= 0.0 && z <= len)
                    consider(ts[i], 0, tmin, tmax, h, &found);
            }
        }
    }
    if (!(p->flags & PRIM_OPEN) && rt_fabs(du) > 1.0e-12) {
        double caps[2] = {0.0, len}, radii[2] = {p->r, p->r2};
        for (int i = 0; i < 2; i++) {
            double t = (caps[i] - ou) / du;
            vec3 q = vadd(op, vscale(dp, t));
            if (radii[i] > 0.0 && vdot(q, q) <= radii[i] * radii[i])
                consider(t, 1 + i, tmin, tmax, h, &found);
        }
    }
    return found;
}

static vec3 cone_normal(const prim *p, vec3 q, const hit_info *h)
{
    vec3 axis = vsub(p->b, p->a);
    double len = vlen(axis);
    vec3 u = vscale(axis, 1.0 / len);
    if (h->side == 1)
        return vscale(u, -1.0);
    if (h->side == 2)
        return u;
    vec3 d = vsub(q, p->a);
    vec3 radial = vnorm(vsub(d, vscale(u, vdot(d, u))));
    return vnorm(vsub(radial, vscale(u, (p->r2 - p->r) / len)));
}

static int cone_inside(const prim *p, vec3 q)
{
    return axial_inside(p, q, p->r, p->r2);
}

static int cone_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    double r = rt_fmax(p->r, p->r2);
    *lo = v3(rt_fmin(p->a.x, p->b.x) - r, rt_fmin(p->a.y, p->b.y) - r,
             rt_fmin(p->a.z, p->b.z) - r);
    *hi = v3(rt_fmax(p->a.x, p->b.x) + r, rt_fmax(p->a.y, p->b.y) + r,
             rt_fmax(p->a.z, p->b.z) + r);
    return 1;
}

static const char *cone_check(const prim *p)
{
    if (!(p->r >= 0.0 && p->r2 >= 0.0 && p->r + p->r2 > 0.0))
        return "scene data: cone radii must be >= 0 and not both 0";
    return vlen(vsub(p->b, p->a)) > 0.0 ? 0 : "scene data: degenerate cone";
}

/* Disc: centre a, unit normal b, radius r, hole radius r2 (0: none); inside is the half
   space behind the normal, as a plane's. */
static int disc_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double nd = vdot(p->b, D);
    if (rt_fabs(nd) < PLANE_EPSILON)
        return 0;
    double t = vdot(p->b, vsub(p->a, O)) / nd;
    if (!(t > DEPTH_TOLERANCE && t >= tmin && t < tmax && t < MAX_DISTANCE))
        return 0;
    vec3 q = vsub(vadd(O, vscale(D, t)), p->a);
    double d2 = vdot(q, q);
    if (d2 > p->r * p->r || d2 < p->r2 * p->r2)
        return 0;
    h->t = t;
    return 1;
}

static vec3 disc_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)q, (void)h;
    return p->b;
}

static int disc_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    *lo = vsub(p->a, v3(p->r, p->r, p->r));
    *hi = vadd(p->a, v3(p->r, p->r, p->r));
    return 1;
}

static int disc_inside(const prim *p, vec3 q)
{
    return vdot(vsub(q, p->a), p->b) < INSIDE_EPSILON ? 1 : -1;
}

static const char *disc_check(const prim *p)
{
    vec3 n = p->b;
    if (rt_fabs(vdot(n, n) - 1.0) > 1e-6)
        return "scene data: disc normal is not a unit vector";
    return p->r > 0.0 && p->r2 >= 0.0 && p->r2 < p->r ? 0 : "scene data: bad disc radii";
}

/* Triangle (r = 0) and smooth_triangle (r = 1): data p1 p2 p3, then for a smooth one the
   vertex normals n1 n2 n3. No inside: POV-Ray's triangles are outside everywhere. */
typedef struct {
    vec3 p1, e1, e2;
} tri_geom;

static tri_geom tri_of(const prim *p)
{
    const double *d = p->d;
    tri_geom g;
    g.p1 = v3(d[0], d[1], d[2]);
    g.e1 = v3(d[3] - d[0], d[4] - d[1], d[5] - d[2]);
    g.e2 = v3(d[6] - d[0], d[7] - d[1], d[8] - d[2]);
    return g;
}

static int triangle_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    tri_geom g = tri_of(p);
    vec3 pv = vcross(D, g.e2);
    double det = vdot(g.e1, pv);
    if (rt_fabs(det) < 1.0e-20)
        return 0;
    vec3 tv = vsub(O, g.p1);
    double u = vdot(tv, pv) / det;
    if (u < 0.0 || u > 1.0)
        return 0;
    vec3 qv = vcross(tv, g.e1);
    double v = vdot(D, qv) / det;
    if (v < 0.0 || u + v > 1.0)
        return 0;
    double t = vdot(g.e2, qv) / det;
    if (!(t > DEPTH_TOLERANCE && t >= tmin && t < tmax && t < MAX_DISTANCE))
        return 0;
    h->t = t;
    h->s = u;
    h->side = 0;
    return 1;
}

static vec3 triangle_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)h;
    tri_geom g = tri_of(p);
    vec3 n = vnorm(vcross(g.e1, g.e2));
    if (p->r == 0.0)
        return n;
    /* barycentric weights of q, then the interpolated vertex normal */
    vec3 w = vsub(q, g.p1), c = vcross(g.e1, g.e2);
    double cc = vdot(c, c);
    double b2 = vdot(vcross(g.e1, w), c) / cc, b1 = vdot(vcross(w, g.e2), c) / cc;
    double b0 = 1.0 - b1 - b2;
    const double *d = p->d + 9;
    vec3 m = v3(b0 * d[0] + b1 * d[3] + b2 * d[6], b0 * d[1] + b1 * d[4] + b2 * d[7],
                b0 * d[2] + b1 * d[5] + b2 * d[8]);
    return vlen(m) > 0.0 ? vnorm(m) : n;
}

static int triangle_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    const double *d = p->d;
    *lo = v3(rt_fmin(d[0], rt_fmin(d[3], d[6])), rt_fmin(d[1], rt_fmin(d[4], d[7])),
             rt_fmin(d[2], rt_fmin(d[5], d[8])));
    *hi = v3(rt_fmax(d[0], rt_fmax(d[3], d[6])), rt_fmax(d[1], rt_fmax(d[4], d[7])),
             rt_fmax(d[2], rt_fmax(d[5], d[8])));
    return 1;
}

static int triangle_inside(const prim *p, vec3 q)
{
    (void)p, (void)q;
    return -1;
}

static const char *triangle_check(const prim *p)
{
    if (!((p->r == 0.0 && p->data_n == 9) || (p->r == 1.0 && p->data_n == 18)))
        return "scene data: bad triangle";
    return 0;
}

#include "prims_poly.c"
#include "prims_blob.c"
#include "prims_super.c"
#include "prims_prism.c"
#include "prims_lathe.c"
#include "prims_text.c"

#include "prims_polygon.c"
#include "prims_sor.c"
#include "prims_bicubic.c"
/* POV-Ray's Sphere::Intersect (an isosurface's container, a julia fractal's bound): the
   depths along the unit direction Dn where the ray enters and leaves the sphere */
static int sphere_span(vec3 centre, double r2, vec3 O, vec3 Dn, double *k0, double *k1)
{
    vec3 oc = vsub(centre, O);
    double oc2 = vdot(oc, oc), t = vdot(oc, Dn);
    if (oc2 >= r2 && t < POV_EPSILON)
        return 0;
    double half2 = r2 - oc2 + t * t;
    if (!(half2 > POV_EPSILON))
        return 0;
    double h = rt_sqrt(half2);
    *k0 = t - h, *k1 = t + h;
    return 1;
}

#include "prims_iso.c"
#include "prims_hfield.c"
#include "prims_julia.c"

/* ---------------------------------------------------------------- the table */
#define POV_PRIM_CLASS(ENUM, name) \
    [ENUM] = {ENUM, #name, name##_isect, name##_normal, name##_bounds, name##_inside, \
              name##_check},
static const prim_class PRIM_CLASSES[OBJ_COUNT] = {POV_PRIMITIVES(POV_PRIM_CLASS)};
#undef POV_PRIM_CLASS

const prim_class *prim_class_of(uint32_t type)
{
    if (type >= OBJ_COUNT || !PRIM_CLASSES[type].isect)
        return 0;
    return &PRIM_CLASSES[type];
}
