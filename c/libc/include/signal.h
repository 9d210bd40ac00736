/* signal.h: no signals reach a sandbox program (seccomp strict); these are stubs.
 * signal() records nothing and returns SIG_DFL; raise(SIGABRT) aborts, others do nothing. */
#ifndef _CPUSHARE_SIGNAL_H
#define _CPUSHARE_SIGNAL_H
typedef int sig_atomic_t;
typedef void (*__sighandler_t)(int);
#define SIG_DFL ((__sighandler_t)0)
#define SIG_IGN ((__sighandler_t)1)
#define SIG_ERR ((__sighandler_t)-1)
#define SIGINT 2
#define SIGILL 4
#define SIGABRT 6
#define SIGFPE 8
#define SIGSEGV 11
#define SIGTERM 15
__sighandler_t signal(int sig, __sighandler_t handler);
int raise(int sig);
#endif
