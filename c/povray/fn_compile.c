/* fn_compile.c -- user functions compiled for render time (hosted C, parser only; fn.h).
 *
 * A function body (POV-Ray 3.7's function syntax: numbers, x y z and the parameters, + - *
 * / unary - ! < <= > >= = != & | ?:, the float functions abs acos acosh asin asinh atan
 * atan2 atanh ceil cos cosh degrees exp floor int ln log max min mod pow radians select sin
 * sinh sqrt tan tanh, declared floats and vectors' components, pi and the other keyword
 * floats, and calls of declared functions) becomes stack-machine instructions. A call of a
 * declared function is inlined: its arguments go into fresh locals that its parameters name.
 * A function whose body is `internal(N)` becomes one FN_INTERNAL; `pattern { }` and
 * `pigment { }` bodies put their pigment in the scene's function pigments (FN_PATTERN, and
 * FN_PIGMENT with the component named after the call: .x .red .gray ...).
 */
#include <stdlib.h>
#include <string.h>

#include "fn.h"
#include "lang.h"

struct fn_pool {
    fn_instr *code;
    size_t n, cap;
    fn_def *defs;
    size_t ndefs, capdefs;
    pigment *pigs;
    size_t npigs, cappigs;
};

#define MAX_BINDINGS 256
#define MAX_INLINE_DEPTH 32

typedef struct {
    parser *P;
    struct fn_pool *pool;
    struct { char name[64]; uint32_t local; } b[MAX_BINDINGS];
    size_t nb, base;   /* bindings in scope: b[base .. nb) */
    uint32_t n_locals;
    int sp;            /* the stack depth the code reached so far */
    int inline_depth;
    const pov_macro *inlined; /* the declared function being inlined: its captures */
} fnc;

static struct fn_pool *pool_of(parser *P)
{
    if (!P->fns) {
        P->fns = calloc(1, sizeof *P->fns);
        if (!P->fns)
            perr(P, P->line, "out of memory");
    }
    return P->fns;
}

static void emit(fnc *c, uint32_t op, uint32_t a, double k, int pops, int pushes)
{
    struct fn_pool *p = c->pool;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->code = xrealloc(c->P, p->code, p->cap * sizeof *p->code);
    }
    if (p->n >= POV_FN_MAX_CODE)
        perr(c->P, c->P->line, "unsupported: functions of more than %u instructions in a scene",
             POV_FN_MAX_CODE);
    p->code[p->n++] = (fn_instr){op, a, k};
    c->sp += pushes - pops;
    if (c->sp > POV_FN_STACK)
        perr(c->P, c->P->line, "unsupported: a function nested deeper than %d values",
             POV_FN_STACK);
}

static void emit_op(fnc *c, uint32_t op, int pops) { emit(c, op, 0, 0.0, pops, 1); }

static void c_expr(fnc *c);

/* ------------------------------------------------------------------ the built-in functions */
typedef struct { const char *name; uint32_t op; int min_args, max_args; } builtin;
static const builtin BUILTINS[] = {
    {"abs", FN_ABS, 1, 1}, {"sqrt", FN_SQRT, 1, 1}, {"exp", FN_EXP, 1, 1},
    {"ln", FN_LN, 1, 1}, {"log", FN_LOG10, 1, 1}, {"sin", FN_SIN, 1, 1},
    {"cos", FN_COS, 1, 1}, {"tan", FN_TAN, 1, 1}, {"asin", FN_ASIN, 1, 1},
    {"acos", FN_ACOS, 1, 1}, {"atan", FN_ATAN, 1, 1}, {"sinh", FN_SINH, 1, 1},
    {"cosh", FN_COSH, 1, 1}, {"tanh", FN_TANH, 1, 1}, {"asinh", FN_ASINH, 1, 1},
    {"acosh", FN_ACOSH, 1, 1}, {"atanh", FN_ATANH, 1, 1}, {"floor", FN_FLOOR, 1, 1},
    {"ceil", FN_CEIL, 1, 1}, {"int", FN_INT, 1, 1}, {"degrees", FN_DEGREES, 1, 1},
    {"radians", FN_RADIANS, 1, 1}, {"pow", FN_POW, 2, 2}, {"mod", FN_MOD, 2, 2},
    {"atan2", FN_ATAN2, 2, 2}, {"min", FN_MIN, 2, 64}, {"max", FN_MAX, 2, 64},
    {"select", FN_SELECT3, 3, 4},
};

