/* render.c -- the raytracer core, following POV-Ray 3.7's rules for the subset (see
 * docs/povray.md, "The scene language" and "Matching POV-Ray 3.7"). Freestanding-safe: uses only
 * rt_math and plain C, so the native renderer and the sandboxed client give the same bits.
 */
#include "render.h"
#include "fn.h"
#include "imagemap.h"
#include "warp.h"
#include "pattern.h"
#include "pattern_shapes.h"
#include "prims.h"
/* The primitive table is compiled into this unit so that the intersection calls of the hot
   path inline (a call through the table cost heavy.pov 35 %). */
#include "prims.c"
#include "rt_math.h"
#include "normals.c"

#define MIN_ISECT_DEPTH 1.0e-4  /* POV-Ray: closest accepted intersection */
#define SHADOW_TOLERANCE 1.0e-3 /* stop shadow rays short of the light */
#define SMALL_TOLERANCE 1.0e-3  /* POV-Ray's: a projected_through object's own surface */
#define BVH_LEAF 2
#define BVH_STACK 64


struct bvh_node {
    double lo[3], hi[3];
    uint32_t left;  /* inner: index of the first child (second = left + 1); leaf: first in order */
    uint32_t count; /* 0 = inner node */
};

static void build_encode_table(render_ctx *ctx);

double vlen(vec3 a) { return rt_sqrt(vdot(a, a)); }

vec3 vnorm(vec3 a)
{
    double l = vlen(a);
    return l > 0.0 ? v3(a.x / l, a.y / l, a.z / l) : a;
}

vec3 xf_point(const xform *t, vec3 p)
{
    return v3(t->m[0][0] * p.x + t->m[0][1] * p.y + t->m[0][2] * p.z + t->m[0][3],
              t->m[1][0] * p.x + t->m[1][1] * p.y + t->m[1][2] * p.z + t->m[1][3],
              t->m[2][0] * p.x + t->m[2][1] * p.y + t->m[2][2] * p.z + t->m[2][3]);
}

vec3 xf_dir(const xform *t, vec3 d)
{
    return v3(t->m[0][0] * d.x + t->m[0][1] * d.y + t->m[0][2] * d.z,
              t->m[1][0] * d.x + t->m[1][1] * d.y + t->m[1][2] * d.z,
              t->m[2][0] * d.x + t->m[2][1] * d.y + t->m[2][2] * d.z);
}

vec3 xf_normal(const xform *inv, vec3 n)
{
    return v3(inv->m[0][0] * n.x + inv->m[1][0] * n.y + inv->m[2][0] * n.z,
              inv->m[0][1] * n.x + inv->m[1][1] * n.y + inv->m[2][1] * n.z,
              inv->m[0][2] * n.x + inv->m[1][2] * n.y + inv->m[2][2] * n.z);
}


/* ---------------------------------------------------------------- primitives */

/* Intersect one primitive: nearest t in [tmin, tmax). */
static int isect_prim(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    if (p->has_trans) {
        O = xf_point(&p->inv, O);
        D = xf_dir(&p->inv, D);
    }
#define POV_ISECT_CASE(ENUM, name) case ENUM: return name##_isect(p, O, D, tmin, tmax, h);
    switch (p->type) {
        POV_PRIMITIVES(POV_ISECT_CASE)
    default:
        return 0; /* unreachable: the reader and render_prepare refuse unknown types */
    }
#undef POV_ISECT_CASE
}

/* World-space normal (not yet turned towards the viewer) at world point P. */
static vec3 prim_normal(const prim *p, vec3 P, const hit_info *h)
{
    vec3 q = p->has_trans ? xf_point(&p->inv, P) : P;
    vec3 n = PRIM_CLASSES[p->type].normal(p, q, h);
    if (p->has_trans)
        n = vnorm(xf_normal(&p->inv, n));
    return n;
}

/* ---------------------------------------------------------------- BVH */

static void corners_bounds(const prim *p, vec3 lo, vec3 hi, double blo[3], double bhi[3])
{
    for (int a = 0; a < 3; a++) {
        blo[a] = HUGE_DEPTH;
        bhi[a] = -HUGE_DEPTH;
    }
    for (int i = 0; i < 8; i++) {
        vec3 c = v3(i & 1 ? hi.x : lo.x, i & 2 ? hi.y : lo.y, i & 4 ? hi.z : lo.z);
        if (p->has_trans)
            c = xf_point(&p->fwd, c);
        for (int a = 0; a < 3; a++) {
            blo[a] = rt_fmin(blo[a], comp(c, a));
            bhi[a] = rt_fmax(bhi[a], comp(c, a));
        }
    }
}

/* World bounds; 0 for an unbounded primitive. */
static int prim_bounds(const prim *p, double blo[3], double bhi[3])
{
    vec3 lo, hi;
    if (!prim_class_of(p->type)->bounds(p, &lo, &hi))
        return 0;
    corners_bounds(p, lo, hi, blo, bhi);
    for (int a = 0; a < 3; a++) { /* pad against rounding */
        double pad = 1.0e-9 * (1.0 + rt_fabs(blo[a]) + rt_fabs(bhi[a]));
        blo[a] -= pad;
        bhi[a] += pad;
    }
    return 1;
}

#include "csg_eval.c"

typedef struct {
    render_ctx *ctx;
    double (*blo)[3], (*bhi)[3];
} bvh_build;

