/* prims_bicubic_parse.c -- bicubic_patch { [type 0|1] [flatness F] [u_steps U] [v_steps V]
 * P00, P01, ..., P33 } (hosted; prims_parse.c includes it). Both types are the same surface
 * (POV-Ray 3.7 splits the patch the same way, up front or per ray). Layout: prims_bicubic.c.
 */

#define BICUBIC_MAX_STEPS 10 /* prims_bicubic.c's BEZ_MAX_STEPS */

static double bicubic_setting(parser *P, const char *what, double lo, double hi)
{
    int line = peek(P)->line;
    next(P);
    P->vec_depth++; /* a control point's '<' may follow: no comparison */
    double v = parse_float(P, what);
    P->vec_depth--;
    if (!(v >= lo && v <= hi))
        perr(P, line, "%s must be from %g to %g, got %g", what, lo, hi, v);
    return v;
}

static void parse_bicubic_patch(parser *P, prim *p, const token *kw)
{
    (void)kw;
    p->type = OBJ_BICUBIC_PATCH;
    p->r = 0.0; /* POV-Ray's defaults: flatness 0, 0 steps */
    for (;;) {
        if (is_word(P, "type"))
            bicubic_setting(P, "the bicubic_patch type", 0, 1);
        else if (is_word(P, "flatness"))
            p->r = bicubic_setting(P, "the bicubic_patch flatness", 0, 1e30);
        else if (is_word(P, "u_steps"))
            p->a.x = (int)bicubic_setting(P, "u_steps", 0, BICUBIC_MAX_STEPS);
        else if (is_word(P, "v_steps"))
            p->a.y = (int)bicubic_setting(P, "v_steps", 0, BICUBIC_MAX_STEPS);
        else if (is_word(P, "accuracy"))
            bicubic_setting(P, "the bicubic_patch accuracy", 0, 1e30);
        else
            break;
        opt_comma(P);
    }
    double c[48];
    for (int k = 0; k < 16; k++) {
        opt_comma(P);
        vec3 v = parse_vector(P);
        c[3 * k] = v.x, c[3 * k + 1] = v.y, c[3 * k + 2] = v.z;
    }
    if (is_word(P, "uv_vectors"))
        perr(P, peek(P)->line, "unsupported: 'uv_vectors' in a bicubic_patch");
    prim_set_data(P, p, c, 48);
}
