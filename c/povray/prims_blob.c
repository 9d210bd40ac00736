/* prims_blob.c -- blob { threshold T components } as POV-Ray 3.7 defines it (its blob.cpp;
 * freestanding-safe, prims.c includes it after prims_poly.c).
 *
 * Each component adds strength * (1 - d^2 / r^2)^2 where d < r: d is the distance to a
 * sphere's centre, or to a cylinder's axis between its ends, whose hemispherical caps are
 * sphere-like halves around each end. The surface is where the sum equals the threshold,
 * inside where it is above. Along a ray each component's field is a quartic in t on the
 * interval where it is non-zero: the intervals' ends split the ray into segments, and the
 * first root of (sum of the active quartics - threshold) in the first segment that has
 * one is the hit (POV-Ray's algorithm, with our Sturm solver).
 *
 * data: 9 numbers per component: kind (0 sphere, 1 cylinder), strength, radius, a (x y z:
 * the centre, or the cylinder's first end), b (the cylinder's second end; 0 for a sphere).
 * r: the threshold.
 */

#define BLOB_DATA 9
#define BLOB_ELEMENTS 3 /* per component at most: a cylinder's body and two caps */
#define BLOB_DEPTH_TOLERANCE 1.0e-2 /* POV-Ray's DEPTH_TOLERANCE for blobs */

enum { BLOB_SPHERE = 0, BLOB_CYLINDER = 1 };

typedef struct blob_element_s {
    double t0, t1;       /* where the element's field is non-zero along the ray */
    upoly f;             /* its field there, in t */
} blob_element;

static uint32_t blob_n(const prim *p) { return p->data_n / BLOB_DATA; }

/* The elements along the current ray and their ends: room for the scene's largest blob,
   made once by blob_prepare (the renderer traces one ray at a time in a process). */
static blob_element *blob_el;
static double *blob_cut;
static uint32_t blob_room; /* components */

/* Room for the blobs of scene s; -1 when out of memory. */
static int blob_prepare(const scene *s, pov_alloc_fn alloc)
{
    uint32_t most = 0;
    for (uint32_t i = 0; i < s->n_prims; i++)
        if (s->prims[i].type == OBJ_BLOB && blob_n(&s->prims[i]) > most)
            most = blob_n(&s->prims[i]);
    blob_room = 0; /* an earlier scene's room may be freed (trace() frees its own) */
    if (most == 0)
        return 0;
    blob_el = alloc(sizeof *blob_el * BLOB_ELEMENTS * (size_t)most);
    blob_cut = alloc(sizeof *blob_cut * 2 * BLOB_ELEMENTS * (size_t)most);
    if (!blob_el || !blob_cut)
        return -1;
    blob_room = most;
    return 0;
}


/* q(t) = |w + t D|^2 - (u.(w + t D))^2 (u = 0: a sphere's d^2), the field s (1 - q/r^2)^2
   as a quartic, and the interval where q <= r^2 (returns 0 when the ray misses it). */
static int blob_quadratic(vec3 w, vec3 D, vec3 u, double s, double r, blob_element *e)
{
    double wu = vdot(w, u), du = vdot(D, u);
    double qa = vdot(D, D) - du * du, qb = 2.0 * (vdot(w, D) - wu * du),
           qc = vdot(w, w) - wu * wu, r2 = r * r;
    if (qa <= 0.0)
        return 0; /* parallel to a cylinder's axis: its body never bounds the ray */
    double disc = qb * qb - 4.0 * qa * (qc - r2);
    if (disc <= 0.0)
        return 0;
    double sq = rt_sqrt(disc);
    e->t0 = (-qb - sq) / (2.0 * qa);
    e->t1 = (-qb + sq) / (2.0 * qa);
    double i2 = 1.0 / r2, i4 = i2 * i2;
    e->f = (upoly){4, {s * (qc * qc * i4 - 2.0 * qc * i2 + 1.0),
                       s * (2.0 * qb * qc * i4 - 2.0 * qb * i2),
                       s * ((qb * qb + 2.0 * qa * qc) * i4 - 2.0 * qa * i2),
                       s * 2.0 * qa * qb * i4, s * qa * qa * i4}};
    return 1;
}

/* Narrow e to where lo <= k0 + k1 t <= hi (an end plane of a cylinder); 0 if empty. */
static int blob_clip(blob_element *e, double k0, double k1, double lo, double hi)
{
    if (k1 == 0.0)
        return k0 >= lo && k0 <= hi;
    double a = (lo - k0) / k1, b = (hi - k0) / k1;
    if (a > b) {
        double t = a;
        a = b, b = t;
    }
    e->t0 = rt_fmax(e->t0, a);
    e->t1 = rt_fmin(e->t1, b);
    return e->t0 < e->t1;
}

/* The elements of component c along the ray O + t D (D unit); returns how many. */
static int blob_elements(const double *c, vec3 O, vec3 D, blob_element *out)
{
    double s = c[1], r = c[2];
    vec3 a = v3(c[3], c[4], c[5]), zero = v3(0.0, 0.0, 0.0);
    if ((int)c[0] == BLOB_SPHERE)
        return blob_quadratic(vsub(O, a), D, zero, s, r, out);
    vec3 b = v3(c[6], c[7], c[8]), axis = vsub(b, a);
    double len = vlen(axis);
    vec3 u = vscale(axis, 1.0 / len);
    int n = 0;
    vec3 wa = vsub(O, a), wb = vsub(O, b);
    if (blob_quadratic(wa, D, u, s, r, &out[n]) && blob_clip(&out[n], vdot(wa, u), vdot(D, u), 0.0, len))
        n++;
    if (blob_quadratic(wa, D, zero, s, r, &out[n]) &&
        blob_clip(&out[n], vdot(wa, u), vdot(D, u), -HUGE_DEPTH, 0.0))
        n++;
    if (blob_quadratic(wb, D, zero, s, r, &out[n]) &&
        blob_clip(&out[n], vdot(wb, u), vdot(D, u), 0.0, HUGE_DEPTH))
        n++;
    return n;
}

