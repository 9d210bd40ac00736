/* prims_hfield.c -- height_field { } as POV-Ray 3.7 defines it (its heightfield.cpp;
 * freestanding-safe, prims.c includes it).
 *
 * A grid of W x H heights (0..65535, row z = 0 from the image's bottom row) in grid space:
 * x in [0, W-1], z in [0, H-1], y the height; the object is that grid scaled by
 * <1/(W-1), 1/65536, 1/(H-1)>, so it fills the unit box. Each cell (x, z) holds two
 * triangles: (x,z) (x+1,z) (x,z+1) and (x+1,z+1) (x,z+1) (x+1,z). A ray walks the cells it
 * crosses (a 2-D DDA) and takes the nearest triangle hit of the first cell with one, with
 * POV-Ray's tolerances. smooth: each vertex's normal (the average of its four neighbouring
 * planes', kept as POV-Ray keeps it, in shorts) blended bilinearly across the cell.
 *
 * a: W, H, smooth (0 or 1); r, r2: the lowest and highest grid heights of the bounding box
 * (the lowest raised to water_level); data: W * H heights, then for smooth 3 * W * H
 * normal components.
 */

#define HF_TOLERANCE 1.0e-6 /* POV-Ray's HFIELD_TOLERANCE */
#define HF_SCALE_Y 65536.0
#define HF_MAX_DIM 65535

static uint32_t hf_w(const prim *p) { return (uint32_t)p->a.x; }
static uint32_t hf_h(const prim *p) { return (uint32_t)p->a.y; }
static double hf_at(const prim *p, uint32_t x, uint32_t z) { return p->d[(size_t)z * hf_w(p) + x]; }

static vec3 hf_grid_scale(const prim *p)
{
    return v3((double)hf_w(p) - 1.0, HF_SCALE_Y, (double)hf_h(p) - 1.0);
}

/* One triangle of POV-Ray's intersect_pixel: plane through P with normal N, the hit's
   depth when it lies in the triangle (lower: s, t >= 0, s + t <= 1; upper: the mirror) */
static int hf_triangle(vec3 O, vec3 D, vec3 Pt, vec3 N, int upper, double x, double z,
                       double mind, double maxd, double *depth)
{
    double d = vdot(N, D);
    if (!(d > POV_EPSILON || d < -POV_EPSILON))
        return 0;
    double k = vdot(N, vsub(Pt, O)) / d;
    if (!(k >= mind && k <= maxd))
        return 0;
    double s = O.x + k * D.x - x, t = O.z + k * D.z - z;
    int in = upper ? (s <= 1.0001 && t <= 1.0001 && s + t >= 0.9999)
                   : (s >= -0.0001 && t >= -0.0001 && s + t <= 1.0001);
    if (in)
        *depth = k;
    return in;
}

/* POV-Ray's intersect_pixel: cell (x, z) when the ray's heights y1..y2 over it meet the
   cell's, each of its triangles when they meet the triangle's; the nearer hit (side 0 the
   lower triangle, 1 the upper) */
static int hf_cell(const prim *p, vec3 O, vec3 D, int32_t cx, int32_t cz, double ry1,
                   double ry2, double mind, double maxd, double *best, int *side)
{
    uint32_t x = (uint32_t)cx, z = (uint32_t)cz;
    double y1 = hf_at(p, x, z), y2 = hf_at(p, x + 1, z), y3 = hf_at(p, x, z + 1);
    double y4 = hf_at(p, x + 1, z + 1), k = 0.0;
    double lo23 = rt_fmin(y2, y3), hi23 = rt_fmax(y2, y3);
    if (rt_fmax(rt_fmax(y1, y4), hi23) < ry1 || rt_fmin(rt_fmin(y1, y4), lo23) > ry2)
        return 0;
    int found = 0;
    if (rt_fmax(y1, hi23) >= ry1 && rt_fmin(y1, lo23) <= ry2 &&
        hf_triangle(O, D, v3(x, y1, z), v3(y1 - y2, 1.0, y1 - y3), 0, x, z, mind, maxd, &k)) {
        *best = k, *side = 0, found = 1;
    }
    if (rt_fmax(y4, hi23) >= ry1 && rt_fmin(y4, lo23) <= ry2 &&
        hf_triangle(O, D, v3(x + 1.0, y4, z + 1.0), v3(y3 - y4, 1.0, y2 - y4), 1, x, z, mind,
                    maxd, &k) && (!found || k < *best)) {
        *best = k, *side = 1, found = 1;
    }
    return found;
}

