/* prims_sor_parse.c -- sor { N, <r, y>... [open] [sturm] } (hosted; prims_parse.c includes
 * it). The first and last points only give the slopes at the ends; each segment between two
 * inner points is the cubic r^2 = f(y) through their squared radii with the slopes of the
 * lines through their neighbours (POV-Ray 3.7's Compute_Sor). Layout: prims_sor.c.
 */

#define SOR_MAX_POINTS 65536
#define SOR_SEGMENT_DATA 6 /* prims_sor.c's SOR_DATA */
#define SOR_FIT_EPSILON 1.0e-10 /* POV-Ray's EPSILON: smaller coefficients are 0 */

typedef struct { double x, z; } sor_pt; /* z: the height */

static double sor_fit_at(const double *e, double y)
{
    return y * (y * (y * e[0] + e[1]) + e[2]) + e[3];
}

static sor_pt sor_point(parser *P)
{
    int line = peek(P)->line;
    value v = expr(P);
    if (v.kind == V_FLOAT)
        return (sor_pt){v.c[0], v.c[0]};
    if (v.kind != V_VEC)
        perr(P, line, "a sor point must be a 2D vector <r, y>, got a %s", kind_name(v.kind));
    return (sor_pt){v.c[0], v.c[1]};
}

/* Solve the 4x4 system m x = k (partial pivoting); 0 when singular. */
static int sor_solve4(double m[4][5], double *x)
{
    for (int c = 0; c < 4; c++) {
        int piv = c;
        for (int r = c + 1; r < 4; r++)
            if (rt_fabs(m[r][c]) > rt_fabs(m[piv][c]))
                piv = r;
        if (rt_fabs(m[piv][c]) < 1.0e-300)
            return 0;
        for (int k = 0; k < 5; k++) {
            double t = m[c][k];
            m[c][k] = m[piv][k], m[piv][k] = t;
        }
        for (int r = 0; r < 4; r++) {
            if (r == c)
                continue;
            double f = m[r][c] / m[c][c];
            for (int k = c; k < 5; k++)
                m[r][k] -= f * m[c][k];
        }
    }
    for (int c = 0; c < 4; c++)
        x[c] = m[c][4] / m[c][c];
    return 1;
}

/* The segment from points q[1] to q[2] (q[0], q[3] its neighbours): A B C D h1 h2 into e,
   and its largest radius. */
static double sor_segment(parser *P, const token *kw, const sor_pt *q, double *e)
{
    double dy0 = q[2].z - q[0].z, dy1 = q[3].z - q[1].z;
    if (rt_fabs(dy0) < SOR_FIT_EPSILON || rt_fabs(dy1) < SOR_FIT_EPSILON)
        perr(P, kw->line, "incorrect point in sor: neighbouring heights must differ");
    double w1 = q[1].z, w2 = q[2].z;
    double m[4][5] = {
        {w1 * w1 * w1, w1 * w1, w1, 1.0, q[1].x * q[1].x},
        {w2 * w2 * w2, w2 * w2, w2, 1.0, q[2].x * q[2].x},
        {3.0 * w1 * w1, 2.0 * w1, 1.0, 0.0, 2.0 * q[1].x * (q[2].x - q[0].x) / dy0},
        {3.0 * w2 * w2, 2.0 * w2, 1.0, 0.0, 2.0 * q[2].x * (q[3].x - q[1].x) / dy1},
    };
    if (!sor_solve4(m, e))
        perr(P, kw->line, "incorrect point in sor: a segment cannot be fitted");
    for (int i = 0; i < 4; i++)
        if (rt_fabs(e[i]) < SOR_FIT_EPSILON)
            e[i] = 0.0;
    e[4] = w1, e[5] = w2;
    double rmax = rt_fmax(q[1].x, q[2].x);
    double a = 3.0 * e[0], b = 2.0 * e[1], c = e[2], r[2];
    int n = 0;
    if (rt_fabs(a) > SOR_FIT_EPSILON) {
        double disc = b * b - 4.0 * a * c;
        if (disc >= 0.0)
            r[n++] = (-b - rt_sqrt(disc)) / (2.0 * a), r[n++] = (-b + rt_sqrt(disc)) / (2.0 * a);
    } else if (rt_fabs(b) > SOR_FIT_EPSILON) {
        r[n++] = -c / b;
    }
    for (int i = 0; i < n; i++)
        if (r[i] >= w1 && r[i] <= w2)
            rmax = rt_fmax(rmax, rt_sqrt(rt_fmax(0.0, sor_fit_at(e, r[i]))));
    return rmax;
}

static void parse_sor(parser *P, prim *p, const token *kw)
{
    size_t n = parse_point_count(P, kw, 4, SOR_MAX_POINTS);
    sor_pt *pt = xrealloc(P, NULL, n * sizeof *pt);
    for (size_t i = 0; i < n; i++) {
        opt_comma(P);
        int line = peek(P)->line;
        pt[i] = sor_point(P);
        if (pt[i].x < 0.0 || (i > 1 && i < n - 1 && pt[i].z <= pt[i - 1].z))
            perr(P, line, "incorrect point %zu in sor: radii must be >= 0 and the heights of "
                 "the inner points increasing", i + 1);
    }
    double *e = xrealloc(P, NULL, SOR_SEGMENT_DATA * (n - 3) * sizeof *e);
    p->type = OBJ_SOR;
    p->r = 0.0;
    for (size_t i = 0; i + 3 < n; i++)
        p->r = rt_fmax(p->r, sor_segment(P, kw, pt + i, e + SOR_SEGMENT_DATA * i));
    p->b.x = pt[1].z, p->b.y = pt[n - 2].z;
    p->a.x = rt_fmax(0.0, sor_fit_at(e, p->b.x));
    p->a.y = rt_fmax(0.0, sor_fit_at(e + SOR_SEGMENT_DATA * (n - 4), p->b.y));
    for (;;) {
        if (is_word(P, "open"))
            p->a.z = 1.0;
        else if (!is_word(P, "sturm"))
            break;
        next(P);
    }
    prim_set_data(P, p, e, SOR_SEGMENT_DATA * (n - 3));
    free(pt);
    free(e);
}
