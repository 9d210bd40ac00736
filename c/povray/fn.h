/* fn.h -- user functions at render time (POV-Ray 3.7's "User-Defined Functions" as its
 * isosurfaces and function patterns evaluate them): a small stack machine.
 *
 * The parser (fn_compile.c, hosted) compiles a function's body into instructions, calls of
 * other user functions inlined, declared numbers folded into constants; the scene carries
 * the instructions (scene.fcode), one record per function (scene.funcs) and the pigments
 * that `function { pigment { } }` and `function { pattern { } }` evaluate (scene.fpigs).
 * fn_vm.c (freestanding) checks them when the scene is read and evaluates them. There are no
 * jumps: a conditional evaluates both sides and picks one, so every program ends, and the
 * reader proves its stack never over- or underflows.
 */
#ifndef POV_FN_H
#define POV_FN_H

#include "scene.h"

/* The instructions, once: X(ENUM, pops, pushes). Unary and binary operators pop their
   operands and push the result; FN_CONST pushes k; FN_LOAD pushes local a; FN_STORE pops into
   local a; FN_PATTERN / FN_PIGMENT pop x, y, z and push fpigs[a]'s pattern value / colour
   component k (0 red .. 4 transmit, 5 gray); FN_INTERNAL pops the arguments of internal
   function a (fn_vm.c's table) and pushes its value. */
#define POV_FN_OPS(X) \
    X(FN_CONST, 0, 1) X(FN_LOAD, 0, 1) X(FN_STORE, 1, 0) \
    X(FN_NEG, 1, 1) X(FN_NOT, 1, 1) X(FN_ABS, 1, 1) X(FN_SQRT, 1, 1) X(FN_EXP, 1, 1) \
    X(FN_LN, 1, 1) X(FN_LOG10, 1, 1) X(FN_SIN, 1, 1) X(FN_COS, 1, 1) X(FN_TAN, 1, 1) \
    X(FN_ASIN, 1, 1) X(FN_ACOS, 1, 1) X(FN_ATAN, 1, 1) X(FN_SINH, 1, 1) X(FN_COSH, 1, 1) \
    X(FN_TANH, 1, 1) X(FN_ASINH, 1, 1) X(FN_ACOSH, 1, 1) X(FN_ATANH, 1, 1) \
    X(FN_FLOOR, 1, 1) X(FN_CEIL, 1, 1) X(FN_INT, 1, 1) X(FN_DEGREES, 1, 1) \
    X(FN_RADIANS, 1, 1) \
    X(FN_ADD, 2, 1) X(FN_SUB, 2, 1) X(FN_MUL, 2, 1) X(FN_DIV, 2, 1) X(FN_POW, 2, 1) \
    X(FN_MOD, 2, 1) X(FN_ATAN2, 2, 1) X(FN_MIN, 2, 1) X(FN_MAX, 2, 1) X(FN_LT, 2, 1) \
    X(FN_LE, 2, 1) X(FN_GT, 2, 1) X(FN_GE, 2, 1) X(FN_EQ, 2, 1) X(FN_NE, 2, 1) \
    X(FN_AND, 2, 1) X(FN_OR, 2, 1) \
    X(FN_COND, 3, 1) X(FN_SELECT3, 3, 1) X(FN_SELECT4, 4, 1) \
    X(FN_PATTERN, 3, 1) X(FN_PIGMENT, 3, 1) X(FN_INTERNAL, 0, 1)
#define POV_FN_ENUM(ENUM, pops, pushes) ENUM,
enum { POV_FN_OPS(POV_FN_ENUM) FN_OP_COUNT };
#undef POV_FN_ENUM

typedef struct fn_instr {
    uint32_t op; /* FN_* */
    uint32_t a;  /* local, pigment or internal function */
    double k;    /* constant; FN_PIGMENT: the component */
} fn_instr;

/* A compiled function of x, y, z (locals 0, 1, 2): scene.fcode[first .. first + n). */
typedef struct fn_def {
    uint32_t first, n;
    uint32_t n_locals;
} fn_def;

#define POV_FN_STACK 64
#define POV_FN_LOCALS 256
#define POV_FN_DEPTH 8     /* a function's pigment may use a function ... this deep */
#define POV_FN_MAX_CODE 1000000u

/* The internal functions (functions.inc's `function { internal(N) }`) we evaluate. */
typedef struct {
    uint32_t number; /* N */
    uint32_t n_args; /* x, y, z and the parameters after them */
    double (*eval)(const double *args);
} fn_internal;
const fn_internal *fn_internal_of(uint32_t number); /* NULL for one we lack */

/* The scene's functions evaluated by patterns (PIG_FUNCTION) and isosurfaces; set once the
   scene is read (render_prepare). */
void fn_bind(const scene *s);
/* Function f of the bound scene at (x, y, z); 0 for a function the scene lacks. */
double fn_eval(uint32_t f, vec3 p);
/* Function pigment pig of the bound scene at p: its pattern value; its colour (red green
   blue filter transmit). For a call while parsing (fn_compile.c's fn_call_now). */
double fn_pigment_pattern(uint32_t pig, vec3 p);
void fn_pigment_colour(uint32_t pig, vec3 p, double out[5]);
/* The function pattern's value at pattern-space point q (pattern.c's row of PIG_FUNCTION). */
double fn_pattern_value(vec3 q, const pigment *pg);
/* The pigment_pattern pattern's value: the grey of its pigment (fpigs[arg[0]]) at q. */
double fn_pigment_pattern_value(vec3 q, const pigment *pg);
/* The reader's check of scene.funcs/fcode/fpigs: NULL when fine, else a message. */
const char *fn_check(const scene *s);

#endif