static double centroid(const bvh_build *b, uint32_t i, int axis)
{
    return 0.5 * (b->blo[i][axis] + b->bhi[i][axis]);
}

/* Sort order[lo..hi) by centroid on axis (insertion sort: scenes are small). */
static void sort_axis(const bvh_build *b, uint32_t *order, uint32_t n, int axis)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t v = order[i];
        double c = centroid(b, v, axis);
        uint32_t j = i;
        while (j > 0 && (centroid(b, order[j - 1], axis) > c ||
                         (centroid(b, order[j - 1], axis) == c && order[j - 1] > v))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

static void build_node(bvh_build *b, uint32_t node, uint32_t first, uint32_t n)
{
    render_ctx *ctx = b->ctx;
    bvh_node *nd = &ctx->nodes[node];
    double clo[3], chi[3];
    for (int a = 0; a < 3; a++) {
        nd->lo[a] = HUGE_DEPTH; nd->hi[a] = -HUGE_DEPTH;
        clo[a] = HUGE_DEPTH; chi[a] = -HUGE_DEPTH;
    }
    for (uint32_t i = first; i < first + n; i++) {
        uint32_t p = ctx->order[i];
        for (int a = 0; a < 3; a++) {
            nd->lo[a] = rt_fmin(nd->lo[a], b->blo[p][a]);
            nd->hi[a] = rt_fmax(nd->hi[a], b->bhi[p][a]);
            clo[a] = rt_fmin(clo[a], centroid(b, p, a));
            chi[a] = rt_fmax(chi[a], centroid(b, p, a));
        }
    }
    if (n <= BVH_LEAF) {
        nd->left = first;
        nd->count = n;
        return;
    }
    int axis = 0;
    for (int a = 1; a < 3; a++)
        if (chi[a] - clo[a] > chi[axis] - clo[axis])
            axis = a;
    sort_axis(b, ctx->order + first, n, axis);
    uint32_t half = n / 2;
    uint32_t left = ctx->n_nodes;
    ctx->n_nodes += 2;
    nd->left = left;
    nd->count = 0;
    build_node(b, left, first, half);
    build_node(b, left + 1, first + half, n - half);
}

/* Can an image let light through: an alpha channel, filter or transmit all, a palette entry
   with filter or transmit? */
static int image_has_clear(const scene *s, const image_ref *im)
{
    if (im->channels == 2 || im->channels == 4 || im->all_filter != 0.0 ||
        im->all_transmit != 0.0)
        return 1;
    for (uint32_t k = 0; im->indexed && k < im->lut_n; k += 5)
        if (s->ilut[im->lut_first + k + 3] != 0.0f || s->ilut[im->lut_first + k + 4] != 0.0f)
            return 1;
    return 0;
}

/* Does any object's pigment (or colour map, or image) let light through? */
static int scene_has_clear(const scene *s)
{
    for (uint32_t i = 0; i < s->n_images; i++)
        if (image_has_clear(s, &s->images[i]))
            return 1;
    for (uint32_t i = 0; i < s->n_maps; i++)
        for (uint32_t k = 0; k < s->maps[i].n; k++)
            if (s->maps[i].ft[k][0] != 0.0 || s->maps[i].ft[k][1] != 0.0)
                return 1;
    for (uint32_t i = 0; i < s->n_layers + s->n_tentries; i++) { /* layers, texture_maps */
        const pigment *pg = i < s->n_layers ? &s->layers[i].pig
                                            : &s->tentries[i - s->n_layers].pig;
        if (pg->ft1[0] != 0.0 || pg->ft1[1] != 0.0 || pg->ft2[0] != 0.0 || pg->ft2[1] != 0.0)
            return 1;
    }
    for (uint32_t i = 0; i < s->n_prims + s->n_pentries; i++) { /* and pigment_map entries */
        const pigment *pg = i < s->n_prims ? &s->prims[i].pig : &s->pentries[i - s->n_prims].pig;
        if (pg->ft1[0] != 0.0 || pg->ft1[1] != 0.0 || pg->ft2[0] != 0.0 || pg->ft2[1] != 0.0)
            return 1;
    }
    return 0;
}

static void interior_camera_media(const scene *s, vec3 O, ray_media *m);

int render_prepare(render_ctx *ctx, const scene *s, pov_alloc_fn alloc)
{
    uint32_t n = s->n_prims, nb = 0, nu = 0;
    pattern_init();
    fn_bind(s);
    image_bind(s);
    warp_bind(s);
    ctx->s = s;
    ctx->n_nodes = 0;
    ctx->order = alloc(sizeof(uint32_t) * (n + 1));
    ctx->unbounded = alloc(sizeof(uint32_t) * (n + 1));
    ctx->nodes = alloc(sizeof(bvh_node) * (2 * n + 1));
    double (*blo)[3] = alloc(sizeof(double[3]) * (n + 1));
    double (*bhi)[3] = alloc(sizeof(double[3]) * (n + 1));
    if (!ctx->order || !ctx->unbounded || !ctx->nodes || !blo || !bhi || blob_prepare(s, alloc) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!prim_class_of(s->prims[i].type))
            return -2; /* unknown primitive: refuse loudly (the scene reader already does) */
        if (s->prims[i].flags & (PRIM_NO_SURFACE | PRIM_PROJECTOR))
            continue; /* only inside tests use it, or a light looking through it */
        int b = visible_bounds(s, &s->prims[i], blo[i], bhi[i]);
        if (b > 0)
            ctx->order[nb++] = i;
        else if (b == 0)
            ctx->unbounded[nu++] = i;
        /* b < 0: CSG leaves none of its surface */
    }
    ctx->n_unbounded = nu;
    ctx->has_clear = scene_has_clear(s);
    ctx->media_cur = alloc(sizeof *ctx->media_cur);
    if (!ctx->media_cur)
        return -1;
    interior_camera_media(s, s->location, &ctx->cam_media);
    *ctx->media_cur = &ctx->cam_media;
    build_encode_table(ctx);
    bvh_build b = {ctx, blo, bhi};
    if (nb > 0) {
        ctx->n_nodes = 1;
        build_node(&b, 0, 0, nb);
    }
    return 0;
}

