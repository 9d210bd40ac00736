/* fileio.c -- POV-Ray 3.7's text file directives, on the buyer's side (the parser may read
 * and write files; the sandboxed client never parses):
 *   #fopen ID "file" read|write|append     #fclose ID
 *   #write (ID, ITEM, ...)   (commas optional) a string as it is; a float as "%g"; a 2-5 vector as
 *                            "<%g,...> " (POV-Ray's formats, its Parse_Write)
 *   #read (ID, NAME, ...)    declares each NAME from the next comma-separated item of the
 *                            file: a "string", a float or a <vector>; at the end of the file
 *                            ID is no longer defined (a '#while (defined(ID))' loop ends)
 * The file ID is declared while it is open, so #ifdef/defined() see it; using it as a
 * value is an error. The binary items of #write (uint8, sint16be, ...) stay an error naming
 * the word. Files are opened relative to the current folder, as POV-Ray does.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

#define MAX_OPEN 8

typedef struct {
    char name[64];
    FILE *f;
    int writing;
} user_file;

static user_file open_files[MAX_OPEN];

static user_file *find_file(const char *name)
{
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_files[i].f && !strcmp(open_files[i].name, name))
            return &open_files[i];
    return NULL;
}


static void close_file(parser *P, user_file *u)
{
    if (fclose(u->f) != 0)
        perr(P, 0, "cannot close file '%s': %s", u->name, strerror(errno));
    sym_undef(P, u->name);
    u->f = NULL;
}

static user_file *file_arg(parser *P, int line, int writing)
{
    token id = next(P);
    user_file *u = id.kind == T_IDENT ? find_file(id.text) : NULL;
    if (!u)
        perr(P, line, "'%s' is not an open file (#fopen ID \"file\" %s)", id.text,
             writing ? "write" : "read");
    if (u->writing != writing)
        perr(P, line, "file '%s' is open for %s", id.text, u->writing ? "writing" : "reading");
    return u;
}

void fileio_fopen(parser *P, int line)
{
    token id = next(P);
    if (id.kind != T_IDENT)
        perr(P, line, "#fopen needs an identifier, got '%s'", id.text);
    value path = expr(P);
    if (path.kind != V_STRING)
        perr(P, line, "#fopen %s needs a file name string", id.text);
    token mode = next(P);
    const char *m = !strcmp(mode.text, "read") ? "r" : !strcmp(mode.text, "write") ? "w"
                  : !strcmp(mode.text, "append") ? "a" : NULL;
    if (!m)
        perr(P, line, "#fopen %s: expected read, write or append, got '%s'", id.text,
             mode.text);
    user_file *u = find_file(id.text);
    if (u)
        close_file(P, u);
    for (u = open_files; u < open_files + MAX_OPEN && u->f; u++)
        ;
    if (u == open_files + MAX_OPEN)
        perr(P, line, "more than %d files open at once (#fclose some)", MAX_OPEN);
    u->f = fopen(path.str, m);
    if (!u->f)
        perr(P, line, "cannot open '%s' for %s: %s", path.str, mode.text, strerror(errno));
    snprintf(u->name, sizeof u->name, "%s", id.text);
    u->writing = m[0] != 'r';
    value handle;
    memset(&handle, 0, sizeof handle);
    handle.kind = V_BROKEN;
    handle.str = "a file identifier (#fopen) is not a value";
    set_sym(P, id.text, handle, 0);
}

void fileio_fclose(parser *P, int line)
{
    token id = next(P);
    user_file *u = find_file(id.text);
    if (!u)     /* POV-Ray: closing a file that is not open (any more) is no error */
        return;
    (void)line;
    close_file(P, u);
}

static void write_value(parser *P, FILE *f, value v, int line)
{
    if (v.kind == V_STRING) {
        fputs(v.str, f);
    } else if (v.kind == V_FLOAT) {
        fprintf(f, "%g", v.c[0]);
    } else if (v.kind == V_VEC && v.n >= 2 && v.n <= 5) {
        for (int i = 0; i < v.n; i++)
            fprintf(f, "%s%g", i ? "," : "<", v.c[i]);
        fputs("> ", f);
    } else {
        perr(P, line, "#write takes strings, floats and vectors, got %s", kind_name(v.kind));
    }
}

