/* prims_bicubic.c -- bicubic_patch { } as POV-Ray 3.7 defines it (its bezier.cpp;
 * freestanding-safe, prims.c includes it).
 *
 * The patch is split in halves (de Casteljau at 1/2: both directions until u_steps, then
 * along the one left) until its control points lie within `flatness` of the plane of three
 * corners, or u_steps and v_steps are used up; such a leaf is two triangles on its corners
 * (00, 03, 33) and (00, 33, 30), entered only where the ray meets the sphere around the
 * leaf's control points. The normal interpolates the exact normals of the whole patch at
 * the triangle's corners. POV-Ray moves the control points with the object's transforms,
 * so the splitting happens in world space: here too (the points are carried through fwd).
 *
 * data: the 16 control points (row i = u, column j = v); r: flatness; a.x, a.y: u_steps,
 * v_steps. A hit's side encodes its leaf (depth, u and v index) and triangle.
 */

#define BEZ_EPSILON 1.0e-10   /* POV-Ray's BEZIER_EPSILON */
#define BEZ_TOLERANCE 1.0e-5  /* POV-Ray's BEZIER_TOLERANCE: the nearest depth */
#define BEZ_MAX_STEPS 10

typedef struct { vec3 c[4][4]; } bez_patch;

typedef struct {
    vec3 O, D;         /* the ray in world space, D unit */
    double tmin, tmax; /* in D's units */
    double t;
    int side, found;
    int usteps, vsteps;
    double flat;
} bez_ray;

static bez_patch bez_world(const prim *p)
{
    bez_patch b;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            const double *d = p->d + 3 * (4 * i + j);
            vec3 v = v3(d[0], d[1], d[2]);
            b.c[i][j] = p->has_trans ? xf_point(&p->fwd, v) : v;
        }
    return b;
}

static vec3 bez_mid(vec3 a, vec3 b) { return vscale(vadd(a, b), 0.5); }

/* Split along u (first index: lo, hi) or along v (second index). */
static void bez_split(const bez_patch *p, int along_u, bez_patch *lo, bez_patch *hi)
{
    for (int k = 0; k < 4; k++) {
        vec3 q[4];
        for (int m = 0; m < 4; m++)
            q[m] = along_u ? p->c[m][k] : p->c[k][m];
        vec3 a1 = bez_mid(q[0], q[1]), half = bez_mid(q[1], q[2]), b2 = bez_mid(q[2], q[3]);
        vec3 a2 = bez_mid(a1, half), b1 = bez_mid(half, b2), mid = bez_mid(a2, b1);
        vec3 L[4] = {q[0], a1, a2, mid}, H[4] = {mid, b1, b2, q[3]};
        for (int m = 0; m < 4; m++) {
            if (along_u)
                lo->c[m][k] = L[m], hi->c[m][k] = H[m];
            else
                lo->c[k][m] = L[m], hi->c[k][m] = H[m];
        }
    }
}

/* POV-Ray's flatness: the largest distance of a control point from the plane of three
   distinct corners; -1 when the corners are degenerate. */
static double bez_flatness(const bez_patch *p)
{
    vec3 v0 = p->c[0][0], v1 = p->c[0][3], v2 = p->c[3][0];
    if (vlen(vsub(v0, v1)) < BEZ_EPSILON) {
        v1 = p->c[3][3];
        if (vlen(vsub(v0, v1)) < BEZ_EPSILON || vlen(vsub(v1, v2)) < BEZ_EPSILON)
            return -1.0;
    } else if (vlen(vsub(v1, v2)) < BEZ_EPSILON) {
        return -1.0;
    }
    vec3 a = vsub(v0, v1), b = vsub(v2, v1), n = vcross(a, b);
    double l2 = vdot(n, n);
    if (l2 <= BEZ_EPSILON * vdot(a, a) * vdot(b, b))
        return -1.0;
    n = vscale(n, 1.0 / rt_sqrt(l2));
    double d = -vdot(n, v0), dist = 0.0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            dist = rt_fmax(dist, rt_fabs(vdot(p->c[i][j], n) + d));
    return dist;
}

static int bez_sphere_hit(const bez_ray *r, const bez_patch *p)
{
    vec3 c = v3(0.0, 0.0, 0.0);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            c = vadd(c, p->c[i][j]);
    c = vscale(c, 1.0 / 16.0);
    double r2 = 0.0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            vec3 v = vsub(p->c[i][j], c);
            r2 = rt_fmax(r2, vdot(v, v));
        }
    vec3 v = vsub(c, r->O);
    double d1 = vdot(v, v), d2 = vdot(v, r->D);
    if (d1 < r2)
        return 1;
    d2 *= d2;
    return d2 > 0.0 && d1 - d2 <= r2 + BEZ_EPSILON;
}