typedef struct {
    vec3 O, D;
    double o[3], inv[3];
    int neg[3]; /* inv[a] < 0 */
    int ax;  /* dominant axis of D: decides which BVH child is visited first */
    int pos; /* D[ax] >= 0 */
} ray_t;

/* Ray against a node's box. A NaN (ray inside a slab's plane, 0 * inf) fails both
   comparisons and so never culls: the test stays conservative. */
static inline int slab_hit(const bvh_node *nd, const ray_t *r, double tmax)
{
    double t0 = 0.0, t1 = tmax;
    for (int a = 0; a < 3; a++) {
        double near = r->neg[a] ? nd->hi[a] : nd->lo[a];
        double far = r->neg[a] ? nd->lo[a] : nd->hi[a];
        double ta = (near - r->o[a]) * r->inv[a];
        double tb = (far - r->o[a]) * r->inv[a];
        if (ta > t0) t0 = ta;
        if (tb < t1) t1 = tb;
    }
    return t0 <= t1;
}

/* Closest hit with t >= MIN_ISECT_DEPTH and t < tmax (any = stop at the first hit). The
   traversal order depends only on the ray, so the answer is the same in every tile. */
static int find_hit(const render_ctx *ctx, const ray_t *r, double tmax, int any,
                    uint32_t skip, uint32_t *hit_prim, hit_info *hit)
{
    const scene *s = ctx->s;
    int found = 0;
    hit_info h;
    for (uint32_t i = 0; i < ctx->n_unbounded; i++) {
        uint32_t pi = ctx->unbounded[i];
        if (s->prims[pi].flags & skip)
            continue;
        if (isect_visible(s, &s->prims[pi], r->O, r->D, MIN_ISECT_DEPTH, tmax, &h)) {
            if (!found || h.t < hit->t) {
                *hit = h; *hit_prim = pi; found = 1;
                if (any) return 1;
            }
        }
    }
    if (ctx->n_nodes == 0)
        return found;
    uint32_t stack[BVH_STACK];
    int sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
        const bvh_node *nd = &ctx->nodes[stack[--sp]];
        double lim = found ? hit->t * (1.0 + 1.0e-12) + 1.0e-12 : tmax;
        if (!slab_hit(nd, r, lim))
            continue;
        if (nd->count) {
            for (uint32_t k = 0; k < nd->count; k++) {
                uint32_t pi = ctx->order[nd->left + k];
                if (s->prims[pi].flags & skip)
                    continue;
                if (isect_visible(s, &s->prims[pi], r->O, r->D, MIN_ISECT_DEPTH,
                                  found ? hit->t : tmax, &h)) {
                    *hit = h; *hit_prim = pi; found = 1;
                    if (any) return 1;
                }
            }
        } else if (sp + 2 <= BVH_STACK) {
            /* visit the nearer child first */
            const bvh_node *l = &ctx->nodes[nd->left];
            const bvh_node *rn = &ctx->nodes[nd->left + 1];
            int ax = r->ax;
            int left_first = r->pos ? l->lo[ax] <= rn->lo[ax] : l->hi[ax] >= rn->hi[ax];
            if (left_first) {
                stack[sp++] = nd->left + 1;
                stack[sp++] = nd->left;
            } else {
                stack[sp++] = nd->left;
                stack[sp++] = nd->left + 1;
            }
        }
    }
    return found;
}

/* ---------------------------------------------------------------- shading */

/* The pigment's colour at P; ft receives its filter and transmit. */
static vec3 pigment_at(const scene *s, const pigment *pg, vec3 P, double ft[2])
{
    return pigment_colour(s, pg, P, ft); /* pattern.c */
}

/* POV-Ray's greyscale weights */
static double grey(vec3 c) { return 0.297 * c.x + 0.589 * c.y + 0.114 * c.z; }

static double max3(vec3 v) { return rt_fmax(v.x, rt_fmax(v.y, v.z)); }

static ray_t make_ray(vec3 O, vec3 D)
{
    ray_t r;
    r.O = O;
    r.D = D;
    r.o[0] = O.x;
    r.o[1] = O.y;
    r.o[2] = O.z;
    r.inv[0] = 1.0 / D.x;
    r.inv[1] = 1.0 / D.y;
    r.inv[2] = 1.0 / D.z;
    for (int a = 0; a < 3; a++)
        r.neg[a] = r.inv[a] < 0.0;
    double ax = rt_fabs(D.x), ay = rt_fabs(D.y), az = rt_fabs(D.z);
    r.ax = ax >= ay && ax >= az ? 0 : ay >= az ? 1 : 2;
    r.pos = (r.ax == 0 ? D.x : r.ax == 1 ? D.y : D.z) >= 0.0;
    return r;
}

