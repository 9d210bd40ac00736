/* prims_prism.c -- prism { } as POV-Ray 3.7 defines it (its prism.cpp; freestanding-safe,
 * prims.c includes it).
 *
 * A closed curve of spline segments in the x-z plane (each x(w), z(w) a cubic in w in
 * [0, 1]: linear, quadratic, cubic or Bezier, from the parser's points as POV-Ray's
 * Compute_Prism makes them), swept from height r to r2 along y: straight up (linear_sweep)
 * or scaled by the height from the origin (conic_sweep), closed by its base and cap unless
 * open. Inside a prism is inside the curve (a ray in +u crosses it an odd number of times)
 * between the heights. Along a ray each segment gives a polynomial in w of its own degree.
 *
 * a: (conic, open, degree); data: 12 numbers per segment: A, B, C, D (x then z each, the
 * curve A w^3 + B w^2 + C w + D) and its bounding rectangle x1 x2 z1 z2 (before the conic
 * scaling). hit_info.side: 0 base or cap, 1 + j segment j (with s = w).
 */

#define PRISM_DATA 12
#define PRISM_DEPTH_TOLERANCE 1.0e-4 /* POV-Ray's prism.cpp */

static uint32_t prism_n(const prim *p) { return p->data_n / PRISM_DATA; }

/* Roots in [0, 1] of c3 w^3 + c2 w^2 + c1 w + c0 (of degree deg). */
static int prism_roots(int deg, double c3, double c2, double c1, double c0, double *w)
{
    if (deg == 1) {
        if (rt_fabs(c1) <= POV_EPSILON)
            return 0;
        w[0] = -c0 / c1;
        return w[0] >= 0.0 && w[0] <= 1.0;
    }
    upoly q = {deg, {c0, c1, c2, c3}};
    return poly_roots(q, 0.0, 1.0, w);
}

static double seg_x(const double *s, double w) { return ((s[0] * w + s[2]) * w + s[4]) * w + s[6]; }
static double seg_z(const double *s, double w) { return ((s[1] * w + s[3]) * w + s[5]) * w + s[7]; }

/* Is (u, v) inside the curve: how many times does the ray from it in +u cross it? */
static int prism_in_curve(const prim *p, double u, double v)
{
    int deg = (int)p->a.z, crossings = 0;
    for (uint32_t i = 0; i < prism_n(p); i++) {
        const double *s = p->d + PRISM_DATA * i;
        if (v < s[10] || v > s[11] || u > s[9])
            continue;
        double w[3];
        int n = prism_roots(deg, s[1], s[3], s[5], s[7] - v, w);
        for (int k = 0; k < n; k++)
            if (seg_x(s, w[k]) - u >= 0.0)
                crossings++;
    }
    return crossings & 1;
}

/* A base or cap hit at height hy: k along the unit ray, when the point is in the curve. */
static int prism_plane(const prim *p, vec3 O, vec3 D, double hy, double kmin, double kmax,
                       double *best, hit_info *h)
{
    int conic = p->a.x != 0.0;
    if (conic && rt_fabs(hy) <= POV_EPSILON)
        return 0;
    double k = (hy - O.y) / D.y;
    if (!(k > kmin && k < kmax && k < *best))
        return 0;
    double u = O.x + k * D.x, v = O.z + k * D.z;
    if (conic)
        u /= hy, v /= hy;
    if (!prism_in_curve(p, u, v))
        return 0;
    *best = k;
    h->side = 0;
    return 1;
}

/* The ray's distance to segment s at its root w (linear or conic sweep); 0 if none. */
static int prism_side_k(const prim *p, const double *s, double w, vec3 O, vec3 D, double *k)
{
    if (p->a.x == 0.0) {
        *k = rt_fabs(D.x) > POV_EPSILON ? (seg_x(s, w) - O.x) / D.x : (seg_z(s, w) - O.z) / D.z;
        return 1;
    }
    double x = seg_x(s, w), hh = D.x - x * D.y;
    if (rt_fabs(hh) > POV_EPSILON) {
        *k = (x * O.y - O.x) / hh;
        return 1;
    }
    double z = seg_z(s, w);
    hh = D.z - z * D.y;
    if (rt_fabs(hh) <= POV_EPSILON)
        return 0;
    *k = (z * O.y - O.z) / hh;
    return 1;
}

