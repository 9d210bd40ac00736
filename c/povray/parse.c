/* parse.c -- parser for the POV-Ray 3.7 scene-language subset (hosted C).
 *
 * Supported: #version, // and block comments, #declare/#local of floats, vectors,
 * colours, pigments, finishes and textures; global_settings { assumed_gamma 1
 * max_trace_level N }; background; camera { location look_at angle right up direction sky };
 * light_source { <pos> color }; sphere, plane, box, cylinder, union (a group);
 * translate/rotate/scale on objects, unions, pigments and textures; pigment { color rgb |
 * rgb | checker A B }; finish { ambient diffuse brilliance phong phong_size specular
 * roughness reflection }; texture { pigment finish }. Float/vector expressions with
 * + - * / ( ) <a,b,c>, x y z pi and sqrt sin cos tan pow abs radians.
 * Anything else is an error naming the file, line and the word.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "render.h"
#include "rt_math.h"

/* ------------------------------------------------------------------ lexer */
enum { T_EOF, T_NUM, T_IDENT, T_PUNCT, T_DIRECTIVE };

typedef struct {
    int kind;
    double num;
    char text[64];
    int line;
} token;

enum { V_FLOAT, V_VEC, V_PIGMENT, V_FINISH, V_TEXTURE };

typedef struct {
    int has_pig, has_fin;
    pigment pig;
    finish fin;
} texture;

typedef struct {
    char name[64];
    int kind;
    double f;
    vec3 v;
    texture tex; /* pigment / finish / texture values */
} symbol;

typedef struct {
    prim p;
    int textured;
} pprim;

typedef struct {
    pprim *v;
    size_t n, cap;
} plist;

typedef struct {
    const char *name;
    const char *src;
    size_t pos;
    int line;
    token tok;     /* current token */
    int have_tok;
    char *err;
    size_t errlen;
    jmp_buf jb;
    symbol *syms;
    size_t nsyms, capsyms;
    plist out;
    light *lights;
    size_t nlights, caplights;
    /* camera */
    vec3 cam_loc, cam_dir, cam_right, cam_up, cam_sky, cam_look;
    int cam_has_look, cam_has_angle;
    double cam_angle;
    vec3 background;
    uint32_t max_trace;
} parser;

