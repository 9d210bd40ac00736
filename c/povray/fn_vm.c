/* fn_vm.c -- user functions at render time (fn.h): the reader's check and the evaluator
 * (freestanding-safe). Operators as POV-Ray 3.7's function VM defines them: comparisons and
 * logic give 0 or 1, `select(A, B, C)` is B where A < 0 else C, `select(A, B, C, D)` B, C or
 * D as A is negative, zero or positive, `mod` is C's fmod, `int` truncates. The internal
 * functions are those of POV-Ray's fnintern.cpp that the sample scenes use, with its
 * definitions.
 */
#include "fn.h"
#include "pattern.h"
#include "pattern_shapes.h"
#include "render.h"
#include "rt_math.h"

/* ------------------------------------------------------------------ maths not in rt_math */
static double fn_fmod(double a, double b)
{
    if (b == 0.0 || a != a || b != b)
        return 0.0 / 0.0;
    double q = a / b;
    q = q < 0 ? -rt_floor(-q) : rt_floor(q);
    return a - q * b;
}

static double fn_trunc(double v) { return v < 0 ? -rt_floor(-v) : rt_floor(v); }

static double unary(uint32_t op, double a)
{
    switch (op) {
    case FN_NEG: return -a;
    case FN_NOT: return a == 0.0 ? 1.0 : 0.0;
    case FN_ABS: return rt_fabs(a);
    case FN_SQRT: return rt_sqrt(a);
    case FN_EXP: return rt_exp(a);
    case FN_LN: return rt_log(a);
    case FN_LOG10: return rt_log(a) * 0.43429448190325182765;
    case FN_SIN: return rt_sin(a);
    case FN_COS: return rt_cos(a);
    case FN_TAN: return rt_tan(a);
    case FN_ASIN: return pov_atan2(a, rt_sqrt(1.0 - a * a));
    case FN_ACOS: return pov_atan2(rt_sqrt(1.0 - a * a), a);
    case FN_ATAN: return pov_atan(a);
    case FN_SINH: return 0.5 * (rt_exp(a) - rt_exp(-a));
    case FN_COSH: return 0.5 * (rt_exp(a) + rt_exp(-a));
    case FN_TANH: { double e = rt_exp(2.0 * a); return (e - 1.0) / (e + 1.0); }
    case FN_ASINH: return rt_log(a + rt_sqrt(a * a + 1.0));
    case FN_ACOSH: return rt_log(a + rt_sqrt(a * a - 1.0));
    case FN_ATANH: return 0.5 * rt_log((1.0 + a) / (1.0 - a));
    case FN_FLOOR: return rt_floor(a);
    case FN_CEIL: return rt_ceil(a);
    case FN_INT: return fn_trunc(a);
    case FN_DEGREES: return a * (180.0 / RT_PI);
    default: return a * (RT_PI / 180.0); /* FN_RADIANS */
    }
}

static double binary(uint32_t op, double a, double b)
{
    switch (op) {
    case FN_ADD: return a + b;
    case FN_SUB: return a - b;
    case FN_MUL: return a * b;
    case FN_DIV: return a / b;
    case FN_POW: return rt_pow(a, b);
    case FN_MOD: return fn_fmod(a, b);
    case FN_ATAN2: return pov_atan2(a, b);
    case FN_MIN: return a < b ? a : b;
    case FN_MAX: return a > b ? a : b;
    case FN_LT: return a < b;
    case FN_LE: return a <= b;
    case FN_GT: return a > b;
    case FN_GE: return a >= b;
    case FN_EQ: return a == b;
    case FN_NE: return a != b;
    case FN_AND: return a != 0.0 && b != 0.0;
    default: return a != 0.0 || b != 0.0; /* FN_OR */
    }
}

/* ------------------------------------------------------------------ internal functions */
static const scene *bound;

static double noise_at(const double *a, uint32_t gen)
{
    vec3 p = {a[0], a[1], a[2]};
    return pov_noise(p, gen);
}

static double i_r(const double *a) { return rt_sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]); }
static double i_sphere(const double *a) { return -a[3] + i_r(a); }
static double i_noise3d(const double *a)
{
    return noise_at(a, bound ? bound->noise_generator : 2);
}
static double i_noise_generator(const double *a)
{
    uint32_t g = (uint32_t)((int)a[3] & 3);
    return noise_at(a, g < 1 ? 1 : g > 2 ? 2 : g); /* 3 is refused by the parser */
}