static int in_shadow(const render_ctx *ctx, vec3 P, vec3 L, double dist)
{
    ray_t r = make_ray(P, L);
    uint32_t pi;
    hit_info h;
    return find_hit(ctx, &r, dist - SHADOW_TOLERANCE, 1, PRIM_NO_SHADOW, &pi, &h);
}

static vec3 trace(const render_ctx *ctx, vec3 O, vec3 D, double weight, uint32_t level);

/* atan for |t| <= 1: halve the angle twice (atan t = 2 atan(t / (1 + sqrt(1 + t^2)))), then
   the Taylor series; deterministic IEEE arithmetic, ~1e-16 relative. */
static double small_atan(double t)
{
    for (int i = 0; i < 2; i++)
        t = t / (1.0 + rt_sqrt(1.0 + t * t));
    double t2 = t * t, term = t, sum = t;
    for (int k = 1; k < 12; k++) {
        term *= -t2;
        sum += term / (2 * k + 1);
    }
    return 4.0 * sum;
}

static double acos_det(double x)
{
    if (x >= 1.0)
        return 0.0;
    if (x <= -1.0)
        return RT_PI;
    double s = rt_sqrt(1.0 - x * x); /* acos x = atan2(s, x), s >= 0 */
    if (rt_fabs(x) >= s)
        return x > 0.0 ? small_atan(s / x) : RT_PI + small_atan(s / x);
    return 0.5 * RT_PI - small_atan(x / s);
}

/* POV-Ray 3.7's "metallic" highlight colour: the light's colour pulled towards the
   pigment's by an empirical Fresnel curve of the angle between normal and light
   (F = 0.014567225 / (x - 1.12)^2 - 0.011612903, x = acos(N.L) / (pi / 2)). */
static vec3 metallic_colour(double m, double nl, vec3 pig, vec3 lc)
{
    double x = rt_fabs(acos_det(nl)) / (0.5 * RT_PI);
    double F = 0.014567225 / ((x - 1.12) * (x - 1.12)) - 0.011612903;
    F = F < 0.0 ? 0.0 : F > 1.0 ? 1.0 : F;
    double k = m * (1.0 - F);
    return v3(lc.x * (1.0 + k * (pig.x - 1.0)), lc.y * (1.0 + k * (pig.y - 1.0)),
              lc.z * (1.0 + k * (pig.z - 1.0)));
}

/* POV-Ray's spotlight cone (pow(cos, tightness), cubic between falloff and radius) and
   fading (2 / (1 + (d / fade_distance)^fade_power)); L points from the surface to the
   light, dist is the distance. */
/* POV-Ray's cubic_spline(low, high, pos) */
static double cubic_step(double low, double high, double pos)
{
    if (pos < low)
        return 0.0;
    if (pos >= high)
        return 1.0;
    pos = (pos - low) / (high - low);
    return (3.0 - 2.0 * pos) * pos * pos;
}

/* A cylinder light's attenuation at P: by the distance from its axis (POV-Ray 3.7's
   Attenuate_Light) */
static double cylinder_attenuation(const light *lt, vec3 P)
{
    vec3 v = vsub(P, lt->pos);
    double k = vdot(v, lt->dir);
    if (k <= 0.0)
        return 0.0;
    double len = vlen(vsub(v, vscale(lt->dir, k)));
    double radius = lt->cos_radius, falloff = lt->cos_falloff;
    if (len >= falloff)
        return 0.0;
    double d = 1.0 - len / falloff;
    double att = lt->tightness != 0.0 ? rt_pow(d, lt->tightness) : 1.0;
    if (radius > 0.0 && len > radius)
        att *= cubic_step(0.0, 1.0 - radius / falloff, d);
    return att;
}

static double light_attenuation(const light *lt, vec3 P, vec3 L, double dist)
{
    double att = 1.0;
    if (lt->type == LIGHT_CYLINDER) {
        att = cylinder_attenuation(lt, P);
        if (att <= 0.0)
            return 0.0;
    }
    if (lt->type == LIGHT_SPOT) { /* POV-Ray's Attenuate_Light: a parallel spotlight (L is
                                     -dir) lights all in front of its plane, nothing behind */
        double c = vdot(L, lt->dir);
        if (dist > 0.0)
            c = -c;
        if (c <= 0.0)
            return 0.0;
        att = lt->tightness != 0.0 ? rt_pow(c, lt->tightness) : 1.0;
        if (lt->cos_radius > 0.0) {
            if (c < lt->cos_falloff)
                return 0.0;
            if (c < lt->cos_radius) {
                double x = (c - lt->cos_falloff) / (lt->cos_radius - lt->cos_falloff);
                att *= (3.0 - 2.0 * x) * x * x;
            }
        }
    }
    if (lt->fade_power > 0.0)
        att *= 2.0 / (1.0 + rt_pow(dist / lt->fade_distance, lt->fade_power));
    return att;
}

#include "irid.c"
#include "texture_shade.c"

/* What reaches P from the light along L (unit) over dist: 1 unblocked, 0 blocked, and with
   transparent objects in the scene, POV-Ray's filtering by each surface crossed
   (colour * filter + transmit; an opaque one stops the light). */
