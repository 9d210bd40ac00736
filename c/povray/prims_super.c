/* prims_super.c -- superellipsoid { <e, n> } as POV-Ray 3.7 defines it (its super.cpp;
 * freestanding-safe, prims.c includes it).
 *
 * In the unit cube: f(x, y, z) = (|x|^(2/e) + |y|^(2/e))^(e/n) + |z|^(2/n) - 1, inside
 * where f < 0. Along a ray through the cube the sign of f is sampled on each piece between
 * the planes where the shape's curvature changes (x = 0, y = 0, z = 0, x = y, x = -y, as
 * POV-Ray splits the ray), at SUPER_STEPS points a piece, and the first change of sign is
 * narrowed by bisection. r: e, r2: n.
 */

#define SUPER_STEPS 24
#define SUPER_BISECTIONS 60
#define SUPER_DEPTH_TOLERANCE 1.0e-4

static double super_f(const prim *p, vec3 q)
{
    double ax = rt_fabs(q.x), ay = rt_fabs(q.y), az = rt_fabs(q.z);
    double a = 2.0 / p->r, b = p->r / p->r2, c = 2.0 / p->r2;
    double g = (ax > 0.0 ? rt_pow(ax, a) : 0.0) + (ay > 0.0 ? rt_pow(ay, a) : 0.0);
    return (g > 0.0 ? rt_pow(g, b) : 0.0) + (az > 0.0 ? rt_pow(az, c) : 0.0) - 1.0;
}

/* The ray's interval in the cube [-1, 1]^3 (slabs); 0 when it misses. */
static int super_box(vec3 O, vec3 D, double *t0, double *t1)
{
    double o[3] = {O.x, O.y, O.z}, d[3] = {D.x, D.y, D.z}, lo = -HUGE_DEPTH, hi = HUGE_DEPTH;
    for (int i = 0; i < 3; i++) {
        if (d[i] == 0.0) {
            if (o[i] < -1.0 || o[i] > 1.0)
                return 0;
            continue;
        }
        double a = (-1.0 - o[i]) / d[i], b = (1.0 - o[i]) / d[i];
        lo = rt_fmax(lo, rt_fmin(a, b));
        hi = rt_fmin(hi, rt_fmax(a, b));
    }
    *t0 = lo, *t1 = hi;
    return lo < hi;
}

static int superellipsoid_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double len = vlen(D), t0, t1;
    vec3 Dn = vscale(D, 1.0 / len);
    if (!super_box(O, Dn, &t0, &t1))
        return 0;
    t0 = rt_fmax(t0, rt_fmax(tmin * len, SUPER_DEPTH_TOLERANCE));
    t1 = rt_fmin(t1, tmax >= HUGE_DEPTH ? HUGE_DEPTH : tmax * len);
    if (!(t0 < t1))
        return 0;
    double cut[8] = {t0};
    int n = 1;
    double num[5] = {O.x, O.y, O.z, O.x - O.y, O.x + O.y};
    double den[5] = {Dn.x, Dn.y, Dn.z, Dn.x - Dn.y, Dn.x + Dn.y};
    for (int i = 0; i < 5; i++)
        if (den[i] != 0.0) {
            double t = -num[i] / den[i];
            if (t > t0 && t < t1)
                cut[n++] = t;
        }
    cut[n++] = t1;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
            double t = cut[j];
            cut[j] = cut[j - 1], cut[j - 1] = t;
        }
    double ta = t0, fa = super_f(p, vadd(O, vscale(Dn, t0)));
    for (int k = 0; k + 1 < n; k++)
        for (int s = 1; s <= SUPER_STEPS; s++) {
            double tb = cut[k] + (cut[k + 1] - cut[k]) * s / SUPER_STEPS;
            double fb = super_f(p, vadd(O, vscale(Dn, tb)));
            if ((fa < 0.0) != (fb < 0.0)) {
                double lo = ta, hi = tb;
                for (int i = 0; i < SUPER_BISECTIONS; i++) {
                    double mid = 0.5 * (lo + hi);
                    if ((super_f(p, vadd(O, vscale(Dn, mid))) < 0.0) == (fa < 0.0))
                        lo = mid;
                    else
                        hi = mid;
                }
                h->t = 0.5 * (lo + hi) / len;
                h->side = 0;
                return 1;
            }
            ta = tb, fa = fb;
        }
    return 0;
}

static vec3 superellipsoid_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)h;
    double a = 2.0 / p->r, b = p->r / p->r2, c = 2.0 / p->r2;
    double ax = rt_fabs(q.x), ay = rt_fabs(q.y), az = rt_fabs(q.z);
    double px = ax > 0.0 ? rt_pow(ax, a) : 0.0, py = ay > 0.0 ? rt_pow(ay, a) : 0.0;
    double g = px + py, gb = g > 0.0 ? b * rt_pow(g, b - 1.0) : 0.0;
    double nx = ax > 0.0 ? gb * a * px / ax : 0.0, ny = ay > 0.0 ? gb * a * py / ay : 0.0;
    double nz = az > 0.0 ? c * rt_pow(az, c) / az : 0.0;
    vec3 n = v3(q.x < 0.0 ? -nx : nx, q.y < 0.0 ? -ny : ny, q.z < 0.0 ? -nz : nz);
    double l = vlen(n);
    return l > 0.0 ? vscale(n, 1.0 / l) : v3(0.0, 0.0, 1.0);
}

static int superellipsoid_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    (void)p;
    *lo = v3(-1.0, -1.0, -1.0);
    *hi = v3(1.0, 1.0, 1.0);
    return 1;
}

static int superellipsoid_inside(const prim *p, vec3 q)
{
    double f = super_f(p, q);
    return f < 0.0 ? 1 : f > 0.0 ? -1 : 0;
}

static const char *superellipsoid_check(const prim *p)
{
    return p->r > 0.0 && p->r2 > 0.0 ? 0 : "scene data: superellipsoid exponents must be positive";
}