static double i_torus(const double *a)
{
    double x = rt_sqrt(a[0] * a[0] + a[2] * a[2]) - a[3];
    return -a[4] + rt_sqrt(x * x + a[1] * a[1]);
}

/* fnintern.cpp's f_rounded_box: the distance outside the box shrunk by the radius */
static double i_rounded_box(const double *a)
{
    double d[3];
    for (int i = 0; i < 3; i++) {
        double hi = a[4 + i] - a[3], lo = a[3] - a[4 + i];
        double over = a[i] < hi ? 0.0 : a[i] - hi, under = a[i] > lo ? 0.0 : lo - a[i];
        d[i] = under > over ? under : over;
    }
    return -a[3] + rt_sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) - 1e-6;
}

static double i_th(const double *a) { return pov_atan2(a[0], a[2]); }
static double i_ph(const double *a) { return pov_atan2(rt_sqrt(a[0] * a[0] + a[2] * a[2]), a[1]); }

static const fn_internal INTERNALS[] = {
    {47, 3, i_ph},
    {57, 3, i_r},
    {60, 7, i_rounded_box},
    {61, 4, i_sphere},
    {69, 3, i_th},
    {70, 5, i_torus},
    {76, 3, i_noise3d},
    {78, 4, i_noise_generator},
};

const fn_internal *fn_internal_of(uint32_t number)
{
    for (unsigned i = 0; i < sizeof INTERNALS / sizeof INTERNALS[0]; i++)
        if (INTERNALS[i].number == number)
            return &INTERNALS[i];
    return 0;
}

/* ------------------------------------------------------------------ the reader's check */
#define POV_FN_POPS(ENUM, pops, pushes) pops,
static const uint8_t OP_POPS[FN_OP_COUNT] = {POV_FN_OPS(POV_FN_POPS)};
#undef POV_FN_POPS

static const char *check_instr(const scene *s, const fn_def *d, const fn_instr *in, int *depth)
{
    uint32_t pops = OP_POPS[in->op];
    if (in->op == FN_INTERNAL) {
        const fn_internal *fi = fn_internal_of(in->a);
        if (!fi)
            return "scene data: unknown internal function";
        pops = fi->n_args;
    }
    if ((in->op == FN_LOAD || in->op == FN_STORE) && in->a >= d->n_locals)
        return "scene data: function local out of range";
    if ((in->op == FN_PATTERN || in->op == FN_PIGMENT) && in->a >= s->n_fpigs)
        return "scene data: function pigment out of range";
    if (in->op == FN_PIGMENT && !(in->k >= 0.0 && in->k <= 5.0 && in->k == (int)in->k))
        return "scene data: bad function colour component";
    if (*depth < (int)pops)
        return "scene data: function stack underflow";
    *depth -= (int)pops;
    *depth += in->op == FN_STORE ? 0 : 1;
    if (*depth > POV_FN_STACK)
        return "scene data: function stack overflow";
    return 0;
}

const char *fn_check(const scene *s)
{
    if (s->n_fcode > POV_FN_MAX_CODE)
        return "scene data: too much function code";
    for (uint32_t f = 0; f < s->n_funcs; f++) {
        const fn_def *d = &s->funcs[f];
        if (d->first > s->n_fcode || d->n > s->n_fcode - d->first || d->n == 0 ||
            d->n_locals < 3 || d->n_locals > POV_FN_LOCALS)
            return "scene data: bad function record";
        int depth = 0;
        for (uint32_t i = 0; i < d->n; i++) {
            const fn_instr *in = &s->fcode[d->first + i];
            if (in->op >= FN_OP_COUNT)
                return "scene data: unknown function instruction";
            const char *err = check_instr(s, d, in, &depth);
            if (err)
                return err;
        }
        if (depth != 1)
            return "scene data: a function must leave one value";
    }
    return 0;
}

/* ------------------------------------------------------------------ evaluation */
static int eval_depth; /* functions evaluating pigments that use functions: bounded */

void fn_bind(const scene *s) { bound = s; }

