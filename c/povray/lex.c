/* lex.c -- tokens, sources and directives of the POV-Ray 3.7 scene language (hosted C).
 *
 * As in POV-Ray, directives are handled in the token stream itself (peek()), so they may
 * appear anywhere in a scene: #include pushes a file, a macro call pushes the macro's body,
 * #if/#while/#for/#switch skip or replay raw tokens. See docs/povray.md for the list.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "lang.h"

/* ------------------------------------------------------------------ errors, memory */
const char *cur_file(parser *P)
{
    return P->nframes ? P->frames[P->nframes - 1].name : "?";
}

void perr(parser *P, int line, const char *fmt, ...)
{
    int n = snprintf(P->err, P->errlen, "%s:%d: ", cur_file(P), line);
    if (n < 0)
        n = 0;
    if ((size_t)n < P->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(P->err + n, P->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    longjmp(*P->jb, 1);
}

void *xrealloc(parser *P, void *p, size_t n)
{
    void *r = realloc(p, n ? n : 1);
    if (!r)
        perr(P, P->line, "out of memory");
    return r;
}

void pool_keep_ptr(parser *P, void *p)
{
    if (!p)
        return;
    if (P->npool == P->cappool) {
        P->cappool = P->cappool ? P->cappool * 2 : 64;
        P->pool = xrealloc(P, P->pool, P->cappool * sizeof *P->pool);
    }
    P->pool[P->npool++] = p;
}

void *xalloc(parser *P, size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        perr(P, P->line, "out of memory");
    pool_keep_ptr(P, p);
    return p;
}

char *pool_str(parser *P, const char *s, size_t n)
{
    char *r = xalloc(P, n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

/* ------------------------------------------------------------------ symbols */
static uint32_t name_hash(const char *name) /* FNV-1a */
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h;
}

static void symtab_reindex(parser *P, symtab *t)
{
    size_t want = 64;
    while (want < 2 * t->n + 2)
        want *= 2;
    if (want != t->nslots) {
        free(t->slot);
        t->slot = malloc(want * sizeof *t->slot);
        if (!t->slot)
            perr(P, P->line, "out of memory");
        t->nslots = want;
    }
    memset(t->slot, 0, t->nslots * sizeof *t->slot);
    for (size_t i = 0; i < t->n; i++) {
        size_t j = name_hash(t->v[i].name) & (t->nslots - 1);
        while (t->slot[j])
            j = (j + 1) & (t->nslots - 1);
        t->slot[j] = (uint32_t)i + 1;
    }
}

static symbol *symtab_find_hashed(symtab *t, const char *name, uint32_t h)
{
    if (!t->nslots)
        return NULL;
    for (size_t j = h & (t->nslots - 1); t->slot[j]; j = (j + 1) & (t->nslots - 1))
        if (strcmp(t->v[t->slot[j] - 1].name, name) == 0)
            return &t->v[t->slot[j] - 1];
    return NULL;
}

symbol *symtab_find(symtab *t, const char *name)
{
    return symtab_find_hashed(t, name, name_hash(name));
}

symbol *find_sym(parser *P, const char *name)
{
    uint32_t h = name_hash(name); /* once: a macro nested 40 deep looks in 40 scopes */
    for (size_t k = P->nscopes; k-- > 0;) {
        symbol *s = symtab_find_hashed(&P->scopes[k], name, h);
        if (s)
            return s;
    }
    return NULL;
}

void set_sym(parser *P, const char *name, value v, int local)
{
    set_sym_in(P, name, v, local ? P->nscopes - 1 : 0);
}

/* name = v in scope k (0: global) */
void set_sym_in(parser *P, const char *name, value v, size_t k)
{
    symtab *t = &P->scopes[k];
    symbol *old = symtab_find(t, name);
    if (old) {
        old->v = v;
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->v = xrealloc(P, t->v, t->cap * sizeof *t->v);
    }
    snprintf(t->v[t->n].name, sizeof t->v[t->n].name, "%s", name);
    t->v[t->n].v = v;
    t->v[t->n].has_ref = 0;
    t->n++;
    if (2 * t->n + 2 > t->nslots) {
        symtab_reindex(P, t);
    } else {
        size_t j = name_hash(t->v[t->n - 1].name) & (t->nslots - 1);
        while (t->slot[j])
            j = (j + 1) & (t->nslots - 1);
        t->slot[j] = (uint32_t)t->n;
    }
}

void sym_undef(parser *P, const char *name)
{
    for (size_t k = P->nscopes; k-- > 0;) {
        symtab *t = &P->scopes[k];
        symbol *s = symtab_find(t, name);
        if (s) {
            *s = t->v[--t->n];
            symtab_reindex(P, t);
            return;
        }
    }
}

static void push_scope(parser *P)
{
    if (P->nscopes == POV_MAX_SCOPES)
        perr(P, P->line, "too many nested include files or macro calls (max %d)", POV_MAX_SCOPES);
    memset(&P->scopes[P->nscopes], 0, sizeof P->scopes[0]);
    P->nscopes++;
}

static void pop_scope(parser *P)
{
    P->nscopes--;
    free(P->scopes[P->nscopes].v);
    free(P->scopes[P->nscopes].slot);
    memset(&P->scopes[P->nscopes], 0, sizeof P->scopes[0]);
}

/* ------------------------------------------------------------------ raw lexer */
static frame *top(parser *P) { return &P->frames[P->nframes - 1]; }

static void skip_space(parser *P)
{
    frame *f = top(P);
    const char *s = f->src;
    for (;;) {
        char c = s[f->pos];
        if (c == '\n') {
            f->line++;
            f->pos++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            f->pos++;
        } else if (c == '/' && s[f->pos + 1] == '/') {
            while (s[f->pos] && s[f->pos] != '\n')
                f->pos++;
        } else if (c == '/' && s[f->pos + 1] == '*') {
            int start = f->line, depth = 1; /* block comments nest, as in POV-Ray */
            f->pos += 2;
            while (s[f->pos] && depth > 0) {
                if (s[f->pos] == '*' && s[f->pos + 1] == '/') {
                    depth--;
                    f->pos += 2;
                } else if (s[f->pos] == '/' && s[f->pos + 1] == '*') {
                    depth++;
                    f->pos += 2;
                } else {
                    if (s[f->pos] == '\n')
                        f->line++;
                    f->pos++;
                }
            }
            if (depth > 0)
                perr(P, start, "unterminated /* comment");
        } else {
            return;
        }
    }
}

static void lex_string(parser *P, token *t)
{
    frame *f = top(P);
    const char *s = f->src;
    size_t start = ++f->pos, cap = 64, n = 0;
    char *buf = xalloc(P, cap);
    (void)start;
    for (;;) {
        char c = s[f->pos];
        if (!c || c == '\n')
            perr(P, t->line, "unterminated string");
        f->pos++;
        if (c == '"')
            break;
        if (c == '\\') {
            char e = s[f->pos++];
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'a' ? '\a' : e;
            if (!e)
                perr(P, t->line, "unterminated string");
        }
        if (n + 1 >= cap) {
            char *nb = xalloc(P, cap * 2);
            memcpy(nb, buf, n);
            buf = nb;
            cap *= 2;
        }
        buf[n++] = c;
    }
    buf[n] = 0;
    t->kind = T_STRING;
    t->str = buf;
    snprintf(t->text, sizeof t->text, "\"%.58s\"", buf);
}

/* One token of the top frame; T_EOF at the end of the frame's text. */
void lex_raw(parser *P, token *t)
{
    skip_space(P);
    frame *f = top(P);
    const char *s = f->src;
    t->line = f->line;
    t->file = f->name;
    t->text[0] = 0;
    t->str = NULL;
    P->line = f->line;
    char c = s[f->pos];
    if (!c) {
        t->kind = T_EOF;
        snprintf(t->text, sizeof t->text, "end of file");
        return;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[f->pos + 1]))) {
        char *end;
        errno = 0;
        t->num = strtod(s + f->pos, &end);
        size_t n = (size_t)(end - (s + f->pos));
        snprintf(t->text, sizeof t->text, "%.*s", (int)(n < 60 ? n : 60), s + f->pos);
        if (errno == ERANGE && (t->num > 1.0 || t->num < -1.0))
            perr(P, t->line, "number '%s' out of range", t->text);
        f->pos += n;
        t->kind = T_NUM;
        return;
    }
    if (isalpha((unsigned char)c) || c == '_' || c == '#') {
        int dir = c == '#';
        if (dir) {
            f->pos++;
            while (s[f->pos] == ' ' || s[f->pos] == '\t')
                f->pos++;
        }
        size_t start = f->pos;
        while (isalnum((unsigned char)s[f->pos]) || s[f->pos] == '_')
            f->pos++;
        size_t n = f->pos - start;
        if (n >= sizeof t->text)
            perr(P, t->line, "identifier too long (max 63 characters)");
        memcpy(t->text, s + start, n);
        t->text[n] = 0;
        if (dir && n == 0) { /* a lone '#' (POV-Ray 3.7 renders such scenes): nothing */
            lex_raw(P, t);
            return;
        }
        t->kind = dir ? T_DIRECTIVE : T_IDENT;
        return;
    }
    if (c == '"') {
        lex_string(P, t);
        return;
    }
    static const char *two[] = {"<=", ">=", "!="};
    for (size_t i = 0; i < 3; i++) {
        if (c == two[i][0] && s[f->pos + 1] == two[i][1]) {
            memcpy(t->text, two[i], 3);
            t->kind = T_PUNCT;
            f->pos += 2;
            return;
        }
    }
    if (strchr("{}<>,()+-*/;=?:!&|.[]", c)) {
        t->kind = T_PUNCT;
        t->text[0] = c;
        t->text[1] = 0;
        f->pos++;
        return;
    }
    f->pos++;
    perr(P, t->line, "unexpected character '%c'", c);
}

/* ------------------------------------------------------------------ frames */
static void push_frame(parser *P, const char *name, const char *src, size_t pos, int line,
                       int is_macro)
{
    if (P->nframes == POV_MAX_FRAMES)
        perr(P, P->line, "too deeply nested include files or macro calls (max %d)",
             POV_MAX_FRAMES);
    push_scope(P);
    frame *f = &P->frames[P->nframes++];
    f->name = name;
    f->src = src;
    f->pos = pos;
    f->line = line;
    f->is_macro = is_macro;
    f->scope = P->nscopes - 1;
}

static void pop_frame(parser *P)
{
    size_t idx = P->nframes - 1;
    while (P->nctl && P->ctl[P->nctl - 1].frame == idx) {
        control *c = &P->ctl[P->nctl - 1];
        if (c->kind != C_MACRO)
            perr(P, top(P)->line, "end of %s inside an unfinished #if/#while/#for/#switch "
                 "(missing #end)", top(P)->is_macro ? "macro" : "file");
        P->nctl--;
    }
    while (P->nscopes > top(P)->scope)
        pop_scope(P);
    P->nframes--;
}

void lex_push_body(parser *P, const pov_macro *m)
{
    push_frame(P, m->file, m->src, m->body_pos, m->body_line, 1);
}

void lex_pop_body(parser *P) { pop_frame(P); }

void lex_init(parser *P, const char *name, const char *src)
{
    P->nscopes = 1;
    P->frames[0].name = name;
    P->frames[0].src = src;
    P->frames[0].pos = 0;
    P->frames[0].line = 1;
    P->frames[0].scope = 0;
    P->nframes = 1;
}

char *pov_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
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
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

char *lang_find_file(parser *P, const char *name, int line, const char *what, size_t *len,
                     char *path, size_t pathlen)
{
    const char *dirs[POV_MAX_LIBRARY_PATHS + 1];
    int nd = 0;
    dirs[nd++] = P->main_dir;
    for (int i = 0; i < P->opts->n_library_paths; i++)
        dirs[nd++] = P->opts->library_paths[i];
    char *text = NULL;
    if (name[0] == '/') {
        snprintf(path, pathlen, "%s", name);
        text = pov_read_file(path, len);
    }
    for (int i = 0; !text && name[0] != '/' && i < nd; i++) {
        snprintf(path, pathlen, "%s/%s", dirs[i], name);
        text = pov_read_file(path, len);
    }
    if (!text) {
        char where[2048] = "";
        size_t w = 0;
        for (int i = 0; i < nd && w < sizeof where - 1; i++)
            w += (size_t)snprintf(where + w, sizeof where - w, "%s%s", i ? ", " : "", dirs[i]);
        perr(P, line, "cannot find %s '%s' (searched %s; add a folder with "
             "--library-path DIR)", what, name, where);
    }
    pool_keep_ptr(P, text);
    return text;
}

static void do_include(parser *P, const char *name, int line)
{
    char path[4096];
    size_t len = 0;
    char *text = lang_find_file(P, name, line, "include file", &len, path, sizeof path);
    if (memchr(text, 0, len))
        perr(P, line, "include file '%s' is binary (contains NUL bytes)", path);
    push_frame(P, pool_str(P, path, strlen(path)), text, 0, 1, 0);
}

/* ------------------------------------------------------------------ skipping */
static int is_block_start(const char *d)
{
    return !strcmp(d, "if") || !strcmp(d, "ifdef") || !strcmp(d, "ifndef") ||
           !strcmp(d, "while") || !strcmp(d, "for") || !strcmp(d, "switch") ||
           !strcmp(d, "macro");
}

/* Skip raw tokens up to the #end closing the current block (consumed; returns "end"),
   or, when stop_else, up to an #else/#elseif/#case/#range/#break at its level
   (returns its name, consumed). */
static const char *skip_block(parser *P, int stop_else)
{
    int depth = 0, start = top(P)->line;
    for (;;) {
        token t;
        lex_raw(P, &t);
        if (t.kind == T_EOF)
            perr(P, start, "missing #end for the block starting here");
        if (t.kind != T_DIRECTIVE)
            continue;
        if (is_block_start(t.text)) {
            depth++;
        } else if (!strcmp(t.text, "end")) {
            if (depth == 0)
                return "end";
            depth--;
        } else if (depth == 0 && stop_else &&
                   (!strcmp(t.text, "else") || !strcmp(t.text, "elseif") ||
                    !strcmp(t.text, "case") || !strcmp(t.text, "range") ||
                    !strcmp(t.text, "break"))) {
            static const char *names[] = {"else", "elseif", "case", "range", "break"};
            for (int i = 0; i < 5; i++)
                if (!strcmp(t.text, names[i]))
                    return names[i];
        }
    }
}

/* Skip a balanced { ... } (the next raw token must be '{'); 0 if it is not. */
pov_macro *lex_capture_block(parser *P, const char *name)
{
    frame *f = top(P);
    pov_macro *m = xalloc(P, sizeof *m);
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->file = f->name;
    m->src = f->src;
    m->body_pos = f->pos;
    m->body_line = f->line;
    return lex_skip_block_value(P) ? m : NULL;
}

int lex_skip_block_value(parser *P)
{
    frame *f = top(P);
    size_t pos = f->pos;
    int line = f->line;
    token t;
    lex_raw(P, &t);
    if (t.kind == T_PUNCT && t.text[0] == '(') { /* function (x, y) { ... } */
        int depth = 1;
        while (depth > 0) {
            lex_raw(P, &t);
            if (t.kind == T_EOF)
                perr(P, line, "missing ')' for the '(' here");
            depth += t.kind == T_PUNCT && t.text[0] == '(';
            depth -= t.kind == T_PUNCT && t.text[0] == ')';
        }
        lex_raw(P, &t);
    }
    if (t.kind != T_PUNCT || t.text[0] != '{') {
        f->pos = pos;
        f->line = line;
        return 0;
    }
    int depth = 1;
    while (depth > 0) {
        lex_raw(P, &t);
        if (t.kind == T_EOF)
            perr(P, line, "missing '}' for the '{' here");
        if (t.kind == T_PUNCT && t.text[0] == '{')
            depth++;
        else if (t.kind == T_PUNCT && t.text[0] == '}')
            depth--;
    }
    return 1;
}

/* ------------------------------------------------------------------ control flow */
static control *push_ctl(parser *P, int kind)
{
    if (P->nctl == POV_MAX_CONTROL)
        perr(P, P->line, "too deeply nested #if/#while/#for/#switch (max %d)", POV_MAX_CONTROL);
    control *c = &P->ctl[P->nctl++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->frame = P->nframes - 1;
    return c;
}

static double paren_float(parser *P, const char *what)
{
    expect(P, "(", what);
    int line = peek(P)->line;
    value v = expr(P);
    if (v.kind != V_FLOAT)
        perr(P, line, "%s needs a float condition, got a %s", what, kind_name(v.kind));
    expect(P, ")", what);
    return v.c[0];
}

/* Is the array element NAME[i]... (the '[' taken) set? An index out of range is an error. */
static int element_defined(parser *P, const char *name, int line)
{
    symbol *s = find_sym(P, name);
    if (!s || s->v.kind != V_ARRAY)
        perr(P, line, "'%s' is not an array", name);
    pov_array *a = s->v.arr;
    int off = 0, dim = 0;
    for (;;) {
        if (dim == a->ndim)
            perr(P, line, "array '%s' has %d dimensions", name, a->ndim);
        int i = (int)parse_float(P, "an array index");
        if (i < 0 || i >= a->dims[dim])
            perr(P, line, "index %d out of range for '%s' (size %d)", i, name, a->dims[dim]);
        off = off * a->dims[dim++] + i;
        expect(P, "]", "after an array index");
        if (!is_punct(P, "["))
            break;
        next(P);
    }
    if (dim != a->ndim)
        perr(P, line, "array '%s' has %d dimensions, got %d indices", name, a->ndim, dim);
    expect(P, ")", "to close #ifdef");
    P->have_tok = 0;
    return a->set[off];
}

/* #ifdef (NAME) / #ifdef (NAME[i]...): is it declared (the element: set)? */
static int ifdef_condition(parser *P, const char *what)
{
    token t;
    lex_raw(P, &t);
    if (t.kind != T_PUNCT || t.text[0] != '(')
        perr(P, t.line, "expected '(' after %s, got '%s'", what, t.text);
    lex_raw(P, &t);
    if (t.kind != T_IDENT)
        perr(P, t.line, "expected an identifier in %s, got '%s'", what, t.text);
    char name[64];
    snprintf(name, sizeof name, "%s", t.text);
    int line = t.line;
    lex_raw(P, &t);
    if (t.kind == T_PUNCT && t.text[0] == '[')
        return element_defined(P, name, line);
    if (t.kind != T_PUNCT || t.text[0] != ')')
        perr(P, t.line, "expected ')' in %s, got '%s'", what, t.text);
    return find_sym(P, name) != NULL;
}

/* The condition of #if/#elseif/#ifdef/#ifndef decided: run the branch or skip on. */
static void branch(parser *P, int cond)
{
    for (;;) {
        if (cond) {
            push_ctl(P, C_IF);
            return;
        }
        const char *d = skip_block(P, 1);
        if (!strcmp(d, "end"))
            return;
        if (!strcmp(d, "else")) {
            push_ctl(P, C_IF);
            return;
        }
        if (!strcmp(d, "elseif")) {
            cond = paren_float(P, "#elseif") != 0.0;
            continue;
        }
        perr(P, top(P)->line, "#%s outside #switch", d);
    }
}

/* #switch: find the first #case/#range matching (or #else). */
static void switch_scan(parser *P, control *c)
{
    for (;;) {
        const char *d = skip_block(P, 1);
        int line = top(P)->line;
        if (!strcmp(d, "end")) {
            P->nctl--;
            return;
        }
        if (!strcmp(d, "else"))
            return;
        if (!strcmp(d, "case")) {
            double v = paren_float(P, "#case");
            if (v == c->switch_value)
                return;
        } else if (!strcmp(d, "range")) {
            expect(P, "(", "#range");
            double lo = parse_float(P, "#range low"), hi;
            expect(P, ",", "#range");
            hi = parse_float(P, "#range high");
            expect(P, ")", "#range");
            if (c->switch_value >= lo && c->switch_value <= hi)
                return;
        } else if (!strcmp(d, "break")) {
            continue;
        } else {
            perr(P, line, "#%s inside #switch outside a #case", d);
        }
    }
}

/* Leave the innermost n control levels: skip to the #end of the outermost of them. */
static void skip_out(parser *P, size_t idx)
{
    size_t levels = P->nctl - idx;
    P->nctl = idx;
    for (size_t i = 0; i < levels; i++)
        skip_block(P, 0);
}

static void loop_check(parser *P, control *c)
{
    symbol *s = find_sym(P, c->var);
    double i = s && s->v.kind == V_FLOAT ? s->v.c[0] : 0.0;
    if (c->step > 0 ? i > c->end + 1e-12 * fabs(c->end) : i < c->end - 1e-12 * fabs(c->end))
        skip_out(P, (size_t)(c - P->ctl));
}

#define POV_MAX_LOOP_ITERATIONS 20000000L

static void count_iteration(parser *P, int line)
{
    if (++P->loop_iterations > POV_MAX_LOOP_ITERATIONS)
        perr(P, line, "more than %ld #while/#for loop iterations (endless loop?)",
             POV_MAX_LOOP_ITERATIONS);
}

static void do_end(parser *P, const token *t)
{
    size_t fi = P->nframes - 1;
    if (P->nctl == 0 || P->ctl[P->nctl - 1].frame != fi) {
        if (top(P)->is_macro) {
            P->nctl--; /* the C_MACRO entry of the caller's frame */
            pop_frame(P);
            return;
        }
        perr(P, t->line, "#end without #if, #while, #for, #switch or #macro");
    }
    control *c = &P->ctl[P->nctl - 1];
    frame *f = top(P);
    switch (c->kind) {
    case C_IF:
    case C_SWITCH:
        P->nctl--;
        return;
    case C_WHILE:
        count_iteration(P, c->line);
        f->pos = c->pos;
        f->line = c->line;
        if (paren_float(P, "#while") == 0.0) {
            P->nctl--;
            skip_block(P, 0);
        }
        return;
    case C_FOR: {
        symbol *s = find_sym(P, c->var);
        if (!s || s->v.kind != V_FLOAT)
            perr(P, t->line, "#for variable '%s' is no longer a float", c->var);
        s->v.c[0] += c->step;
        count_iteration(P, c->line);
        f->pos = c->pos;
        f->line = c->line;
        loop_check(P, c);
        return;
    }
    default:
        perr(P, t->line, "internal: bad control entry");
    }
}

static void do_for(parser *P)
{
    expect(P, "(", "#for");
    token name = next(P);
    if (name.kind != T_IDENT)
        perr(P, name.line, "expected the #for variable, got '%s'", name.text);
    expect(P, ",", "#for");
    double a = parse_float(P, "#for start");
    expect(P, ",", "#for");
    double b = parse_float(P, "#for end"), step = 1.0;
    if (is_punct(P, ",")) {
        next(P);
        step = parse_float(P, "#for step");
    }
    expect(P, ")", "#for");
    if (step == 0.0)
        perr(P, name.line, "#for step must not be 0");
    set_sym(P, name.text, fval(a), find_sym(P, name.text) == NULL ? P->nscopes > 1 : 0);
    control *c = push_ctl(P, C_FOR);
    snprintf(c->var, sizeof c->var, "%s", name.text);
    c->end = b;
    c->step = step;
    c->pos = top(P)->pos;
    c->line = top(P)->line;
    loop_check(P, c);
}

static void do_macro_def(parser *P, int line)
{
    token t;
    lex_raw(P, &t);
    if (t.kind != T_IDENT)
        perr(P, t.line, "expected the macro name after #macro, got '%s'", t.text);
    pov_macro *m = xalloc(P, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", t.text);
    lex_raw(P, &t);
    if (t.kind != T_PUNCT || t.text[0] != '(')
        perr(P, t.line, "expected '(' after the macro name, got '%s'", t.text);
    for (;;) {
        lex_raw(P, &t);
        if (t.kind == T_PUNCT && t.text[0] == ')')
            break;
        if (t.kind == T_PUNCT && t.text[0] == ',')
            continue;
        if (t.kind == T_IDENT && !strcmp(t.text, "optional")) {
            m->optional |= 1u << m->nparams; /* POV-Ray 3.7.1+: the next one may be left out */
            continue;
        }
        if (t.kind != T_IDENT || m->nparams == 16)
            perr(P, t.line, "bad macro parameter '%s' (identifiers, at most 16)", t.text);
        snprintf(m->params[m->nparams++], 64, "%s", t.text);
    }
    frame *f = top(P);
    m->file = f->name;
    m->src = f->src;
    m->body_pos = f->pos;
    m->body_line = f->line;
    (void)line;
    skip_block(P, 0);
    value v = {0};
    v.kind = V_MACRO;
    v.mac = m;
    set_sym(P, m->name, v, 0);
}

/* Arguments left out (empty, or missing at the end) must be optional parameters. */
static void macro_check_absent(parser *P, const pov_macro *m, const token *t, int *absent, int *n)
{
    for (; *n < m->nparams; (*n)++)
        absent[*n] = 1;
    for (int i = 0; i < m->nparams; i++) {
        if (absent[i] && !(m->optional & (1u << i)))
            perr(P, t->line, "macro %s: parameter %d ('%s') is not optional and was left out",
                 m->name, i + 1, m->params[i]);
    }
}

static void call_macro(parser *P, pov_macro *m, const token *t)
{
    value args[16];
    int n = 0, is_ref[16], absent[16] = {0};
    char ref_name[16][64];
    size_t ref_scope[16];
    expect(P, "(", "after the macro name");
    while (!is_punct(P, ")")) {
        if (n == m->nparams)
            perr(P, t->line, "macro %s takes %d parameters, got more", m->name, m->nparams);
        if (is_punct(P, ",")) { /* an empty argument: an optional parameter left out */
            next(P);
            is_ref[n] = 0;
            absent[n++] = 1;
            continue;
        }
        token *a = peek(P);
        is_ref[n] = 0;
        if (a->kind == T_IDENT && n < 16) {
            /* find the scope that holds it, for the reference */
            for (size_t k = P->nscopes; k-- > 0 && !is_ref[n];) {
                const symbol *s = symtab_find(&P->scopes[k], a->text);
                if (s && s->v.kind != V_MACRO) {
                    is_ref[n] = 1;
                    ref_scope[n] = k;
                    snprintf(ref_name[n], 64, "%s", a->text);
                }
            }
        }
        unsigned long before = P->tokens_taken;
        args[n] = expr_any(P);
        if (P->tokens_taken - before != 1)
            is_ref[n] = 0; /* an expression, not a bare identifier */
        n++;
        if (!is_punct(P, ")")) /* the comma is optional, as POV-Ray's Parse_Comma */
            opt_comma(P);
    }
    macro_check_absent(P, m, t, absent, &n);
    /* consume ')' without looking past it (the body comes next) */
    P->have_tok = 0;
    push_ctl(P, C_MACRO);
    push_frame(P, m->file, m->src, m->body_pos, m->body_line, 1);
    for (int i = 0; i < n; i++) {
        if (absent[i])
            continue; /* left undefined in the macro, as POV-Ray does */
        set_sym(P, m->params[i], args[i], 1);
        if (is_ref[i]) {
            symbol *s = find_sym(P, m->params[i]);
            s->has_ref = 1;
            s->ref_scope = ref_scope[i];
            snprintf(s->ref_name, sizeof s->ref_name, "%s", ref_name[i]);
        }
    }
}

/* #declare / #local NAME[idx]... = value [;] */
void declare_value(parser *P, int local, int line);

static void do_directive(parser *P, const token *t)
{
    const char *d = t->text;
    if (!strcmp(d, "declare") || !strcmp(d, "local")) {
        declare_value(P, d[0] == 'l', t->line);
    } else if (!strcmp(d, "include")) {
        token n;
        lex_raw(P, &n);
        if (n.kind != T_STRING) {
            P->tok = n;
            P->have_tok = 1;
            value v = expr(P);
            if (v.kind != V_STRING)
                perr(P, n.line, "#include needs a file name string, got '%s'", n.text);
            n.str = v.str;
        }
        do_include(P, n.str, t->line);
    } else if (!strcmp(d, "version")) {
        P->version = parse_float(P, "#version");
        if (is_punct(P, ";"))
            next(P);
    } else if (!strcmp(d, "if")) {
        branch(P, paren_float(P, "#if") != 0.0);
    } else if (!strcmp(d, "ifdef") || !strcmp(d, "ifndef")) {
        int def = ifdef_condition(P, d[2] == 'd' ? "#ifdef" : "#ifndef");
        branch(P, d[2] == 'd' ? def : !def);
    } else if (!strcmp(d, "else") || !strcmp(d, "elseif")) {
        if (!P->nctl || P->ctl[P->nctl - 1].frame != P->nframes - 1 ||
            (P->ctl[P->nctl - 1].kind != C_IF && P->ctl[P->nctl - 1].kind != C_SWITCH))
            perr(P, t->line, "#%s without #if", d);
        P->nctl--;
        skip_block(P, 0);
    } else if (!strcmp(d, "end")) {
        do_end(P, t);
    } else if (!strcmp(d, "while")) {
        size_t pos = top(P)->pos;
        int line = top(P)->line;
        if (paren_float(P, "#while") != 0.0) {
            control *c = push_ctl(P, C_WHILE);
            c->pos = pos;
            c->line = line;
        } else {
            skip_block(P, 0);
        }
    } else if (!strcmp(d, "for")) {
        do_for(P);
    } else if (!strcmp(d, "switch")) {
        double v = paren_float(P, "#switch");
        control *c = push_ctl(P, C_SWITCH);
        c->switch_value = v;
        switch_scan(P, c);
    } else if (!strcmp(d, "case") || !strcmp(d, "range")) {
        /* reached while running a case: fall through to its body */
        if (!P->nctl || P->ctl[P->nctl - 1].kind != C_SWITCH)
            perr(P, t->line, "#%s outside #switch", d);
        if (d[0] == 'c') {
            paren_float(P, "#case");
        } else {
            expect(P, "(", "#range");
            parse_float(P, "#range");
            expect(P, ",", "#range");
            parse_float(P, "#range");
            expect(P, ")", "#range");
        }
    } else if (!strcmp(d, "break")) {
        size_t i = P->nctl;
        while (i > 0 && P->ctl[i - 1].kind != C_SWITCH && P->ctl[i - 1].kind != C_WHILE &&
               P->ctl[i - 1].kind != C_FOR)
            i--;
        if (i == 0 || P->ctl[i - 1].frame != P->nframes - 1)
            perr(P, t->line, "#break outside #switch, #while or #for");
        skip_out(P, i - 1);
    } else if (!strcmp(d, "macro")) {
        do_macro_def(P, t->line);
    } else if (!strcmp(d, "undef")) {
        token n;
        lex_raw(P, &n);
        sym_undef(P, n.text);
    } else if (!strcmp(d, "debug") || !strcmp(d, "warning") || !strcmp(d, "error")) {
        value v = expr(P);
        if (v.kind != V_STRING)
            perr(P, t->line, "#%s needs a string", d);
        if (d[0] == 'e')
            perr(P, t->line, "#error: %s", v.str);
    } else if (!strcmp(d, "fopen")) {
        fileio_fopen(P, t->line);
    } else if (!strcmp(d, "fclose")) {
        fileio_fclose(P, t->line);
    } else if (!strcmp(d, "write")) {
        fileio_write(P, t->line);
    } else if (!strcmp(d, "read")) {
        fileio_read(P, t->line);
    } else if (!strcmp(d, "default")) {
        void parse_default(parser *P);
        parse_default(P);
    } else {
        perr(P, t->line, "unsupported word '#%s'", d);
    }
}

/* ------------------------------------------------------------------ the token stream */
/* The token that stands for a directive or macro call ending a #declare's value that has
   no ';' ('#declare A = "x"  #declare B = A', '#declare C = ""  Macro(C)'): it is read again,
   and run, once the value is stored, as in POV-Ray (see declare_value). */
static const char END_OF_VALUE[] = "#";

static int completes_operand(parser *P, const token *t);

static int value_ends_here(parser *P)
{
    return P->value_frame == P->nframes && P->have_last && completes_operand(P, &P->last_taken);
}

static void end_of_value(frame *f, size_t pos, int line, token *t)
{
    f->pos = pos;
    f->line = line;
    t->kind = T_PUNCT;
    snprintf(t->text, sizeof t->text, "%s", END_OF_VALUE);
}

/* Does t complete an operand (so that no operator follows: a macro or directive after it
   cannot be part of the value)? A number, a string, ')', ']' or a declared identifier. */
static int completes_operand(parser *P, const token *t)
{
    if (t->kind == T_NUM || t->kind == T_STRING)
        return 1;
    if (t->kind == T_PUNCT)
        return (t->text[0] == ')' || t->text[0] == ']') && !t->text[1];
    if (t->kind != T_IDENT)
        return 0;
    symbol *s = find_sym(P, t->text);
    return s != NULL && s->v.kind != V_MACRO;
}

token *peek(parser *P)
{
    while (!P->have_tok) {
        token t;
        frame *f = top(P);
        size_t pos = f->pos;
        int line = f->line;
        lex_raw(P, &t);
        if (t.kind == T_EOF) {
            if (P->nframes > 1 && !top(P)->is_macro) {
                pop_frame(P);
                continue;
            }
            if (P->nframes > 1)
                perr(P, t.line, "macro body without #end");
            if (P->nctl)
                perr(P, P->ctl[P->nctl - 1].line, "missing #end at the end of the file");
        } else if (t.kind == T_DIRECTIVE) {
            if (!value_ends_here(P)) {
                do_directive(P, &t);
                continue;
            }
            end_of_value(f, pos, line, &t);
        } else if (t.kind == T_IDENT) {
            symbol *s = find_sym(P, t.text);
            if (s && s->v.kind == V_MACRO) {
                if (!value_ends_here(P)) {
                    call_macro(P, s->v.mac, &t);
                    continue;
                }
                end_of_value(f, pos, line, &t);
            }
        }
        P->tok = t;
        P->have_tok = 1;
    }
    return &P->tok;
}

token next(parser *P)
{
    token t = *peek(P);
    P->have_tok = 0;
    P->tokens_taken++;
    if (P->value_frame) { /* judged only when a directive or macro follows (peek) */
        P->last_taken = t;
        P->have_last = 1;
    }
    return t;
}

int is_punct(parser *P, const char *p)
{
    token *t = peek(P);
    return t->kind == T_PUNCT && strcmp(t->text, p) == 0;
}

/* Is the next word w, looking at the source only: no directive after it runs (a #declare
   after a value must not run inside that value's declaration)? */
int raw_next_is_word(parser *P, const char *w)
{
    if (P->have_tok)
        return P->tok.kind == T_IDENT && !strcmp(P->tok.text, w);
    frame *f = top(P);
    size_t pos = f->pos;
    int line = f->line;
    token t;
    lex_raw(P, &t);
    f->pos = pos;
    f->line = line;
    return t.kind == T_IDENT && !strcmp(t.text, w);
}

int is_word(parser *P, const char *w)
{
    token *t = peek(P);
    return t->kind == T_IDENT && strcmp(t->text, w) == 0;
}

void expect(parser *P, const char *p, const char *where)
{
    token t = next(P);
    if (t.kind != T_PUNCT || strcmp(t.text, p) != 0)
        perr(P, t.line, "expected '%s' %s, got '%s'", p, where, t.text);
}

void opt_comma(parser *P)
{
    if (is_punct(P, ","))
        next(P);
}

/* ------------------------------------------------------------------ #declare */
static int raw_semicolon(parser *P)
{
    frame *f = top(P);
    size_t pos = f->pos;
    int line = f->line;
    token t;
    lex_raw(P, &t);
    if (t.kind == T_PUNCT && t.text[0] == ';')
        return 1;
    f->pos = pos;
    f->line = line;
    return 0;
}

/* 1 when the next raw token of the top frame is the punctuation p (consumed only when
   take), without running directives: a lookahead that must not run a following #declare
   before the current one is stored (array[N] with no initializer and no ';') */
int raw_peek_punct(parser *P, const char *p, int take)
{
    if (P->have_tok)
        return is_punct(P, p);
    frame *f = top(P);
    size_t pos = f->pos;
    int line = f->line;
    token t;
    lex_raw(P, &t);
    if (t.kind == T_PUNCT && !strcmp(t.text, p) && take)
        return 1;
    int hit = t.kind == T_PUNCT && !strcmp(t.text, p);
    f->pos = pos;
    f->line = line;
    return hit;
}

static const char *const BLOCK_KINDS[] = {
    "pigment", "finish", "texture", "normal", "interior", "material", "object", "sphere",
    "box", "plane", "cylinder", "cone", "torus", "union", "difference", "intersection",
    "merge", "light_source", "camera", "disc", "triangle", "smooth_triangle", "mesh",
    "mesh2", "polygon", "prism", "lathe", "sor", "superellipsoid", "blob", "quadric",
    "poly", "cubic", "quartic", "height_field", "isosurface", "text", "julia_fractal",
    "color_map", "colour_map", "pigment_map", "normal_map", "texture_map", "slope_map",
    "density", "media", "function", "transform", "spline", "fog", "rainbow", "sky_sphere",
    "bicubic_patch", "parametric", "sphere_sweep", "ovus", "lemon", "plane", "density_map",
    "photons", "radiosity",
};

static int is_block_kind(const char *w)
{
    for (size_t i = 0; i < sizeof BLOCK_KINDS / sizeof BLOCK_KINDS[0]; i++)
        if (!strcmp(w, BLOCK_KINDS[i]))
            return 1;
    return 0;
}

/* A block-valued declaration that fails keeps its error: using the identifier raises it,
   so a declaration the scene never uses (a library's texture made of patterns we do not
   have) does not stop the scene, and one it uses is never silently wrong. */
/* A macro parameter given an identifier stands for it (POV-Ray passes a pointer to the
   caller's entry): assigning the parameter, by #declare or #local, assigns that identifier,
   and the one it stands for in turn. */
static void assign_through_refs(parser *P, symbol *s, value v)
{
    for (size_t hop = 0; s && hop <= POV_MAX_SCOPES; hop++) {
        s->v = v;
        if (!s->has_ref || s->ref_scope >= P->nscopes)
            return;
        s = symtab_find(&P->scopes[s->ref_scope], s->ref_name);
    }
}

static value declare_block(parser *P, const token *kw)
{
    size_t nframes = P->nframes, nctl = P->nctl, nscopes = P->nscopes;
    int child_depth = P->child_depth;
    frame saved = *top(P);
    jmp_buf jb, *outer = P->jb;
    value v;
    P->tok = *kw;
    P->have_tok = 1;
    if (setjmp(jb) == 0) {
        P->jb = &jb;
        if (!scene_item_value(P, &v)) /* (a texture's value takes its layers with it) */
            perr(P, kw->line, "internal: '%s' is not a scene item", kw->text);
        P->jb = outer;
        return v;
    }
    P->jb = outer;
    char *msg = pool_str(P, P->err, strlen(P->err));
    while (P->nframes > nframes)
        P->nframes--;
    while (P->nscopes > nscopes)
        pop_scope(P);
    P->nctl = nctl;
    P->child_depth = child_depth;
    *top(P) = saved;
    P->have_tok = 0;
    /* skip the value: keyword { ... } [keyword { ... }]... (layered textures) */
    for (;;) {
        if (!lex_skip_block_value(P))
            break;
        frame *f = top(P);
        size_t pos = f->pos;
        int line = f->line;
        token t;
        lex_raw(P, &t);
        if (t.kind == T_IDENT && !strcmp(t.text, "texture") && !strcmp(kw->text, "texture"))
            continue; /* the next layer of a layered texture */
        f->pos = pos;
        f->line = line;
        break;
    }
    memset(&v, 0, sizeof v);
    v.kind = V_BROKEN;
    v.str = msg;
    return v;
}

void declare_value(parser *P, int local, int line)
{
    token name;
    lex_raw(P, &name);
    if (name.kind == T_IDENT && !strcmp(name.text, "deprecated")) {
        lex_raw(P, &name);
        if (name.kind == T_IDENT && !strcmp(name.text, "once"))
            lex_raw(P, &name);
        if (name.kind == T_STRING)
            lex_raw(P, &name);
    }
    if (name.kind != T_IDENT)
        perr(P, name.line, "expected an identifier after #%s, got '%s'",
             local ? "local" : "declare", name.text);
    /* the scope the #local is written in: the value may be a macro call whose own scope
       is still open when the value ends ('#local V = M()' with M's body 'X; #end') */
    size_t scope = local ? P->nscopes - 1 : 0;
    int idx[5], nidx = 0;
    token t;
    for (;;) {
        lex_raw(P, &t);
        if (t.kind == T_PUNCT && t.text[0] == '[') {
            if (nidx == 5)
                perr(P, t.line, "too many array indices");
            double i = parse_float(P, "an array index");
            idx[nidx++] = (int)i;
            expect(P, "]", "after an array index");
            continue;
        }
        break;
    }
    if (t.kind != T_PUNCT || t.text[0] != '=')
        perr(P, t.line, "expected '=' after the #declare name, got '%s'", t.text);
    value v;
    frame *f = top(P);
    size_t pos = f->pos;
    int vline = f->line;
    lex_raw(P, &t);
    if (t.kind == T_IDENT && !strcmp(t.text, "function") && find_sym(P, t.text) == NULL) {
        v = userfunc_declare(P, &t);
        raw_semicolon(P);
    } else if (t.kind == T_IDENT && is_block_kind(t.text) && find_sym(P, t.text) == NULL) {
        v = declare_block(P, &t);
        raw_semicolon(P);
    } else {
        f = top(P);
        f->pos = pos;
        f->line = vline;
        size_t outer = P->value_frame;
        P->value_frame = P->nframes;      /* macro bodies called in the value run as usual */
        P->have_last = 0;
        v = expr_any(P);
        P->value_frame = outer;
        if (P->have_tok && P->tok.kind == T_PUNCT && !strcmp(P->tok.text, END_OF_VALUE))
            P->have_tok = 0;              /* the directive is read again, after this */
        else if (P->have_tok ? is_punct(P, ";") : raw_semicolon(P))
            P->have_tok = 0;
    }
    if (nidx) {
        symbol *s = find_sym(P, name.text);
        if (!s || s->v.kind != V_ARRAY)
            perr(P, line, "'%s' is not an array", name.text);
        pov_array *a = s->v.arr;
        if (nidx != a->ndim)
            perr(P, line, "array '%s' has %d dimensions, got %d indices", name.text, a->ndim, nidx);
        int off = 0;
        for (int i = 0; i < nidx; i++) {
            if (idx[i] < 0 || idx[i] >= a->dims[i])
                perr(P, line, "index %d out of range for '%s' (size %d)", idx[i], name.text,
                     a->dims[i]);
            off = off * a->dims[i] + idx[i];
        }
        a->items[off] = v;
        a->set[off] = 1;
        return;
    }
    size_t target = scope < P->nscopes ? scope : P->nscopes - 1;
    symbol *cur = local ? symtab_find(&P->scopes[target], name.text) : find_sym(P, name.text);
    if (cur) { /* POV-Ray's Parse_Declare reuses the entry the name found: #declare the */
        assign_through_refs(P, cur, v); /* innermost visible one, #local this scope's one */
        return;
    }
    set_sym_in(P, name.text, v, target);
}