static vec3 light_filter(const render_ctx *ctx, vec3 P, vec3 L, double dist)
{
    if (!ctx->has_clear)
        return in_shadow(ctx, P, L, dist) ? v3(0.0, 0.0, 0.0) : v3(1.0, 1.0, 1.0);
    const scene *s = ctx->s;
    vec3 f = v3(1.0, 1.0, 1.0), O = P;
    double left = dist - SHADOW_TOLERANCE;
    ray_media sm = **ctx->media_cur; /* the lit ray's interiors, updated at each surface */
    for (int i = 0; i < 64; i++) {
        ray_t r = make_ray(O, L);
        uint32_t pi;
        hit_info h;
        if (!find_hit(ctx, &r, left, 0, PRIM_NO_SHADOW, &pi, &h))
            return f;
        vec3 Q = vadd(O, vscale(L, h.t));
        const prim *hp = &s->prims[pi];
        vec3 HN = prim_normal(hp, Q, &h);
        int inside = hp->inside_tex && vdot(HN, L) > 0.0;
        if (vdot(HN, L) > 0.0)
            HN = vscale(HN, -1.0);
        vec3 lf = texture_filter(s, hp, Q, HN, inside); /* every layer filters the light */
        if (lf.x != 0.0 || lf.y != 0.0 || lf.z != 0.0)
            lf = vmul(lf, interior_shadow(ctx, &s->prims[pi], Q, L, &h, h.t,
                                          1 + s->prims[pi].layer_n, &sm));
        if (lf.x == 0.0 && lf.y == 0.0 && lf.z == 0.0)
            return lf;
        f = vmul(f, lf);
        O = Q;
        left -= h.t;
    }
    return v3(0.0, 0.0, 0.0);
}

static vec3 light_path(const render_ctx *ctx, const light *lt, vec3 P, vec3 L, double dist);

#include "area_light.c"

/* A light's phong and specular highlights (hc: their colour), added to *col. */
static void add_highlights(const finish *f, vec3 N, vec3 D, vec3 L, vec3 hc, vec3 *col)
{
    if (f->phong > 0.0) {
        double k = -2.0 * vdot(D, N);
        vec3 R = vadd(D, vscale(N, k));
        double rl = vdot(R, L);
        if (rl > 0.0 && (f->phong_size < 60.0 || rl > 0.0008)) {
            double in = f->phong * rt_pow(rl, f->phong_size);
            *col = vadd(*col, vscale(hc, in));
        }
    }
    if (f->specular > 0.0) {
        vec3 H = vnorm(vsub(L, D));
        double nh = vdot(N, H);
        if (nh > 0.0) {
            double in = f->specular * rt_pow(nh, f->roughness_exp);
            *col = vadd(*col, vscale(hc, in));
        }
    }
}

/* Where the ray from P along L first meets light lt's projected_through objects, before
   dist: *t; 0 when it misses them. */
static int projector_hit(const render_ctx *ctx, const light *lt, vec3 P, vec3 L, double dist,
                         double *t)
{
    const scene *s = ctx->s;
    hit_info h;
    int found = 0;
    for (uint32_t k = 0; k < lt->proj_n; k++)
        if (isect_visible(s, &s->prims[lt->proj_first + k], P, L, MIN_ISECT_DEPTH,
                          found ? *t : dist, &h)) {
            *t = h.t;
            found = 1;
        }
    return found;
}

/* What of light lt gets from P along L to the light (dist away): its shadows and filters;
   with projected_through, only light that passes its objects, shadowed by what lies
   before them (POV-Ray's TracePointLightShadowRay; a shadowless light is not shadowed). */
static vec3 light_path(const render_ctx *ctx, const light *lt, vec3 P, vec3 L, double dist)
{
    if (lt->proj_n) {
        double tp;
        if (!projector_hit(ctx, lt, P, L, dist, &tp))
            return v3(0.0, 0.0, 0.0);
        if (lt->flags & LIGHT_SHADOWLESS)
            return v3(1.0, 1.0, 1.0);
        dist = tp - SMALL_TOLERANCE + SHADOW_TOLERANCE; /* blockers before tp only */
    }
    return light_filter(ctx, P, L, dist);
}

/* What reaches P from light i (unit L, dist away), shadows and filters applied; zero when
   nothing does. */
static vec3 light_reaching(const render_ctx *ctx, const light *lt, vec3 P, vec3 L, double dist)
{
    double att = light_attenuation(lt, P, L, dist);
    if (att <= 0.0)
        return v3(0.0, 0.0, 0.0);
    vec3 lcol = vscale(lt->color, att);
    if (!(lt->flags & LIGHT_SHADOWLESS) && lt->area_n1)
        return area_light_colour(ctx, lt, P, L, lcol); /* area_light.c */
    if (!(lt->flags & LIGHT_SHADOWLESS) || lt->proj_n) {
        vec3 lf = light_path(ctx, lt, P, L, dist);
        if (lf.x == 0.0 && lf.y == 0.0 && lf.z == 0.0)
            return lf;
        if (ctx->has_clear)
            lcol = vmul(lcol, lf);
    }
    return lcol;
}

/* Diffuse and highlights of every light, added to *col in POV-Ray's order; opacity scales
   the diffuse part of a transparent surface (1 for an opaque one). With irid, each light's
   part is tinted before it is added (irid.c). two_sided (double_illuminate): a light behind
   the surface lights it too, by |N.L| as POV-Ray's diffuse. */
