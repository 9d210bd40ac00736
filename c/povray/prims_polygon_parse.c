/* prims_polygon_parse.c -- polygon { N, P1, P2, ... } (hosted; prims_parse.c includes it).
 *
 * The points (3D, or 2D in the z = 0 plane) must lie in one plane; a part of the outline
 * ends where its first point comes back and the next point starts another (a hole, or a
 * separate piece), as in POV-Ray; an outline left open is closed. Layout: prims_polygon.c.
 */

#define POLYGON_MAX_POINTS 65536
#define POLYGON_FLAT 1.0e-6 /* how far off the plane a point may be, relative to the size */

static vec3 polygon_point(parser *P)
{
    int line = peek(P)->line;
    value v = expr(P);
    if (v.kind == V_FLOAT)
        return v3(v.c[0], v.c[0], v.c[0]);
    if (v.kind != V_VEC)
        perr(P, line, "a polygon point must be a vector, got a %s", kind_name(v.kind));
    return v3(v.c[0], v.c[1], v.n >= 3 ? v.c[2] : 0.0);
}

/* Newell's normal of the outline (0 when the points are on a line). */
static vec3 polygon_plane_normal(const vec3 *pt, size_t n)
{
    vec3 s = v3(0.0, 0.0, 0.0);
    for (size_t i = 0; i < n; i++) {
        vec3 a = vsub(pt[i], pt[0]), b = vsub(pt[(i + 1) % n], pt[0]);
        s = vadd(s, vcross(a, b));
    }
    return s;
}

/* The outline's edges (each part's consecutive points) into e, in the plane's axes. */
static size_t polygon_edges_of(const vec3 *pt, size_t n, vec3 o, vec3 u, vec3 v, double *e)
{
    size_t edges = 0, first = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        vec3 a = vsub(pt[i], o), b = vsub(pt[i + 1], o);
        double *d = e + 4 * edges++;
        d[0] = vdot(a, u), d[1] = vdot(a, v), d[2] = vdot(b, u), d[3] = vdot(b, v);
        if (i + 1 > first && vlen(vsub(pt[i + 1], pt[first])) < 1.0e-10) {
            first = i + 2; /* the part is closed: the next point starts another */
            i++;
        }
    }
    return edges;
}

/* The number of points of polygon, sor, ... (from lo to hi): the first point's '<' follows,
   so no comparison is read. */
static size_t parse_point_count(parser *P, const token *kw, size_t lo, size_t hi)
{
    P->vec_depth++;
    double count = parse_float(P, "the number of points");
    P->vec_depth--;
    if (!(count >= (double)lo && count <= (double)hi && count == (double)(size_t)count))
        perr(P, kw->line, "%s needs %zu to %zu points, got %g", kw->text, lo, hi, count);
    return (size_t)count;
}

static void parse_polygon(parser *P, prim *p, const token *kw)
{
    size_t n = parse_point_count(P, kw, 3, POLYGON_MAX_POINTS);
    vec3 *pt = xrealloc(P, NULL, (n + 1) * sizeof *pt);
    for (size_t i = 0; i < n; i++) {
        opt_comma(P);
        pt[i] = polygon_point(P);
    }
    if (vlen(vsub(pt[n - 1], pt[0])) >= 1.0e-10)
        pt[n++] = pt[0]; /* POV-Ray closes an open outline */
    vec3 nrm = polygon_plane_normal(pt, n);
    double size = 0.0;
    for (size_t i = 0; i < n; i++)
        size = rt_fmax(size, vlen(vsub(pt[i], pt[0])));
    if (!(vlen(nrm) > 1.0e-12 * size * size))
        perr(P, kw->line, "polygon points are all on one line");
    nrm = vnorm(nrm);
    for (size_t i = 0; i < n; i++)
        if (rt_fabs(vdot(vsub(pt[i], pt[0]), nrm)) > POLYGON_FLAT * size)
            perr(P, kw->line, "polygon points are not in one plane (point %zu)", i + 1);
    vec3 u = v3(0.0, 0.0, 0.0);
    for (size_t i = 1; i < n && vlen(u) == 0.0; i++)
        if (vlen(vsub(pt[i], pt[0])) > 1.0e-10)
            u = vnorm(vsub(pt[i], pt[0]));
    vec3 v = vcross(nrm, u);
    double *d = xrealloc(P, NULL, (6 + 4 * n) * sizeof *d);
    d[0] = u.x, d[1] = u.y, d[2] = u.z, d[3] = v.x, d[4] = v.y, d[5] = v.z;
    size_t edges = polygon_edges_of(pt, n, pt[0], u, v, d + 6);
    p->type = OBJ_POLYGON;
    p->a = pt[0];
    p->b = nrm;
    prim_set_data(P, p, d, 6 + 4 * edges);
    free(pt);
    free(d);
}