/* Barycentric (a, b) of x in triangle (v0, v1, v2) and the ray's depth to its plane. */
static int bez_triangle(const bez_ray *r, vec3 v0, vec3 v1, vec3 v2, double *depth)
{
    vec3 b0 = vsub(v1, v0), b1 = vsub(v2, v0), b2 = vcross(b0, b1);
    double l2 = vdot(b2, b2);
    if (l2 <= BEZ_EPSILON * vdot(b0, b0) * vdot(b1, b1))
        return 0;
    b2 = vscale(b2, 1.0 / rt_sqrt(l2));
    double det = vdot(b0, vcross(b1, b2));
    if (rt_fabs(det) < 1.0e-300)
        return 0;
    vec3 i0 = vscale(vcross(b1, b2), 1.0 / det), i1 = vscale(vcross(b2, b0), 1.0 / det),
         i2 = vscale(vcross(b0, b1), 1.0 / det);
    double d = vdot(r->D, i2);
    if (rt_fabs(d) < BEZ_EPSILON)
        return 0;
    *depth = vdot(vsub(v0, r->O), i2) / d;
    if (*depth < BEZ_TOLERANCE)
        return 0;
    vec3 q = vsub(vadd(r->O, vscale(r->D, *depth)), v0);
    double a = vdot(q, i0), b = vdot(q, i1);
    return !(a < 0.0 || b < 0.0 || a + b > 1.0);
}

/* The leaf's side code: depth (4 bits), u index, v index (BEZ_MAX_STEPS bits each), triangle. */
static int bez_code(int depth, int iu, int iv, int tri)
{
    return (((depth * (1 << BEZ_MAX_STEPS) + iu) << BEZ_MAX_STEPS) + iv) * 2 + tri;
}

static void bez_leaf(bez_ray *r, const bez_patch *p, int depth, int iu, int iv)
{
    double t;
    for (int tri = 0; tri < 2; tri++) {
        vec3 v1 = tri ? p->c[3][3] : p->c[0][3], v2 = tri ? p->c[3][0] : p->c[3][3];
        if (bez_triangle(r, p->c[0][0], v1, v2, &t) && t >= r->tmin && t < r->tmax &&
            (!r->found || t < r->t))
            r->t = t, r->side = bez_code(depth, iu, iv, tri), r->found = 1;
    }
}

/* Split p one level as POV-Ray does at this depth; returns the number of children. */
static int bez_children(const bez_patch *p, int depth, int us, int vs, bez_patch *kid, int *du,
                        int *dv)
{
    bez_patch lo, hi;
    int su = depth < us, sv = depth < vs;
    if (su && sv) {
        bez_split(p, 1, &lo, &hi);
        bez_split(&lo, 0, &kid[0], &kid[1]);
        bez_split(&hi, 0, &kid[2], &kid[3]);
        for (int k = 0; k < 4; k++)
            du[k] = k / 2, dv[k] = k % 2;
        return 4;
    }
    bez_split(p, su, &kid[0], &kid[1]);
    du[0] = dv[0] = 0;
    du[1] = su, dv[1] = !su;
    return 2;
}

static void bez_walk(bez_ray *r, const bez_patch *p, int depth, int iu, int iv)
{
    if (!bez_sphere_hit(r, p))
        return;
    double f = bez_flatness(p);
    if ((f >= 0.0 && f < r->flat) || (depth >= r->usteps && depth >= r->vsteps)) {
        bez_leaf(r, p, depth, iu, iv);
        return;
    }
    bez_patch kid[4];
    int du[4], dv[4];
    int n = bez_children(p, depth, r->usteps, r->vsteps, kid, du, dv);
    int su = depth < r->usteps, sv = depth < r->vsteps;
    for (int k = 0; k < n; k++)
        bez_walk(r, &kid[k], depth + 1, su ? 2 * iu + du[k] : iu, sv ? 2 * iv + dv[k] : iv);
}

static int bicubic_patch_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax,
                               hit_info *h)
{
    bez_patch b = bez_world(p);
    vec3 Ow = p->has_trans ? xf_point(&p->fwd, O) : O, Dw = p->has_trans ? xf_dir(&p->fwd, D) : D;
    double len = vlen(Dw);
    bez_ray r = {Ow, vscale(Dw, 1.0 / len), tmin * len, tmax >= HUGE_DEPTH ? HUGE_DEPTH : tmax * len,
                 0.0, 0, 0, (int)p->a.x, (int)p->a.y, p->r};
    bez_walk(&r, &b, 0, 0, 0);
    if (!r.found)
        return 0;
    h->t = r.t / len, h->side = r.side;
    return 1;
}

