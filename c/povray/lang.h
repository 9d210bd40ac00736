/* lang.h -- the POV-Ray 3.7 scene language below the scene grammar (hosted C, parser only).
 *
 * lex.c:  sources (the scene file, #include files, macro bodies), tokens, and the
 *         directives POV-Ray handles in its token stream (#include #declare #local #undef
 *         #default #if #ifdef #ifndef #elseif #else #while #for #switch #case #range #break
 *         #macro #version #debug #warning #error), symbol scopes.
 * expr.c: values (float, vector/colour of up to 5 components, string, array, and the
 *         scene items of parse.c by reference), expressions, built-in functions, colours.
 * parse.c: the scene grammar (objects, textures, camera, lights) on top of both.
 */
#ifndef POV_LANG_H
#define POV_LANG_H

#include <setjmp.h>
#include <stddef.h>

#include "parse.h"
#include "render.h"

enum { T_EOF, T_NUM, T_IDENT, T_PUNCT, T_DIRECTIVE, T_STRING };

typedef struct {
    int kind;
    double num;
    char text[64]; /* identifier, directive name, punctuation ("<=" etc.), number text */
    char *str;     /* T_STRING: the string (owned by the parser's string pool) */
    int line;
    const char *file;
} token;

/* Value kinds. The scene items (pigment ... object) are owned by parse.c; values refer to
   heap copies. V_BROKEN is a declaration that failed: using it raises its saved error. */
enum {
    V_FLOAT, V_VEC, V_STRING, V_ARRAY, V_PIGMENT, V_FINISH, V_TEXTURE, V_OBJECT,
    V_MACRO, V_BROKEN, V_COLOUR_MAP, V_CAMERA, V_NORMAL, V_TRANSFORM, V_FUNCTION, V_SKY,
    V_INTERIOR, V_MATERIAL, V_SPLINE, V_LIGHT, V_PIGMENT_MAP, V_NORMAL_MAP, V_TEXTURE_MAP,
    V_NKINDS
};

typedef struct pov_array pov_array;
typedef struct pov_macro pov_macro;
typedef struct texture texture;
typedef struct plist plist;

typedef struct {
    int kind;
    int n;       /* V_VEC: number of components (2..5); colours are 5 (r g b filter transmit) */
    double c[5]; /* V_FLOAT: c[0] */
    char *str;   /* V_STRING, V_BROKEN (the message) */
    pov_array *arr;
    texture *tex; /* V_PIGMENT / V_FINISH / V_TEXTURE / V_NORMAL */
    plist *obj;   /* V_OBJECT */
    pov_macro *mac; /* V_MACRO; V_FUNCTION: its parameters and body (userfunc.c); V_LIGHT:
                       the light_source's { } (parsed again where it is used) */
    colour_map *cmap; /* V_COLOUR_MAP */
    uint32_t map_first, map_n; /* V_PIGMENT_MAP / V_NORMAL_MAP: its entries in the scene's
                                  lists (shared by every use: entries are never changed) */
    struct tmapdef *tmap; /* V_TEXTURE_MAP: its entries, copied into each use (pat unused) */
    struct camdef *cam; /* V_CAMERA (parse.c) */
    struct matdef *mat; /* V_INTERIOR / V_MATERIAL (parse.c) */
    pigment *sky; /* V_SKY: POV_SKY_MAX pigments, n of them given */
    struct transform *xf; /* V_TRANSFORM (parse.c) */
    struct pov_spline *spl; /* V_SPLINE (spline.c) */
} value;

struct pov_array {
    int ndim;
    int dims[5];
    int total;
    value *items;
    unsigned char *set;
};

/* A name a function's body uses that was local where the function was declared (a macro's
   parameter or #local): its value then, as POV-Ray binds it when it compiles the function. */
typedef struct {
    char name[64];
    value v;
} fn_capture;

struct pov_macro {
    char name[64];
    const char *file, *src; /* the defining file's text (kept for the whole parse) */
    size_t body_pos;
    int body_line;
    int nparams;
    char params[16][64];
    unsigned optional; /* bit i: params[i] was declared 'optional' (may be left out) */
    fn_capture *caps;  /* functions: the local names their body uses (userfunc.c) */
    int ncaps;
};

typedef struct {
    char name[64];
    value v;
    /* a macro parameter given an identifier refers to it (POV-Ray passes identifiers by
       reference): #declare of the parameter assigns the caller's identifier */
    int has_ref;
    size_t ref_scope;
    char ref_name[64];
} symbol;

/* One scope's symbols, names unique, with a hash index (lex.c): an include file such as
   stdinc.inc declares thousands, and every identifier is looked up. */
typedef struct {
    symbol *v;
    size_t n, cap;
    uint32_t *slot; /* index + 1 of the symbol whose name hashes here, 0 empty */
    size_t nslots;  /* a power of 2, at least twice n; 0 until the first symbol */
} symtab;
symbol *symtab_find(symtab *t, const char *name);

