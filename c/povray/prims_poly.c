/* prims_poly.c -- the primitives solved as polynomials along the ray: torus, and poly
 * (cubic, quartic) as POV-Ray 3.7 defines them (freestanding-safe; prims.c includes it).
 *
 * torus { R, r }: around the y axis, |q|^2 + R^2 - r^2)^2 = 4 R^2 (x^2 + z^2).
 * poly { N, <a...> }: sum of a * x^i y^j z^k over i + j + k <= N, the terms ordered by
 * descending i, then j, then k (POV-Ray's order: x^N first, the constant last); data holds
 * the coefficients, r the order. Inside where the sum is below POV-Ray's 1e-4 tolerance.
 */
#include "polysolve.c"

#define POLY_DEPTH_TOLERANCE 1.0e-4 /* POV-Ray: torus and poly */
#define POLY_INSIDE_TOLERANCE 1.0e-4

/* Roots of p (in s, along the unit direction from the shifted origin) turned back into
   the caller's t = (s + shift) / len: the nearest one in [tmin, tmax). */
static int nearest_root(const upoly *p, double shift, double len, double tmin, double tmax,
                        hit_info *h)
{
    double roots[POLY_MAX_DEGREE];
    double lo = rt_fmax(tmin * len, POLY_DEPTH_TOLERANCE) - shift;
    double hi = tmax >= HUGE_DEPTH ? HUGE_DEPTH : tmax * len - shift;
    int n = poly_roots(*p, lo, hi, roots);
    for (int i = 0; i < n; i++) {
        double t = (roots[i] + shift) / len;
        if (t >= tmin && t < tmax && roots[i] + shift > POLY_DEPTH_TOLERANCE) {
            h->t = t;
            h->side = 0;
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- torus */
static int torus_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double R = p->r, r = p->r2, len = vlen(D);
    vec3 Dn = vscale(D, 1.0 / len);
    /* start at the closest approach to the centre: the roots are then within R + r */
    double b = vdot(O, Dn);
    double rb = R + r;
    if (vdot(O, O) - b * b > rb * rb)
        return 0;
    double shift = -b;
    vec3 o = vadd(O, vscale(Dn, shift));
    double k = vdot(o, o) + R * R - r * r, ob = vdot(o, Dn);
    double dxz = Dn.x * Dn.x + Dn.z * Dn.z, oxz = o.x * Dn.x + o.z * Dn.z;
    double R4 = 4.0 * R * R;
    upoly q = {4, {k * k - R4 * (o.x * o.x + o.z * o.z), 4.0 * ob * k - 2.0 * R4 * oxz,
                   4.0 * ob * ob + 2.0 * k - R4 * dxz, 4.0 * ob, 1.0}};
    return nearest_root(&q, shift, len, tmin, tmax, h);
}

static vec3 torus_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)h;
    double rxz = rt_sqrt(q.x * q.x + q.z * q.z);
    if (rxz == 0.0)
        return v3(0.0, 1.0, 0.0);
    vec3 c = v3(q.x * p->r / rxz, 0.0, q.z * p->r / rxz); /* nearest point of the core */
    return vnorm(vsub(q, c));
}

static int torus_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    double rb = p->r + p->r2;
    *lo = v3(-rb, -p->r2, -rb);
    *hi = v3(rb, p->r2, rb);
    return 1;
}

static int torus_inside(const prim *p, vec3 q)
{
    double rxz = rt_sqrt(q.x * q.x + q.z * q.z) - p->r;
    double d2 = rxz * rxz + q.y * q.y, r2 = p->r2 * p->r2;
    return d2 < r2 ? 1 : d2 > r2 ? -1 : 0;
}

static const char *torus_check(const prim *p)
{
    return p->r > 0.0 && p->r2 > 0.0 ? 0 : "scene data: torus radii must be positive";
}

/* ---------------------------------------------------------------- poly */
static int poly_order(const prim *p) { return (int)p->r; }

static int poly_terms(int n) { return (n + 1) * (n + 2) * (n + 3) / 6; }

