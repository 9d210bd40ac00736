/* prims_polygon.c -- polygon { N, points } as POV-Ray 3.7 defines it (its polygon.cpp;
 * freestanding-safe, prims.c includes it).
 *
 * Flat, in the plane of its points: a ray meets the plane, and the point counts when a ray
 * from it within the plane crosses the polygon's edges an odd number of times (the parts
 * of a polygon with holes are one even-odd outline, as in POV-Ray). No inside: POV-Ray's
 * polygons are outside everywhere.
 *
 * a: a point of the plane, b: its unit normal; data: u (3), v (3) (the plane's axes, unit,
 * orthogonal), then each edge as 4 numbers (x0 y0 x1 y1 in those axes).
 */

#define POLYGON_HEAD 6
#define POLYGON_EDGE 4
#define POLYGON_DEPTH_TOLERANCE 1.0e-8 /* POV-Ray's DEPTH_TOLERANCE for polygons */

static uint32_t polygon_edges(const prim *p) { return (p->data_n - POLYGON_HEAD) / POLYGON_EDGE; }

/* Crossings of the +x ray from (x, y) with the edges: 1 when odd. */
static int polygon_in(const prim *p, double x, double y)
{
    int odd = 0;
    for (uint32_t i = 0; i < polygon_edges(p); i++) {
        const double *e = p->d + POLYGON_HEAD + POLYGON_EDGE * i;
        if ((e[1] >= y) == (e[3] >= y))
            continue;
        double cx = e[0] + (y - e[1]) * (e[2] - e[0]) / (e[3] - e[1]);
        if (cx >= x)
            odd ^= 1;
    }
    return odd;
}

static int polygon_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    double nd = vdot(p->b, D);
    if (rt_fabs(nd) < PLANE_EPSILON)
        return 0;
    double t = vdot(p->b, vsub(p->a, O)) / nd;
    if (!(t > POLYGON_DEPTH_TOLERANCE && t >= tmin && t < tmax && t < MAX_DISTANCE))
        return 0;
    vec3 q = vsub(vadd(O, vscale(D, t)), p->a);
    vec3 u = v3(p->d[0], p->d[1], p->d[2]), v = v3(p->d[3], p->d[4], p->d[5]);
    if (!polygon_in(p, vdot(q, u), vdot(q, v)))
        return 0;
    h->t = t;
    return 1;
}

static vec3 polygon_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)q, (void)h;
    return p->b;
}

static int polygon_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    vec3 u = v3(p->d[0], p->d[1], p->d[2]), v = v3(p->d[3], p->d[4], p->d[5]);
    *lo = v3(HUGE_DEPTH, HUGE_DEPTH, HUGE_DEPTH);
    *hi = vscale(*lo, -1.0);
    for (uint32_t i = 0; i < polygon_edges(p); i++) {
        const double *e = p->d + POLYGON_HEAD + POLYGON_EDGE * i;
        vec3 w = vadd(p->a, vadd(vscale(u, e[0]), vscale(v, e[1])));
        *lo = v3(rt_fmin(lo->x, w.x), rt_fmin(lo->y, w.y), rt_fmin(lo->z, w.z));
        *hi = v3(rt_fmax(hi->x, w.x), rt_fmax(hi->y, w.y), rt_fmax(hi->z, w.z));
    }
    return polygon_edges(p) > 0;
}

static int polygon_inside(const prim *p, vec3 q)
{
    (void)p, (void)q;
    return -1;
}

static const char *polygon_check(const prim *p)
{
    if (p->data_n < POLYGON_HEAD + 3 * POLYGON_EDGE || (p->data_n - POLYGON_HEAD) % POLYGON_EDGE)
        return "scene data: polygon edges malformed";
    return rt_fabs(vdot(p->b, p->b) - 1.0) > 1e-6 ? "scene data: polygon normal is not a unit "
                                                    "vector" : 0;
}