static void perr(parser *P, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

static void perr(parser *P, int line, const char *fmt, ...)
{
    int n = snprintf(P->err, P->errlen, "%s:%d: ", P->name, line);
    if (n < 0)
        n = 0;
    if ((size_t)n < P->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(P->err + n, P->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    longjmp(P->jb, 1);
}

static void *xrealloc(parser *P, void *p, size_t n)
{
    void *r = realloc(p, n ? n : 1);
    if (!r)
        perr(P, P->line, "out of memory");
    return r;
}

static void skip_space(parser *P)
{
    const char *s = P->src;
    for (;;) {
        char c = s[P->pos];
        if (c == '\n') {
            P->line++;
            P->pos++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            P->pos++;
        } else if (c == '/' && s[P->pos + 1] == '/') {
            while (s[P->pos] && s[P->pos] != '\n')
                P->pos++;
        } else if (c == '/' && s[P->pos + 1] == '*') {
            /* block comments nest, as in POV-Ray */
            int start = P->line, depth = 1;
            P->pos += 2;
            while (s[P->pos] && depth > 0) {
                if (s[P->pos] == '*' && s[P->pos + 1] == '/') {
                    depth--;
                    P->pos += 2;
                } else if (s[P->pos] == '/' && s[P->pos + 1] == '*') {
                    depth++;
                    P->pos += 2;
                } else {
                    if (s[P->pos] == '\n')
                        P->line++;
                    P->pos++;
                }
            }
            if (depth > 0)
                perr(P, start, "unterminated /* comment");
        } else {
            return;
        }
    }
}

static void lex(parser *P, token *t)
{
    skip_space(P);
    const char *s = P->src;
    t->line = P->line;
    t->text[0] = 0;
    char c = s[P->pos];
    if (!c) {
        t->kind = T_EOF;
        snprintf(t->text, sizeof t->text, "end of file");
        return;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[P->pos + 1]))) {
        char *end;
        errno = 0;
        t->num = strtod(s + P->pos, &end);
        size_t n = (size_t)(end - (s + P->pos));
        snprintf(t->text, sizeof t->text, "%.*s", (int)(n < 60 ? n : 60), s + P->pos);
        if (errno == ERANGE || !rt_isfinite(t->num))
            perr(P, t->line, "number '%s' out of range", t->text);
        P->pos += n;
        t->kind = T_NUM;
        return;
    }
    if (isalpha((unsigned char)c) || c == '_' || c == '#') {
        int dir = c == '#';
        size_t start = P->pos + (size_t)dir;
        if (dir) {
            P->pos++;
            while (s[P->pos] == ' ' || s[P->pos] == '\t')
                P->pos++;
            start = P->pos;
        }
        while (isalnum((unsigned char)s[P->pos]) || s[P->pos] == '_')
            P->pos++;
        size_t n = P->pos - start;
        if (n >= sizeof t->text)
            perr(P, t->line, "identifier too long (max 63 characters)");
        memcpy(t->text, s + start, n);
        t->text[n] = 0;
        if (dir && n == 0)
            perr(P, t->line, "'#' not followed by a directive name");
        t->kind = dir ? T_DIRECTIVE : T_IDENT;
        return;
    }
    if (strchr("{}<>,()+-*/;=", c)) {
        t->kind = T_PUNCT;
        t->text[0] = c;
        t->text[1] = 0;
        P->pos++;
        return;
    }
    if (c == '"')
        perr(P, t->line, "unsupported word: string literal");
    perr(P, t->line, "unexpected character '%c'", c);
}

static token *peek(parser *P)
{
    if (!P->have_tok) {
        lex(P, &P->tok);
        P->have_tok = 1;
    }
    return &P->tok;
}

static token next(parser *P)
{
    token t = *peek(P);
    P->have_tok = 0;
    return t;
}

static int is_punct(parser *P, char c)
{
    token *t = peek(P);
    return t->kind == T_PUNCT && t->text[0] == c;
}

static int is_word(parser *P, const char *w)
{
    token *t = peek(P);
    return t->kind == T_IDENT && strcmp(t->text, w) == 0;
}

static void expect(parser *P, char c, const char *where)
{
    token t = next(P);
    if (t.kind != T_PUNCT || t.text[0] != c)
        perr(P, t.line, "expected '%c' %s, got '%s'", c, where, t.text);
}

static void opt_comma(parser *P)
{
    if (is_punct(P, ','))
        next(P);
}

static symbol *find_sym(parser *P, const char *name)
{
    for (size_t i = P->nsyms; i-- > 0;)
        if (strcmp(P->syms[i].name, name) == 0)
            return &P->syms[i];
    return NULL;
}

/* ------------------------------------------------------------------ expressions */
typedef struct {
    int is_vec;
    double f;
    vec3 v;
} value;

static value expr(parser *P);

static value fval(double f)
{
    value r = {0, f, {f, f, f}};
    return r;
}

static value vval(vec3 v)
{
    value r = {1, 0.0, v};
    return r;
}

static double want_float(parser *P, value v, int line, const char *what)
{
    if (v.is_vec)
        perr(P, line, "expected a float for %s, got a vector", what);
    return v.f;
}

static value call_func(parser *P, const token *name)
{
    expect(P, '(', "after function name");
    value a = expr(P);
    double x = want_float(P, a, name->line, name->text), r;
    if (strcmp(name->text, "pow") == 0) {
        expect(P, ',', "between pow arguments");
        value b = expr(P);
        r = rt_pow(x, want_float(P, b, name->line, "pow"));
    } else if (strcmp(name->text, "sqrt") == 0) {
        r = rt_sqrt(x);
    } else if (strcmp(name->text, "sin") == 0) {
        r = rt_sin(x);
    } else if (strcmp(name->text, "cos") == 0) {
        r = rt_cos(x);
    } else if (strcmp(name->text, "tan") == 0) {
        r = rt_tan(x);
    } else if (strcmp(name->text, "abs") == 0) {
        r = rt_fabs(x);
    } else {
        r = x * (RT_PI / 180.0); /* radians */
    }
    expect(P, ')', "after function argument");
    if (!rt_isfinite(r))
        perr(P, name->line, "%s(...) is not a finite number", name->text);
    return fval(r);
}

static value primary(parser *P)
{
    token t = next(P);
    if (t.kind == T_NUM)
        return fval(t.num);
    if (t.kind == T_PUNCT && t.text[0] == '(') {
        value v = expr(P);
        expect(P, ')', "to close '('");
        return v;
    }
    if (t.kind == T_PUNCT && t.text[0] == '<') {
        double c[3];
        for (int i = 0; i < 3; i++) {
            value e = expr(P);
            c[i] = want_float(P, e, t.line, "a vector component");
            if (i < 2) {
                token s = next(P);
                if (s.kind != T_PUNCT || s.text[0] != ',')
                    perr(P, s.line, "expected ',' in a 3-component vector, got '%s' "
                         "(only <x, y, z> vectors are supported)", s.text);
            }
        }
        token e = next(P);
        if (e.kind != T_PUNCT || e.text[0] != '>')
            perr(P, e.line, "expected '>' to close the vector, got '%s' "
                 "(only <x, y, z> vectors are supported)", e.text);
        return vval(v3(c[0], c[1], c[2]));
    }
    if (t.kind == T_IDENT) {
        if (!strcmp(t.text, "x")) return vval(v3(1, 0, 0));
        if (!strcmp(t.text, "y")) return vval(v3(0, 1, 0));
        if (!strcmp(t.text, "z")) return vval(v3(0, 0, 1));
        if (!strcmp(t.text, "pi")) return fval(RT_PI);
        static const char *funcs[] = {"pow", "sqrt", "sin", "cos", "tan", "abs", "radians"};
        for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
            if (!strcmp(t.text, funcs[i]))
                return call_func(P, &t);
        symbol *s = find_sym(P, t.text);
        if (s && s->kind == V_FLOAT) return fval(s->f);
        if (s && s->kind == V_VEC) return vval(s->v);
        if (s)
            perr(P, t.line, "'%s' is a pigment/finish/texture, not a number or vector", t.text);
        perr(P, t.line, "unsupported word '%s' (not a declared identifier or keyword here)",
             t.text);
    }
    perr(P, t.line, "expected a number or vector, got '%s'", t.text);
}

static value unary(parser *P)
{
    if (is_punct(P, '-')) {
        next(P);
        value v = unary(P);
        return v.is_vec ? vval(vscale(v.v, -1.0)) : fval(-v.f);
    }
    if (is_punct(P, '+')) {
        next(P);
        return unary(P);
    }
    return primary(P);
}

static value binop(parser *P, value a, value b, char op, int line)
{
    if (!a.is_vec && !b.is_vec) {
        double r = op == '+' ? a.f + b.f : op == '-' ? a.f - b.f : op == '*' ? a.f * b.f : a.f / b.f;
        if (!rt_isfinite(r))
            perr(P, line, "expression is not a finite number (division by zero?)");
        return fval(r);
    }
    vec3 x = a.v, y = b.v, r;
    switch (op) {
    case '+': r = vadd(x, y); break;
    case '-': r = vsub(x, y); break;
    case '*': r = vmul(x, y); break;
    default: r = v3(x.x / y.x, x.y / y.y, x.z / y.z); break;
    }
    if (!rt_isfinite(r.x) || !rt_isfinite(r.y) || !rt_isfinite(r.z))
        perr(P, line, "expression is not finite (division by zero?)");
    return vval(r);
}

static value term(parser *P)
{
    value v = unary(P);
    while (is_punct(P, '*') || is_punct(P, '/')) {
        token op = next(P);
        v = binop(P, v, unary(P), op.text[0], op.line);
    }
    return v;
}

static value expr(parser *P)
{
    value v = term(P);
    while (is_punct(P, '+') || is_punct(P, '-')) {
        token op = next(P);
        v = binop(P, v, term(P), op.text[0], op.line);
    }
    return v;
}

static double parse_float(parser *P, const char *what)
{
    int line = peek(P)->line;
    return want_float(P, expr(P), line, what);
}

static vec3 parse_vector(parser *P)
{
    return expr(P).v; /* a float promotes to <f, f, f> */
}

/* colour: [color|colour] [rgb] expr */
static vec3 parse_colour(parser *P)
{
    if (is_word(P, "color") || is_word(P, "colour"))
        next(P);
    if (is_word(P, "rgb")) {
        next(P);
    } else {
        static const char *bad[] = {"rgbf", "rgbt", "rgbft", "red", "green", "blue",
                                    "filter", "transmit", "srgb", "srgbf", "srgbt"};
        token *t = peek(P);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            if (t->kind == T_IDENT && !strcmp(t->text, bad[i]))
                perr(P, t->line, "unsupported word '%s' (colours are 'rgb <r, g, b>')", t->text);
    }
    return parse_vector(P);
}

static int starts_colour(parser *P)
{
    return is_word(P, "color") || is_word(P, "colour") || is_word(P, "rgb");
}

/* ------------------------------------------------------------------ transforms */
typedef struct {
    int kind; /* 't' translate, 'r' rotate, 's' scale */
    vec3 v;
    xform fwd, inv;
} transform;

static xform xf_identity(void)
{
    xform t;
    memset(&t, 0, sizeof t);
    t.m[0][0] = t.m[1][1] = t.m[2][2] = 1.0;
    return t;
}

/* a after b: (a o b)(p) = a(b(p)) */
static xform xf_compose(const xform *a, const xform *b)
{
    xform r;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 4; j++) {
            double s = j == 3 ? a->m[i][3] : 0.0;
            for (int k = 0; k < 3; k++)
                s += a->m[i][k] * b->m[k][j];
            r.m[i][j] = s;
        }
    }
    return r;
}