/* the ray's span inside the grid's box [0, W-1] x [r, r2] x [0, H-1] */
static int hf_box(const prim *p, vec3 O, vec3 D, double *t0, double *t1)
{
    double lo[3] = {0.0, p->r, 0.0}, hi[3] = {hf_w(p) - 1.0, p->r2, hf_h(p) - 1.0};
    double o[3] = {O.x, O.y, O.z}, d[3] = {D.x, D.y, D.z};
    *t0 = -HUGE_DEPTH, *t1 = HUGE_DEPTH;
    for (int a = 0; a < 3; a++) {
        if (d[a] == 0.0) {
            if (o[a] < lo[a] || o[a] > hi[a])
                return 0;
            continue;
        }
        double ta = (lo[a] - o[a]) / d[a], tb = (hi[a] - o[a]) / d[a];
        *t0 = rt_fmax(*t0, rt_fmin(ta, tb));
        *t1 = rt_fmin(*t1, rt_fmax(ta, tb));
    }
    return *t0 <= *t1;
}

/* The walk of POV-Ray's dda_traversal over the whole grid (one block), along the driving
   axis u (x or z) with the other, v, stepped by the error term. `hf_ray` holds the ray in
   grid space with u and v chosen. */
typedef struct {
    vec3 O, D;
    int swap;              /* z drives: u is z, v is x */
    double mind, maxd;
    double best;
    int side;
    int32_t cell_x, cell_z;
} hf_ray;

static int hf_try(const prim *p, hf_ray *r, int32_t u, int32_t v, double y1, double y2)
{
    int32_t x = r->swap ? v : u, z = r->swap ? u : v;
    int32_t mx = (int32_t)hf_w(p) - 2, mz = (int32_t)hf_h(p) - 2;
    x = x > mx ? mx : x, z = z > mz ? mz : z;
    if (!hf_cell(p, r->O, r->D, x, z, y1, y2, r->mind, r->maxd, &r->best, &r->side))
        return 0;
    r->cell_x = x, r->cell_z = z;
    return 1;
}

static double hf_clamp_start(double v, double vmax)
{
    return v < 0.0 ? 0.0 : v > vmax + 1.0 - POV_EPSILON ? vmax + 1.0 - POV_EPSILON : v;
}

