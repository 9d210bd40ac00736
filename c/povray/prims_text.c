/* prims_text.c -- the text primitive: TrueType glyph outlines extruded from z = 0 to
 * z = r (freestanding-safe; prims.c includes it). The data (ttf.h) holds per character a
 * box and its quadratic segments, each monotone in y. A ray meets the side walls where
 * its xy path crosses a segment (a quadratic in the segment's parameter) and the caps
 * where its point at z = 0 or z = r is inside the outline (crossings to the right, counted
 * even-odd with the half-open rule on y).
 */

#define TEXT_DEPTH_TOLERANCE 1.0e-6

typedef struct {
    const double *box;  /* xmin ymin xmax ymax first n */
    const double *segs; /* 6 per segment */
} text_char;

static uint32_t text_nchars(const prim *p) { return (uint32_t)p->d[0]; }

static text_char text_char_at(const prim *p, uint32_t k)
{
    uint32_t n = text_nchars(p);
    text_char c;
    c.box = p->d + 1 + 6 * (size_t)k;
    c.segs = p->d + 1 + 6 * (size_t)n + 6 * (size_t)c.box[4];
    return c;
}

static double quad_at(double a, double b, double c, double s)
{
    double u = 1.0 - s;
    return u * u * a + 2.0 * u * s * b + s * s * c;
}

/* Inside the outline of character c at (x, y): crossings of the ray to +x. */
static int text_char_inside(const text_char *c, double x, double y)
{
    if (x < c->box[0] || x > c->box[2] || y < c->box[1] || y > c->box[3])
        return 0;
    int crossings = 0;
    uint32_t n = (uint32_t)c->box[5];
    for (uint32_t i = 0; i < n; i++) {
        const double *g = c->segs + 6 * (size_t)i;
        double y0 = g[1], y2 = g[5];
        if (!((y0 <= y && y < y2) || (y2 <= y && y < y0)))
            continue;
        /* y(s) = y, one root in [0, 1] (monotone): (y0 - 2 y1 + y2) s^2 + 2 (y1 - y0) s
           + y0 - y = 0 */
        double a = y0 - 2.0 * g[3] + y2, b = 2.0 * (g[3] - y0), cc = y0 - y, s;
        if (rt_fabs(a) < 1e-12 * (rt_fabs(b) + 1e-300)) {
            s = -cc / b;
        } else {
            double disc = b * b - 4.0 * a * cc;
            double sq = rt_sqrt(disc > 0.0 ? disc : 0.0);
            double s1 = (-b - sq) / (2.0 * a), s2 = (-b + sq) / (2.0 * a);
            s = s1 >= -1e-9 && s1 <= 1.0 + 1e-9 ? s1 : s2;
        }
        if (quad_at(g[0], g[2], g[4], s) > x)
            crossings++;
    }
    return crossings & 1;
}

static void text_consider(double t, int side, double s, double tmin, double tmax,
                          hit_info *h, int *found)
{
    if (t > TEXT_DEPTH_TOLERANCE && t >= tmin && t < tmax && (!*found || t < h->t)) {
        h->t = t;
        h->side = side;
        h->s = s;
        *found = 1;
    }
}

/* The side walls of segment i of character c. */
static void text_walls(const prim *p, const text_char *c, uint32_t i, vec3 O, vec3 D,
                       double tmin, double tmax, hit_info *h, int *found)
{
    const double *g = c->segs + 6 * (size_t)i;
    double dd = D.x * D.x + D.y * D.y;
    if (dd < 1e-24)
        return;
    /* n . (P(s) - O) = 0 with n = (-Dy, Dx): a quadratic in s */
    double ax = g[0] - 2.0 * g[2] + g[4], bx = 2.0 * (g[2] - g[0]), cx = g[0] - O.x;
    double ay = g[1] - 2.0 * g[3] + g[5], by = 2.0 * (g[3] - g[1]), cy = g[1] - O.y;
    double qa = -D.y * ax + D.x * ay, qb = -D.y * bx + D.x * by, qc = -D.y * cx + D.x * cy;
    double roots[2];
    int nr = 0;
    if (rt_fabs(qa) < 1e-12 * (rt_fabs(qb) + rt_fabs(qc) + 1e-300)) {
        if (qb != 0.0)
            roots[nr++] = -qc / qb;
    } else {
        double disc = qb * qb - 4.0 * qa * qc;
        if (disc < 0.0)
            return;
        double sq = rt_sqrt(disc);
        roots[nr++] = (-qb - sq) / (2.0 * qa);
        roots[nr++] = (-qb + sq) / (2.0 * qa);
    }
    uint32_t first = (uint32_t)c->box[4];
    for (int k = 0; k < nr; k++) {
        double s = roots[k];
        if (!(s >= 0.0 && s <= 1.0))
            continue;
        double px = quad_at(g[0], g[2], g[4], s) - O.x, py = quad_at(g[1], g[3], g[5], s) - O.y;
        double t = (px * D.x + py * D.y) / dd;
        double z = O.z + t * D.z;
        if (z >= 0.0 && z <= p->r)
            text_consider(t, (int)(first + i), s, tmin, tmax, h, found);
    }
}

