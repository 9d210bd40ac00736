/* prims_hfield_parse.c -- height_field { } in the scene language (hosted; prims_parse.c
 * includes it): an image file (as image_map finds and reads one) or function W, H { },
 * then smooth, water_level and hierarchy, with POV-Ray 3.7's meaning (its Parse_HField,
 * Compute_HField and smooth_height_field).
 */

/* add_single_normal: the plane of one of a vertex's four neighbouring triangles */
static int hf_add_normal(const double *map, int w, int h, const int v[6], vec3 *sum)
{
    for (int k = 0; k < 6; k += 2)
        if (v[k] < 0 || v[k + 1] < 0 || v[k] >= w || v[k + 1] >= h)
            return 0;
    vec3 p[3];
    for (int k = 0; k < 3; k++)
        p[k] = v3(v[2 * k], map[(size_t)v[2 * k + 1] * w + v[2 * k]], v[2 * k + 1]);
    vec3 n = vnorm(vcross(vsub(p[2], p[0]), vsub(p[1], p[0])));
    if (n.y < 0.0)
        n = vscale(n, -1.0);
    *sum = vadd(*sum, n);
    return 1;
}

/* smooth: each vertex's normal, the normalised sum of its neighbours' planes, kept as
   POV-Ray keeps it (short)(32767 * component) */
static void hf_smooth_normals(parser *P, const double *map, int w, int h, double *out, int line)
{
    for (int z = 0; z < h; z++)
        for (int x = 0; x < w; x++) {
            const int tri[4][6] = {{x, z, x + 1, z, x, z + 1}, {x, z, x, z + 1, x - 1, z},
                                   {x, z, x - 1, z, x, z - 1}, {x, z, x, z - 1, x + 1, z}};
            vec3 sum = v3(0, 0, 0);
            int k = 0;
            for (int i = 0; i < 4; i++)
                k += hf_add_normal(map, w, h, tri[i], &sum);
            if (k == 0)
                perr(P, line, "height_field: no normal at vertex %d, %d", x, z);
            vec3 n = vnorm(sum);
            double *o = out + 3 * ((size_t)z * w + x);
            o[0] = (short)(32767 * n.x), o[1] = (short)(32767 * n.y), o[2] = (short)(32767 * n.z);
        }
}

static void parse_height_field(parser *P, prim *p, const token *kw)
{
    uint32_t w, h;
    const double *map = image_parse_heights(P, kw->line, &w, &h);
    double water = 0.0;
    int smooth = 0;
    for (;;) {
        if (is_word(P, "smooth")) {
            next(P);
            smooth = 1;
        } else if (is_word(P, "water_level")) {
            next(P);
            water = parse_float(P, "water_level");
        } else if (is_word(P, "hierarchy")) { /* only how POV-Ray bounds the cells */
            next(P);
            if (peek(P)->kind == T_NUM || is_word(P, "on") || is_word(P, "off") ||
                is_word(P, "true") || is_word(P, "false") || is_word(P, "yes") || is_word(P, "no"))
                parse_float(P, "hierarchy");
        } else {
            break;
        }
    }
    size_t n = (size_t)w * h;
    double lo = 65535.0, hi = 0.0;
    for (size_t i = 0; i < n; i++)
        lo = rt_fmin(lo, map[i]), hi = rt_fmax(hi, map[i]);
    p->type = OBJ_HEIGHT_FIELD;
    p->a = v3(w, h, smooth);
    p->r = rt_fmax(lo, 65536.0 * water) - 0.001; /* POV-Ray's HFIELD_OFFSET */
    p->r2 = hi + 0.001;
    double *d = xalloc(P, sizeof(double) * n * (smooth ? 4 : 1));
    memcpy(d, map, sizeof(double) * n);
    if (smooth)
        hf_smooth_normals(P, map, (int)w, (int)h, d + n, kw->line);
    prim_set_data(P, p, d, n * (smooth ? 4 : 1));
}
