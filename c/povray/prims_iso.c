/* prims_iso.c -- isosurface { function { } } as POV-Ray 3.7 finds it (its isosurf.cpp;
 * freestanding-safe, prims.c includes it).
 *
 * The surface is where the function (fn.h) equals the threshold, inside a container (a box,
 * a..b, or a sphere, centre a radius r; r2 = 1 for the sphere). Along the ray through the
 * container the roots are found as POV-Ray finds them: an interval [t1, t2] may hold one
 * when f1 + f2 < max_gradient |D| (t2 - t1) (the function's slope is at most
 * max_gradient), so it is halved until shorter than the accuracy, the first half first; a
 * closed isosurface also shows the container's wall where the function is negative there.
 * POV-Ray's per-thread cache of the last ray's failure is left out: it depends on which
 * ray came before, and our tiles must not. Data: function, threshold, accuracy,
 * max_gradient, max_trace; PRIM_OPEN for `open`.
 */

#define ISO_MAX_HALVINGS 80 /* an interval halved this often is below any useful accuracy */

typedef struct {
    const prim *p;
    vec3 O, D;
    int inv; /* POV-Ray's Inv3: the sign the function is seen with */
    double root;
} iso_ray;

static double iso_f(const prim *p, vec3 q)
{
    return fn_eval((uint32_t)p->d[ISO_FN], q) - p->d[ISO_THRESHOLD];
}

static double iso_ft(const iso_ray *r, double t) { return r->inv * iso_f(r->p, vadd(r->O, vscale(r->D, t))); }

/* IsoSurface::Function_Find_Root_R */
static int iso_root_r(iso_ray *r, double t1, double f1, double t2, double f2, double dt,
                      double t21, int depth)
{
    if (t21 < r->p->d[ISO_ACCURACY] || depth == ISO_MAX_HALVINGS) {
        if (f2 < 0) {
            r->root = t2;
            return 1;
        }
        return 0;
    }
    if (f1 + f2 - dt >= 0)
        return 0;
    t21 *= 0.5, dt *= 0.5;
    double ta = t1 + t21, fa = iso_ft(r, ta);
    return iso_root_r(r, t1, f1, ta, fa, dt, t21, depth + 1) ||
           iso_root_r(r, ta, fa, t2, f2, dt, t21, depth + 1);
}

/* IsoSurface::Function_Find_Root: the first root in [t1, t2] into r->root */
static int iso_root(iso_ray *r, double t1, double t2)
{
    double f1 = iso_ft(r, t1);
    if ((r->p->flags & PRIM_OPEN) && f1 < 0.0) {
        r->inv = -r->inv;
        f1 = -f1;
    }
    double f2 = iso_ft(r, t2);
    double dt = r->p->d[ISO_MAX_GRADIENT] * vlen(r->D) * (t2 - t1);
    return iso_root_r(r, t1, f1, t2, f2, dt, t2 - t1, 0);
}

/* The container along the ray: [t1, t2] and the box faces (1..6: -x +x -y +y -z +z, as
   POV-Ray's SIDE_*) entered and left; 0 when missed. */
static int iso_container(const prim *p, vec3 O, vec3 D, double *t1, double *t2, int *s1, int *s2)
{
    *s1 = *s2 = 0;
    if (p->r2 == 1.0) {
        double len = vlen(D), k0, k1;
        if (!sphere_span(p->a, p->r * p->r, O, vscale(D, 1.0 / len), &k0, &k1))
            return 0;
        *t1 = k0 / len, *t2 = k1 / len;
        return 1;
    }
    double o[3] = {O.x, O.y, O.z}, d[3] = {D.x, D.y, D.z};
    double lo[3] = {p->a.x, p->a.y, p->a.z}, hi[3] = {p->b.x, p->b.y, p->b.z};
    double tmin = -HUGE_DEPTH, tmax = HUGE_DEPTH;
    for (int i = 0; i < 3; i++) {
        if (rt_fabs(d[i]) < POV_EPSILON) {
            if (o[i] < lo[i] || o[i] > hi[i])
                return 0;
            continue;
        }
        double a = (lo[i] - o[i]) / d[i], b = (hi[i] - o[i]) / d[i];
        int sa = 2 * i + 1, sb = 2 * i + 2;
        if (a > b) {
            double t = a; a = b, b = t;
            int s = sa; sa = sb, sb = s;
        }
        if (a > tmin)
            tmin = a, *s1 = sa;
        if (b < tmax)
            tmax = b, *s2 = sb;
        if (tmin > tmax)
            return 0;
    }
    if (tmax < DEPTH_TOLERANCE)
        return 0;
    *t1 = tmin, *t2 = tmax;
    return 1;
}

typedef struct { double t[ISO_MAX_HITS]; int side[ISO_MAX_HITS]; int n; } iso_hits;

static void iso_push(iso_hits *h, double t, int side)
{
    if (h->n < ISO_MAX_HITS)
        h->t[h->n] = t, h->side[h->n++] = side;
}

/* The container's walls of a closed isosurface (All_Intersections' first part); updates
   *t1 (the search's start) and r->inv. Returns the traces it used up: the entry wall counts
   against max_trace, the exit wall of a ray starting inside does not (POV-Ray's itrace). */
