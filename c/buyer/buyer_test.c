/* buyer-test: a small command-line client built on cpushare_buyer.c (used by the tests).
 *
 *   buyer-test [-a ADDR] [-o OUTDIR] [-n STOP_AFTER] [-c] [-r REDUNDANCY] PROGRAM INPUT...
 *   buyer-test [-a ADDR] [-o OUTDIR] [-n STOP_AFTER] -j JOB
 *
 * Submits PROGRAM with one fragment per INPUT file (or attaches to JOB), then prints one
 * line per result ("result INDEX ok LEN" / "result INDEX failed REASON"), writing each ok
 * result to OUTDIR/INDEX.out, then "progress TOTAL PENDING RUNNING DONE FAILED" and
 * "finished N". -n exits abruptly (no close, no ack) after N results; -c cancels the job
 * right after submitting it.
 */
#define _GNU_SOURCE
#include "cpushare_buyer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "buyer-test: fopen(%s): %s\n", path, strerror(errno)); exit(2); }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap) buf = realloc(buf, cap *= 2);
        if (!buf) { fprintf(stderr, "buyer-test: out of memory\n"); exit(2); }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0) break;
        n += k;
    }
    if (ferror(f)) { fprintf(stderr, "buyer-test: fread(%s): %s\n", path, strerror(errno)); exit(2); }
    fclose(f);
    *len = n;
    return buf;
}

static void write_out(const char *dir, uint32_t index, const uint8_t *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%u.out", dir, index);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "buyer-test: writing %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *outdir = NULL, *job = NULL;
    long stop_after = -1;
    int cancel = 0, opt;
    uint32_t redundancy = 0;
    while ((opt = getopt(argc, argv, "a:o:n:j:cr:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'o': outdir = optarg; break;
        case 'n': stop_after = strtol(optarg, NULL, 10); break;
        case 'j': job = optarg; break;
        case 'c': cancel = 1; break;
        case 'r': redundancy = (uint32_t)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: buyer-test [-a ADDR] [-o OUTDIR] [-n N] [-c] [-r K] PROGRAM INPUT...\n"
                            "       buyer-test [-a ADDR] [-o OUTDIR] [-n N] -j JOB\n");
            return 2;
        }
    }
    char err[512], job_id[128];
    cps_client *c = cps_connect(addr, err, sizeof err);
    if (!c) { fprintf(stderr, "buyer-test: %s\n", err); return 1; }
    if (job) {
        if (cps_attach(c, job)) {
            fprintf(stderr, "buyer-test: attach: %s\n", cps_errmsg(c));
            cps_close(c);
            return 1;
        }
        printf("job %s\n", job);
    } else {
        if (optind >= argc) { fprintf(stderr, "buyer-test: no PROGRAM given\n"); return 2; }
        cps_job_spec spec = { 0 };
        spec.program = read_file(argv[optind], &spec.program_len);
        uint32_t n = (uint32_t)(argc - optind - 1);
        const void **frags = calloc(n + 1, sizeof *frags);
        uint32_t *lens = calloc(n + 1, sizeof *lens);
        for (uint32_t i = 0; i < n; i++) {
            size_t l;
            frags[i] = read_file(argv[optind + 1 + i], &l);
            lens[i] = (uint32_t)l;
        }
        spec.n_fragments = n;
        spec.fragments = frags;
        spec.fragment_lens = lens;
        spec.redundancy = redundancy;
        spec.name = "buyer-test";
        int rc = cps_submit(c, &spec, job_id, sizeof job_id);
        for (uint32_t i = 0; i < n; i++) free((void *)frags[i]);
        free(frags);
        free(lens);
        free((void *)spec.program);
        if (rc) {
            fprintf(stderr, "buyer-test: submit: %s\n", cps_errmsg(c));
            cps_close(c);
            return 1;
        }
        printf("job %s\n", job_id);
        if (cancel && cps_cancel(c)) {
            fprintf(stderr, "buyer-test: cancel: %s\n", cps_errmsg(c));
            cps_close(c);
            return 1;
        }
    }
    fflush(stdout);
    cps_result r;
    long count = 0;
    int rc;
    while ((rc = cps_next_result(c, &r, 500)) != 0) {
        if (rc == -2) continue;
        if (rc < 0) {
            fprintf(stderr, "buyer-test: next: %s\n", cps_errmsg(c));
            cps_close(c);
            return 1;
        }
        if (r.ok) {
            printf("result %u ok %zu\n", r.index, r.len);
            if (outdir) write_out(outdir, r.index, r.data, r.len);
        } else {
            printf("result %u failed %s\n", r.index, r.reason);
        }
        fflush(stdout);
        if (++count == stop_after) _exit(3);  /* a crash: nothing acknowledged after this */
    }
    cps_progress p;
    if (cps_get_progress(c, &p)) {
        fprintf(stderr, "buyer-test: progress: %s\n", cps_errmsg(c));
        cps_close(c);
        return 1;
    }
    printf("progress %llu %llu %llu %llu %llu\n", (unsigned long long)p.total,
           (unsigned long long)p.pending, (unsigned long long)p.running,
           (unsigned long long)p.done, (unsigned long long)p.failed);
    printf("finished %ld\n", count);
    cps_close(c);
    return 0;
}
