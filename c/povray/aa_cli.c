/* aa_cli.c -- the anti-aliasing command-line options (see aa_cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aa_cli.h"
#include "antialias.h"

void pov_aa_cli_init(pov_aa_cli *c)
{
    c->on = 0;
    c->o.method = 1;
    c->o.depth = POV_AA_DEFAULT_DEPTH;
    c->o.threshold = POV_AA_DEFAULT_THRESHOLD;
    c->o.jitter = POV_AA_DEFAULT_JITTER;
}

aa_opts pov_aa_cli_result(const pov_aa_cli *c)
{
    aa_opts o = c->o;
    if (!c->on)
        o.method = 0;
    return o;
}

/* a number in [lo, hi] (all of s) */
static int number(const char *prog, const char *opt, const char *s, double lo, double hi,
                  double *out)
{
    char *end = NULL;
    errno = 0;
    double d = s ? strtod(s, &end) : 0.0;
    if (!s || !*s || *end || errno || !(d >= lo && d <= hi)) {
        fprintf(stderr, "%s: %s needs a number in %g..%g, got '%s'\n", prog, opt, lo, hi,
                s ? s : "");
        return -1;
    }
    *out = d;
    return 0;
}

static int whole(const char *prog, const char *opt, const char *s, int lo, int hi, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    long n = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || n < lo || n > hi) {
        fprintf(stderr, "%s: %s needs a whole number in %d..%d, got '%s'\n", prog, opt, lo, hi,
                s ? s : "");
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

/* +A[THR] / --antialias[=THR] / -A */
static int opt_antialias(pov_aa_cli *c, const char *prog, const char *a, const char *val)
{
    double d;
    c->on = 1;
    if (val && *val) {
        if (number(prog, a, val, 0.0, 1.0, &d) < 0)
            return -1;
        c->o.threshold = (float)d;
    }
    return 1;
}

/* +J[AMT] / --jitter AMT */
static int opt_jitter(pov_aa_cli *c, const char *prog, const char *a, const char *val)
{
    double d = POV_AA_DEFAULT_JITTER;
    if (val && *val && number(prog, a, val, 0.0, 1.0, &d) < 0)
        return -1;
    c->o.jitter = (float)d;
    return 1;
}

int pov_aa_cli_opt(pov_aa_cli *c, const char *prog, const char *a, const char *v, int *consumed)
{
    *consumed = 1;
    if (!strcmp(a, "-A")) {
        c->on = 0;
        return 1;
    }
    if (!strcmp(a, "-J") || !strcmp(a, "--no-jitter")) {
        c->o.jitter = 0.0f;
        return 1;
    }
    if (!strncmp(a, "+AM", 3) || !strcmp(a, "--aa-method")) {
        const char *val = a[0] == '+' ? a + 3 : v;
        *consumed = a[0] == '+' ? 1 : 2;
        return whole(prog, a, val, 1, 2, &c->o.method) < 0 ? -1 : 1;
    }
    if (!strncmp(a, "+A", 2))
        return opt_antialias(c, prog, a, a + 2);
    if (!strcmp(a, "--antialias"))
        return opt_antialias(c, prog, a, NULL);
    if (!strncmp(a, "--antialias=", 12))
        return opt_antialias(c, prog, a, a + 12);
    if (!strncmp(a, "+R", 2) || !strcmp(a, "--aa-depth")) {
        const char *val = a[0] == '+' && a[2] ? a + 2 : v;
        *consumed = a[0] == '+' && a[2] ? 1 : 2;
        return whole(prog, a, val, 1, (int)POV_AA_MAX_DEPTH, &c->o.depth) < 0 ? -1 : 1;
    }
    if (!strncmp(a, "+J", 2))
        return opt_jitter(c, prog, a, a + 2);
    if (!strcmp(a, "--jitter")) {
        *consumed = 2;
        if (!v) {
            fprintf(stderr, "%s: --jitter needs an amount in 0..1\n", prog);
            return -1;
        }
        return opt_jitter(c, prog, a, v);
    }
    return 0;
}