static double pigment_part(const pigment *pg, vec3 p, double k)
{
    double ft[2];
    vec3 c = pigment_colour(bound, pg, p, ft);
    int i = (int)k;
    return i == 0 ? c.x : i == 1 ? c.y : i == 2 ? c.z : i == 3 ? ft[0] : i == 4 ? ft[1]
           : c.x * 0.297 + c.y * 0.589 + c.z * 0.114;
}

static double run(const fn_def *d, double *loc)
{
    double st[POV_FN_STACK + 1];
    int sp = 0;
    for (const fn_instr *in = bound->fcode + d->first, *end = in + d->n; in < end; in++) {
        uint32_t op = in->op;
        if (op == FN_CONST) {
            st[sp++] = in->k;
        } else if (op == FN_LOAD) {
            st[sp++] = loc[in->a];
        } else if (op == FN_STORE) {
            loc[in->a] = st[--sp];
        } else if (op <= FN_RADIANS) {
            st[sp - 1] = unary(op, st[sp - 1]);
        } else if (op <= FN_OR) {
            sp--;
            st[sp - 1] = binary(op, st[sp - 1], st[sp]);
        } else if (op == FN_COND) {
            sp -= 2;
            st[sp - 1] = st[sp - 1] != 0.0 ? st[sp] : st[sp + 1];
        } else if (op == FN_SELECT3) {
            sp -= 2;
            st[sp - 1] = st[sp - 1] < 0.0 ? st[sp] : st[sp + 1];
        } else if (op == FN_SELECT4) {
            sp -= 3;
            double a = st[sp - 1];
            st[sp - 1] = a < 0.0 ? st[sp] : a == 0.0 ? st[sp + 1] : st[sp + 2];
        } else if (op == FN_PATTERN || op == FN_PIGMENT) {
            sp -= 2;
            vec3 p = {st[sp - 1], st[sp], st[sp + 1]};
            const pigment *pg = &bound->fpigs[in->a];
            st[sp - 1] = op == FN_PATTERN ? pattern_value_at(pg, p) : pigment_part(pg, p, in->k);
        } else { /* FN_INTERNAL */
            const fn_internal *fi = fn_internal_of(in->a);
            sp -= (int)fi->n_args;
            st[sp] = fi->eval(&st[sp]);
            sp++;
        }
    }
    return st[0];
}

double fn_pigment_pattern(uint32_t pig, vec3 p)
{
    return bound && pig < bound->n_fpigs ? pattern_value_at(&bound->fpigs[pig], p) : 0.0;
}

void fn_pigment_colour(uint32_t pig, vec3 p, double out[5])
{
    for (int k = 0; k < 5; k++)
        out[k] = bound && pig < bound->n_fpigs ? pigment_part(&bound->fpigs[pig], p, k) : 0.0;
}

double fn_pigment_pattern_value(vec3 q, const pigment *pg)
{
    double f = pg->arg[0];
    if (!bound || !(f >= 0.0 && f < bound->n_fpigs) || eval_depth >= POV_FN_DEPTH)
        return 0.0;
    eval_depth++; /* a pigment whose pattern is a pigment ...: bounded as functions are */
    double v = pigment_part(&bound->fpigs[(uint32_t)f], q, 5);
    eval_depth--;
    return v;
}

double fn_eval(uint32_t f, vec3 p)
{
    if (!bound || f >= bound->n_funcs || eval_depth >= POV_FN_DEPTH)
        return 0.0;
    const fn_def *d = &bound->funcs[f];
    double loc[POV_FN_LOCALS];
    loc[0] = p.x, loc[1] = p.y, loc[2] = p.z;
    for (uint32_t i = 3; i < d->n_locals; i++)
        loc[i] = 0.0;
    eval_depth++;
    double v = run(d, loc);
    eval_depth--;
    return v;
}

/* The function pattern (POV-Ray's function_pattern): the function's value, above 1 only its
   fraction. */
double fn_pattern_value(vec3 q, const pigment *pg)
{
    double f = pg->arg[0];
    if (!(f >= 0.0 && f < 4294967295.0))
        return 0.0;
    double v = fn_eval((uint32_t)f, q);
    return v > 1.0 ? v - rt_floor(v) : v;
}