/* Does the ray meet character c's box (x, y from the box, z from 0 to r) before tmax? */
static int text_box_hit(const prim *p, const text_char *c, vec3 O, vec3 D, double tmax)
{
    double lo[3] = {c->box[0], c->box[1], 0.0}, hi[3] = {c->box[2], c->box[3], p->r};
    double o[3] = {O.x, O.y, O.z}, d[3] = {D.x, D.y, D.z}, t0 = 0.0, t1 = tmax;
    for (int a = 0; a < 3; a++) {
        if (rt_fabs(d[a]) < 1e-300) {
            if (o[a] < lo[a] || o[a] > hi[a])
                return 0;
            continue;
        }
        double ta = (lo[a] - o[a]) / d[a], tb = (hi[a] - o[a]) / d[a];
        if (ta > tb) {
            double tt = ta;
            ta = tb;
            tb = tt;
        }
        t0 = ta > t0 ? ta : t0;
        t1 = tb < t1 ? tb : t1;
        if (t0 > t1 * (1.0 + 1e-12) + 1e-12)
            return 0;
    }
    return 1;
}

static int text_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h)
{
    int found = 0;
    uint32_t n = text_nchars(p);
    for (uint32_t k = 0; k < n; k++) {
        text_char c = text_char_at(p, k);
        if (!text_box_hit(p, &c, O, D, found ? h->t : tmax))
            continue;
        for (uint32_t i = 0; i < (uint32_t)c.box[5]; i++)
            text_walls(p, &c, i, O, D, tmin, found ? h->t : tmax, h, &found);
        if (D.z != 0.0) {
            double caps[2] = {0.0, p->r};
            for (int e = 0; e < 2; e++) {
                double t = (caps[e] - O.z) / D.z;
                if (text_char_inside(&c, O.x + t * D.x, O.y + t * D.y))
                    text_consider(t, -1 - e, 0.0, tmin, found ? h->t : tmax, h, &found);
            }
        }
    }
    return found;
}

static vec3 text_normal(const prim *p, vec3 q, const hit_info *h)
{
    (void)q;
    if (h->side < 0)
        return v3(0.0, 0.0, h->side == -1 ? -1.0 : 1.0);
    const double *g = p->d + 1 + 6 * (size_t)text_nchars(p) + 6 * (size_t)h->side;
    double s = h->s, u = 1.0 - s;
    double tx = 2.0 * (u * (g[2] - g[0]) + s * (g[4] - g[2]));
    double ty = 2.0 * (u * (g[3] - g[1]) + s * (g[5] - g[3]));
    return vnorm(v3(ty, -tx, 0.0));
}

static int text_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    uint32_t n = text_nchars(p);
    if (!n) { /* only spaces: an empty box far away */
        *lo = *hi = v3(0.0, 0.0, -1.0e6);
        return 1;
    }
    *lo = v3(1e300, 1e300, 0.0);
    *hi = v3(-1e300, -1e300, p->r);
    for (uint32_t k = 0; k < n; k++) {
        text_char c = text_char_at(p, k);
        lo->x = rt_fmin(lo->x, c.box[0]);
        lo->y = rt_fmin(lo->y, c.box[1]);
        hi->x = rt_fmax(hi->x, c.box[2]);
        hi->y = rt_fmax(hi->y, c.box[3]);
    }
    return 1;
}

static int text_inside(const prim *p, vec3 q)
{
    if (q.z < 0.0 || q.z > p->r)
        return -1;
    uint32_t n = text_nchars(p);
    for (uint32_t k = 0; k < n; k++) {
        text_char c = text_char_at(p, k);
        if (text_char_inside(&c, q.x, q.y))
            return 1;
    }
    return -1;
}

static const char *text_check(const prim *p)
{
    if (!(p->r > 0.0) || p->data_n < 1)
        return "scene data: bad text";
    double n = p->d[0];
    if (!(n >= 0.0 && n == (double)(uint32_t)n) || 1.0 + 6.0 * n > p->data_n)
        return "scene data: bad text character count";
    size_t nseg = (p->data_n - 1 - 6 * (size_t)n);
    if (nseg % 6)
        return "scene data: bad text segments";
    nseg /= 6;
    for (uint32_t k = 0; k < (uint32_t)n; k++) {
        const double *b = p->d + 1 + 6 * (size_t)k;
        if (!(b[4] >= 0.0 && b[5] >= 0.0 && b[4] == (double)(uint32_t)b[4] &&
              b[5] == (double)(uint32_t)b[5] && b[4] + b[5] <= (double)nseg))
            return "scene data: text character segments out of range";
    }
    return 0;
}
