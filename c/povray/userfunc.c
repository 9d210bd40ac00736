/* userfunc.c -- user-defined float functions (POV-Ray 3.7's reference manual, "User-Defined
 * Functions"): #declare F = function [(P1, P2, ...)] { FLOAT EXPRESSION } -- parameters x, y, z
 * when none are listed -- and calls F(a, b, ...) inside expressions. The body is kept as
 * text and evaluated at each call with the parameters bound as local floats, with the
 * expression language of expr.c (the float functions, operators and conditionals POV-Ray
 * functions have). Pattern, pigment and internal functions are evaluated at render time
 * only (fn_compile.c); splines and transform functions become a declaration that fails when
 * it is used, naming file, line and word, as other unsupported declarations do.
 */
#include <stdio.h>
#include <string.h>

#include "fn.h"
#include "lang.h"

#define MAX_PARAMS 16

static frame *cur(parser *P) { return &P->frames[P->nframes - 1]; }

static void read_params(parser *P, pov_macro *m, int line)
{
    next(P); /* ( */
    while (!is_punct(P, ")")) {
        token t = next(P);
        if (t.kind != T_IDENT || m->nparams == MAX_PARAMS)
            perr(P, t.line, "bad function parameter '%s' (identifiers, at most %d)", t.text,
                 MAX_PARAMS);
        snprintf(m->params[m->nparams++], sizeof m->params[0], "%s", t.text);
        if (!is_punct(P, ")"))
            expect(P, ",", "between function parameters");
    }
    (void)line;
    P->have_tok = 0; /* the ')': read nothing past it */
}

/* the body's first word when it makes a function we do not evaluate, else NULL */
static const char *unsupported_body(parser *P)
{
    static const char *const words[] = {"transform", "function"};
    token *t = peek(P);
    if (t->kind == T_STRING)
        return "\"...\" (a built-in function by name)";
    for (size_t i = 0; t->kind == T_IDENT && i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(t->text, words[i]))
            return words[i];
    return NULL;
}

/* A symbol of a scope other than the global one, else NULL. */
static const symbol *local_sym(parser *P, const char *name)
{
    for (size_t k = P->nscopes; k-- > 1;) {
        const symbol *s = symtab_find(&P->scopes[k], name);
        if (s)
            return s;
    }
    return NULL;
}

static int is_param(const pov_macro *m, const char *name)
{
    for (int i = 0; i < m->nparams; i++)
        if (!strcmp(m->params[i], name))
            return 1;
    return 0;
}

/* The body (at its '{') read once: each local float, vector, function, pigment or colour
   map it names is kept with its value now (fn_capture), for a body read after the macro
   that declared it has returned. */
static void capture_locals(parser *P, pov_macro *m)
{
    token t;
    lex_raw(P, &t);
    int depth = 1, cap = 0;
    while (depth > 0) {
        lex_raw(P, &t);
        if (t.kind == T_EOF)
            return; /* lex_skip_block_value reports it */
        depth += t.kind == T_PUNCT && t.text[0] == '{';
        depth -= t.kind == T_PUNCT && t.text[0] == '}';
        const symbol *s = t.kind == T_IDENT && !is_param(m, t.text) ? local_sym(P, t.text) : NULL;
        if (!s || !(s->v.kind == V_FLOAT || s->v.kind == V_VEC || s->v.kind == V_FUNCTION ||
                    s->v.kind == V_PIGMENT || s->v.kind == V_COLOUR_MAP))
            continue;
        int seen = 0;
        for (int i = 0; i < m->ncaps && !seen; i++)
            seen = !strcmp(m->caps[i].name, t.text);
        if (seen)
            continue;
        if (m->ncaps == cap) {
            fn_capture *bigger = xalloc(P, sizeof *bigger * (size_t)(cap ? cap * 2 : 8));
            if (m->ncaps)
                memcpy(bigger, m->caps, sizeof *bigger * (size_t)m->ncaps);
            m->caps = bigger;
            cap = cap ? cap * 2 : 8;
        }
        snprintf(m->caps[m->ncaps].name, sizeof m->caps[0].name, "%s", t.text);
        m->caps[m->ncaps++].v = s->v;
    }
}

/* function { internal(N) } (functions.inc): without a parameter list it takes the internal
   function's arguments (x, y, z, P0, P1 ...). 0 with msg set for an N we lack. */
