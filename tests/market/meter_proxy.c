/* A seller whose meter lies, for tests (test_metering_e2e.py): runs the real loader with the
 * same arguments and passes every frame through unchanged, but before each fragment's 'E'
 * frame it burns FACTOR_PERMILLE/1000 times the CPU the real loader used for that fragment
 * in its own process: the runner measures this process, so the claim is FACTOR x the truth
 * (1500 = an honest machine 1.5x slower, 5000 = a seller inflating 5x). Built by the tests,
 * never shipped.
 *   meter-proxy REAL_LOADER FACTOR_PERMILLE LOADER-ARGS...                                 */
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

static double child_cpu_s(pid_t child)
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

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: meter-proxy REAL FACTOR_PERMILLE ARGS...\n"); return 2; }
    const char *real = argv[1];
    double factor = atol(argv[2]) / 1000.0;
    char **args = calloc((size_t)argc, sizeof *args);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    args[0] = (char *)real;
    int n = 1;
    for (int i = 3; i < argc; i++) {
        args[n++] = argv[i];
        if (strcmp(argv[i], "--parent-pid") == 0 && i + 1 < argc) { args[n++] = pid; i++; }
    }
    int in[2], out[2];
    if (pipe(in) || pipe(out)) die("pipe");
    pid_t child = fork();
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
    for (int i = 3; i + 1 < argc; i++)   /* the loader's status pipe must end with the loader */
        if (strcmp(argv[i], "--status-fd") == 0 || strcmp(argv[i], "--program-fd") == 0)
            close(atoi(argv[i + 1]));
    signal(SIGPIPE, SIG_IGN);
    static unsigned char buf[1 << 20];
    size_t have = 0;
    struct pollfd fds[2] = {{0, POLLIN, 0}, {out[0], POLLIN, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) die("poll");
        if (fds[0].revents) {
            unsigned char tmp[65536];
            ssize_t r = read(0, tmp, sizeof tmp);
            if (r > 0) write_all(in[1], tmp, (size_t)r);
            else { close(in[1]); fds[0].fd = -1; }
        }
        if (fds[1].revents) {
            ssize_t r = read(out[0], buf + have, sizeof buf - have);
            if (r <= 0) break;
            have += (size_t)r;
            size_t off = 0;
            while (have - off >= 5) {
                uint32_t len;
                memcpy(&len, buf + off, 4);
                if (len > sizeof buf - 5) die("frame too large");
                if (have - off < 5 + (size_t)len) break;
                if (buf[off + 4] == 'E') {      /* burn to FACTOR x the loader's CPU so far */
                    double target = factor * child_cpu_s(child);
                    volatile unsigned long spin = 0;
                    while (own_cpu_s() < target)
                        for (int k = 0; k < 100000; k++) spin++;
                }
                write_all(1, buf + off, 5 + (size_t)len);
                off += 5 + (size_t)len;
            }
            memmove(buf, buf + off, have - off);
            have -= off;
        }
    }
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        kill(getpid(), WTERMSIG(status));
    }
    return WEXITSTATUS(status);
}