static void add_lights(const render_ctx *ctx, const finish *f, vec3 P, vec3 N, vec3 D, vec3 pig,
                       double opacity, int two_sided, vec3 *col)
{
    const scene *s = ctx->s;
    for (uint32_t i = 0; i < s->n_lights; i++) {
        const light *lt = &s->lights[i];
        vec3 L = vsub(lt->pos, P);
        double dist;
        if (lt->flags & LIGHT_PARALLEL) { /* POV-Ray: along -dir, as far as the light's plane */
            L = vscale(lt->dir, -1.0);
            dist = vdot(vsub(lt->pos, P), L);
        } else {
            dist = vlen(L);
            L = v3(L.x / dist, L.y / dist, L.z / dist);
        }
        double nl = vdot(N, L);
        if (nl < 1.0e-10 && !two_sided)
            continue;
        vec3 lcol = light_reaching(ctx, lt, P, L, dist);
        if (lcol.x == 0.0 && lcol.y == 0.0 && lcol.z == 0.0)
            continue;
        vec3 part = v3(0.0, 0.0, 0.0);
        vec3 *acc = f->irid != 0.0 ? &part : col;
        if (f->diffuse > 0.0) {
            double anl = rt_fabs(nl);
            double in = f->brilliance != 1.0 ? rt_pow(anl, f->brilliance) : anl;
            in *= f->diffuse;
            if (opacity != 1.0)
                in *= opacity;
            if (f->crand > 0.0) /* POV-Ray draws from one sequence; ours: area_light.c */
                in -= point_random(P, i, 0xC4A, 0, 2) * f->crand;
            *acc = vadd(*acc, vscale(vmul(pig, lcol), in));
        }
        if (!(lt->flags & LIGHT_SHADOWLESS)) /* POV-Ray: a fill light makes no highlights */
            add_highlights(f, N, D, L, f->metallic > 0.0 ? metallic_colour(f->metallic, nl, pig,
                                                                              lcol) : lcol, acc);
        if (f->irid != 0.0)
            *col = vadd(*col, irid_tint(s, f, L, D, N, P, part));
    }
}

int render_prim_inside(const render_ctx *ctx, uint32_t i, vec3 P)
{
    if (i >= ctx->s->n_prims)
        return 0;
    const prim *p = &ctx->s->prims[i];
    vec3 q = p->has_trans ? xf_point(&p->inv, P) : P;
    return PRIM_CLASSES[p->type].inside(p, q) > 0;
}

int render_first_hit(const render_ctx *ctx, vec3 O, vec3 D, double *t, uint32_t *prim, vec3 *N)
{
    ray_t r = make_ray(O, D);
    uint32_t pi = 0;
    hit_info h = {0.0, 0, 0.0, {0.0, 0.0, 0.0}};
    if (!find_hit(ctx, &r, HUGE_DEPTH, 0, 0, &pi, &h))
        return 0;
    *t = h.t;
    *prim = pi;
    *N = prim_normal(&ctx->s->prims[pi], vadd(O, vscale(D, h.t)), &h);
    return 1;
}

#include "fog.c"
#include "rainbow.c"
#include "sky.c"

static vec3 trace(const render_ctx *ctx, vec3 O, vec3 D, double weight, uint32_t level)
{
    const scene *s = ctx->s;
    if (level >= s->max_trace_level || weight < s->adc_bailout)
        return v3(0.0, 0.0, 0.0);
    if (level == 0)
        *ctx->media_cur = &ctx->cam_media;
    ray_t r = make_ray(O, D);
    uint32_t pi = 0;
    hit_info h = {0.0, 0, 0.0, {0.0, 0.0, 0.0}};
    /* camera rays skip no_image objects, reflected rays no_reflection ones */
    uint32_t skip = level == 0 ? PRIM_NO_IMAGE : PRIM_NO_REFLECTION;
    if (!find_hit(ctx, &r, HUGE_DEPTH, 0, skip, &pi, &h)) {
        vec3 sky = s->has_sky ? sky_colour(s, D) : s->background;
        if (s->n_rainbows)
            sky = apply_rainbows(s, D, -1.0, sky);
        return s->n_fogs ? apply_fog(s, O, D, -1.0, sky) : sky;
    }
    const prim *p = &s->prims[pi];
    vec3 P = vadd(O, vscale(D, h.t));
    vec3 N = prim_normal(p, P, &h);
    int inside = vdot(N, D) > 0.0;
    if (inside)
        N = vscale(N, -1.0);
    vec3 c = shade(ctx, p, P, N, D, h.t, weight, level + 1, inside);
    if (s->n_rainbows)
        c = apply_rainbows(s, D, h.t, c);
    return s->n_fogs ? apply_fog(s, O, D, h.t, c) : c;
}

/* POV-Ray 3.7's omnimax camera (its tracepixel.cpp): x0, y0 in [-1, 1] squeezed by the
   aspect ratio |right| / |up| (at most 1.283458 across, the dome's), the radius mapped to
   the angle from the view direction by 1.411269 r - 0.09439 r^3 + 0.25674 r^5; no ray
   outside the unit circle or more than 45 degrees below the axis (black). */