/* The exact unit normal of patch b at (u, v) (POV-Ray's bezier_value). */
static vec3 bez_exact_normal(const bez_patch *b, double u, double v)
{
    double mu = 1.0 - u, mv = 1.0 - v;
    double bu[4] = {mu * mu * mu, 3.0 * u * mu * mu, 3.0 * u * u * mu, u * u * u};
    double bv[4] = {mv * mv * mv, 3.0 * v * mv * mv, 3.0 * v * v * mv, v * v * v};
    double du[4] = {-3.0 * mu * mu, 3.0 * mu * mu - 6.0 * u * mu, 6.0 * u * mu - 3.0 * u * u,
                    3.0 * u * u};
    double dv[4] = {-3.0 * mv * mv, 3.0 * mv * mv - 6.0 * v * mv, 6.0 * v * mv - 3.0 * v * v,
                    3.0 * v * v};
    vec3 U = v3(0.0, 0.0, 0.0), V = U;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            U = vadd(U, vscale(b->c[i][j], du[i] * bv[j]));
            V = vadd(V, vscale(b->c[i][j], bu[i] * dv[j]));
        }
    vec3 n = vcross(U, V);
    double t = vdot(n, n);
    if (t > BEZ_EPSILON * vdot(U, U) * vdot(V, V))
        return vscale(n, 1.0 / rt_sqrt(t));
    return v3(1.0, 0.0, 0.0);
}

static vec3 bicubic_patch_normal(const prim *p, vec3 q, const hit_info *h)
{
    int code = h->side, tri = code & 1;
    code >>= 1;
    int iv = code & ((1 << BEZ_MAX_STEPS) - 1);
    code >>= BEZ_MAX_STEPS;
    int iu = code & ((1 << BEZ_MAX_STEPS) - 1), depth = code >> BEZ_MAX_STEPS;
    bez_patch whole = bez_world(p), leaf = whole;
    int us = (int)p->a.x, vs = (int)p->a.y;
    int nu = depth < us ? depth : us, nv = depth < vs ? depth : vs;
    for (int d = 0; d < depth; d++) { /* down the splits to the leaf */
        bez_patch lo, hi;
        if (d < us) {
            bez_split(&leaf, 1, &lo, &hi);
            leaf = (iu >> (nu - 1 - d)) & 1 ? hi : lo;
        }
        if (d < vs) {
            bez_split(&leaf, 0, &lo, &hi);
            leaf = (iv >> (nv - 1 - d)) & 1 ? hi : lo;
        }
    }
    double su = 1.0 / (double)(1 << nu), sv = 1.0 / (double)(1 << nv);
    double u0 = iu * su, u1 = u0 + su, v0 = iv * sv, v1 = v0 + sv;
    vec3 c1 = tri ? leaf.c[3][3] : leaf.c[0][3], c2 = tri ? leaf.c[3][0] : leaf.c[3][3];
    double uu[3] = {u0, tri ? u1 : u0, u1}, vv[3] = {v0, v1, tri ? v0 : v1};
    vec3 qw = p->has_trans ? xf_point(&p->fwd, q) : q;
    vec3 b0 = vsub(c1, leaf.c[0][0]), b1 = vsub(c2, leaf.c[0][0]), x = vsub(qw, leaf.c[0][0]);
    vec3 nn = vcross(b0, b1);
    double nn2 = vdot(nn, nn);
    double a = nn2 > 0.0 ? vdot(vcross(x, b1), nn) / nn2 : 0.0;
    double b = nn2 > 0.0 ? vdot(vcross(b0, x), nn) / nn2 : 0.0;
    vec3 n = vadd(vscale(bez_exact_normal(&whole, uu[0], vv[0]), 1.0 - a - b),
                  vadd(vscale(bez_exact_normal(&whole, uu[1], vv[1]), a),
                       vscale(bez_exact_normal(&whole, uu[2], vv[2]), b)));
    double l2 = vdot(n, n);
    n = l2 > BEZ_EPSILON ? vscale(n, 1.0 / rt_sqrt(l2)) : v3(1.0, 0.0, 0.0);
    return p->has_trans ? xf_normal(&p->fwd, n) : n; /* world -> object (renderer undoes it) */
}

static int bicubic_patch_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    *lo = v3(HUGE_DEPTH, HUGE_DEPTH, HUGE_DEPTH);
    *hi = vscale(*lo, -1.0);
    for (int k = 0; k < 16; k++) {
        const double *d = p->d + 3 * k;
        *lo = v3(rt_fmin(lo->x, d[0]), rt_fmin(lo->y, d[1]), rt_fmin(lo->z, d[2]));
        *hi = v3(rt_fmax(hi->x, d[0]), rt_fmax(hi->y, d[1]), rt_fmax(hi->z, d[2]));
    }
    return 1;
}

static int bicubic_patch_inside(const prim *p, vec3 q)
{
    (void)p, (void)q;
    return -1;
}

static const char *bicubic_patch_check(const prim *p)
{
    if (p->data_n != 48 || !(p->a.x >= 0.0 && p->a.x <= BEZ_MAX_STEPS) ||
        !(p->a.y >= 0.0 && p->a.y <= BEZ_MAX_STEPS))
        return "scene data: bicubic_patch malformed";
    return 0;
}