static xform rot_axis(int axis, double deg)
{
    xform t = xf_identity();
    double a = deg * (RT_PI / 180.0);
    double c = rt_cos(a), s = rt_sin(a);
    int i = (axis + 1) % 3, j = (axis + 2) % 3;
    t.m[i][i] = c;
    t.m[j][j] = c;
    t.m[i][j] = -s;
    t.m[j][i] = s;
    return t;
}

static xform xf_transpose3(const xform *a)
{
    xform r = xf_identity();
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            r.m[i][j] = a->m[j][i];
    return r;
}

static int parse_transform(parser *P, transform *t)
{
    token *tk = peek(P);
    if (tk->kind != T_IDENT)
        return 0;
    int line = tk->line;
    if (!strcmp(tk->text, "translate")) {
        next(P);
        t->kind = 't';
        t->v = parse_vector(P);
        t->fwd = xf_identity();
        t->inv = xf_identity();
        t->fwd.m[0][3] = t->v.x; t->fwd.m[1][3] = t->v.y; t->fwd.m[2][3] = t->v.z;
        t->inv.m[0][3] = -t->v.x; t->inv.m[1][3] = -t->v.y; t->inv.m[2][3] = -t->v.z;
        return 1;
    }
    if (!strcmp(tk->text, "scale")) {
        next(P);
        t->kind = 's';
        t->v = parse_vector(P);
        if (t->v.x == 0.0 || t->v.y == 0.0 || t->v.z == 0.0)
            perr(P, line, "scale by zero");
        t->fwd = xf_identity();
        t->inv = xf_identity();
        t->fwd.m[0][0] = t->v.x; t->fwd.m[1][1] = t->v.y; t->fwd.m[2][2] = t->v.z;
        t->inv.m[0][0] = 1.0 / t->v.x; t->inv.m[1][1] = 1.0 / t->v.y; t->inv.m[2][2] = 1.0 / t->v.z;
        return 1;
    }
    if (!strcmp(tk->text, "rotate")) {
        next(P);
        t->kind = 'r';
        t->v = parse_vector(P);
        xform rx = rot_axis(0, t->v.x), ry = rot_axis(1, t->v.y), rz = rot_axis(2, t->v.z);
        xform a = xf_compose(&ry, &rx);
        t->fwd = xf_compose(&rz, &a);
        t->inv = xf_transpose3(&t->fwd);
        return 1;
    }
    if (!strcmp(tk->text, "matrix") || !strcmp(tk->text, "transform"))
        perr(P, line, "unsupported word '%s' (use translate, rotate, scale)", tk->text);
    return 0;
}

