/* userfunc.c -- user-defined float functions (POV-Ray 3.7's reference manual, "User-Defined
 * Functions"): #declare F = function [(P1, P2, ...)] { FLOAT EXPRESSION } -- parameters x, y, z
 * when none are listed -- and calls F(a, b, ...) inside expressions. The body is kept as
 * text and evaluated at each call with the parameters bound as local floats, with the
 * expression language of expr.c (the float functions, operators and conditionals POV-Ray
 * functions have). Pattern and other non-float functions (function { pattern { } },
 * pigment functions, splines, "internal" functions) become a declaration that fails when it
 * is used, naming file, line and word, as other unsupported declarations do.
 */
#include <stdio.h>
#include <string.h>

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
    static const char *const words[] = {"pattern", "pigment", "spline", "internal", "transform",
                                        "function"};
    token *t = peek(P);
    if (t->kind == T_STRING)
        return "\"...\" (a built-in function by name)";
    for (size_t i = 0; t->kind == T_IDENT && i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(t->text, words[i]))
            return words[i];
    return NULL;
}

value userfunc_declare(parser *P, const token *kw)
{
    pov_macro *m = xalloc(P, sizeof *m);
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "function");
    frame *f = cur(P);
    size_t pos = f->pos;
    int line = f->line;
    if (peek(P)->kind == T_PUNCT && peek(P)->text[0] == '(') {
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
    const char *bad = unsupported_body(P);
    int bad_line = peek(P)->line;
    P->have_tok = 0;
    f = cur(P);
    f->pos = pos;
    f->line = line;
    if (!lex_skip_block_value(P))
        perr(P, kw->line, "expected '{' after 'function'");
    value v = {0};
    v.kind = V_FUNCTION;
    v.mac = m;
    if (bad) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s:%d: unsupported word '%s' in function { } (only float "
                 "functions of expressions are supported)", m->file, bad_line, bad);
        v.kind = V_BROKEN;
        v.str = pool_str(P, msg, strlen(msg));
    }
    return v;
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
    for (int i = 0; i < n; i++)
        set_sym(P, fn->params[i], fval(args[i]), 1);
    expect(P, "{", "at the start of a function's body");
    value v = expr(P);
    expect(P, "}", "at the end of a function's body (one float expression)");
    lex_pop_body(P);
    if (v.kind != V_FLOAT)
        perr(P, name->line, "function %s gives a %s: only float functions are supported",
             name->text, kind_name(v.kind));
    return v;
}