static int hf_dda(const prim *p, hf_ray *r, vec3 S)
{
    double pu = r->swap ? S.z : S.x, pv = r->swap ? S.x : S.z;
    double du = r->swap ? r->D.z : r->D.x, dv = r->swap ? r->D.x : r->D.z, dy = r->D.y;
    int32_t umax = (int32_t)(r->swap ? hf_h(p) : hf_w(p)) - 2;
    int32_t vmax = (int32_t)(r->swap ? hf_w(p) : hf_h(p)) - 2;
    pu = hf_clamp_start(pu, umax), pv = hf_clamp_start(pv, vmax);
    double delta = rt_fabs(dv / du), u0 = pu - rt_floor(pu), v0 = pv - rt_floor(pv);
    int32_t u = (int32_t)pu, v = (int32_t)pv, su = du >= 0.0 ? 1 : -1, sv = dv >= 0.0 ? 1 : -1;
    double lead = du >= 0.0 ? 1.0 - u0 : u0;
    double error = dv >= 0.0 ? v0 + delta * lead - 1.0 : -(v0 - delta * lead);
    double deltay = dy / rt_fabs(du);
    double neary = S.y - (du >= 0.0 ? u0 : 1.0 - u0) * deltay, fary = neary + deltay;
    double ymin = rt_fmin(S.y, p->r) - POV_EPSILON, ymax = rt_fmax(S.y, p->r2) + POV_EPSILON;
    double extra = r->swap ? POV_EPSILON : 0.0;
    do {
        double y1 = rt_fmin(neary, fary), y2 = rt_fmax(neary, fary);
        if (hf_try(p, r, u, v, y1, y2))
            return 1;
        if (error > POV_EPSILON) {
            v += sv;
            if (v < 0 || v > vmax)
                break;
            if (hf_try(p, r, u, v, y1, y2))
                return 1;
            error--;
        } else if (error > -POV_EPSILON) {
            v += sv;
            error--;
        }
        u += su;
        error += delta;
        neary = fary;
        fary += deltay;
        /* (POV-Ray widens the height test by EPSILON when z drives, not when x does) */
    } while (neary >= ymin - extra && neary <= ymax + extra && u >= 0 && u <= umax && v >= 0 &&
             v <= vmax);
    return 0;
}

static int height_field_isect(const prim *p, vec3 O, vec3 D, double tmin, double tmax,
                              hit_info *h)
{
    vec3 g = hf_grid_scale(p);
    hf_ray r = {.O = vmul(O, g), .D = vmul(D, g)};
    double t0, t1;
    if (!hf_box(p, r.O, r.D, &t0, &t1))
        return 0;
    t0 = rt_fmax(t0, HF_TOLERANCE);
    if (t0 > t1)
        return 0;
    vec3 S = vadd(r.O, vscale(r.D, t0));
    r.mind = rt_fmax(t0, tmin), r.maxd = rt_fmin(t1, tmax);
    int found;
    if (rt_fabs(r.D.x) < POV_EPSILON && rt_fabs(r.D.z) < POV_EPSILON) { /* straight up or down */
        double fary = r.D.y >= 0.0 ? 65536.0 : 0.0;
        found = hf_try(p, &r, (int32_t)S.x, (int32_t)S.z, rt_fmin(S.y, fary), rt_fmax(S.y, fary));
    } else {
        r.swap = rt_fabs(r.D.x) < rt_fabs(r.D.z);
        found = hf_dda(p, &r, S);
    }
    if (!found || !(r.best < tmax))
        return 0;
    h->t = r.best;
    h->side = r.side;
    h->s = (double)r.cell_z * hf_w(p) + r.cell_x;
    return 1;
}

/* a vertex's smooth normal into the world, normalised (POV-Ray's MTransNormal through the
   grid scale and the object's transform) */
static vec3 hf_vertex_normal(const prim *p, uint32_t x, uint32_t z, vec3 g)
{
    const double *n = p->d + (size_t)hf_w(p) * hf_h(p) + 3 * ((size_t)z * hf_w(p) + x);
    vec3 v = vmul(v3(n[0], n[1], n[2]), g);
    return vnorm(p->has_trans ? xf_normal(&p->inv, v) : v);
}

/* The bilinear blend of the four vertex normals, made in the world as POV-Ray makes it;
   returned in object space (the transpose of the forward map takes it there, so the
   caller's inverse transpose gives the blend back) */
