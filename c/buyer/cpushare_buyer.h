/* cpushare_buyer.h -- a tiny C client of the cpushare hub's buyer socket.
 *
 * No dependencies beyond libc and the socket calls. The protocol it speaks is documented in
 * docs/buyer-protocol.md. Not thread-safe: use one cps_client per thread. After a call
 * returns -1 the connection may be unusable (the hub closes it after an ERROR): cps_close()
 * it, then cps_connect() + cps_attach() to carry on; unconsumed results come again.
 *
 *   char err[256], job[128];
 *   cps_client *c = cps_connect(NULL, err, sizeof err);        // $CPUSHARE_HUB
 *   if (!c) { fprintf(stderr, "%s\n", err); return 1; }
 *   cps_job_spec spec = { .program = elf, .program_len = elf_len, .n_fragments = n,
 *                         .fragments = frags, .fragment_lens = lens };
 *   if (cps_submit(c, &spec, job, sizeof job) != 0) { ... cps_errmsg(c) ... }
 *   cps_result r; int rc;
 *   while ((rc = cps_next_result(c, &r, 1000)) != 0) {
 *       if (rc == -2) continue;                                  // timeout: nothing yet
 *       if (rc == -1) { ... cps_errmsg(c) ... break; }
 *       if (r.ok) use(r.index, r.data, r.len); else report(r.index, r.reason);
 *   }
 *   cps_close(c);
 */
#ifndef CPUSHARE_BUYER_H
#define CPUSHARE_BUYER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPS_PROTOCOL_VERSION 5

typedef struct cps_client cps_client;

typedef struct {
    const void *program; size_t program_len;        /* the ELF bytes */
    const void *shared;  size_t shared_len;         /* shared input ('S'), may be empty */
    uint32_t n_fragments;
    const void *const *fragments; const uint32_t *fragment_lens;
    uint32_t redundancy;    /* 0 = hub default (1) */
    uint32_t quorum;        /* 0 = default (majority of redundancy) */
    double cpu_s, wall_s;   /* per-fragment limits; 0 = hub default */
    uint32_t max_attempts;  /* 0 = hub default */
    int32_t priority;
    const char *name;       /* may be NULL */
} cps_job_spec;

typedef struct {
    uint32_t index;          /* fragment index in submission order */
    int ok;                  /* 1 = result accepted, 0 = fragment FAILED */
    const uint8_t *data; size_t len;  /* result bytes when ok; valid until the next call */
    const char *reason;      /* failure reason when !ok; valid until the next call */
} cps_result;

/* waiting: the hub's reason why queued fragments get no worker ("" = they do), e.g.
   "no worker connected"; cut to fit, always NUL-terminated. */
typedef struct { uint64_t total, pending, running, done, failed; char waiting[256]; } cps_progress;

/* addr: "unix:PATH", a plain filesystem path, or "tcp://127.0.0.1:PORT"; NULL = $CPUSHARE_API.
   Over TCP the hub's buyer API token is read from the file $CPUSHARE_API_TOKEN names.
   On failure returns NULL and writes a message naming the problem into err. */
cps_client *cps_connect(const char *addr, char *err, size_t errlen);

/* Submit a job and follow it (as cps_attach would). Writes the job id (NUL-terminated) into
   job_id. 0 ok, -1 error (cps_errmsg). */
int  cps_submit(cps_client *c, const cps_job_spec *spec, char *job_id, size_t job_id_len);

/* Follow an existing job: only results not yet consumed are delivered. 0 ok, -1 error. */
int  cps_attach(cps_client *c, const char *job_id);

/* Follow an existing job from its first result (consumed or not): what a new process needs
   to rebuild everything, e.g. after the one that submitted it was interrupted. */
int  cps_attach_all(cps_client *c, const char *job_id);

/* The next finished fragment of the followed job. Calling it again (or cps_close) marks the
   previous result consumed. timeout_ms < 0 waits without limit. An index may be delivered
   again: the hub re-verified it (its worker was caught cheating) and another result won; the
   later result SUPERSEDES the earlier one (overwrite it; count the index once).
   Returns 1 result, 0 job finished and all delivered, -2 timeout, -1 error. */
int  cps_next_result(cps_client *c, cps_result *out, int timeout_ms);

/* Counts of the followed job ("running" = leased + voting). 0 ok, -1 error. */
int  cps_get_progress(cps_client *c, cps_progress *out);

/* Cancel the followed job. 0 ok, -1 error. */
int  cps_cancel(cps_client *c);

/* The last error, never NULL ("" when there was none). */
const char *cps_errmsg(const cps_client *c);

/* Acknowledge the last result, say goodbye and free everything. NULL is fine. */
void cps_close(cps_client *c);

#ifdef __cplusplus
}
#endif
#endif
