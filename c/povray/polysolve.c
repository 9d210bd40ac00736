/* polysolve.c -- real roots of a polynomial of degree <= POLY_MAX_DEGREE in an interval
 * (freestanding-safe, plain IEEE doubles: the same roots on every x86-64 worker).
 *
 * Sturm's theorem counts the distinct real roots in an interval from the sign changes of
 * the Sturm sequence (p, p', and the negated remainders) at its ends; bisection on those
 * counts isolates each root, then bisection on p's sign (or on the counts for a root of
 * even multiplicity) refines it to about 1e-13 relative. Used by the torus and poly
 * primitives (prims.c includes this file).
 */

#define POLY_MAX_DEGREE 7
#define POLY_ISOLATE_DEPTH 64
#define POLY_REFINE_STEPS 100

typedef struct {
    int n;                          /* degree; -1 = the zero polynomial */
    double c[POLY_MAX_DEGREE + 1];  /* c[i]: coefficient of t^i */
} upoly;

static double upoly_eval(const upoly *p, double t)
{
    double v = 0.0;
    for (int i = p->n; i >= 0; i--)
        v = v * t + p->c[i];
    return v;
}

/* Drop leading coefficients that are negligible against the largest one. */
static void upoly_trim(upoly *p, double rel)
{
    double big = 0.0;
    for (int i = 0; i <= p->n; i++)
        big = rt_fmax(big, rt_fabs(p->c[i]));
    while (p->n >= 0 && rt_fabs(p->c[p->n]) <= rel * big)
        p->n--;
}

/* r = -(a mod b); b->n >= 0 */
static void upoly_neg_rem(const upoly *a, const upoly *b, upoly *r)
{
    *r = *a;
    for (int k = r->n - b->n; k >= 0; k--) {
        double q = r->c[b->n + k] / b->c[b->n];
        for (int j = 0; j <= b->n; j++)
            r->c[j + k] -= q * b->c[j];
        r->c[b->n + k] = 0.0;
    }
    r->n = b->n - 1;
    for (int i = 0; i <= r->n; i++)
        r->c[i] = -r->c[i];
    upoly_trim(r, 1.0e-12);
}

typedef struct {
    int len;
    upoly s[POLY_MAX_DEGREE + 2];
} sturm_seq;

static void sturm_build(const upoly *p, sturm_seq *q)
{
    q->s[0] = *p;
    upoly *d = &q->s[1];
    d->n = p->n - 1;
    for (int i = 1; i <= p->n; i++)
        d->c[i - 1] = i * p->c[i];
    q->len = 2;
    while (q->len < POLY_MAX_DEGREE + 2 && q->s[q->len - 1].n > 0) {
        upoly_neg_rem(&q->s[q->len - 2], &q->s[q->len - 1], &q->s[q->len]);
        if (q->s[q->len].n < 0)
            break;
        q->len++;
    }
}

static int sign_changes(const sturm_seq *q, double t)
{
    int changes = 0;
    double prev = 0.0;
    for (int i = 0; i < q->len; i++) {
        double v = upoly_eval(&q->s[i], t);
        if (v == 0.0)
            continue;
        if (prev != 0.0 && (v < 0.0) != (prev < 0.0))
            changes++;
        prev = v;
    }
    return changes;
}

/* The one root in (a, b) (ca, cb: sign changes at a and b). */
static double refine(const sturm_seq *q, double a, double b, int ca)
{
    const upoly *p = &q->s[0];
    double fa = upoly_eval(p, a), fb = upoly_eval(p, b);
    for (int i = 0; i < POLY_REFINE_STEPS; i++) {
        double m = 0.5 * (a + b);
        if (m <= a || m >= b || b - a <= 1.0e-13 * (rt_fabs(a) + rt_fabs(b)))
            break;
        if ((fa < 0.0) != (fb < 0.0) && fa != 0.0 && fb != 0.0) {
            double fm = upoly_eval(p, m);
            if (fm == 0.0)
                return m;
            if ((fm < 0.0) == (fa < 0.0)) {
                a = m;
                fa = fm;
            } else {
                b = m;
                fb = fm;
            }
        } else if (sign_changes(q, m) == ca) { /* even multiplicity: follow the count */
            a = m;
        } else {
            b = m;
        }
    }
    return 0.5 * (a + b);
}

typedef struct {
    const sturm_seq *q;
    double *roots;
    int n, max;
} root_out;

static void isolate(root_out *o, double a, double b, int ca, int cb, int depth)
{
    int count = ca - cb;
    if (count <= 0 || o->n >= o->max)
        return;
    if (count == 1 || depth >= POLY_ISOLATE_DEPTH) {
        o->roots[o->n++] = refine(o->q, a, b, ca);
        return;
    }
    double m = 0.5 * (a + b);
    int cm = sign_changes(o->q, m);
    isolate(o, a, m, ca, cm, depth + 1);
    isolate(o, m, b, cm, cb, depth + 1);
}

/* Real roots of p in (lo, hi), ascending, at most POLY_MAX_DEGREE; returns their number. */
static int poly_roots(upoly p, double lo, double hi, double *roots)
{
    upoly_trim(&p, 1.0e-14);
    if (p.n < 1)
        return 0;
    double bound = 0.0; /* Cauchy: every root has |t| <= 1 + max |c_i / c_n| */
    for (int i = 0; i < p.n; i++)
        bound = rt_fmax(bound, rt_fabs(p.c[i] / p.c[p.n]));
    bound += 1.0;
    lo = rt_fmax(lo, -bound);
    hi = rt_fmin(hi, bound);
    if (!(lo < hi))
        return 0;
    sturm_seq q;
    sturm_build(&p, &q);
    root_out o = {&q, roots, 0, POLY_MAX_DEGREE};
    isolate(&o, lo, hi, sign_changes(&q, lo), sign_changes(&q, hi), 0);
    return o.n;
}