static int blob_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double len = vlen(D);
    vec3 Dn = vscale(D, 1.0 / len);
    if (blob_n(p) > blob_room)
        return 0; /* unreachable: render_prepare made room for every blob */
    blob_element *el = blob_el;
    double *cut = blob_cut;
    int n = 0, ncut = 0;
    for (uint32_t i = 0; i < blob_n(p); i++)
        n += blob_elements(p->d + BLOB_DATA * i, O, Dn, el + n);
    for (int i = 0; i < n; i++)
        cut[ncut++] = el[i].t0, cut[ncut++] = el[i].t1;
    for (int i = 1; i < ncut; i++) /* the segment ends in order (few: insertion sort) */
        for (int j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
            double t = cut[j];
            cut[j] = cut[j - 1], cut[j - 1] = t;
        }
    double lo_t = rt_fmax(tmin * len, BLOB_DEPTH_TOLERANCE);
    double hi_t = tmax >= HUGE_DEPTH ? HUGE_DEPTH : tmax * len;
    for (int k = 0; k + 1 < ncut; k++) {
        double a = rt_fmax(cut[k], lo_t), b = rt_fmin(cut[k + 1], hi_t);
        if (!(a < b))
            continue;
        double mid = 0.5 * (cut[k] + cut[k + 1]);
        upoly sum = {4, {-p->r, 0.0, 0.0, 0.0, 0.0}};
        for (int i = 0; i < n; i++)
            if (el[i].t0 <= mid && mid <= el[i].t1)
                for (int e = 0; e <= 4; e++)
                    sum.c[e] += el[i].f.c[e];
        double roots[POLY_MAX_DEGREE];
        int nr = poly_roots(sum, a, b, roots);
        if (nr > 0) {
            h->t = roots[0] / len;
            h->side = 0;
            return 1;
        }
    }
    return 0;
}

/* The field at q and its gradient. */
static double blob_field(const prim *p, vec3 q, vec3 *grad)
{
    double sum = 0.0;
    vec3 g = v3(0.0, 0.0, 0.0);
    for (uint32_t i = 0; i < blob_n(p); i++) {
        const double *c = p->d + BLOB_DATA * i;
        double s = c[1], r2 = c[2] * c[2];
        vec3 a = v3(c[3], c[4], c[5]), w = vsub(q, a);
        if ((int)c[0] == BLOB_CYLINDER) { /* the nearest point of the axis segment */
            vec3 axis = vsub(v3(c[6], c[7], c[8]), a);
            double k = rt_fmin(1.0, rt_fmax(0.0, vdot(w, axis) / vdot(axis, axis)));
            w = vsub(w, vscale(axis, k));
        }
        double d2 = vdot(w, w);
        if (d2 >= r2)
            continue;
        double f = 1.0 - d2 / r2;
        sum += s * f * f;
        g = vadd(g, vscale(w, -4.0 * s * f / r2));
    }
    *grad = g;
    return sum;
}

static vec3 blob_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)h;
    vec3 g;
    blob_field(p, q, &g);
    double l = vlen(g);
    return l > 0.0 ? vscale(g, -1.0 / l) : v3(0.0, 1.0, 0.0);
}

static int blob_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    *lo = v3(HUGE_DEPTH, HUGE_DEPTH, HUGE_DEPTH);
    *hi = vscale(*lo, -1.0);
    for (uint32_t i = 0; i < blob_n(p); i++) {
        const double *c = p->d + BLOB_DATA * i;
        int cyl = (int)c[0] == BLOB_CYLINDER;
        for (int e = 0; e <= cyl; e++) {
            const double *x = c + 3 + 3 * e;
            lo->x = rt_fmin(lo->x, x[0] - c[2]), hi->x = rt_fmax(hi->x, x[0] + c[2]);
            lo->y = rt_fmin(lo->y, x[1] - c[2]), hi->y = rt_fmax(hi->y, x[1] + c[2]);
            lo->z = rt_fmin(lo->z, x[2] - c[2]), hi->z = rt_fmax(hi->z, x[2] + c[2]);
        }
    }
    return 1;
}

static int blob_inside(const prim *p, vec3 q)
{
    vec3 g;
    double f = blob_field(p, q, &g);
    return f > p->r ? 1 : f < p->r ? -1 : 0;
}

static const char *blob_check(const prim *p)
{
    uint32_t n = blob_n(p);
    if (n < 1 || n > BLOB_MAX_COMPONENTS || p->data_n != n * BLOB_DATA)
        return "scene data: bad blob";
    for (uint32_t i = 0; i < n; i++) {
        const double *c = p->d + BLOB_DATA * i;
        if (!(c[0] == BLOB_SPHERE || c[0] == BLOB_CYLINDER) || !(c[2] > 0.0))
            return "scene data: bad blob component";
        if (c[0] == BLOB_CYLINDER && c[3] == c[6] && c[4] == c[7] && c[5] == c[8])
            return "scene data: blob cylinder of no length";
    }
    return 0;
}