typedef struct {
    const char *name; /* file name for messages */
    const char *src;
    size_t pos;
    int line;
    int is_macro;
    size_t scope; /* the scope this frame pushed */
} frame;

enum { C_IF, C_SKIPREST, C_WHILE, C_FOR, C_SWITCH, C_MACRO };

typedef struct {
    int kind;
    size_t frame;          /* frame index where the loop/if lives */
    size_t pos;            /* C_WHILE/C_FOR: where to jump back */
    int line;
    char var[64];          /* C_FOR: the loop variable */
    double end, step;
    int switch_matched;    /* C_SWITCH: a case ran */
    double switch_value;
} control;

#define POV_MAX_FRAMES 256
#define POV_MAX_CONTROL 512
#define POV_MAX_SCOPES 300

struct pov_scene_state; /* parse.c's part of the parser */

typedef struct parser {
    /* token stream */
    frame frames[POV_MAX_FRAMES];
    size_t nframes;
    control ctl[POV_MAX_CONTROL];
    size_t nctl;
    token tok;
    int have_tok;
    int vec_depth; /* inside <...>: '>' closes the vector instead of comparing */
    /* symbols: scope 0 global, then one per include file and macro call */
    symtab scopes[POV_MAX_SCOPES];
    size_t nscopes;
    /* files and strings kept alive for the whole parse */
    char **pool;
    size_t npool, cappool;
    /* options */
    const pov_parse_opts *opts;
    char main_dir[4096];
    double version;
    double working_gamma; /* assumed_gamma once given (srgb colours convert into it) */
    int charset_not_ascii; /* global_settings { charset utf8 | sys }: text keeps to ASCII */
    long loop_iterations;
    unsigned long tokens_taken; /* next() calls: tells a bare identifier argument */
    size_t value_frame;         /* > 0: a #declare's value is read in frame value_frame - 1:
                                   there a directive or macro call after a complete operand
                                   ends the value, unrun (peek) */
    token last_taken;           /* ... the last token taken there (completes an operand?) */
    int have_last;
    /* errors */
    char *err;
    size_t errlen;
    jmp_buf *jb;
    int line; /* line of the last token, for messages */
    struct pov_scene_state *sc;
    /* seed()/rand() streams */
    uint32_t *rand_state;
    size_t nrand, caprand;
    /* the scene's data pool (numbers of primitives beyond a, b, r, r2; objects.c) */
    double *data;
    size_t ndata, capdata;
    struct fn_pool *fns; /* render-time functions (fn_compile.c) */
    struct image_pool *imgs; /* image_map and bump_map images (imagemap_parse.c) */
    struct warp_pool *warps; /* every pattern's warp { } list (warp_parse.c) */
    int assumed_gamma_given; /* global_settings assumed_gamma was read */
    int child_depth;     /* objects being parsed as parts of a CSG block (parse.c) */
} parser;

