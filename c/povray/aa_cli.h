/* aa_cli.h -- the anti-aliasing options of povray-render and povray-server, spelled as
 * POV-Ray spells them (+A[threshold] -A +AM1|+AM2 +R depth +J[amount] -J) or long
 * (--antialias[=THR] --aa-method N --aa-depth N --jitter AMOUNT --no-jitter). Hosted.
 */
#ifndef POV_AA_CLI_H
#define POV_AA_CLI_H

#include "scene.h"

typedef struct {
    int on;      /* +A given (and not undone by -A) */
    aa_opts o;   /* method, depth, threshold, jitter (0 after -J) */
} pov_aa_cli;

void pov_aa_cli_init(pov_aa_cli *c);
/* 1: a (with v when *consumed == 2) was an anti-aliasing option; 0: not one; -1: bad value
   (message on stderr, prefixed with prog). */
int pov_aa_cli_opt(pov_aa_cli *c, const char *prog, const char *a, const char *v, int *consumed);
/* The options a tile carries: method 0 when anti-aliasing is off. */
aa_opts pov_aa_cli_result(const pov_aa_cli *c);

#define POV_AA_CLI_HELP \
    "  +A[THR], --antialias[=THR]\n" \
    "                     anti-alias as POV-Ray 3.7 does: supersample where neighbouring\n" \
    "                     colours differ by THR or more (0..1, default 0.3); -A: off\n" \
    "  +AM1|+AM2, --aa-method 1|2\n" \
    "                     1 = non-recursive (default), 2 = adaptive recursive\n" \
    "  +R N, +RN, --aa-depth N\n" \
    "                     supersampling depth 1..9 (default 3: 3x3 samples with +AM1)\n" \
    "  +J[AMT], --jitter AMT, -J, --no-jitter\n" \
    "                     jitter the samples by AMT (0..1, default on with 1.0); -J: off\n"

#endif