static vec3 hf_smooth_normal(const prim *p, vec3 q, vec3 g)
{
    vec3 l = vmul(q, g);
    uint32_t mx = hf_w(p) - 2, mz = hf_h(p) - 2;
    uint32_t px = l.x <= 0.0 ? 0 : l.x >= mx ? mx : (uint32_t)l.x;
    uint32_t pz = l.z <= 0.0 ? 0 : l.z >= mz ? mz : (uint32_t)l.z;
    double x = l.x - px, z = l.z - pz, u = 1.0 - x, v = 1.0 - z;
    vec3 n0 = hf_vertex_normal(p, px, pz, g), n1 = hf_vertex_normal(p, px + 1, pz, g);
    vec3 n2 = hf_vertex_normal(p, px, pz + 1, g), n3 = hf_vertex_normal(p, px + 1, pz + 1, g);
    vec3 r = vadd(vscale(vadd(vscale(n0, u), vscale(n1, x)), v),
                  vscale(vadd(vscale(n2, u), vscale(n3, x)), z));
    if (!p->has_trans)
        return r;
    const xform *f = &p->fwd;
    return v3(f->m[0][0] * r.x + f->m[1][0] * r.y + f->m[2][0] * r.z,
              f->m[0][1] * r.x + f->m[1][1] * r.y + f->m[2][1] * r.z,
              f->m[0][2] * r.x + f->m[1][2] * r.y + f->m[2][2] * r.z);
}

static vec3 height_field_normal(const prim *p, vec3 q, const hit_info *h)
{
    vec3 g = hf_grid_scale(p);
    if (p->a.z != 0.0)
        return hf_smooth_normal(p, q, g);
    uint32_t cell = (uint32_t)h->s, x = cell % hf_w(p), z = cell / hf_w(p);
    double y1 = hf_at(p, x, z), y2 = hf_at(p, x + 1, z), y3 = hf_at(p, x, z + 1);
    double y4 = hf_at(p, x + 1, z + 1);
    vec3 n = h->side ? v3(y3 - y4, 1.0, y2 - y4) : v3(y1 - y2, 1.0, y1 - y3);
    return vmul(n, g); /* the grid scale's inverse transpose */
}

static int height_field_bounds(const prim *p, vec3 *lo, vec3 *hi)
{
    *lo = v3(0.0, p->r / HF_SCALE_Y, 0.0);
    *hi = v3(1.0, p->r2 / HF_SCALE_Y, 1.0);
    return 1;
}

/* POV-Ray's Inside_HField: below the surface of the cell's triangle (or the water) */
static int height_field_inside(const prim *p, vec3 q)
{
    vec3 t = vmul(q, hf_grid_scale(p));
    double water = p->r;
    if (t.x < 0.0 || t.x >= hf_w(p) - 1.0 || t.z < 0.0 || t.z >= hf_h(p) - 1.0 || t.y >= p->r2)
        return -1;
    if (t.y < water)
        return 1;
    uint32_t mx = hf_w(p) - 2, mz = hf_h(p) - 2;
    uint32_t px = (uint32_t)t.x > mx ? mx : (uint32_t)t.x, pz = (uint32_t)t.z > mz ? mz : (uint32_t)t.z;
    double x = t.x - px, z = t.z - pz;
    vec3 o, n;
    if (x + z < 1.0) {
        double y1 = rt_fmax(hf_at(p, px, pz), water), y2 = rt_fmax(hf_at(p, px + 1, pz), water);
        double y3 = rt_fmax(hf_at(p, px, pz + 1), water);
        o = v3(px, y1, pz), n = v3(y1 - y2, 1.0, y1 - y3);
    } else {
        double y1 = rt_fmax(hf_at(p, px + 1, pz + 1), water);
        double y2 = rt_fmax(hf_at(p, px, pz + 1), water), y3 = rt_fmax(hf_at(p, px + 1, pz), water);
        o = v3(px + 1.0, y1, pz + 1.0), n = v3(y2 - y1, 1.0, y3 - y1);
    }
    return vdot(t, n) < vdot(o, n) ? 1 : -1;
}

static const char *height_field_check(const prim *p)
{
    double w = p->a.x, h = p->a.y;
    if (!(w >= 2.0 && h >= 2.0 && w <= HF_MAX_DIM && h <= HF_MAX_DIM) || w != (uint32_t)w ||
        h != (uint32_t)h || !(p->a.z == 0.0 || p->a.z == 1.0) || !(p->r <= p->r2) ||
        p->data_n != (uint64_t)w * h * (p->a.z != 0.0 ? 4u : 1u))
        return "scene data: bad height_field";
    return 0;
}
