/* prims_lathe.c -- lathe { } as POV-Ray 3.7 defines it (its lathe.cpp; freestanding-safe,
 * prims.c includes it after prims_prism.c).
 *
 * A curve of spline segments (x(w) the radius, y(w) the height, each a cubic in w in [0, 1]
 * from the points as POV-Ray's Compute_Lathe makes them) turned around the y axis. A ray
 * meets segment j where its distance from the axis at height y(w) is x(w): with
 * Y = y(w) - O.y, r = Dx^2 + Dz^2, m = Dx Ox + Dz Oz, the polynomial
 * r Y^2 + 2 m Dy Y + Dy^2 (Ox^2 + Oz^2 - x(w)^2) (of twice the segment's degree) is 0.
 * Inside: between the heights and radii, where a ray outwards at that height crosses the
 * curve an odd number of times.
 *
 * a.z: the degree (1, 2, 3); data: 12 numbers per segment: A, B, C, D (x then y each) and
 * its bounding radii and heights r1 r2 h1 h2. hit_info.side: the segment, s: w.
 */

#define LATHE_DATA 12
#define LATHE_DEPTH_TOLERANCE 1.0e-4 /* POV-Ray's lathe.cpp */

static uint32_t lathe_n(const prim *p) { return p->data_n / LATHE_DATA; }

static upoly lathe_cubic(const double *s, int c, double shift, int deg)
{
    upoly q = {deg, {s[6 + c] - shift, s[4 + c], s[2 + c], s[c]}};
    return q;
}

static void lathe_try(double k, double w, int j, double kmin, double kmax, double *best,
                      hit_info *h)
{
    if (k > kmin && k < kmax && k < *best) {
        *best = k;
        h->side = j;
        h->s = w;
    }
}

static int lathe_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double len = vlen(D);
    vec3 Dn = vscale(D, 1.0 / len);
    double kmin = rt_fmax(tmin * len, LATHE_DEPTH_TOLERANCE);
    double kmax = tmax >= HUGE_DEPTH ? HUGE_DEPTH : tmax * len, best = HUGE_DEPTH;
    double r = Dn.x * Dn.x + Dn.z * Dn.z, m = Dn.x * O.x + Dn.z * O.z, dy = Dn.y;
    double pxz = O.x * O.x + O.z * O.z;
    int deg = (int)p->a.z;
    for (uint32_t j = 0; j < lathe_n(p); j++) {
        const double *s = p->d + LATHE_DATA * j;
        upoly X = lathe_cubic(s, 0, 0.0, deg), Y = lathe_cubic(s, 1, O.y, deg), XX, YY;
        upoly_mul(&X, &X, &XX);
        upoly_mul(&Y, &Y, &YY);
        upoly f = {2 * deg, {0}};
        for (int e = 0; e <= 2 * deg; e++)
            f.c[e] = r * YY.c[e] - dy * dy * XX.c[e] + (e <= deg ? 2.0 * m * dy * Y.c[e] : 0.0);
        f.c[0] += dy * dy * pxz;
        double w[POLY_MAX_DEGREE];
        /* a ray parallel to the xz plane: f is r (Y - Oy)^2, whose double roots a root
           finder may step over; the heights where the profile meets the ray are Y's */
        int n = poly_roots(rt_fabs(dy) > POV_EPSILON ? f : Y, 0.0, 1.0, w);
        for (int i = 0; i < n; i++) {
            if (rt_fabs(dy) > POV_EPSILON) {
                lathe_try(upoly_eval(&Y, w[i]) / dy, w[i], (int)j, kmin, kmax, &best, h);
                continue;
            }
            double x = upoly_eval(&X, w[i]), disc = m * m - r * (pxz - x * x);
            if (r <= 0.0 || disc < 0.0)
                continue;
            double sq = rt_sqrt(disc);
            lathe_try((-m - sq) / r, w[i], (int)j, kmin, kmax, &best, h);
            lathe_try((-m + sq) / r, w[i], (int)j, kmin, kmax, &best, h);
        }
    }
    if (best >= HUGE_DEPTH)
        return 0;
    h->t = best / len;
    return 1;
}

static vec3 lathe_normal(const prim *p, vec3 q, const hit_info *h)
{
    double r = q.x * q.x + q.z * q.z;
    if (r <= POV_EPSILON)
        return v3(0.0, 1.0, 0.0);
    r = rt_sqrt(r);
    const double *s = p->d + LATHE_DATA * h->side;
    double w = h->s;
    double dx = w * (3.0 * s[0] * w + 2.0 * s[2]) + s[4], dy = w * (3.0 * s[1] * w + 2.0 * s[3]) + s[5];
    return vnorm(v3(dy * q.x, -dx * r, dy * q.z));
}

/* The overall bounds: radii r1..r2, heights h1..h2. */
static void lathe_extent(const prim *p, double *r1, double *r2, double *h1, double *h2)
{
    *r1 = *h1 = HUGE_DEPTH, *r2 = *h2 = -HUGE_DEPTH;
    for (uint32_t i = 0; i < lathe_n(p); i++) {
        const double *s = p->d + LATHE_DATA * i;
        *r1 = rt_fmin(*r1, s[8]), *r2 = rt_fmax(*r2, s[9]);
        *h1 = rt_fmin(*h1, s[10]), *h2 = rt_fmax(*h2, s[11]);
    }
}

static int lathe_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    double r1, r2, h1, h2;
    lathe_extent(p, &r1, &r2, &h1, &h2);
    *lo = v3(-r2, h1, -r2);
    *hi = v3(r2, h2, r2);
    return 1;
}

static int lathe_inside(const prim *p, vec3 q)
{
    double r1, r2, h1, h2, r = rt_sqrt(q.x * q.x + q.z * q.z);
    lathe_extent(p, &r1, &r2, &h1, &h2);
    if (q.y < h1 || q.y > h2 || r < r1 || r > r2)
        return -1;
    int deg = (int)p->a.z, crossings = 0;
    for (uint32_t i = 0; i < lathe_n(p); i++) {
        const double *s = p->d + LATHE_DATA * i;
        if (q.y < s[10] - POV_EPSILON || q.y > s[11] + POV_EPSILON)
            continue;
        double w[3];
        int n = prism_roots(deg, s[1], s[3], s[5], s[7] - q.y, w);
        for (int k = 0; k < n; k++)
            if (((s[0] * w[k] + s[2]) * w[k] + s[4]) * w[k] + s[6] - r >= 0.0)
                crossings++;
    }
    return crossings & 1 ? 1 : -1;
}

static const char *lathe_check(const prim *p)
{
    if (lathe_n(p) < 1 || p->data_n != lathe_n(p) * LATHE_DATA ||
        !(p->a.z == 1.0 || p->a.z == 2.0 || p->a.z == 3.0))
        return "scene data: bad lathe";
    return 0;
}
