/* prims_julia.c -- julia_fractal { } as POV-Ray 3.7 defines it (its fractal.cpp,
 * quaternion.cpp and hypercomplex.cpp; freestanding-safe, prims.c includes it).
 *
 * The points of a 3-D slice of 4-D space (w from the slice's plane) whose orbit under
 * z -> z^2 + c (sqr) or z^3 + c (cube) in the quaternions or the hypercomplex numbers stays
 * within the exit radius for max_iteration steps. A ray enters the bounding sphere, steps by
 * the distance estimate (at least 1 / precision), and once inside and outside differ halves
 * the step down to 1e-7; the normal is the derivative of the orbit at that point, found as
 * POV-Ray finds it, with the hit.
 */

#define JULIA_TOLERANCE 1.0e-7  /* fractal.cpp's Fractal_Tolerance */
#define HCOMPLEX_TOLERANCE 1.0e-8 /* hypercomplex.cpp's */

typedef double julia_stack[4][JULIA_MAX_ITERATIONS + 1];

static double julia_w(const double *d, vec3 p)
{
    return (d[JULIA_SLICE_DIST] - d[JULIA_SLICE] * p.x - d[JULIA_SLICE + 1] * p.y -
            d[JULIA_SLICE + 2] * p.z) / d[JULIA_SLICE + 3];
}

static void julia_start(const double *d, vec3 p, julia_stack st, double q[4])
{
    q[0] = st[0][0] = p.x, q[1] = st[1][0] = p.y, q[2] = st[2][0] = p.z;
    q[3] = st[3][0] = julia_w(d, p);
}

/* one step of the map; q the current value, returns it in q */
static void julia_step(const double *d, double q[4])
{
    double x = q[0], y = q[1], z = q[2], w = q[3];
    const double *c = d + JULIA_C;
    if (d[JULIA_ALGEBRA] == JULIA_HYPERCOMPLEX) {
        if (d[JULIA_SUBTYPE] == JULIA_SQR) {
            double yz = y * y + z * z, xw = x * x + w * w;
            q[0] = xw - yz + c[0];
            q[1] = 2.0 * (x * y - z * w) + c[1];
            q[2] = 2.0 * (x * z - w * y) + c[2];
            q[3] = 2.0 * (x * w + y * z) + c[3];
        } else { /* POV-Ray's hypercomplex "cube" squares (its HypercomplexZ3FractalRules) */
            q[0] = x * x - y * y - z * z + w * w + c[0];
            q[1] = 2.0 * (x * y - z * w) + c[1];
            q[2] = 2.0 * (z * x - w * y) + c[2];
            q[3] = 2.0 * (w * x + z * y) + c[3];
        }
        return;
    }
    double dd = y * y + z * z + w * w, x2 = x * x;
    if (d[JULIA_SUBTYPE] == JULIA_SQR) {
        x *= 2.0;
        q[1] = x * y + c[1], q[2] = x * z + c[2], q[3] = x * w + c[3];
        q[0] = x2 - dd + c[0];
    } else {
        double t = 3.0 * x2 - dd;
        q[0] = x * (x2 - 3.0 * dd) + c[0];
        q[1] = y * t + c[1], q[2] = z * t + c[2], q[3] = w * t + c[3];
    }
}

/* the norm compared with the exit value before step i */
static double julia_norm(const double *d, const double q[4])
{
    if (d[JULIA_ALGEBRA] == JULIA_QUATERNION)
        return (q[1] * q[1] + q[2] * q[2] + q[3] * q[3]) + q[0] * q[0];
    if (d[JULIA_SUBTYPE] == JULIA_SQR)
        return (q[0] * q[0] + q[3] * q[3]) + (q[1] * q[1] + q[2] * q[2]);
    return q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
}

/* Iteration: is p in the set? fills the stack up to where the orbit leaves (*left: that
   step, or 0 when it stays) */
static int julia_iterate(const double *d, vec3 p, julia_stack st, int *left, double *norm)
{
    double q[4];
    int n = (int)d[JULIA_ITERATIONS];
    julia_start(d, p, st, q);
    for (int i = 1; i <= n; i++) {
        if ((*norm = julia_norm(d, q)) > d[JULIA_EXIT]) {
            *left = i;
            return 0;
        }
        julia_step(d, q);
        for (int k = 0; k < 4; k++)
            st[k][i] = q[k];
    }
    *left = 0;
    return 1;
}

/* ------------------------------------------------------------------ normals */