static const builtin *builtin_of(const char *w)
{
    for (size_t i = 0; i < sizeof BUILTINS / sizeof BUILTINS[0]; i++)
        if (!strcmp(BUILTINS[i].name, w))
            return &BUILTINS[i];
    return NULL;
}

/* ( a, b, ... ): each compiled onto the stack; returns how many */
static int c_args(fnc *c, const char *name, int line)
{
    expect(c->P, "(", "after a function's name");
    int n = 0;
    while (!is_punct(c->P, ")")) {
        if (n == 64)
            perr(c->P, line, "%s: more than 64 arguments", name);
        c_expr(c);
        n++;
        if (!is_punct(c->P, ")"))
            expect(c->P, ",", "between function arguments");
    }
    c->P->have_tok = 0; /* the ')' */
    return n;
}

static void c_builtin(fnc *c, const builtin *b, const token *t)
{
    int n = c_args(c, b->name, t->line);
    if (n < b->min_args || n > b->max_args)
        perr(c->P, t->line, "%s takes %d to %d arguments in a function, got %d", b->name,
             b->min_args, b->max_args, n);
    if (b->op == FN_SELECT3) {
        emit_op(c, n == 3 ? FN_SELECT3 : FN_SELECT4, n);
        return;
    }
    if (n == 1) {
        emit_op(c, b->op, 1);
        return;
    }
    for (int i = 1; i < n; i++) /* min(a, b, c) = min(min(a, b), c) */
        emit_op(c, b->op, 2);
}

/* ------------------------------------------------------------------ calls of declared ones */
/* .x .y .z .red .green .blue .filter .transmit .t .gray after a colour: its index (5 gray) */
static int component(parser *P)
{
    static const char *const names[][2] = {{"x", "red"}, {"y", "green"}, {"z", "blue"},
                                           {"filter", "t"}, {"transmit", "transmit"},
                                           {"gray", "grey"}};
    if (!is_punct(P, "."))
        return -1;
    next(P);
    token w = next(P);
    for (int i = 0; i < 6; i++)
        if (!strcmp(w.text, names[i][0]) || !strcmp(w.text, names[i][1]))
            return i;
    perr(P, w.line, "unsupported word '.%s' after a colour in a function", w.text);
}

static uint32_t pool_pigment(parser *P, struct fn_pool *p, const pigment *pg)
{
    if (p->npigs == p->cappigs) {
        p->cappigs = p->cappigs ? p->cappigs * 2 : 16;
        p->pigs = xrealloc(P, p->pigs, p->cappigs * sizeof *p->pigs);
    }
    p->pigs[p->npigs] = *pg;
    return (uint32_t)p->npigs++;
}

static uint32_t add_pigment(fnc *c, int is_pattern)
{
    pigment pg;
    parse_fn_pigment(c->P, &pg, is_pattern);
    return pool_pigment(c->P, c->pool, &pg);
}

uint32_t fn_pool_add_pigment(parser *P)
{
    pigment pg;
    parse_fn_pigment(P, &pg, 0);
    return pool_pigment(P, pool_of(P), &pg);
}

static void c_internal(fnc *c, const token *name, int nargs)
{
    expect(c->P, "(", "after 'internal'");
    double num = parse_float(c->P, "the internal function's number");
    expect(c->P, ")", "after the internal function's number");
    const fn_internal *fi = fn_internal_of((uint32_t)num);
    if (!(num >= 0 && num < 1000) || !fi)
        perr(c->P, name->line, "unsupported internal function %s (internal(%g))", name->text,
             num);
    if ((uint32_t)nargs != fi->n_args)
        perr(c->P, name->line, "%s takes %u arguments, got %d", name->text, fi->n_args, nargs);
    emit(c, FN_INTERNAL, fi->number, 0.0, nargs, 1);
}

