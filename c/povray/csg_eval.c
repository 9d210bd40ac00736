/* csg_eval.c -- CSG at render time (freestanding-safe): inside tests of the csg_node tree
 * (scene.h), the conditions a surface hit must meet, and the bounds those conditions give.
 *
 * POV-Ray 3.7 keeps a surface hit of a CSG child only where the point is inside (or, for
 * difference and merge, outside) the other children; its inverted objects use their own
 * boundary rule (a point on a sphere's surface is neither inside nor outside). Here the
 * parser has turned every CSG object into conditions on its primitives, and inversion is
 * pushed down to the leaves (De Morgan) so that each leaf applies POV-Ray's rule for its
 * inverted or plain self. render.c includes this file (one unit); it is not compiled alone.
 */

/* Is world point P inside node ni (inverted when inv)? The reader guarantees children come
   before their parent and a depth of at most POV_CSG_MAX_DEPTH. */
static int node_inside(const scene *s, uint32_t ni, vec3 P, int inv)
{
    const csg_node *nd = &s->nodes[ni];
    inv ^= (int)nd->invert;
    if (nd->kind == CSG_LEAF) {
        const prim *p = &s->prims[nd->first];
        vec3 q = p->has_trans ? xf_point(&p->inv, P) : P;
        int r = PRIM_CLASSES[p->type].inside(p, q);
        return inv ? r < 0 : r > 0;
    }
    /* AND, or OR inverted (= AND of inverted children): all must hold */
    int all = (nd->kind == CSG_AND) != inv;
    for (uint32_t k = 0; k < nd->n; k++) {
        int in = node_inside(s, s->kids[nd->first + k], P, inv);
        if (all && !in)
            return 0;
        if (!all && in)
            return 1;
    }
    return all;
}

static int conditions_hold(const scene *s, const prim *p, vec3 P)
{
    for (uint32_t k = 0; k < p->cond_n; k++)
        if (!node_inside(s, s->conds[p->cond_first + k], P, 0))
            return 0;
    return 1;
}

/* The next double above t (t > 0): the following hit on the same surface starts there. */
static double next_above(double t)
{
    union { double d; uint64_t u; } v;
    v.d = t;
    v.u += 1;
    return v.d;
}

#define CSG_MAX_HITS_PER_PRIM 64 /* more roots than any primitive has: a guard only */

/* POV-Ray's test of a bounded_by object before the object: the ray starts inside it or
   meets one of its primitives. */
static int ray_in_bound(const scene *s, uint32_t ni, vec3 O, vec3 D)
{
    const csg_node *nd = &s->nodes[ni];
    if (nd->kind == CSG_LEAF) {
        hit_info h;
        const prim *b = &s->prims[nd->first];
        return node_inside(s, ni, O, 0) || isect_prim(b, O, D, DEPTH_TOLERANCE, HUGE_DEPTH, &h);
    }
    for (uint32_t k = 0; k < nd->n; k++)
        if (ray_in_bound(s, s->kids[nd->first + k], O, D))
            return 1;
    return 0;
}

/* isect_visible's path for a primitive with a bound or CSG conditions (kept out of line:
   the plain path is the hot one). */
static __attribute__((noinline)) int isect_csg(const scene *s, const prim *p, vec3 O, vec3 D,
                                               double tmin, double tmax, hit_info *h)
{
    if (p->bound && !ray_in_bound(s, p->bound - 1, O, D))
        return 0;
    if (!isect_prim(p, O, D, tmin, tmax, h))
        return 0;
    if (!p->cond_n)
        return 1;
    for (int i = 0; i < CSG_MAX_HITS_PER_PRIM; i++) {
        if (conditions_hold(s, p, vadd(O, vscale(D, h->t))))
            return 1;
        if (!isect_prim(p, O, D, next_above(h->t), tmax, h))
            return 0;
    }
    return 0;
}

/* Nearest hit of p in [tmin, tmax) that meets p's bound and CSG conditions. */
static inline __attribute__((always_inline)) int isect_visible(const scene *s, const prim *p,
                                                               vec3 O, vec3 D, double tmin,
                                                               double tmax, hit_info *h)
{
    if (!(p->cond_n | p->bound))
        return isect_prim(p, O, D, tmin, tmax, h);
    return isect_csg(s, p, O, D, tmin, tmax, h);
}

/* ------------------------------------------------------------------ bounds */
typedef struct {
    double lo[3], hi[3];
} box3;

static int prim_bounds(const prim *p, double blo[3], double bhi[3]);

static void box_meet(box3 *a, const box3 *b)
{
    for (int k = 0; k < 3; k++) {
        a->lo[k] = rt_fmax(a->lo[k], b->lo[k]);
        a->hi[k] = rt_fmin(a->hi[k], b->hi[k]);
    }
}

static void box_join(box3 *a, const box3 *b)
{
    for (int k = 0; k < 3; k++) {
        a->lo[k] = rt_fmin(a->lo[k], b->lo[k]);
        a->hi[k] = rt_fmax(a->hi[k], b->hi[k]);
    }
}

/* World box holding every point inside node ni (inverted when inv); 0 = unbounded. */
static int node_bounds(const scene *s, uint32_t ni, int inv, box3 *out)
{
    const csg_node *nd = &s->nodes[ni];
    inv ^= (int)nd->invert;
    if (nd->kind == CSG_LEAF)
        return inv ? 0 : prim_bounds(&s->prims[nd->first], out->lo, out->hi);
    int all = (nd->kind == CSG_AND) != inv;
    int have = 0;
    for (uint32_t k = 0; k < nd->n; k++) {
        box3 b;
        int bounded = node_bounds(s, s->kids[nd->first + k], inv, &b);
        if (!bounded && !all)
            return 0; /* a union with an unbounded member */
        if (!bounded)
            continue;
        if (!have)
            *out = b;
        else if (all)
            box_meet(out, &b);
        else
            box_join(out, &b);
        have = 1;
    }
    return have;
}

/* The world box of p's visible surface: its own bounds cut by those of its conditions.
   0 = unbounded, -1 = empty (the surface is never visible), 1 = bounded. */
static int visible_bounds(const scene *s, const prim *p, double blo[3], double bhi[3])
{
    box3 b;
    int have = prim_bounds(p, b.lo, b.hi);
    if (p->bound) {
        box3 c;
        if (node_bounds(s, p->bound - 1, 0, &c)) {
            if (have)
                box_meet(&b, &c);
            else
                b = c;
            have = 1;
        }
    }
    for (uint32_t k = 0; k < p->cond_n; k++) {
        box3 c;
        if (!node_bounds(s, s->conds[p->cond_first + k], 0, &c))
            continue;
        if (have)
            box_meet(&b, &c);
        else
            b = c;
        have = 1;
    }
    if (!have)
        return 0;
    for (int k = 0; k < 3; k++) {
        if (b.lo[k] > b.hi[k])
            return -1;
        blo[k] = b.lo[k];
        bhi[k] = b.hi[k];
    }
    return 1;
}