static int internal_params(parser *P, pov_macro *m, int listed, char *msg, size_t cap)
{
    token kw = next(P);
    expect(P, "(", "after 'internal'");
    double num = parse_float(P, "the internal function's number");
    const fn_internal *fi = num >= 0 && num < 1000 ? fn_internal_of((uint32_t)num) : NULL;
    if (!fi) {
        snprintf(msg, cap, "%s:%d: unsupported internal function internal(%g) (functions.inc's "
                 "f_ph f_r f_rounded_box f_sphere f_th f_torus f_noise3d f_noise_generator are "
                 "supported)", m->file, kw.line, num);
        return 0;
    }
    if (!listed) {
        m->nparams = (int)fi->n_args;
        for (int i = 3; i < m->nparams && i < MAX_PARAMS; i++)
            snprintf(m->params[i], sizeof m->params[i], "P%d", i - 3);
    }
    return 1;
}

/* function { spline { } } (its '{' read): the spline, called as S(t) */
static value spline_function(parser *P)
{
    next(P);
    value v = {0};
    v.kind = V_SPLINE;
    v.spl = spline_parse(P);
    expect(P, "}", "after the function's spline");
    return v;
}

value userfunc_declare(parser *P, const token *kw)
{
    pov_macro *m = xalloc(P, sizeof *m);
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "function");
    frame *f = cur(P);
    size_t pos = f->pos;
    int line = f->line;
    int listed = peek(P)->kind == T_PUNCT && peek(P)->text[0] == '(';
    if (listed) {
        read_params(P, m, kw->line);
        f = cur(P);
        pos = f->pos;
        line = f->line;
    } else {
        P->have_tok = 0; /* un-read the '{' */
        f->pos = pos;
        f->line = line;
        m->nparams = 3;
        strcpy(m->params[0], "x");
        strcpy(m->params[1], "y");
        strcpy(m->params[2], "z");
    }
    m->file = f->name;
    m->src = f->src;
    m->body_pos = pos; /* at the '{' */
    m->body_line = line;
    expect(P, "{", "after 'function'");
    if (is_word(P, "spline"))
        return spline_function(P);
    const char *bad = unsupported_body(P);
    int bad_line = peek(P)->line;
    char imsg[256];
    int bad_internal = !bad && is_word(P, "internal") &&
                       !internal_params(P, m, listed, imsg, sizeof imsg);
    P->have_tok = 0;
    f = cur(P);
    f->pos = pos;
    f->line = line;
    if (P->nscopes > 1)
        capture_locals(P, m);
    f->pos = pos;
    f->line = line;
    if (!lex_skip_block_value(P))
        perr(P, kw->line, "expected '{' after 'function'");
    value v = {0};
    v.kind = V_FUNCTION;
    v.mac = m;
    if (bad_internal) {
        v.kind = V_BROKEN;
        v.str = pool_str(P, imsg, strlen(imsg));
    } else if (bad) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s:%d: unsupported word '%s' in function { } (only float "
                 "functions of expressions are supported)", m->file, bad_line, bad);
        v.kind = V_BROKEN;
        v.str = pool_str(P, msg, strlen(msg));
    }
    return v;
}

/* Is the body (its '{' read) internal(N), pattern { } or pigment { }? */
static int render_time_body(parser *P)
{
    static const char *const words[] = {"pattern", "pigment", "internal"};
    token *t = peek(P);
    for (size_t i = 0; t->kind == T_IDENT && i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(t->text, words[i]))
            return 1;
    return 0;
}

value userfunc_call(parser *P, const pov_macro *fn, const token *name)
{
    double args[MAX_PARAMS];
    int n = 0;
    expect(P, "(", "after a function's name");
    while (!is_punct(P, ")")) {
        if (n == fn->nparams)
            perr(P, name->line, "function %s takes %d parameters, got more", name->text,
                 fn->nparams);
        args[n++] = parse_float(P, "a function argument");
        if (!is_punct(P, ")"))
            expect(P, ",", "between function arguments");
    }
    if (n != fn->nparams)
        perr(P, name->line, "function %s takes %d parameters, got %d", name->text, fn->nparams, n);
    P->have_tok = 0; /* the ')': the body comes next */
    lex_push_body(P, fn);
    expect(P, "{", "at the start of a function's body");
    for (int i = 0; i < fn->ncaps; i++)
        set_sym(P, fn->caps[i].name, fn->caps[i].v, 1);
    if (render_time_body(P)) {
        value v = fn_call_now(P, name, args, n);
        lex_pop_body(P);
        return v;
    }
    for (int i = 0; i < n; i++)
        set_sym(P, fn->params[i], fval(args[i]), 1);
    value v = expr(P);
    expect(P, "}", "at the end of a function's body (one float expression)");
    lex_pop_body(P);
    if (v.kind != V_FLOAT)
        perr(P, name->line, "function %s gives a %s: only float functions are supported",
             name->text, kind_name(v.kind));
    return v;
}