static int iso_walls(iso_ray *r, iso_hits *h, double *t1, double t2, int s1, int s2)
{
    const prim *p = r->p;
    double acc = p->d[ISO_ACCURACY], maxg = p->d[ISO_MAX_GRADIENT];
    double f = iso_ft(r, *t1);
    if (*t1 > acc) {
        if (!(f < 0.0))
            return 0;
        iso_push(h, *t1, s1);
        r->inv = -r->inv;
        return 1;
    }
    if (f < maxg * acc * 4.0) {
        *t1 = acc * 5.0;
        if (iso_ft(r, *t1) < 0)
            r->inv = -1;
    }
    if (iso_f(p, vadd(r->O, vscale(r->D, t2))) < 0.0) /* the function as it is, not Inv3 */
        iso_push(h, t2, s2);
    return 0;
}

/* IsoSurface::All_Intersections: every hit it reports, in its order */
static void iso_all(const prim *p, vec3 O, vec3 D, iso_hits *h)
{
    double t1, t2;
    int s1, s2;
    h->n = 0;
    if (!iso_container(p, O, D, &t1, &t2, &s1, &s2))
        return;
    if (t1 < 0.0)
        t1 = 0.0;
    iso_ray r = {p, O, D, 1, 0.0};
    double acc = p->d[ISO_ACCURACY], maxg = p->d[ISO_MAX_GRADIENT];
    int itrace = !(p->flags & PRIM_OPEN) ? iso_walls(&r, h, &t1, t2, s1, s2) : 0;
    t2 = rt_fmin(t2, HUGE_DEPTH);
    t1 = rt_fmin(t2, t1);
    if (t2 - t1 < acc) {
        if (h->n)
            h->n--;
        return;
    }
    if (t1 < acc && r.inv == 1 && rt_fabs(iso_ft(&r, t1)) < maxg * acc * 4.0) {
        t1 = acc * 5.0;
        if (iso_ft(&r, t1) < 0)
            r.inv = -1;
    }
    for (; itrace < (int)p->d[ISO_MAX_TRACE]; itrace++) {
        if (!iso_root(&r, t1, t2))
            break;
        t1 = r.root;
        iso_push(h, t1, 0);
        t1 += acc * 5.0;
        if (t2 - t1 < acc)
            break;
        r.inv = -r.inv;
    }
}

static int isosurface_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    iso_hits all;
    iso_all(p, O, D, &all);
    int found = 0;
    for (int i = 0; i < all.n; i++)
        if (all.t[i] >= tmin && all.t[i] < tmax && (!found || all.t[i] < h->t)) {
            h->t = all.t[i];
            h->side = all.side[i];
            found = 1;
        }
    return found;
}

static vec3 isosurface_normal(const prim *p, vec3 q, const hit_info *h)
{
    static const vec3 faces[7] = {{0, 0, 0}, {-1, 0, 0}, {1, 0, 0}, {0, -1, 0},
                                  {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
    if (h->side >= 1 && h->side <= 6)
        return faces[h->side];
    if (p->r2 == 1.0) {
        vec3 n = vsub(q, p->a);
        if (rt_fabs(vlen(n) - p->r) < POV_EPSILON)
            return vscale(n, 1.0 / p->r);
    }
    double acc = p->d[ISO_ACCURACY], f = iso_f(p, q);
    vec3 n = v3(iso_f(p, v3(q.x + acc, q.y, q.z)) - f, iso_f(p, v3(q.x, q.y + acc, q.z)) - f,
                iso_f(p, v3(q.x, q.y, q.z + acc)) - f);
    if (n.x == 0.0 && n.y == 0.0 && n.z == 0.0)
        n.x = 1.0;
    return vnorm(n);
}

static int isosurface_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    if (p->r2 == 1.0) {
        vec3 r = v3(p->r, p->r, p->r);
        *lo = vsub(p->a, r), *hi = vadd(p->a, r);
    } else {
        *lo = p->a, *hi = p->b;
    }
    return 1;
}

static int isosurface_inside(const prim *p, vec3 q)
{
    if (p->r2 == 1.0) {
        vec3 d = vsub(p->a, q);
        if (vdot(d, d) > p->r * p->r)
            return -1;
    } else if (q.x < p->a.x || q.x > p->b.x || q.y < p->a.y || q.y > p->b.y || q.z < p->a.z ||
               q.z > p->b.z) {
        return -1;
    }
    return iso_f(p, q) > 0 ? -1 : 1;
}

static const char *isosurface_check(const prim *p)
{
    const double *d = p->d;
    if (p->data_n != ISO_DATA_N || !(p->r2 == 0.0 || p->r2 == 1.0) ||
        (p->r2 == 1.0 && !(p->r > 0.0)) ||
        (p->r2 == 0.0 && !(p->a.x <= p->b.x && p->a.y <= p->b.y && p->a.z <= p->b.z)))
        return "scene data: bad isosurface";
    if (!(d[ISO_FN] >= 0.0 && d[ISO_FN] < 4294967295.0 && d[ISO_FN] == (uint32_t)d[ISO_FN]) ||
        !(d[ISO_ACCURACY] > 0.0) || !(d[ISO_MAX_GRADIENT] > 0.0) ||
        !(d[ISO_MAX_TRACE] >= 1.0 && d[ISO_MAX_TRACE] <= ISO_MAX_HITS - 2))
        return "scene data: bad isosurface numbers";
    return 0;
}