static void prism_sides(const prim *p, vec3 O, vec3 D, double kmin, double kmax, double *best,
                        hit_info *h)
{
    int deg = (int)p->a.z, conic = p->a.x != 0.0;
    double k1 = O.z * D.y - O.y * D.z, k2 = O.y * D.x - O.x * D.y, k3 = O.x * D.z - O.z * D.x;
    for (uint32_t j = 0; j < prism_n(p); j++) {
        const double *s = p->d + PRISM_DATA * j;
        double c[4], w[3];
        for (int i = 0; i < 4; i++) /* A, B, C, D crossed with the ray */
            c[i] = conic ? s[2 * i] * k1 + s[2 * i + 1] * k2
                         : s[2 * i] * D.z - s[2 * i + 1] * D.x;
        c[3] += conic ? k3 : -(D.z * O.x - D.x * O.z);
        int n = prism_roots(deg, c[0], c[1], c[2], c[3], w);
        for (int r = 0; r < n; r++) {
            double k, hy;
            if (!prism_side_k(p, s, w[r], O, D, &k))
                continue;
            hy = O.y + k * D.y;
            if (hy >= p->r && hy <= p->r2 && k > kmin && k < kmax && k < *best) {
                *best = k;
                h->side = 1 + (int)j;
                h->s = w[r];
            }
        }
    }
}

static int prism_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double len = vlen(D);
    vec3 Dn = vscale(D, 1.0 / len);
    double kmin = rt_fmax(tmin * len, PRISM_DEPTH_TOLERANCE);
    double kmax = tmax >= HUGE_DEPTH ? HUGE_DEPTH : tmax * len, best = HUGE_DEPTH;
    if (rt_fabs(Dn.y) < POV_EPSILON) {
        if (O.y < p->r || O.y > p->r2)
            return 0;
    } else if (p->a.y == 0.0) {
        prism_plane(p, O, Dn, p->r2, kmin, kmax, &best, h);
        prism_plane(p, O, Dn, p->r, kmin, kmax, &best, h);
    }
    if (rt_fabs(Dn.x) > POV_EPSILON || rt_fabs(Dn.z) > POV_EPSILON)
        prism_sides(p, O, Dn, kmin, kmax, &best, h);
    if (best >= HUGE_DEPTH)
        return 0;
    h->t = best / len;
    return 1;
}

static vec3 prism_normal(const prim *p, vec3 q, const hit_info *h)
{
    if (h->side == 0)
        return v3(0.0, 1.0, 0.0);
    const double *s = p->d + PRISM_DATA * (h->side - 1);
    double w = h->s;
    vec3 n = v3(w * (3.0 * s[1] * w + 2.0 * s[3]) + s[5], 0.0,
                -(w * (3.0 * s[0] * w + 2.0 * s[2]) + s[4]));
    if (p->a.x != 0.0)
        n.y = rt_fabs(q.y) > POV_EPSILON ? -(q.x * n.x + q.z * n.z) / q.y : 0.0;
    return vnorm(n);
}

static int prism_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    double x1 = HUGE_DEPTH, x2 = -HUGE_DEPTH, z1 = HUGE_DEPTH, z2 = -HUGE_DEPTH;
    for (uint32_t i = 0; i < prism_n(p); i++) {
        const double *s = p->d + PRISM_DATA * i;
        x1 = rt_fmin(x1, s[8]), x2 = rt_fmax(x2, s[9]);
        z1 = rt_fmin(z1, s[10]), z2 = rt_fmax(z2, s[11]);
    }
    if (p->a.x != 0.0) { /* conic: the curve scaled by the heights */
        double hs[2] = {p->r, p->r2}, a = HUGE_DEPTH, b = -HUGE_DEPTH, c = HUGE_DEPTH, d = -HUGE_DEPTH;
        for (int i = 0; i < 2; i++) {
            a = rt_fmin(a, rt_fmin(x1 * hs[i], x2 * hs[i])), b = rt_fmax(b, rt_fmax(x1 * hs[i], x2 * hs[i]));
            c = rt_fmin(c, rt_fmin(z1 * hs[i], z2 * hs[i])), d = rt_fmax(d, rt_fmax(z1 * hs[i], z2 * hs[i]));
        }
        x1 = a, x2 = b, z1 = c, z2 = d;
    }
    *lo = v3(x1, p->r, z1);
    *hi = v3(x2, p->r2, z2);
    return 1;
}

static int prism_inside(const prim *p, vec3 q)
{
    if (!(q.y >= p->r && q.y < p->r2))
        return -1;
    if (p->a.x != 0.0) {
        if (rt_fabs(q.y) <= POV_EPSILON)
            return -1;
        q.x /= q.y, q.z /= q.y;
    }
    return prism_in_curve(p, q.x, q.z) ? 1 : -1;
}

static const char *prism_check(const prim *p)
{
    if (prism_n(p) < 1 || p->data_n != prism_n(p) * PRISM_DATA || !(p->r < p->r2) ||
        !(p->a.x == 0.0 || p->a.x == 1.0) || !(p->a.y == 0.0 || p->a.y == 1.0) ||
        !(p->a.z == 1.0 || p->a.z == 2.0 || p->a.z == 3.0))
        return "scene data: bad prism";
    return 0;
}