/* The body of a declared function whose parameters are bound to the locals that hold its
   arguments: { EXPR } */
static void c_inline_body(fnc *c, const pov_macro *m, const token *name, int nargs)
{
    if (c->nb + (size_t)nargs > MAX_BINDINGS || c->n_locals + (uint32_t)nargs > POV_FN_LOCALS)
        perr(c->P, name->line, "unsupported: functions nested too deep (%s)", name->text);
    size_t saved_base = c->base, first = c->nb;
    for (int i = nargs - 1; i >= 0; i--) {
        uint32_t local = c->n_locals + (uint32_t)i;
        emit(c, FN_STORE, local, 0.0, 1, 0);
        strcpy(c->b[first + (size_t)i].name, m->params[i]);
        c->b[first + (size_t)i].local = local;
    }
    c->n_locals += (uint32_t)nargs;
    c->nb = first + (size_t)nargs;
    c->base = first;
    const pov_macro *saved_inlined = c->inlined;
    c->inlined = m;
    c_expr(c);
    expect(c->P, "}", "at the end of a function's body (one float expression)");
    c->inlined = saved_inlined;
    c->nb = first;
    c->base = saved_base;
}

static void c_call(fnc *c, const pov_macro *m, const token *name)
{
    if (++c->inline_depth > MAX_INLINE_DEPTH)
        perr(c->P, name->line, "unsupported: function calls nested more than %d deep",
             MAX_INLINE_DEPTH);
    int nargs = c_args(c, name->text, name->line);
    if (nargs != m->nparams) /* here, before its body (another file, maybe) is read */
        perr(c->P, name->line, "function %s takes %d parameters, got %d", name->text,
             m->nparams, nargs);
    lex_push_body(c->P, m);
    for (int i = 0; i < m->ncaps; i++) /* a pigment body reads them by name */
        set_sym(c->P, m->caps[i].name, m->caps[i].v, 1);
    expect(c->P, "{", "at the start of a function's body");
    token *t = peek(c->P);
    int is_pattern = t->kind == T_IDENT && !strcmp(t->text, "pattern");
    int is_pigment = t->kind == T_IDENT && !strcmp(t->text, "pigment");
    if (t->kind == T_IDENT && !strcmp(t->text, "internal")) {
        next(c->P);
        c_internal(c, name, nargs);
        expect(c->P, "}", "after internal(N)");
    } else if (is_pattern || is_pigment) {
        next(c->P);
        if (nargs != 3) {
            lex_pop_body(c->P); /* the message names the call */
            perr(c->P, name->line, "%s takes 3 arguments (x, y, z), got %d", name->text, nargs);
        }
        uint32_t pig = add_pigment(c, is_pattern);
        expect(c->P, "}", "after the function's pigment");
        lex_pop_body(c->P);
        int k = is_pigment ? component(c->P) : 0;
        if (is_pigment && k < 0)
            perr(c->P, name->line, "%s gives a colour: take one part of it (%s(x, y, z).red, "
                 ".x, .gray ...)", name->text, name->text);
        emit(c, is_pattern ? FN_PATTERN : FN_PIGMENT, pig, k, 3, 1);
        c->inline_depth--;
        return;
    } else {
        c_inline_body(c, m, name, nargs);
    }
    lex_pop_body(c->P);
    c->inline_depth--;
}

/* ------------------------------------------------------------------ expressions */
static int binding_of(const fnc *c, const char *w, uint32_t *local)
{
    for (size_t i = c->nb; i-- > c->base;)
        if (!strcmp(c->b[i].name, w)) {
            *local = c->b[i].local;
            return 1;
        }
    return 0;
}

