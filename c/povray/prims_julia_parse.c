/* prims_julia_parse.c -- julia_fractal { } in the scene language (hosted; prims_parse.c
 * includes it): <c>, then quaternion|hypercomplex, sqr|cube, max_iteration, precision and
 * slice, with POV-Ray 3.7's defaults and limits (its Parse_Julia_Fractal, SetUp_Fractal and
 * Compute_BBox). The hypercomplex functions (exp, ln, sin, ..., pwr, reciprocal) are refused.
 */

static void parse_vector4(parser *P, const char *what, double out[4])
{
    int line = peek(P)->line;
    value v = expr(P);
    if (v.kind == V_FLOAT) {
        out[0] = out[1] = out[2] = out[3] = v.c[0];
        return;
    }
    if (v.kind != V_VEC || v.n < 4)
        perr(P, line, "%s needs a vector of 4 numbers <x, y, z, w>", what);
    for (int i = 0; i < 4; i++)
        out[i] = v.c[i];
}

static const char *const JULIA_FUNCTIONS[] = {
    "exp", "ln", "sin", "asin", "cos", "acos", "tan", "atan", "sinh", "asinh", "cosh",
    "acosh", "tanh", "atanh", "pwr", "reciprocal",
};

static void parse_julia_slice(parser *P, double *d, int line)
{
    double *s = d + JULIA_SLICE;
    parse_vector4(P, "slice", s);
    opt_comma(P);
    d[JULIA_SLICE_DIST] = parse_float(P, "the slice's distance");
    double len = rt_sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2] + s[3] * s[3]);
    if (len * len < POV_EPSILON)
        perr(P, line, "julia_fractal slice vector is zero");
    if (rt_fabs(s[3]) < POV_EPSILON)
        perr(P, line, "julia_fractal slice needs a non-zero 4th (t) component");
    for (int i = 0; i < 4; i++)
        s[i] /= len;
}

static int parse_julia_item(parser *P, double *d)
{
    token *t = peek(P);
    int line = t->line;
    if (t->kind != T_IDENT)
        return 0;
    char w[64];
    snprintf(w, sizeof w, "%s", t->text);
    for (size_t i = 0; i < sizeof JULIA_FUNCTIONS / sizeof JULIA_FUNCTIONS[0]; i++)
        if (!strcmp(w, JULIA_FUNCTIONS[i]))
            perr(P, line, "unsupported julia_fractal function '%s' (sqr and cube are)", w);
    if (!strcmp(w, "quaternion") || !strcmp(w, "hypercomplex")) {
        d[JULIA_ALGEBRA] = w[0] == 'q' ? JULIA_QUATERNION : JULIA_HYPERCOMPLEX;
    } else if (!strcmp(w, "sqr") || !strcmp(w, "cube")) {
        d[JULIA_SUBTYPE] = w[0] == 's' ? JULIA_SQR : JULIA_CUBE;
    } else if (!strcmp(w, "max_iteration")) {
        next(P);
        double n = rt_floor(parse_float(P, "max_iteration"));
        if (n > JULIA_MAX_ITERATIONS)
            perr(P, line, "unsupported: julia_fractal max_iteration above %d", JULIA_MAX_ITERATIONS);
        d[JULIA_ITERATIONS] = n < 1.0 ? 1.0 : n;
        return 1;
    } else if (!strcmp(w, "precision")) {
        next(P);
        double pr = parse_float(P, "precision");
        d[JULIA_PRECISION] = 1.0 / (pr < 1.0 ? 1.0 : pr);
        return 1;
    } else if (!strcmp(w, "slice")) {
        next(P);
        parse_julia_slice(P, d, line);
        return 1;
    } else {
        return 0;
    }
    next(P);
    return 1;
}

static void parse_julia_fractal(parser *P, prim *p, const token *kw)
{
    (void)kw;
    double d[JULIA_DATA_N] = {0};
    parse_vector4(P, "julia_fractal", d + JULIA_C);
    d[JULIA_SLICE + 3] = 1.0;
    d[JULIA_ITERATIONS] = 20.0;
    d[JULIA_PRECISION] = 1.0 / 20.0;
    while (parse_julia_item(P, d))
        ;
    const double *c = d + JULIA_C;
    if (d[JULIA_ALGEBRA] == JULIA_QUATERNION) {
        double r = 1.0 + rt_sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2] + c[3] * c[3]) + 1e-7;
        r = r > 2.0 ? 2.0 : r;
        d[JULIA_EXIT] = r * r + 1e-7;
        d[JULIA_RADIUS2] = r * r;
    } else {
        d[JULIA_EXIT] = 16.0;
        d[JULIA_RADIUS2] = 16.0;
    }
    p->type = OBJ_JULIA_FRACTAL;
    prim_set_data(P, p, d, JULIA_DATA_N);
}