static int omnimax_dir(const scene *s, double x0, double y0, vec3 R, vec3 U, vec3 Dn, vec3 *d)
{
    double aspect = vlen(s->right) / vlen(s->up);
    if (aspect > 1.0) {
        if (aspect > 1.283458) {
            x0 *= aspect / 1.283458;
            y0 = (y0 - 1.0) / 1.283458 + 1.0;
        } else {
            y0 = (y0 - 1.0) / aspect + 1.0;
        }
    } else {
        y0 /= aspect;
    }
    double rad = rt_sqrt(x0 * x0 + y0 * y0);
    if (rad > 1.0)
        return 0;
    double cphi = rad == 0.0 ? 1.0 : x0 / rad, sphi = rad == 0.0 ? 0.0 : y0 / rad;
    double r3 = rad * rad * rad, theta = 1.411269 * rad - 0.09439 * r3 + 0.25674 * r3 * rad * rad;
    double cy = rt_cos(theta), sy = rt_sin(theta);
    if (sphi * sy < rt_tan(135.0 * (RT_PI / 180.0)) * cy)
        return 0;
    *d = vadd(vadd(vscale(R, cphi * sy), vscale(U, sphi * sy)), vscale(Dn, cy));
    return 1;
}

/* POV-Ray 3.7's fisheye, panoramic and spherical cameras (reference manual, "Camera"; the
 * bytes match POV-Ray 3.7.0's renders in tests/data): fisheye maps the distance from the centre, scaled by |right| and
 * |up|, to the angle from the unit view direction, no ray outside the circle (black);
 * panoramic sees 180 degrees across and tan of the height; spherical maps angle (default 360)
 * across and angle_v (default half of it) down, on unit vectors. fx, fy in [-0.5, 0.5], y up. */
static vec3 lens_pixel(const render_ctx *ctx, double fx, double fy)
{
    const scene *s = ctx->s;
    vec3 R = vnorm(s->right), U = vnorm(s->up), Dn = vnorm(s->direction), d;
    if (s->camera_type == CAM_FISHEYE) {
        double x0 = 2.0 * fx * vlen(s->right), y0 = 2.0 * fy * vlen(s->up);
        double rad = rt_sqrt(x0 * x0 + y0 * y0);
        if (rad > 1.0)
            return v3(0.0, 0.0, 0.0);
        /* the azimuth phi has cos phi = x0 / rad and sin phi = y0 / rad */
        double cphi = rad == 0.0 ? 1.0 : x0 / rad, sphi = rad == 0.0 ? 0.0 : y0 / rad;
        double theta = rad * s->camera_angle * (RT_PI / 360.0), st = rt_sin(theta);
        d = vadd(vadd(vscale(R, cphi * st), vscale(U, sphi * st)), vscale(Dn, rt_cos(theta)));
    } else if (s->camera_type == CAM_OMNIMAX) {
        if (!omnimax_dir(s, 2.0 * fx, 2.0 * fy, R, U, Dn, &d))
            return v3(0.0, 0.0, 0.0);
    } else if (s->camera_type == CAM_PANORAMIC) {
        double a = (0.5 - fx) * RT_PI, b = fy * RT_PI;
        d = vadd(vadd(vscale(s->right, rt_cos(a)), vscale(s->up, rt_tan(b))),
                 vscale(s->direction, rt_sin(a))); /* the vectors as they are */
    } else { /* CAM_SPHERICAL */
        double h = fx * s->camera_angle * (RT_PI / 180.0);
        double v = fy * s->camera_angle_v * (RT_PI / 180.0);
        d = vadd(vscale(vadd(vscale(R, rt_sin(h)), vscale(Dn, rt_cos(h))), rt_cos(v)),
                 vscale(U, rt_sin(v)));
    }
    return trace(ctx, s->location, vnorm(d), 1.0, 0);
}

/* The colour seen at image-plane position fx, fy in [-0.5, 0.5] (y up). */
/* A camera ray: with a camera normal, its direction bent by the normal's pattern taken at
   the screen point (fx, fy, 0), as POV-Ray's CreateCameraRay does. */
static vec3 camera_trace(const render_ctx *ctx, vec3 o, vec3 d, double fx, double fy)
{
    d = vnorm(d);
    if (ctx->s->has_cam_normal)
        d = vnorm(perturb_normal(ctx->s, &ctx->s->cam_normal, d, v3(fx, fy, 0.0)));
    return trace(ctx, o, d, 1.0, 0);
}

static vec3 camera_colour(const render_ctx *ctx, double fx, double fy)
{
    const scene *s = ctx->s;
    if (s->camera_type >= CAM_FISHEYE)
        return lens_pixel(ctx, fx, fy);
    if (s->camera_type == CAM_ULTRA_WIDE) {
        /* POV-Ray's ultra_wide_angle: both axes bent, the vertical one by |up| / |right| */
        vec3 R = vnorm(s->right), U = vnorm(s->up), Dn = vnorm(s->direction);
        double a = s->camera_angle * (RT_PI / 180.0);
        double x0 = fx * a, y0 = fy * a * (vlen(s->up) / vlen(s->right));
        vec3 d = vadd(vadd(vscale(R, rt_sin(x0)), vscale(U, rt_sin(y0))),
                      vscale(Dn, rt_cos(x0) * rt_cos(y0)));
        return camera_trace(ctx, s->location, d, fx, fy);
    }
    if (CAM_IS_CYLINDER(s->camera_type)) {
        /* POV-Ray's cylinder cameras: unit vectors, one axis bent around the cylinder */
        vec3 R = vnorm(s->right), U = vnorm(s->up), Dn = vnorm(s->direction);
        double a = s->camera_angle * (RT_PI / 180.0);
        vec3 o = s->location, d;
        switch (s->camera_type) {
        case CAM_CYL1: /* axis up */
            d = vadd(vadd(vscale(R, rt_sin(fx * a)), vscale(U, fy * vlen(s->up))),
                     vscale(Dn, rt_cos(fx * a)));
            break;
        case CAM_CYL2: /* axis right */
            d = vadd(vadd(vscale(R, fx * vlen(s->right)), vscale(U, rt_sin(fy * a))),
                     vscale(Dn, rt_cos(fy * a)));
            break;
        case CAM_CYL3: /* axis up, the viewpoint moves along it */
            o = vadd(o, vscale(U, fy * vlen(s->up)));
            d = vadd(vscale(R, rt_sin(fx * a)), vscale(Dn, rt_cos(fx * a)));
            break;
        default: /* CAM_CYL4: axis right, the viewpoint moves along it */
            o = vadd(o, vscale(R, fx * vlen(s->right)));
            d = vadd(vscale(U, rt_sin(fy * a)), vscale(Dn, rt_cos(fy * a)));
            break;
        }
        return camera_trace(ctx, o, d, fx, fy);
    }
    if (s->camera_type == CAM_ORTHOGRAPHIC) {
        vec3 o = vadd(vadd(s->location, vscale(s->right, fx)), vscale(s->up, fy));
        return camera_trace(ctx, o, s->direction, fx, fy);
    }
    vec3 d = vadd(vadd(s->direction, vscale(s->right, fx)), vscale(s->up, fy));
    return camera_trace(ctx, s->location, d, fx, fy);
}