static void pig_transform(pigment *pg, const transform *t)
{
    if (!pg->has_trans) {
        pg->inv = xf_identity();
        pg->has_trans = 1;
    }
    pg->inv = xf_compose(&pg->inv, &t->inv);
}

/* ------------------------------------------------------------------ textures */
static pigment default_pigment(void)
{
    pigment p;
    memset(&p, 0, sizeof p);
    p.type = PIG_SOLID; /* black */
    return p;
}

static finish default_finish(void)
{
    finish f;
    memset(&f, 0, sizeof f);
    f.ambient = v3(0.1, 0.1, 0.1);
    f.diffuse = 0.6;
    f.brilliance = 1.0;
    f.phong_size = 40.0;
    f.roughness_exp = 1.0 / 0.05;
    return f;
}

static symbol *ident_of_kind(parser *P, int kind)
{
    token *t = peek(P);
    if (t->kind != T_IDENT)
        return NULL;
    symbol *s = find_sym(P, t->text);
    if (!s || (kind == V_PIGMENT && (s->kind == V_VEC || s->kind == V_FLOAT)))
        return NULL; /* pigment { MyColour } is a colour expression */
    if (s->kind != kind) {
        static const char *names[] = {"float", "vector", "pigment", "finish", "texture"};
        perr(P, t->line, "'%s' is a %s, expected a %s", t->text, names[s->kind], names[kind]);
    }
    next(P);
    return s;
}

static void parse_pigment_body(parser *P, pigment *pg)
{
    expect(P, '{', "after 'pigment'");
    symbol *s = ident_of_kind(P, V_PIGMENT);
    if (s)
        *pg = s->tex.pig;
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, '}')) {
            next(P);
            return;
        }
        if (parse_transform(P, &t)) {
            pig_transform(pg, &t);
        } else if (is_word(P, "checker")) {
            next(P);
            pg->type = PIG_CHECKER;
            pg->c1 = parse_colour(P);
            opt_comma(P);
            if (is_punct(P, '}'))
                perr(P, peek(P)->line, "checker needs two colours");
            pg->c2 = parse_colour(P);
        } else if (starts_colour(P) || tk->kind == T_PUNCT || tk->kind == T_NUM ||
                   (tk->kind == T_IDENT && find_sym(P, tk->text))) {
            pg->type = PIG_SOLID;
            pg->c1 = parse_colour(P);
        } else {
            perr(P, tk->line, "unsupported word '%s' in pigment", tk->text);
        }
    }
}