static const value *captured(const fnc *c, const char *w)
{
    for (int i = 0; c->inlined && i < c->inlined->ncaps; i++)
        if (!strcmp(c->inlined->caps[i].name, w))
            return &c->inlined->caps[i].v;
    return NULL;
}

static void c_declared(fnc *c, const token *t, const value *v)
{
    if (v->kind == V_FLOAT) {
        emit(c, FN_CONST, 0, v->c[0], 0, 1);
    } else if (v->kind == V_VEC) {
        int k = component(c->P);
        if (k < 0 || k > 4 || k >= v->n)
            perr(c->P, t->line, "%s is a vector: a function takes one of its numbers (.x ...)",
                 t->text);
        emit(c, FN_CONST, 0, v->c[k], 0, 1);
    } else if (v->kind == V_FUNCTION) {
        c_call(c, v->mac, t);
    } else if (v->kind == V_BROKEN) {
        perr(c->P, t->line, "%s", v->str);
    } else if (v->kind == V_SPLINE) {
        perr(c->P, t->line, "unsupported: the spline %s in a function evaluated while rendering "
             "(splines are called while parsing)", t->text);
    } else {
        perr(c->P, t->line, "%s is a %s: a function can use floats and functions", t->text,
             kind_name(v->kind));
    }
}

static void c_ident(fnc *c, const token *t)
{
    uint32_t local;
    double k;
    const builtin *b;
    const symbol *s;
    const value *v;
    if (binding_of(c, t->text, &local)) {
        emit(c, FN_LOAD, local, 0.0, 0, 1);
    } else if ((v = captured(c, t->text)) != NULL) {
        c_declared(c, t, v);
    } else if ((s = find_sym(c->P, t->text)) != NULL) {
        c_declared(c, t, &s->v);
    } else if ((b = builtin_of(t->text)) != NULL) {
        c_builtin(c, b, t);
    } else if (expr_keyword_float(c->P, t, &k)) {
        emit(c, FN_CONST, 0, k, 0, 1);
    } else {
        perr(c->P, t->line, "unsupported word '%s' in a function (its parameters, numbers, "
             "float functions and declared functions are supported)", t->text);
    }
}

static void c_primary(fnc *c)
{
    token t = next(c->P);
    if (t.kind == T_NUM) {
        emit(c, FN_CONST, 0, t.num, 0, 1);
    } else if (t.kind == T_PUNCT && !strcmp(t.text, "(")) {
        c_expr(c);
        expect(c->P, ")", "to close '(' in a function");
    } else if (t.kind == T_IDENT) {
        c_ident(c, &t);
    } else {
        perr(c->P, t.line, "unexpected '%s' in a function", t.text);
    }
}

static void c_unary(fnc *c)
{
    if (is_punct(c->P, "-") || is_punct(c->P, "!")) {
        token op = next(c->P);
        c_unary(c);
        emit_op(c, op.text[0] == '-' ? FN_NEG : FN_NOT, 1);
    } else if (is_punct(c->P, "+")) {
        next(c->P);
        c_unary(c);
    } else {
        c_primary(c);
    }
}

/* One level of left-associative binary operators: ops[i] compiles to codes[i]. */
typedef struct { const char *ops[6]; uint32_t codes[6]; void (*next)(fnc *c); } level;

static void c_level(fnc *c, const level *l)
{
    l->next(c);
    for (;;) {
        int which = -1;
        for (int i = 0; i < 6 && l->ops[i]; i++)
            if (is_punct(c->P, l->ops[i]))
                which = i;
        if (which < 0)
            return;
        next(c->P);
        l->next(c);
        emit_op(c, l->codes[which], 2);
    }
}

static void c_mul(fnc *c)
{
    static const level l = {{"*", "/"}, {FN_MUL, FN_DIV}, c_unary};
    c_level(c, &l);
}

static void c_add(fnc *c)
{
    static const level l = {{"+", "-"}, {FN_ADD, FN_SUB}, c_mul};
    c_level(c, &l);
}