vec3 render_pixel(const render_ctx *ctx, uint32_t W, uint32_t H, uint32_t x, uint32_t y)
{
    double fx = ((double)x + 0.5) / (double)W - 0.5;
    double fy = 0.5 - ((double)y + 0.5) / (double)H;
    return camera_colour(ctx, fx, fy);
}

/* POV-Ray 3.7's TracePixel: the sample at (x, y) in pixel units (pixel centres at whole
   numbers) moves to the centre (x + 0.5, y - 0.5) and maps to x / W - 0.5 and
   ((H - 1) - y) / H - 0.5, computed in that order (anti-aliasing's sub-pixel samples). */
vec3 render_sample(const render_ctx *ctx, uint32_t W, uint32_t H, double x, double y)
{
    x += 0.5;
    y -= 0.5;
    double fx = x / (double)W - 0.5;
    double fy = (((double)H - 1.0) - y) / (double)H - 0.5;
    return camera_colour(ctx, fx, fy);
}

static double srgb(double v)
{
    if (v <= 0.0031308)
        return v * 12.92;
    return 1.055 * rt_pow(v, 1.0 / 2.4) - 0.055;
}

/* The output code only changes at 255 thresholds: find them once by bisection over the
   doubles in [0, 1] (their bit patterns are ordered like their values), then encode by
   binary search -- the same bytes as render_encode, without three pow() per pixel. */
static void build_encode_table(render_ctx *ctx)
{
    union { double d; uint64_t u; } lo, hi, mid;
    double g = ctx->s->gamma;
    for (int k = 1; k < 256; k++) {
        lo.d = 0.0;
        hi.d = 1.0;
        if (render_encode_gamma(hi.d, g) < k) {
            ctx->enc_thr[k] = 2.0; /* unreachable */
            continue;
        }
        while (hi.u - lo.u > 1) {
            mid.u = lo.u + (hi.u - lo.u) / 2;
            if (render_encode_gamma(mid.d, g) >= k)
                hi = mid;
            else
                lo = mid;
        }
        ctx->enc_thr[k] = render_encode_gamma(lo.d, g) >= k ? lo.d : hi.d;
    }
    ctx->enc_thr[0] = 0.0;
}

uint8_t render_encode_fast(const render_ctx *ctx, double v)
{
    if (!(v > 0.0))
        return render_encode_gamma(0.0, ctx->s->gamma);
    int lo = 0, hi = 255; /* answer in [lo, hi]: largest k with thr[k] <= v */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (ctx->enc_thr[mid] <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return (uint8_t)lo;
}

uint8_t render_encode(double v) { return render_encode_gamma(v, 1.0); }

uint8_t render_encode_gamma(double v, double gamma)
{
    if (!(v > 0.0))
        v = 0.0;
    if (v > 1.0)
        v = 1.0;
    /* POV-Ray 3.7: colours are in the assumed_gamma working space; the PNG is sRGB. A
       pre-3.7 scene without assumed_gamma has gamma correction off (gamma 0 here). */
    double e = gamma == 0.0 ? v : srgb(gamma == 1.0 ? v : rt_pow(v, gamma));
    if (e < 0.0) e = 0.0;
    if (e > 1.0) e = 1.0;
    return (uint8_t)rt_floor(e * 255.0 + 0.5);
}

void render_tile(const render_ctx *ctx, uint32_t W, uint32_t H, uint32_t x0, uint32_t y0,
                 uint32_t w, uint32_t h, uint8_t *rowbuf, row_fn on_row, void *user)
{
    for (uint32_t y = y0; y < y0 + h; y++) {
        for (uint32_t x = x0; x < x0 + w; x++) {
            vec3 c = render_pixel(ctx, W, H, x, y);
            uint8_t *px = rowbuf + 3 * (x - x0);
            px[0] = render_encode_fast(ctx, c.x);
            px[1] = render_encode_fast(ctx, c.y);
            px[2] = render_encode_fast(ctx, c.z);
        }
        on_row(user, y, rowbuf, w * 3);
    }
}