void perr(parser *P, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
void *xalloc(parser *P, size_t n);
void *xrealloc(parser *P, void *p, size_t n);
char *pool_str(parser *P, const char *s, size_t n);
void pool_keep_ptr(parser *P, void *p); /* freed at the end of the parse */

/* lex.c */
void lex_init(parser *P, const char *name, const char *src);
token *peek(parser *P);
token next(parser *P);
int is_punct(parser *P, const char *p);
int raw_peek_punct(parser *P, const char *p, int take);
int is_word(parser *P, const char *w);
int raw_next_is_word(parser *P, const char *w);
void expect(parser *P, const char *p, const char *where);
void opt_comma(parser *P);
symbol *find_sym(parser *P, const char *name);
void sym_undef(parser *P, const char *name); /* #undef, #fclose: the innermost one goes */
/* A translate, rotate or uniform scale on a blob component (parse.c): its map and scale; 0
   when the next word is no transform; any other transform is an error. */
int parse_blob_transform(parser *P, xform *fwd, double *scale);
/* trace_fn.c: trace(OBJECT, A, B [, N]) */
value trace_call(parser *P, const token *t);
value inside_call(parser *P, const token *t); /* inside(OBJECT, <point>): 1 or 0 */
/* fileio.c: #fopen #fclose #write #read */
void fileio_fopen(parser *P, int line);
void fileio_fclose(parser *P, int line);
void fileio_write(parser *P, int line);
void fileio_read(parser *P, int line);
void set_sym(parser *P, const char *name, value v, int local);
void set_sym_in(parser *P, const char *name, value v, size_t scope);
const char *cur_file(parser *P);
int lex_skip_block_value(parser *P); /* skip a balanced { ... } after a keyword */
/* The { ... } that comes next, kept to be read again (lex_push_body); 0 if no '{' comes */
pov_macro *lex_capture_block(parser *P, const char *name);
void lex_raw(parser *P, token *t);     /* the next token as written: no directive runs */
/* A file found as #include finds it (the scene's folder, then the library paths), kept
   until the end of the parse; an error naming `what`, the file and the folders when it
   is not found. path receives the path used. */
char *lang_find_file(parser *P, const char *name, int line, const char *what, size_t *len,
                     char *path, size_t pathlen);

/* fn_compile.c: height_field's function W, H { }: the grid's values (W * H floats, or W * H
   red, green, blue, transmit for a pigment; returns 1 then) */
int fn_grid_now(parser *P, uint32_t w, uint32_t h, double *out);
/* imagemap_parse.c: height_field's image or function: W * H heights (0..65535, row 0 the
   image's bottom), kept until the parse ends */
double *image_parse_heights(parser *P, int line, uint32_t *w, uint32_t *h);
/* warp_parse.c: the { } after 'warp', appended to the pigment's warp list */
void warp_parse(parser *P, pigment *pg, int line);
void warp_pool_view(parser *P, scene *s);   /* the pool as it is, for a scratch scene */
void warp_pool_to_scene(parser *P, scene *out);
void warp_pool_free(parser *P);
/* imagemap_parse.c: the { } after image_map, bump_map or material_map (whose textures,
   from the first `texture`, and closing brace the caller reads); the image's index */
enum { IMAGE_FOR_PIGMENT = 0, IMAGE_FOR_BUMP = 1, IMAGE_FOR_MATERIAL = 2 };
uint32_t image_parse_block(parser *P, int line, int use, double *bump_size);
void image_pool_to_scene(parser *P, scene *out);
void image_pool_free(parser *P);

/* expr.c */
value expr(parser *P);
value expr_any(parser *P); /* expression, string, or an identifier of any kind */
/* extent.c: min_extent / max_extent of an object value */
value object_extent(parser *P, const value *obj, int max, int line);
double parse_float(parser *P, const char *what);
vec3 parse_vector(parser *P);
value parse_colour5(parser *P);
vec3 parse_colour(parser *P, int line, const char *where);
int starts_colour(parser *P);
value fval(double f);
value value_str_n(parser *P, const char *s, size_t n);
value vvec(vec3 v);
const char *kind_name(int kind);
/* A whole file, NUL-terminated (*len without the NUL); NULL with errno set when it cannot
 * be opened or read (ENOMEM when out of memory). The one file reader of the parser. */
char *pov_read_file(const char *path, size_t *len);
int value_true(parser *P, value v, int line);

/* lex.c: a body read in place of the token stream (macro calls, user functions) */
void lex_push_body(parser *P, const pov_macro *m);
void lex_pop_body(parser *P);

/* userfunc.c: user-defined float functions, function [(params)] { float expression } */
value userfunc_declare(parser *P, const token *kw);
/* spline.c: spline { ... } at its '{'; a call S(t [, TYPE]) at its '(' */
typedef struct pov_spline pov_spline;
pov_spline *spline_parse(parser *P);
value spline_call(parser *P, const pov_spline *s, const token *name);
value userfunc_call(parser *P, const pov_macro *fn, const token *name);

/* fn_compile.c: render-time functions. fn_compile_block compiles the { EXPR } after a
   function keyword (isosurface, function pattern) and returns the scene's function index;
   fn_pool_to_scene hands the pool to the scene. */
uint32_t fn_compile_block(parser *P);
void fn_pool_to_scene(parser *P, scene *out);
void fn_pool_free(parser *P);
/* pigment_pattern { PIGMENT }: its pigment in the pool; the index */
uint32_t fn_pool_add_pigment(parser *P);
/* A call of a function whose body is internal(N), pattern { } or pigment { } while parsing,
   its body's '{' read: the value now (a float; a colour for pigment). */
value fn_call_now(parser *P, const token *name, const double *args, int n);
/* Around such a call (parse.c): the scene so far that its pigment is evaluated in, bound;
   the maps and pigment-map entries the call added are dropped at the end. */
void fn_scratch_begin(parser *P, size_t mark[3]);
void fn_scratch_scene(parser *P, scene *s, const size_t mark[3]);
void fn_scratch_end(parser *P, const size_t mark[3]);
/* The pool's function pigments and their count; drop those from n on. */
pigment *fn_pool_pigments(parser *P, size_t *n);
void fn_pool_drop_pigments(parser *P, size_t n);
/* The functions compiled so far, lent to a scene made at parse time (trace()). */
void fn_pool_view(parser *P, scene *out);
/* expr.c: pi, true, clock, image_width ... as a float; 0 when t is none of them */
int expr_keyword_float(parser *P, const token *t, double *v);
/* parse.c: function { pigment { } } / function { pattern { } } */
void parse_fn_pigment(parser *P, pigment *pg, int is_pattern);

/* parse.c: scene items inside expressions and #declare */
int scene_item_value(parser *P, value *out); /* parses pigment/finish/texture/object ... */

#endif