static void c_cmp(fnc *c)
{
    static const level l = {{"<", "<=", ">", ">=", "=", "!="},
                            {FN_LT, FN_LE, FN_GT, FN_GE, FN_EQ, FN_NE}, c_add};
    c_level(c, &l);
}

static void c_and(fnc *c)
{
    static const level l = {{"&"}, {FN_AND}, c_cmp};
    c_level(c, &l);
}

static void c_or(fnc *c)
{
    static const level l = {{"|"}, {FN_OR}, c_and};
    c_level(c, &l);
}

static void c_expr(fnc *c)
{
    c_or(c);
    if (!is_punct(c->P, "?"))
        return;
    next(c->P);
    c_expr(c);
    expect(c->P, ":", "in 'c ? a : b'");
    c_expr(c);
    emit_op(c, FN_COND, 3);
}

/* ------------------------------------------------------------------ functions */
static void fnc_start(fnc *c, parser *P)
{
    memset(c, 0, sizeof *c);
    c->P = P;
    c->pool = pool_of(P);
    static const char *const xyz[] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        strcpy(c->b[i].name, xyz[i]);
        c->b[i].local = (uint32_t)i;
    }
    c->nb = 3;
    c->n_locals = 3;
}

static uint32_t fnc_finish(fnc *c, size_t first)
{
    struct fn_pool *p = c->pool;
    if (p->ndefs == p->capdefs) {
        p->capdefs = p->capdefs ? p->capdefs * 2 : 16;
        p->defs = xrealloc(c->P, p->defs, p->capdefs * sizeof *p->defs);
    }
    p->defs[p->ndefs] = (fn_def){(uint32_t)first, (uint32_t)(p->n - first), c->n_locals};
    return (uint32_t)p->ndefs++;
}

uint32_t fn_compile_block(parser *P)
{
    fnc c;
    fnc_start(&c, P);
    size_t first = c.pool->n;
    expect(P, "{", "after 'function'");
    token *t = peek(P);
    if (t->kind == T_IDENT && (!strcmp(t->text, "pattern") || !strcmp(t->text, "pigment") ||
                               !strcmp(t->text, "internal")))
        perr(P, t->line, "unsupported: '%s' in an unnamed function here (declare it: "
             "#declare F = function { %s ... }, then use F(x, y, z))", t->text, t->text);
    c_expr(&c);
    expect(P, "}", "at the end of a function (one float expression)");
    return fnc_finish(&c, first);
}

void fn_pool_to_scene(parser *P, scene *out)
{
    struct fn_pool *p = P->fns;
    if (!p)
        return;
    out->n_funcs = (uint32_t)p->ndefs;
    out->n_fcode = (uint32_t)p->n;
    out->n_fpigs = (uint32_t)p->npigs;
    out->funcs = p->defs;
    out->fcode = p->code;
    out->fpigs = p->pigs;
    p->defs = NULL, p->code = NULL, p->pigs = NULL;
    p->ndefs = p->n = p->npigs = 0;
    p->capdefs = p->cap = p->cappigs = 0;
}

/* A function whose body is internal(N), pattern { } or pigment { } called while parsing
   (isocacti.pov: #if (rand(RS) > CtrlPtrn(Pt.x, Pt.y, Pt.z))): evaluated at once with the
   pigments, maps and noise generator declared so far; the pool is left as it was. The body's
   '{' has been read. */
