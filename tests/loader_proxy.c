/* A dishonest sandbox for tests, made from the outside as a real cheater would: it runs the
 * real loader with the same arguments and passes every frame its program writes through,
 * changed by MODE (one entry per mode in MODES). Built by the tests, never shipped.
 *   loader-proxy REAL_LOADER MODE ARG LOADER-ARGS...
 *     liar  ARG=DELAY_US          flip every byte of every 'D' frame; hold each 'E' DELAY_US
 *                                 (tests/trust/cheaters.py)
 *     meter ARG=FACTOR_PERMILLE   before each 'E', burn FACTOR/1000 x the loader's CPU in
 *                                 this process, which the runner measures: the claim is
 *                                 FACTOR x the truth (tests/market/test_metering_e2e.py) */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); _exit(126); }

static void write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) die("write");
        p += w;
        n -= (size_t)w;
    }
}

static pid_t child;    /* the real loader */
static long arg;       /* the mode's ARG */

static double child_cpu_s(void)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
    FILE *f = fopen(path, "r");
    if (!f) return 0.0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0.0;
    unsigned long utime = 0, stime = 0;
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return 0.0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double own_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One frame on its way out: type, payload, payload length. */
static void liar(unsigned char type, unsigned char *payload, uint32_t len)
{
    if (type == 'D')
        for (uint32_t i = 0; i < len; i++) payload[i] ^= 0x5A;
    else if (type == 'E' && arg > 0)
        usleep((useconds_t)arg);
}

static void meter(unsigned char type, unsigned char *payload, uint32_t len)
{
    (void)payload; (void)len;
    if (type != 'E') return;
    double target = arg / 1000.0 * child_cpu_s();     /* FACTOR x the loader's CPU so far */
    volatile unsigned long spin = 0;
    while (own_cpu_s() < target)
        for (int k = 0; k < 100000; k++) spin++;
}

static const struct { const char *name; void (*frame)(unsigned char, unsigned char *, uint32_t); }
MODES[] = { {"liar", liar}, {"meter", meter} };

static void start_loader(const char *real, int argc, char **argv, int first, int in[2], int out[2])
{
    char **args = calloc((size_t)argc, sizeof *args);
    static char pid[32];
    if (!args) die("calloc");
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    args[0] = (char *)real;
    int n = 1;
    for (int i = first; i < argc; i++) {
        args[n++] = argv[i];
        if (strcmp(argv[i], "--parent-pid") == 0 && i + 1 < argc) { args[n++] = pid; i++; }
    }
    if (pipe(in) || pipe(out)) die("pipe");
    child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execv(real, args);
        die("execv");
    }
    close(in[0]);
    close(out[1]);
    for (int i = first; i + 1 < argc; i++)   /* the loader's status pipe must end with it */
        if (strcmp(argv[i], "--status-fd") == 0 || strcmp(argv[i], "--program-fd") == 0)
            close(atoi(argv[i + 1]));
}

/* Copy stdin to the loader and the loader's frames to stdout through frame(). */
static void relay(int to_loader, int from_loader,
                  void (*frame)(unsigned char, unsigned char *, uint32_t))
{
    static unsigned char buf[1 << 20];
    size_t have = 0;
    struct pollfd fds[2] = {{0, POLLIN, 0}, {from_loader, POLLIN, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) die("poll");
        if (fds[0].revents) {
            unsigned char tmp[65536];
            ssize_t r = read(0, tmp, sizeof tmp);
            if (r > 0) write_all(to_loader, tmp, (size_t)r);
            else { close(to_loader); fds[0].fd = -1; }
        }
        if (!fds[1].revents) continue;
        ssize_t r = read(from_loader, buf + have, sizeof buf - have);
        if (r <= 0) return;
        have += (size_t)r;
        size_t off = 0;
        while (have - off >= 5) {
            uint32_t len;
            memcpy(&len, buf + off, 4);
            if (len > sizeof buf - 5) die("frame too large");
            if (have - off < 5 + (size_t)len) break;
            frame(buf[off + 4], buf + off + 5, len);
            write_all(1, buf + off, 5 + (size_t)len);
            off += 5 + (size_t)len;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: loader-proxy REAL MODE ARG ARGS...\n"); return 2; }
    void (*frame)(unsigned char, unsigned char *, uint32_t) = NULL;
    for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++)
        if (strcmp(argv[2], MODES[i].name) == 0) frame = MODES[i].frame;
    if (!frame) { fprintf(stderr, "loader-proxy: unknown mode %s\n", argv[2]); return 2; }
    arg = atol(argv[3]);
    int in[2], out[2];
    start_loader(argv[1], argc, argv, 4, in, out);
    signal(SIGPIPE, SIG_IGN);
    relay(in[1], out[0], frame);
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        kill(getpid(), WTERMSIG(status));
    }
    return WEXITSTATUS(status);
}