static void parse_finish_body(parser *P, finish *f)
{
    expect(P, '{', "after 'finish'");
    symbol *s = ident_of_kind(P, V_FINISH);
    if (s)
        *f = s->tex.fin;
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind != T_IDENT)
            perr(P, t.line, "expected a finish item, got '%s'", t.text);
        if (!strcmp(t.text, "ambient")) {
            f->ambient = starts_colour(P) ? parse_colour(P) : parse_vector(P);
        } else if (!strcmp(t.text, "diffuse")) {
            f->diffuse = parse_float(P, "diffuse");
        } else if (!strcmp(t.text, "brilliance")) {
            f->brilliance = parse_float(P, "brilliance");
        } else if (!strcmp(t.text, "phong")) {
            f->phong = parse_float(P, "phong");
        } else if (!strcmp(t.text, "phong_size")) {
            f->phong_size = parse_float(P, "phong_size");
        } else if (!strcmp(t.text, "specular")) {
            f->specular = parse_float(P, "specular");
        } else if (!strcmp(t.text, "roughness")) {
            double r = parse_float(P, "roughness");
            if (!(r > 0.0))
                perr(P, t.line, "roughness must be positive, got %g", r);
            f->roughness_exp = 1.0 / r;
        } else if (!strcmp(t.text, "reflection")) {
            if (is_punct(P, '{'))
                perr(P, t.line, "unsupported word 'reflection { ... }' (use 'reflection 0.3')");
            f->reflection = starts_colour(P) ? parse_colour(P) : parse_vector(P);
        } else {
            perr(P, t.line, "unsupported word '%s' in finish", t.text);
        }
    }
}

static void parse_texture_body(parser *P, texture *tx)
{
    expect(P, '{', "after 'texture'");
    symbol *s = ident_of_kind(P, V_TEXTURE);
    if (s)
        *tx = s->tex;
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, '}')) {
            next(P);
            return;
        }
        if (parse_transform(P, &t)) {
            pig_transform(&tx->pig, &t);
        } else if (is_word(P, "pigment")) {
            next(P);
            parse_pigment_body(P, &tx->pig);
            tx->has_pig = 1;
        } else if (is_word(P, "finish")) {
            next(P);
            parse_finish_body(P, &tx->fin);
            tx->has_fin = 1;
        } else {
            perr(P, tk->line, "unsupported word '%s' in texture", tk->text);
        }
    }
}

static texture default_texture(void)
{
    texture t;
    memset(&t, 0, sizeof t);
    t.pig = default_pigment();
    t.fin = default_finish();
    return t;
}

/* ------------------------------------------------------------------ objects */
static void plist_push(parser *P, plist *l, const prim *p)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(P, l->v, l->cap * sizeof *l->v);
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    l->v[l->n].p = *p;
    l->n++;
}

static void enter_matrix_mode(prim *p)
{
    if (!p->has_trans) {
        p->has_trans = 1;
        p->fwd = xf_identity();
        p->inv = xf_identity();
    }
}

static int uniform_scale(vec3 s)
{
    return rt_fabs(s.x) == rt_fabs(s.y) && rt_fabs(s.y) == rt_fabs(s.z);
}

static void fold_plane(prim *p, const transform *t)
{
    vec3 n = vnorm(xf_normal(&t->inv, p->a));
    vec3 q = xf_point(&t->fwd, vscale(p->a, p->r));
    p->a = n;
    p->r = vdot(n, q);
}

static void transform_geometry(prim *p, const transform *t)
{
    if (p->has_trans) {
        p->fwd = xf_compose(&t->fwd, &p->fwd);
        p->inv = xf_compose(&p->inv, &t->inv);
        return;
    }
    switch (p->type) {
    case OBJ_PLANE:
        fold_plane(p, t);
        return;
    case OBJ_SPHERE:
    case OBJ_CYLINDER:
        if (t->kind == 't') {
            p->a = vadd(p->a, t->v);
            p->b = vadd(p->b, t->v);
            return;
        }
        if (t->kind == 'r') {
            p->a = xf_point(&t->fwd, p->a);
            p->b = xf_point(&t->fwd, p->b);
            return;
        }
        if (uniform_scale(t->v)) {
            p->a = vmul(p->a, t->v);
            p->b = vmul(p->b, t->v);
            p->r *= rt_fabs(t->v.x);
            return;
        }
        break;
    case OBJ_BOX:
        if (t->kind == 't') {
            p->a = vadd(p->a, t->v);
            p->b = vadd(p->b, t->v);
            return;
        }
        if (t->kind == 's') {
            vec3 a = vmul(p->a, t->v), b = vmul(p->b, t->v);
            p->a = v3(rt_fmin(a.x, b.x), rt_fmin(a.y, b.y), rt_fmin(a.z, b.z));
            p->b = v3(rt_fmax(a.x, b.x), rt_fmax(a.y, b.y), rt_fmax(a.z, b.z));
            return;
        }
        break;
    }
    enter_matrix_mode(p);
    p->fwd = t->fwd;
    p->inv = t->inv;
}

static void transform_list(plist *l, size_t from, const transform *t)
{
    for (size_t i = from; i < l->n; i++) {
        transform_geometry(&l->v[i].p, t);
        if (l->v[i].textured)
            pig_transform(&l->v[i].p.pig, t);
    }
}