/* out = a * b (degrees add up to at most POLY_MAX_DEGREE) */
static void upoly_mul(const upoly *a, const upoly *b, upoly *out)
{
    upoly r = {a->n + b->n, {0}};
    for (int i = 0; i <= a->n; i++)
        for (int j = 0; j <= b->n; j++)
            r.c[i + j] += a->c[i] * b->c[j];
    *out = r;
}

/* pw[i] = (o + d t)^i for i = 0..n */
static void axis_powers(double o, double d, int n, upoly *pw)
{
    upoly lin = {1, {o, d}};
    pw[0] = (upoly){0, {1.0}};
    for (int i = 1; i <= n; i++)
        upoly_mul(&pw[i - 1], &lin, &pw[i]);
}

static int poly_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    int n = poly_order(p);
    double len = vlen(D);
    vec3 Dn = vscale(D, 1.0 / len);
    upoly px[POLY_MAX_DEGREE + 1], py[POLY_MAX_DEGREE + 1], pz[POLY_MAX_DEGREE + 1];
    axis_powers(O.x, Dn.x, n, px);
    axis_powers(O.y, Dn.y, n, py);
    axis_powers(O.z, Dn.z, n, pz);
    upoly sum = {n, {0}}, xy, xyz;
    const double *a = p->d;
    for (int i = n; i >= 0; i--)
        for (int j = n - i; j >= 0; j--)
            for (int k = n - i - j; k >= 0; k--, a++) {
                if (*a == 0.0)
                    continue;
                upoly_mul(&px[i], &py[j], &xy);
                upoly_mul(&xy, &pz[k], &xyz);
                for (int e = 0; e <= xyz.n; e++)
                    sum.c[e] += *a * xyz.c[e];
            }
    return nearest_root(&sum, 0.0, len, tmin, tmax, h);
}

/* value and gradient of the polynomial at q */
static double poly_value(const prim *p, vec3 q, vec3 *grad)
{
    int n = poly_order(p);
    double X[POLY_MAX_DEGREE + 1], Y[POLY_MAX_DEGREE + 1], Z[POLY_MAX_DEGREE + 1];
    X[0] = Y[0] = Z[0] = 1.0;
    for (int i = 1; i <= n; i++) {
        X[i] = X[i - 1] * q.x;
        Y[i] = Y[i - 1] * q.y;
        Z[i] = Z[i - 1] * q.z;
    }
    double v = 0.0, gx = 0.0, gy = 0.0, gz = 0.0;
    const double *a = p->d;
    for (int i = n; i >= 0; i--)
        for (int j = n - i; j >= 0; j--)
            for (int k = n - i - j; k >= 0; k--, a++) {
                if (*a == 0.0)
                    continue;
                v += *a * X[i] * Y[j] * Z[k];
                if (i) gx += *a * i * X[i - 1] * Y[j] * Z[k];
                if (j) gy += *a * j * X[i] * Y[j - 1] * Z[k];
                if (k) gz += *a * k * X[i] * Y[j] * Z[k - 1];
            }
    if (grad)
        *grad = v3(gx, gy, gz);
    return v;
}

static vec3 poly_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)h;
    vec3 g;
    poly_value(p, q, &g);
    double l = vlen(g);
    return l > 0.0 ? vscale(g, 1.0 / l) : v3(0.0, 1.0, 0.0);
}

static int poly_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    (void)p, (void)lo, (void)hi;
    return 0; /* unbounded: CSG conditions or clipped_by bound it */
}

static int poly_inside(const prim *p, vec3 q)
{
    return poly_value(p, q, 0) < POLY_INSIDE_TOLERANCE ? 1 : -1;
}

static const char *poly_check(const prim *p)
{
    if (!(p->r >= 2.0 && p->r <= POLY_MAX_DEGREE) || p->r != (double)poly_order(p))
        return "scene data: poly order out of range 2..7";
    int n = poly_order(p);
    return p->data_n == (uint32_t)poly_terms(n) ? 0 : "scene data: poly coefficient count";
}