void fileio_write(parser *P, int line)
{
    expect(P, "(", "after #write");
    user_file *u = file_arg(P, line, 1);
    for (;;) {              /* the commas are optional, as POV-Ray's Parse_Comma */
        if (is_punct(P, ","))
            next(P);
        if (is_punct(P, ")"))
            break;
        write_value(P, u->f, expr_any(P), line);
    }
    expect(P, ")", "to close #write");
    P->have_tok = 0;
    if (ferror(u->f))
        perr(P, line, "cannot write to file '%s'", u->name);
}

/* ------------------------------------------------------------------ reading */
static int skip_separators(FILE *f)
{
    int c;
    while ((c = getc(f)) != EOF && (isspace(c) || c == ','))
        ;
    return c;
}

static int read_number(FILE *f, int c, double *out)
{
    char buf[64];
    size_t n = 0;
    while (c != EOF && n + 1 < sizeof buf && (isdigit(c) || strchr("+-.eE", c))) {
        buf[n++] = (char)c;
        c = getc(f);
    }
    if (c != EOF)
        ungetc(c, f);
    buf[n] = 0;
    char *end;
    *out = strtod(buf, &end);
    return n > 0 && *end == 0;
}

static value read_string(parser *P, FILE *f, int line)
{
    char buf[4096];
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF && c != '"') {
        if (c == '\\' && (c = getc(f)) == EOF)
            break;
        if (n + 1 >= sizeof buf)
            perr(P, line, "#read: a string over %zu bytes", sizeof buf - 1);
        buf[n++] = (char)c;
    }
    if (c != '"')
        perr(P, line, "#read: a string without its closing '\"'");
    return value_str_n(P, buf, n);
}

static value read_vector(parser *P, FILE *f, int line)
{
    double c[5];
    int n = 0, ch;
    for (;;) {
        ch = skip_separators(f);
        if (ch == '>')
            break;
        if (n == 5 || !read_number(f, ch, &c[n]))
            perr(P, line, "#read: a bad vector (2 to 5 numbers between '<' and '>')");
        n++;
    }
    if (n < 2)
        perr(P, line, "#read: a vector needs 2 to 5 numbers");
    value v;
    memset(&v, 0, sizeof v);
    v.kind = V_VEC;
    v.n = n;
    memcpy(v.c, c, sizeof c[0] * (size_t)n);
    return v;
}

/* the file's next item into *v; 0 at the end of the file */
static int read_item(parser *P, user_file *u, value *v, int line)
{
    int c = skip_separators(u->f);
    if (c == EOF)
        return 0;
    if (c == '"') {
        *v = read_string(P, u->f, line);
    } else if (c == '<') {
        *v = read_vector(P, u->f, line);
    } else {
        memset(v, 0, sizeof *v);
        v->kind = V_FLOAT;
        if (!read_number(u->f, c, &v->c[0]))
            perr(P, line, "#read from '%s': expected a string, float or vector, got '%c'",
                 u->name, c);
    }
    return 1;
}

void fileio_read(parser *P, int line)
{
    expect(P, "(", "after #read");
    user_file *u = file_arg(P, line, 0);
    for (;;) {
        if (is_punct(P, ","))
            next(P);
        if (is_punct(P, ")"))
            break;
        token name = next(P);
        if (name.kind != T_IDENT)
            perr(P, line, "#read needs identifiers to declare, got '%s'", name.text);
        value v;
        if (!read_item(P, u, &v, line)) {
            close_file(P, u);      /* POV-Ray: at the end the file ID is undefined */
            while (!is_punct(P, ")"))
                next(P);
            break;
        }
        set_sym(P, name.text, v, 0);
    }
    expect(P, ")", "to close #read");
    P->have_tok = 0;
    if (u->f) {      /* nothing left after these items: the file ID is undefined now */
        int c = skip_separators(u->f);
        if (c == EOF)
            close_file(P, u);
        else
            ungetc(c, u->f);
    }
}