static void apply_texture(pprim *pp, const texture *tx)
{
    pp->p.pig = tx->pig;
    pp->p.fin = tx->fin;
    pp->textured = 1;
}

static void parse_object(parser *P, plist *l, const token *kw);

/* Modifiers after an object's geometry (or a union's children), up to and including '}'.
   Applies to l->v[from..]. For a union, the union's own texture goes to untextured children. */
static void parse_object_mods(parser *P, plist *l, size_t from, int is_union, const char *what)
{
    texture utex = default_texture();
    int has_utex = 0;
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, '}')) {
            next(P);
            break;
        }
        if (parse_transform(P, &t)) {
            transform_list(l, from, &t);
            if (has_utex)
                pig_transform(&utex.pig, &t);
            continue;
        }
        if (tk->kind != T_IDENT)
            perr(P, tk->line, "unexpected '%s' in %s", tk->text, what);
        token kw = next(P);
        if (is_union && (!strcmp(kw.text, "sphere") || !strcmp(kw.text, "plane") ||
                         !strcmp(kw.text, "box") || !strcmp(kw.text, "cylinder") ||
                         !strcmp(kw.text, "union"))) {
            parse_object(P, l, &kw);
            continue;
        }
        if (!strcmp(kw.text, "texture")) {
            texture tx = default_texture();
            parse_texture_body(P, &tx);
            if (is_union) {
                utex = tx;
                has_utex = 1;
            } else {
                apply_texture(&l->v[from], &tx);
            }
        } else if (!strcmp(kw.text, "pigment") || !strcmp(kw.text, "finish")) {
            texture cur = default_texture();
            if (is_union && has_utex)
                cur = utex;
            else if (!is_union && l->v[from].textured)
                cur = (texture){1, 1, l->v[from].p.pig, l->v[from].p.fin};
            if (kw.text[0] == 'p')
                parse_pigment_body(P, &cur.pig);
            else
                parse_finish_body(P, &cur.fin);
            if (is_union) {
                utex = cur;
                has_utex = 1;
            } else {
                apply_texture(&l->v[from], &cur);
            }
        } else {
            perr(P, kw.line, "unsupported word '%s' in %s", kw.text, what);
        }
    }
    if (is_union && has_utex)
        for (size_t i = from; i < l->n; i++)
            if (!l->v[i].textured)
                apply_texture(&l->v[i], &utex);
}

static void parse_object(parser *P, plist *l, const token *kw)
{
    prim p;
    memset(&p, 0, sizeof p);
    size_t from = l->n;
    expect(P, '{', "after the object keyword");
    if (!strcmp(kw->text, "union")) {
        parse_object_mods(P, l, from, 1, "union");
        return;
    }
    if (!strcmp(kw->text, "sphere")) {
        p.type = OBJ_SPHERE;
        p.a = parse_vector(P);
        opt_comma(P);
        p.r = parse_float(P, "the sphere radius");
        if (!(p.r > 0.0))
            perr(P, kw->line, "sphere radius must be positive, got %g", p.r);
    } else if (!strcmp(kw->text, "plane")) {
        p.type = OBJ_PLANE;
        p.a = parse_vector(P);
        opt_comma(P);
        p.r = parse_float(P, "the plane distance");
        double len = vlen(p.a);
        if (len < 1e-10)
            perr(P, kw->line, "degenerate plane normal");
        p.a = v3(p.a.x / len, p.a.y / len, p.a.z / len);
    } else if (!strcmp(kw->text, "box")) {
        p.type = OBJ_BOX;
        vec3 a = parse_vector(P);
        opt_comma(P);
        vec3 b = parse_vector(P);
        p.a = v3(rt_fmin(a.x, b.x), rt_fmin(a.y, b.y), rt_fmin(a.z, b.z));
        p.b = v3(rt_fmax(a.x, b.x), rt_fmax(a.y, b.y), rt_fmax(a.z, b.z));
    } else {
        p.type = OBJ_CYLINDER;
        p.a = parse_vector(P);
        opt_comma(P);
        p.b = parse_vector(P);
        opt_comma(P);
        p.r = parse_float(P, "the cylinder radius");
        if (!(p.r > 0.0))
            perr(P, kw->line, "cylinder radius must be positive, got %g", p.r);
        if (vlen(vsub(p.b, p.a)) < 1e-10)
            perr(P, kw->line, "degenerate cylinder: base and cap are the same point");
        if (is_word(P, "open"))
            perr(P, peek(P)->line, "unsupported word 'open' in cylinder");
    }
    plist_push(P, l, &p);
    parse_object_mods(P, l, from, 0, kw->text);
}