/* quaternion: the derivative of the orbit (three rows of it), as POV-Ray's CalcNormal */
static vec3 julia_quaternion_normal(const double *d, julia_stack st, int n_max)
{
    double n[3][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}};
    double x = st[0][0], y = st[1][0], z = st[2][0], w = st[3][0];
    int cube = d[JULIA_SUBTYPE] == JULIA_CUBE;
    for (int i = 1; i <= n_max; i++) {
        double t = y * y + z * z + w * w, x2 = x * x, x3 = x2 - t, x4 = 3.0 * x2 - t;
        for (int r = 0; r < 3; r++) {
            double *m = n[r];
            if (cube) {
                double dt = 2.0 * (m[1] * y + m[2] * z + m[3] * w), dt2 = 6.0 * x * m[0] - dt;
                m[0] = (m[0] * x3 - x * dt) * 3.0;
                m[1] = m[1] * x4 + y * dt2;
                m[2] = m[2] * x4 + z * dt2;
                m[3] = m[3] * x4 + w * dt2;
            } else {
                double tmp = m[0] * x - m[1] * y - m[2] * z - m[3] * w;
                m[1] = m[0] * y + x * m[1];
                m[2] = m[0] * z + x * m[2];
                m[3] = m[0] * w + x * m[3];
                m[0] = tmp;
            }
        }
        x = st[0][i], y = st[1][i], z = st[2][i], w = st[3][i];
    }
    return v3(n[0][0] * x + n[0][1] * y + n[0][2] * z + n[0][3] * w,
              n[1][0] * x + n[1][1] * y + n[1][2] * z + n[1][3] * w,
              n[2][0] * x + n[2][1] * y + n[2][2] * z + n[2][3] * w);
}

/* hypercomplex: the product of the orbit's points, as POV-Ray's CalcNormal (sqr scales by
   2 each step; its "cube" does not) */
static vec3 julia_hypercomplex_normal(const double *d, julia_stack st, int n_max)
{
    double x = st[0][0], y = st[1][0], z = st[2][0], w = st[3][0], pw = 2.0;
    int sqr = d[JULIA_SUBTYPE] == JULIA_SQR;
    for (int i = 1; i < n_max; i++) {
        double a = st[0][i], b = st[1][i], c = st[2][i], e = st[3][i];
        double xx = a * x - b * y - c * z + e * w, yy = b * x + a * y - e * z - c * w;
        double zz = c * x - e * y + a * z - b * w, ww = e * x + c * y + b * z + a * w;
        x = xx, y = yy, z = zz, w = ww;
        pw *= 2.0;
    }
    double k = sqr ? pw : 1.0;
    double n1 = st[0][n_max] * k, n2 = st[1][n_max] * k, n3 = st[2][n_max] * k;
    double n4 = st[3][n_max] * k;
    return v3(x * n1 + y * n2 + z * n3 + w * n4, -y * n1 + x * n2 - w * n3 + z * n4,
              -z * n1 - w * n2 + x * n3 + y * n4);
}

static vec3 julia_calc_normal(const double *d, julia_stack st, int n_max)
{
    return d[JULIA_ALGEBRA] == JULIA_QUATERNION ? julia_quaternion_normal(d, st, n_max)
                                                : julia_hypercomplex_normal(d, st, n_max);
}

/* ------------------------------------------------------------------ distance estimate */

/* quaternion: the orbit's escape rate (its D_Iteration), after leaving at step i */
static double julia_quaternion_dist(const double *d, julia_stack st, int i, double norm)
{
    double x = st[0][0], y = st[1][0], z = st[2][0], w = st[3][0];
    int cube = d[JULIA_SUBTYPE] == JULIA_CUBE;
    double pw = cube ? 1.0 / 3.0 : 0.5;
    for (int j = 1; j < i; ++j) {
        double a = st[0][j], b = st[1][j], c = st[2][j], e = st[3][j], xx, yy, zz;
        xx = x * a - y * b - z * c - w * e;
        if (cube) {
            yy = x * b + y * a - z * e + w * c;
            zz = x * c + y * e + z * a - w * b;
            w = x * e - y * c + z * b + w * a;
        } else {
            yy = x * b + y * a + w * c - z * e;
            zz = x * c + z * a + y * e - w * b;
            w = x * e + w * a + z * b - y * c;
        }
        x = xx, y = yy, z = zz;
        pw /= cube ? 3.0 : 2.0;
    }
    return pw * rt_sqrt(norm / (x * x + y * y + z * z + w * w)) * rt_log(norm);
}

/* D_Iteration: inside? and *dist, a step that does not cross the set's surface */
static int julia_d_iterate(const double *d, vec3 p, vec3 dir, julia_stack st, double *dist)
{
    int left;
    double norm = 0.0;
    if (julia_iterate(d, p, st, &left, &norm)) {
        *dist = d[JULIA_PRECISION];
        return 1;
    }
    if (d[JULIA_ALGEBRA] == JULIA_QUATERNION) {
        *dist = julia_quaternion_dist(d, st, left, norm);
        return 0;
    }
    double step = vdot(julia_calc_normal(d, st, left - 1), dir), prec = d[JULIA_PRECISION];
    *dist = prec;
    if (step < -HCOMPLEX_TOLERANCE) {
        step = -2.0 * step;
        if (norm > prec * step && norm < 30 * prec * step)
            *dist = norm / step;
    }
    return 0;
}