value fn_call_now(parser *P, const token *name, const double *args, int n)
{
    fnc c;
    fnc_start(&c, P);
    token t = next(P);
    if (!strcmp(t.text, "internal")) {
        expect(P, "(", "after 'internal'");
        double num = parse_float(P, "the internal function's number");
        expect(P, ")", "after the internal function's number");
        expect(P, "}", "after internal(N)");
        const fn_internal *fi = num >= 0 && num < 1000 ? fn_internal_of((uint32_t)num) : NULL;
        if (!fi)
            perr(P, name->line, "unsupported internal function %s (internal(%g))", name->text, num);
        if ((uint32_t)n != fi->n_args)
            perr(P, name->line, "%s takes %u arguments, got %d", name->text, fi->n_args, n);
        scene s;
        size_t mark[3];
        fn_scratch_begin(P, mark);
        fn_scratch_scene(P, &s, mark); /* f_noise3d reads the noise generator */
        double v = fi->eval(args);
        fn_scratch_end(P, mark);
        return fval(v);
    }
    if (n != 3)
        perr(P, name->line, "%s takes 3 arguments (x, y, z), got %d", name->text, n);
    int is_pattern = !strcmp(t.text, "pattern");
    scene s;
    size_t mark[3];
    fn_scratch_begin(P, mark);
    uint32_t pig = add_pigment(&c, is_pattern);
    expect(P, "}", "after the function's pigment");
    fn_scratch_scene(P, &s, mark);
    vec3 at = v3(args[0], args[1], args[2]);
    value v;
    if (is_pattern) {
        v = fval(fn_pigment_pattern(pig, at));
    } else {
        double col[5];
        fn_pigment_colour(pig, at, col);
        memset(&v, 0, sizeof v);
        v.kind = V_VEC;
        v.n = 5;
        memcpy(v.c, col, sizeof col);
    }
    fn_scratch_end(P, mark);
    return v;
}

pigment *fn_pool_pigments(parser *P, size_t *n)
{
    *n = P->fns ? P->fns->npigs : 0;
    return P->fns ? P->fns->pigs : NULL;
}

void fn_pool_drop_pigments(parser *P, size_t n)
{
    if (P->fns && n < P->fns->npigs)
        P->fns->npigs = n;
}

void fn_pool_view(parser *P, scene *out)
{
    struct fn_pool *p = P->fns;
    out->n_funcs = p ? (uint32_t)p->ndefs : 0;
    out->n_fcode = p ? (uint32_t)p->n : 0;
    out->n_fpigs = p ? (uint32_t)p->npigs : 0;
    out->funcs = p ? p->defs : NULL;
    out->fcode = p ? p->code : NULL;
    out->fpigs = p ? p->pigs : NULL;
}

void fn_pool_free(parser *P)
{
    if (!P->fns)
        return;
    free(P->fns->code);
    free(P->fns->defs);
    free(P->fns->pigs);
    free(P->fns);
    P->fns = NULL;
}

/* height_field { function W, H { EXPR | pigment { } } }: the function at each grid point
   (x / (W-1), y / (H-1), 0), row y = 0 first, as POV-Ray's Make_Pattern_Image evaluates it
   while parsing: one float per point, or (pigment) red, green, blue, transmit per point. */
int fn_grid_now(parser *P, uint32_t w, uint32_t h, double *out)
{
    fnc c;
    fnc_start(&c, P);
    expect(P, "{", "after the height_field function's size");
    int is_pigment = is_word(P, "pigment");
    uint32_t f = 0, pig = 0;
    size_t first = c.pool->n, mark[3];
    fn_scratch_begin(P, mark);
    if (is_pigment) {
        next(P);
        pig = add_pigment(&c, 0);
    } else {
        c_expr(&c);
        f = fnc_finish(&c, first);
    }
    expect(P, "}", "at the end of the height_field's function");
    scene s;
    fn_scratch_scene(P, &s, mark);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            vec3 at = v3((double)x / (w - 1), (double)y / (h - 1), 0.0);
            size_t i = (size_t)y * w + x;
            if (!is_pigment) {
                out[i] = fn_eval(f, at);
                continue;
            }
            double col[5];
            fn_pigment_colour(pig, at, col);
            out[4 * i] = col[0], out[4 * i + 1] = col[1], out[4 * i + 2] = col[2];
            out[4 * i + 3] = col[4];
        }
    fn_scratch_end(P, mark);
    return is_pigment;
}