/* ------------------------------------------------------------------ statements */
static void parse_camera(parser *P)
{
    expect(P, '{', "after 'camera'");
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            break;
        if (t.kind != T_IDENT)
            perr(P, t.line, "expected a camera item, got '%s'", t.text);
        if (!strcmp(t.text, "perspective")) {
            continue;
        } else if (!strcmp(t.text, "location")) {
            P->cam_loc = parse_vector(P);
        } else if (!strcmp(t.text, "look_at")) {
            P->cam_look = parse_vector(P);
            P->cam_has_look = 1;
        } else if (!strcmp(t.text, "angle")) {
            P->cam_angle = parse_float(P, "angle");
            if (!(P->cam_angle > 0.0 && P->cam_angle < 180.0))
                perr(P, t.line, "camera angle must be in (0, 180), got %g", P->cam_angle);
            P->cam_has_angle = 1;
        } else if (!strcmp(t.text, "right")) {
            P->cam_right = parse_vector(P);
        } else if (!strcmp(t.text, "up")) {
            P->cam_up = parse_vector(P);
        } else if (!strcmp(t.text, "direction")) {
            P->cam_dir = parse_vector(P);
        } else if (!strcmp(t.text, "sky")) {
            P->cam_sky = parse_vector(P);
        } else {
            perr(P, t.line, "unsupported word '%s' in camera", t.text);
        }
    }
}

static void finish_camera(parser *P, scene *s)
{
    vec3 dir = P->cam_dir, right = P->cam_right, up = P->cam_up;
    double dlen = vlen(dir), rlen = vlen(right), ulen = vlen(up);
    if (dlen == 0.0 || rlen == 0.0 || ulen == 0.0)
        perr(P, P->line, "camera direction, right and up must be non-zero");
    double handed = vdot(vcross(up, dir), right);
    if (P->cam_has_angle) {
        dlen = rlen / rt_tan(P->cam_angle * RT_PI / 360.0) / 2.0;
        dir = vscale(vnorm(dir), dlen);
    }
    if (P->cam_has_look) {
        vec3 d = vsub(P->cam_look, P->cam_loc);
        if (vlen(d) == 0.0)
            perr(P, P->line, "camera look_at equals location");
        dir = vscale(vnorm(d), dlen);
        vec3 rr = handed > 0.0 ? vcross(P->cam_sky, dir) : vcross(dir, P->cam_sky);
        if (vlen(rr) == 0.0)
            perr(P, P->line, "camera looks along its sky vector (look_at straight up or down)");
        right = vscale(vnorm(rr), rlen);
        vec3 uu = handed > 0.0 ? vcross(dir, right) : vcross(right, dir);
        up = vscale(vnorm(uu), ulen);
    }
    s->location = P->cam_loc;
    s->direction = dir;
    s->right = right;
    s->up = up;
}

static void parse_global(parser *P)
{
    expect(P, '{', "after 'global_settings'");
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind == T_IDENT && !strcmp(t.text, "assumed_gamma")) {
            double g = parse_float(P, "assumed_gamma");
            if (g != 1.0)
                perr(P, t.line, "unsupported assumed_gamma %g (only 1.0, linear, is supported)", g);
        } else if (t.kind == T_IDENT && !strcmp(t.text, "max_trace_level")) {
            double m = parse_float(P, "max_trace_level");
            if (!(m >= 1.0 && m <= 256.0))
                perr(P, t.line, "max_trace_level must be in 1..256, got %g", m);
            P->max_trace = (uint32_t)m;
        } else {
            perr(P, t.line, "unsupported word '%s' in global_settings", t.text);
        }
    }
}

static void parse_light(parser *P)
{
    expect(P, '{', "after 'light_source'");
    light lt;
    lt.pos = parse_vector(P);
    opt_comma(P);
    lt.color = parse_colour(P);
    token t = next(P);
    if (t.kind != T_PUNCT || t.text[0] != '}')
        perr(P, t.line, "unsupported word '%s' in light_source", t.text);
    if (P->nlights == P->caplights) {
        P->caplights = P->caplights ? P->caplights * 2 : 8;
        P->lights = xrealloc(P, P->lights, P->caplights * sizeof *P->lights);
    }
    P->lights[P->nlights++] = lt;
}