static int julia_in(const double *d, vec3 p, julia_stack st)
{
    int left;
    double norm;
    return julia_iterate(d, p, st, &left, &norm);
}

/* ------------------------------------------------------------------ the primitive */

typedef struct {
    double depth, dist, max;
    vec3 next, point;
    int inside;
} julia_march;

/* the bisection that narrows a crossing between m->point and m->point + dist */
static int julia_polish(const double *d, julia_march *m, vec3 Dn, julia_stack st)
{
    int last = m->inside;
    while (m->dist > JULIA_TOLERANCE) {
        m->dist *= 0.5;
        vec3 mid = vadd(m->point, vscale(Dn, m->dist));
        last = julia_in(d, mid, st);
        if (last == m->inside) {
            m->point = mid;
            m->depth += m->dist;
            if (m->depth > m->max)
                return 0;
        }
    }
    if (!m->inside) {
        m->point = vadd(m->point, vscale(Dn, m->dist));
        m->depth += m->dist;
        julia_in(d, m->point, st);
    } else if (last != m->inside) {
        julia_in(d, m->point, st);
    }
    return 1;
}

/* POV-Ray's All_Intersections: from the bounding sphere, step until inside and outside
   differ, then bisect; the first hit at depth >= kmin (the caller's tmin) */
static int julia_trace(const double *d, vec3 O, vec3 Dn, double kmin, double *k, vec3 *n)
{
    julia_stack st;
    julia_march m;
    double k0, k1, next_dist = 0.0;
    if (!sphere_span(v3(0.0, 0.0, 0.0), d[JULIA_RADIUS2], O, Dn, &k0, &k1) ||
        k1 < JULIA_TOLERANCE)
        return 0;
    m.depth = k0 < JULIA_TOLERANCE ? JULIA_TOLERANCE : k0, m.max = k1;
    m.next = vadd(O, vscale(Dn, m.depth));
    m.inside = julia_d_iterate(d, m.next, Dn, st, &m.dist);
    if (m.inside) { /* starting inside */
        m.next = vadd(m.next, vscale(Dn, 2.0 * JULIA_TOLERANCE));
        m.depth += 2.0 * JULIA_TOLERANCE;
        if (m.depth > m.max)
            return 0;
        m.inside = julia_d_iterate(d, m.next, Dn, st, &m.dist);
    }
    while (m.depth < m.max) {
        int next_inside;
        for (;;) {
            if (m.dist < d[JULIA_PRECISION])
                m.dist = d[JULIA_PRECISION];
            m.depth += m.dist;
            if (m.depth > m.max)
                return 0;
            m.point = m.next;
            m.next = vadd(m.next, vscale(Dn, m.dist));
            next_inside = julia_d_iterate(d, m.next, Dn, st, &next_dist);
            if (next_inside != m.inside) {
                m.depth -= m.dist;
                break;
            }
            m.dist = next_dist;
        }
        if (!julia_polish(d, &m, Dn, st))
            return 0;
        if (m.depth >= kmin) {
            *k = m.depth;
            *n = julia_calc_normal(d, st, (int)d[JULIA_ITERATIONS]);
            return 1;
        }
        m.point = m.next, m.dist = next_dist, m.inside = next_inside;
    }
    return 0;
}

static int julia_fractal_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax,
                               hit_info *h)
{
    double len = vlen(D), k;
    vec3 n;
    if (len == 0.0 || !julia_trace(p->d, O, vscale(D, 1.0 / len), tmin * len, &k, &n))
        return 0;
    if (k / len >= tmax)
        return 0;
    h->t = k / len;
    h->n = n;
    return 1;
}

static vec3 julia_fractal_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)p, (void)q;
    return h->n;
}

static int julia_fractal_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    double r = rt_sqrt(p->d[JULIA_RADIUS2]);
    *lo = v3(-r, -r, -r);
    *hi = v3(r, r, r);
    return 1;
}

static int julia_fractal_inside(const prim *p, vec3 q)
{
    julia_stack st;
    return julia_in(p->d, q, st) ? 1 : -1;
}

static const char *julia_fractal_check(const prim *p)
{
    const double *d = p->d;
    if (p->data_n != JULIA_DATA_N || !(d[JULIA_ITERATIONS] >= 1.0) ||
        d[JULIA_ITERATIONS] > JULIA_MAX_ITERATIONS ||
        d[JULIA_ITERATIONS] != (double)(int)d[JULIA_ITERATIONS] ||
        !(d[JULIA_PRECISION] > 0.0) || d[JULIA_SLICE + 3] == 0.0 ||
        !(d[JULIA_RADIUS2] > 0.0) ||
        (d[JULIA_ALGEBRA] != JULIA_QUATERNION && d[JULIA_ALGEBRA] != JULIA_HYPERCOMPLEX) ||
        (d[JULIA_SUBTYPE] != JULIA_SQR && d[JULIA_SUBTYPE] != JULIA_CUBE))
        return "scene data: bad julia_fractal";
    return 0;
}
