/* rainbow_parse.c -- rainbow { angle A width W distance D direction V [up V] [jitter J]
 * [arc_angle A] [falloff_angle F] color_map { } } as POV-Ray 3.7's Parse_Rainbow reads and
 * prepares it (its defaults: distance 1e7, up y, arc and falloff angles 180 as given in
 * radians -- no limit, no falloff; the arc alone sets the falloff to it). Included by
 * parse.c (it shares its colour map and pattern helpers); the rendering is rainbow.c. */

static void rainbow_word(parser *P, rainbow *rb, const token *t, int *arc, int *fall)
{
    const char *w = t->text;
    if (!strcmp(w, "angle"))
        rb->angle = parse_float(P, "angle");
    else if (!strcmp(w, "width"))
        rb->width = parse_float(P, "width");
    else if (!strcmp(w, "distance"))
        rb->distance = parse_float(P, "distance");
    else if (!strcmp(w, "jitter"))
        rb->jitter = parse_float(P, "jitter");
    else if (!strcmp(w, "direction"))
        rb->antisolar = parse_vector(P);
    else if (!strcmp(w, "up"))
        rb->up = parse_vector(P);
    else if (!strcmp(w, "arc_angle") || !strcmp(w, "falloff_angle")) {
        double a = parse_float(P, w);
        if (!(a >= 0.0 && a <= 360.0))
            perr(P, t->line, "%s must be in 0..360 degrees, got %g", w, a);
        *(w[0] == 'a' ? &rb->arc_angle : &rb->falloff_angle) = a * (RT_PI / 360.0);
        *(w[0] == 'a' ? arc : fall) = 1;
    } else if (!strcmp(w, "color_map") || !strcmp(w, "colour_map")) {
        colour_map m = parse_colour_map_body(P);
        parse_pattern_defaults(&rb->pig, PIG_GRADIENT);
        rb->pig.vec = v3(1.0, 0.0, 0.0);
        rb->pig.map = add_map(P, &m);
    } else {
        perr(P, t->line, "unsupported word '%s' in rainbow", w);
    }
}

/* The prepared rainbow, as POV-Ray leaves it after parsing (its checks, one line each). */
static void finish_rainbow(parser *P, rainbow *rb, int arc, int fall, int line)
{
    if (rb->pig.type < PIG_GRADIENT)
        perr(P, line, "rainbow needs a color_map");
    if (arc && !fall)
        rb->falloff_angle = rb->arc_angle;
    if (rb->arc_angle < rb->falloff_angle)
        perr(P, line, "rainbow: arc_angle is smaller than falloff_angle");
    rb->falloff_width = rb->arc_angle - rb->falloff_angle;
    if (vdot(rb->antisolar, rb->antisolar) < POV_EPSILON)
        perr(P, line, "rainbow: its direction vector is zero (give direction V)");
    if (vdot(rb->up, rb->up) < POV_EPSILON)
        perr(P, line, "rainbow: its up vector is zero");
    rb->antisolar = vnorm(rb->antisolar);
    rb->up = vnorm(rb->up);
    if (rt_fabs(1.0 - rt_fabs(vdot(rb->up, rb->antisolar))) < POV_EPSILON)
        perr(P, line, "rainbow: its up and direction vectors are co-linear");
    rb->right = vcross(rb->up, rb->antisolar);
    rb->up = vnorm(vcross(rb->antisolar, rb->right));
    rb->right = vnorm(rb->right);
    rb->angle = (rb->angle - 0.5 * rb->width) * (RT_PI / 180.0);
    rb->width *= RT_PI / 180.0;
    if (rb->width == 0.0 || rb->distance == 0.0)
        perr(P, line, "unsupported: a rainbow of width or distance 0 (POV-Ray draws nothing)");
}

static void parse_rainbow(parser *P)
{
    struct pov_scene_state *c = P->sc;
    int line = peek(P)->line;
    expect(P, "{", "after 'rainbow'");
    if (c->nrainbows == POV_MAX_RAINBOWS)
        perr(P, line, "more than %d rainbows", POV_MAX_RAINBOWS);
    rainbow rb;
    memset(&rb, 0, sizeof rb);
    rb.distance = 1.0e7; /* POV-Ray's MAX_DISTANCE */
    rb.up = v3(0.0, 1.0, 0.0);
    rb.arc_angle = rb.falloff_angle = 180.0;
    int arc = 0, fall = 0;
    for (token t = next(P); !(t.kind == T_PUNCT && t.text[0] == '}'); t = next(P)) {
        if (t.kind != T_IDENT)
            perr(P, t.line, "unexpected '%s' in rainbow", t.text);
        rainbow_word(P, &rb, &t, &arc, &fall);
    }
    finish_rainbow(P, &rb, arc, fall, line);
    c->rainbows[c->nrainbows++] = rb;
}
