/* prims_iso_parse.c -- isosurface { } in the scene language (hosted; prims_parse.c includes
 * it): function { }, contained_by { box { } | sphere { } }, threshold, accuracy,
 * max_gradient, max_trace, all_intersections, open, with POV-Ray 3.7's defaults (the box
 * -1..1, accuracy 0.001, max_gradient 1.1, max_trace 1; all_intersections is its
 * ISOSURFACE_MAXTRACE, 10). `evaluate` (max_gradient found while rendering) is refused: it
 * changes with the order rays are traced, and every worker must agree.
 */

static void parse_contained_by(parser *P, prim *p)
{
    expect(P, "{", "after contained_by");
    token t = next(P);
    if (t.kind == T_IDENT && !strcmp(t.text, "box")) {
        expect(P, "{", "after box");
        vec3 a = parse_vector(P);
        opt_comma(P);
        vec3 b = parse_vector(P);
        p->a = v3(rt_fmin(a.x, b.x), rt_fmin(a.y, b.y), rt_fmin(a.z, b.z));
        p->b = v3(rt_fmax(a.x, b.x), rt_fmax(a.y, b.y), rt_fmax(a.z, b.z));
        p->r2 = 0.0;
    } else if (t.kind == T_IDENT && !strcmp(t.text, "sphere")) {
        expect(P, "{", "after sphere");
        p->a = parse_vector(P);
        opt_comma(P);
        p->r = parse_float(P, "the container's radius");
        if (!(p->r > 0.0))
            perr(P, t.line, "contained_by sphere radius must be positive, got %g", p->r);
        p->r2 = 1.0;
    } else {
        perr(P, t.line, "contained_by needs box { } or sphere { }, got '%s'", t.text);
    }
    expect(P, "}", "after the container's numbers");
    expect(P, "}", "to close contained_by");
}

/* The number after one of the isosurface's own words into d[], checked */
static int parse_iso_number(parser *P, const char *w, double *d, int line)
{
    static const struct { const char *w; int slot; double min; } NUMBERS[] = {
        {"threshold", ISO_THRESHOLD, -1e300}, {"accuracy", ISO_ACCURACY, 1e-12},
        {"max_gradient", ISO_MAX_GRADIENT, 1e-12}, {"max_trace", ISO_MAX_TRACE, 1},
    };
    for (size_t i = 0; i < sizeof NUMBERS / sizeof NUMBERS[0]; i++) {
        if (strcmp(w, NUMBERS[i].w))
            continue;
        next(P);
        double v = parse_float(P, w);
        if (!(v >= NUMBERS[i].min))
            perr(P, line, "isosurface %s must be at least %g, got %g", w, NUMBERS[i].min, v);
        if (NUMBERS[i].slot == ISO_MAX_TRACE && v > ISO_MAX_HITS - 2)
            perr(P, line, "unsupported: isosurface max_trace above %d", ISO_MAX_HITS - 2);
        d[NUMBERS[i].slot] = NUMBERS[i].slot == ISO_MAX_TRACE ? (double)(int)v : v;
        return 1;
    }
    return 0;
}

static void parse_isosurface(parser *P, prim *p, const token *kw)
{
    double d[ISO_DATA_N] = {-1.0, 0.0, 0.001, 1.1, 1.0};
    p->type = OBJ_ISOSURFACE;
    p->a = v3(-1, -1, -1), p->b = v3(1, 1, 1), p->r2 = 0.0;
    for (;;) {
        token *t = peek(P);
        int line = t->line;
        if (t->kind != T_IDENT)
            break;
        if (!strcmp(t->text, "function")) {
            next(P);
            d[ISO_FN] = fn_compile_block(P);
        } else if (!strcmp(t->text, "contained_by")) {
            next(P);
            parse_contained_by(P, p);
        } else if (!strcmp(t->text, "open")) {
            next(P);
            p->flags |= PRIM_OPEN;
        } else if (!strcmp(t->text, "all_intersections")) {
            next(P);
            d[ISO_MAX_TRACE] = 10;
        } else if (!strcmp(t->text, "evaluate")) {
            perr(P, line, "unsupported word 'evaluate' in isosurface (give max_gradient)");
        } else if (!parse_iso_number(P, t->text, d, line)) {
            break;
        }
    }
    if (d[ISO_FN] < 0.0)
        perr(P, kw->line, "isosurface needs function { }");
    prim_set_data(P, p, d, ISO_DATA_N);
}
