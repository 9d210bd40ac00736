/* prims_sor.c -- sor { } (surface of revolution) as POV-Ray 3.7 defines it (its sor.cpp;
 * freestanding-safe, prims.c includes it after polysolve.c).
 *
 * Around the y axis, each segment is r^2 = f(y) = A y^3 + B y^2 + C y + D between its two
 * heights (the reader fits f as POV-Ray does: through the squared radii of the segment's
 * two points, with the slopes given by their neighbours). A ray meets a segment where
 * |P + k D|_xz^2 = f(Py + k Dy), a cubic in k, kept when the height there lies in the
 * segment; discs close the bottom and top unless `open`. Inside: below the curve of the
 * first segment whose heights hold the point.
 *
 * r: the largest radius; a: base radius^2, cap radius^2, 1 when open; b.x, b.y: the lowest
 * and highest height. data: SOR_DATA numbers per segment: A B C D, its heights h1 h2.
 */

#define SOR_DATA 6
#define SOR_DEPTH_TOLERANCE 1.0e-4 /* POV-Ray's DEPTH_TOLERANCE for sor */

enum { SOR_HIT_BASE = -1, SOR_HIT_CAP = -2 };

static uint32_t sor_n(const prim *p) { return p->data_n / SOR_DATA; }

static double sor_f(const double *e, double y) { return y * (y * (y * e[0] + e[1]) + e[2]) + e[3]; }

typedef struct {
    double t;
    int side;
    int found;
} sor_best;

static void sor_keep(sor_best *b, double d, double tmin, double tmax, int side)
{
    if (!(d > SOR_DEPTH_TOLERANCE && d < MAX_DISTANCE && d >= tmin && d < tmax))
        return;
    if (b->found && d >= b->t)
        return;
    b->t = d, b->side = side, b->found = 1;
}

static void sor_disc(vec3 P, vec3 D, double len, double h, double r2, int side,
                     double tmin, double tmax, sor_best *b)
{
    if (!(r2 > SOR_DEPTH_TOLERANCE))
        return;
    double k = (h - P.y) / D.y, u = P.x + k * D.x, v = P.z + k * D.z;
    if (u * u + v * v <= r2)
        sor_keep(b, k / len, tmin, tmax, side);
}

static int sor_isect(const prim *p, vec3 O, vec3 D0, double tmin, double tmax, hit_info *h)
{
    double len = vlen(D0);
    vec3 P = O, D = vscale(D0, 1.0 / len);
    double R = p->r, H1 = p->b.x, H2 = p->b.y;
    if ((D.y >= 0.0 && P.y > H2) || (D.y <= 0.0 && P.y < H1) || (D.x >= 0.0 && P.x > R) ||
        (D.x <= 0.0 && P.x < -R))
        return 0;
    double a = D.x * D.x + D.z * D.z, r0 = P.x * D.z - P.z * D.x;
    if (a > 0.0)
        r0 /= rt_sqrt(a);
    if (r0 > R)
        return 0;
    sor_best b = {0.0, 0, 0};
    if (p->a.z == 0.0 && rt_fabs(D.y) > POV_EPSILON) {
        sor_disc(P, D, len, H1, p->a.x, SOR_HIT_BASE, tmin, tmax, &b);
        sor_disc(P, D, len, H2, p->a.y, SOR_HIT_CAP, tmin, tmax, &b);
    }
    for (uint32_t j = 0; j < sor_n(p); j++) {
        const double *e = p->d + SOR_DATA * j;
        double A = e[0], B = e[1], C = e[2];
        upoly u = {3, {sor_f(e, P.y) - P.x * P.x - P.z * P.z,
                       D.y * (P.y * (3.0 * A * P.y + 2.0 * B) + C) - 2.0 * (P.x * D.x + P.z * D.z),
                       D.y * D.y * (3.0 * A * P.y + B) - a, A * D.y * D.y * D.y}};
        double k[POLY_MAX_DEGREE];
        int n = poly_roots(u, SOR_DEPTH_TOLERANCE * len, MAX_DISTANCE * len, k);
        for (int i = 0; i < n; i++) {
            double y = P.y + k[i] * D.y;
            if (y >= e[4] && y <= e[5])
                sor_keep(&b, k[i] / len, tmin, tmax, (int)j);
        }
    }
    if (!b.found)
        return 0;
    h->t = b.t, h->side = b.side;
    return 1;
}

static vec3 sor_normal(const prim *p, vec3 q, const hit_info *h)
{
    if (h->side == SOR_HIT_BASE)
        return v3(0.0, -1.0, 0.0);
    if (h->side < 0 || (uint32_t)h->side >= sor_n(p))
        return v3(0.0, 1.0, 0.0);
    const double *e = p->d + SOR_DATA * h->side;
    double k = 0.5 * (q.y * (3.0 * e[0] * q.y + 2.0 * e[1]) + e[2]);
    return v3(q.x, -k, q.z);
}

static int sor_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    *lo = v3(-p->r, p->b.x, -p->r);
    *hi = v3(p->r, p->b.y, p->r);
    return 1;
}

static int sor_inside(const prim *p, vec3 q)
{
    if (!(q.y >= p->b.x && q.y <= p->b.y))
        return -1;
    double r0 = q.x * q.x + q.z * q.z;
    if (r0 > p->r * p->r)
        return -1;
    for (uint32_t j = 0; j < sor_n(p); j++) {
        const double *e = p->d + SOR_DATA * j;
        if (q.y >= e[4] && q.y <= e[5])
            return r0 <= sor_f(e, q.y) ? 1 : -1;
    }
    return -1;
}

static const char *sor_check(const prim *p)
{
    if (!sor_n(p) || p->data_n % SOR_DATA || !(p->b.x < p->b.y) || !(p->r >= 0.0))
        return "scene data: sor segments malformed";
    return 0;
}