static void parse_declare(parser *P)
{
    token name = next(P);
    if (name.kind != T_IDENT)
        perr(P, name.line, "expected an identifier after #declare, got '%s'", name.text);
    static const char *reserved[] = {"x", "y", "z", "pi", "rgb", "color", "colour", "pigment",
                                     "finish", "texture", "sphere", "box", "plane", "cylinder",
                                     "union", "camera", "light_source", "background"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (!strcmp(name.text, reserved[i]))
            perr(P, name.line, "cannot #declare the keyword '%s'", name.text);
    expect(P, '=', "after the #declare name");
    symbol s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name.text);
    s.tex = default_texture();
    token *t = peek(P);
    if (is_word(P, "pigment")) {
        next(P);
        s.kind = V_PIGMENT;
        parse_pigment_body(P, &s.tex.pig);
    } else if (is_word(P, "finish")) {
        next(P);
        s.kind = V_FINISH;
        parse_finish_body(P, &s.tex.fin);
    } else if (is_word(P, "texture")) {
        next(P);
        s.kind = V_TEXTURE;
        parse_texture_body(P, &s.tex);
    } else if (starts_colour(P)) {
        s.kind = V_VEC;
        s.v = parse_colour(P);
    } else if (t->kind == T_IDENT && (is_word(P, "sphere") || is_word(P, "box") ||
                                      is_word(P, "plane") || is_word(P, "cylinder") ||
                                      is_word(P, "union") || is_word(P, "object"))) {
        perr(P, t->line, "unsupported word '%s' after #declare (only floats, vectors, "
             "colours, pigments, finishes and textures can be declared)", t->text);
    } else {
        value v = expr(P);
        s.kind = v.is_vec ? V_VEC : V_FLOAT;
        s.f = v.f;
        s.v = v.v;
    }
    if (is_punct(P, ';'))
        next(P);
    if (P->nsyms == P->capsyms) {
        P->capsyms = P->capsyms ? P->capsyms * 2 : 16;
        P->syms = xrealloc(P, P->syms, P->capsyms * sizeof *P->syms);
    }
    P->syms[P->nsyms++] = s;
}

static void parse_statement(parser *P)
{
    token t = next(P);
    if (t.kind == T_DIRECTIVE) {
        if (!strcmp(t.text, "version")) {
            double v = parse_float(P, "#version");
            if (v < 3.0 || v >= 4.0)
                perr(P, t.line, "unsupported #version %g (this renderer follows 3.7)", v);
            if (is_punct(P, ';'))
                next(P);
        } else if (!strcmp(t.text, "declare") || !strcmp(t.text, "local")) {
            parse_declare(P);
        } else {
            perr(P, t.line, "unsupported word '#%s'", t.text);
        }
        return;
    }
    if (t.kind != T_IDENT)
        perr(P, t.line, "unexpected '%s' at the top level", t.text);
    if (!strcmp(t.text, "camera")) {
        parse_camera(P);
    } else if (!strcmp(t.text, "global_settings")) {
        parse_global(P);
    } else if (!strcmp(t.text, "background")) {
        expect(P, '{', "after 'background'");
        P->background = parse_colour(P);
        expect(P, '}', "to close background");
    } else if (!strcmp(t.text, "light_source")) {
        parse_light(P);
    } else if (!strcmp(t.text, "sphere") || !strcmp(t.text, "plane") ||
               !strcmp(t.text, "box") || !strcmp(t.text, "cylinder") ||
               !strcmp(t.text, "union")) {
        parse_object(P, &P->out, &t);
    } else {
        perr(P, t.line, "unsupported word '%s'", t.text);
    }
}

void scene_free(scene *s)
{
    free(s->lights);
    free(s->prims);
    s->lights = NULL;
    s->prims = NULL;
}

int pov_parse_string(const char *name, const char *src, scene *out, char *err, size_t errlen)
{
    parser *P = calloc(1, sizeof *P);
    if (!P) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    P->name = name;
    P->src = src;
    P->line = 1;
    P->err = err;
    P->errlen = errlen;
    P->cam_loc = v3(0, 0, 0);
    P->cam_dir = v3(0, 0, 1);
    P->cam_up = v3(0, 1, 0);
    P->cam_right = v3(1.33, 0, 0);
    P->cam_sky = v3(0, 1, 0);
    P->background = v3(0, 0, 0);
    P->max_trace = 5;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (setjmp(P->jb) == 0) {
        while (peek(P)->kind != T_EOF)
            parse_statement(P);
        finish_camera(P, out);
        out->background = P->background;
        out->max_trace_level = P->max_trace;
        out->adc_bailout = 1.0 / 255.0;
        out->n_lights = (uint32_t)P->nlights;
        out->lights = P->lights;
        P->lights = NULL;
        out->n_prims = (uint32_t)P->out.n;
        out->prims = malloc(sizeof(prim) * (P->out.n + 1));
        if (!out->prims)
            perr(P, P->line, "out of memory");
        texture def = default_texture();
        for (size_t i = 0; i < P->out.n; i++) {
            if (!P->out.v[i].textured)
                apply_texture(&P->out.v[i], &def);
            out->prims[i] = P->out.v[i].p;
        }
        rc = 0;
    }
    free(P->out.v);
    free(P->syms);
    free(P->lights);
    free(P);
    return rc;
}

int pov_parse_file(const char *path, scene *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        snprintf(err, errlen, "%s: cannot read%s", path, buf ? "" : " (out of memory)");
        free(buf);
        return -1;
    }
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        snprintf(err, errlen, "%s: binary file (contains NUL bytes), not a scene", path);
        free(buf);
        return -1;
    }
    int rc = pov_parse_string(path, buf, out, err, errlen);
    free(buf);
    return rc;
}
