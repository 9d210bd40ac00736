/* cpushare-loader: run one static x86-64 ELF program confined by seccomp STRICT.
 *
 * Steps (each failure is reported on the status fd and the program never runs):
 *   1. parse options; reset signal dispositions and the signal mask
 *   2. check fd 0 and fd 1 are pipes
 *   3. read the program's headers and validate them (ELF64, x86-64, ET_EXEC, no interpreter,
 *      PT_LOAD segments in the program range, no W+X, entry in an executable segment,
 *      memory under cap)
 *   4. map each segment at its address, its file bytes read straight into it, with its own
 *      permissions (the loader never holds a copy of the file)
 *   5. hard rlimits (CPU backstop, CORE=0, FSIZE=0), no-new-privs, not dumpable, rdtsc
 *      traps, new session, killed when its parent dies, oom_score_adj 1000
 *   6. close every fd but 0, 1 and the status fd
 *   7. a fresh stack with a guard page below it and the trampoline page, both at fixed
 *      addresses; an initial stack holding argc=0 and empty argv/envp/auxv
 *   8. cpuid faults from now on where the CPU supports it; unregister rseq and the robust
 *      futex list (they point into loader memory)
 *   9. hand over to the trampoline (tramp.S) in a page of its own, which resets the
 *      vector registers, unmaps everything else (loader, libc data, old stack with the
 *      seller's argv/env/auxv, vDSO, vvar), clears FS/GS base, switches to SCHED_IDLE
 *      (so the set-up itself is not starved on a busy machine), closes the status fd,
 *      enters seccomp STRICT, clears the registers and jumps to the entry point.
 *
 * Status protocol: a line "bad_program: ..." (exit 125) or "error: ..." (exit 126) on the
 * status fd means the program never ran; the single byte "R" followed by EOF means the
 * program starts (written and closed just before seccomp). EOF without anything means the
 * loader died before starting the program (a loader bug: reported, never a program exit).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cpuid.h>

#include "xstate.h"

#define PAGE 4096ull
#define MAX_PHNUM 64
#define MIN_VADDR 0x10000ull          /* default vm.mmap_min_addr */
/* Program segments must lie in [MIN_VADDR, MAX_VADDR): below everything the kernel gives
 * the loader itself. A static PIE is mapped in the mmap area near the top of the 47-bit
 * space, its brk (glibc's TLS and heap) starts at ELF_ET_DYN_BASE = 2/3 of it
 * (0x555555554aaa) plus up to 1 GiB of randomisation, the stack and vDSO are at the top. */
#define MAX_VADDR 0x500000000000ull
/* The trampoline page and the program's stack, at the same addresses on every machine, in
 * the gap between MAX_VADDR and ELF_ET_DYN_BASE (room for a 4 GiB stack and its guard). */
#define TRAMP_ADDR 0x500000000000ull
#define STACK_TOP 0x500200000000ull
#define USER_TOP 0x7ffffffff000ull    /* end of the 47-bit user address space */
/* The loader's own resident memory (static binary, XSAVE area, page tables: ~0.6 MiB),
 * counted against the cap while it copies the program in. */
#define LOADER_RESERVE_BYTES (2ull << 20)
#define EXIT_BAD_PROGRAM 125
#define EXIT_SETUP_ERROR 126

extern const unsigned char cps_tramp_begin[], cps_tramp_end[];

struct options {
    int program_fd;          /* -1: use program_path */
    const char *program_path;
    int status_fd;           /* -1: report on stderr */
    unsigned long long max_memory_bytes;
    unsigned long long cpu_limit_s; /* 0: no RLIMIT_CPU */
    unsigned long long stack_bytes;
    int idle;
    int parent_pid;          /* > 0: die with this parent (PR_SET_PDEATHSIG) */
};

/* The numeric options, one row each. A sandbox limit the runner hands over (the
 * loader_arg of a SandboxLimits field in cpushare_mq/sandbox/limits.py) is one field of
 * struct options, one row here and the code that enforces it. */
struct number_option {
    const char *name;
    size_t offset;           /* of its field in struct options */
    int is_int;              /* an int field (else unsigned long long) */
    unsigned long long max;
};

#define INT_OPTION(name, field, max) {name, offsetof(struct options, field), 1, max}
#define ULL_OPTION(name, field, max) {name, offsetof(struct options, field), 0, max}

static const struct number_option number_options[] = {
    INT_OPTION("--program-fd", program_fd, INT_MAX),
    INT_OPTION("--status-fd", status_fd, INT_MAX),
    INT_OPTION("--parent-pid", parent_pid, INT_MAX),
    ULL_OPTION("--max-memory", max_memory_bytes, 1ull << 46),
    ULL_OPTION("--cpu-limit-s", cpu_limit_s, 1ull << 32),
    ULL_OPTION("--stack-bytes", stack_bytes, 1ull << 32),
};
#define N_NUMBER_OPTIONS (sizeof number_options / sizeof number_options[0])

struct segment {
    uint64_t start, end;     /* page-rounded address range */
    uint64_t vaddr, filesz, offset;
    int prot;
};

struct plan {
    uint64_t entry;
    int nseg;
    struct segment seg[MAX_PHNUM];
    uint64_t memory_bytes;   /* segments + stack + guard + trampoline page */
};

/* Layout shared with tramp.S. */
struct tramp_args {
    uint64_t entry;          /* 0 */
    uint64_t sp;             /* 8 */
    uint64_t status_fd;      /* 16 */
    uint64_t nranges;        /* 24 */
    uint64_t flags;          /* 32: bit 0 = use xrstor, bit 1 = SCHED_IDLE */
    uint64_t xrstor_mask;    /* 40: XSAVE components to put in their initial state */
    uint64_t xsave_area;     /* 48: address of the zeroed XSAVE area (64-byte aligned) */
    uint64_t pad[25];        /* up to 256 */
    struct { uint64_t start, len; } ranges[240]; /* 256 .. 4096 */
};
/* The argument block is one page followed by the XSAVE area, sized from CPUID (xstate.h). */

static int g_status_fd = -1;

static void report(int exit_code, const char *kind, const char *fmt, va_list ap)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s: ", kind);
    n += vsnprintf(msg + n, sizeof msg - (size_t)n - 1, fmt, ap);
    if (n > (int)sizeof msg - 2)
        n = (int)sizeof msg - 2;
    msg[n++] = '\n';
    int fd = g_status_fd >= 0 ? g_status_fd : 2;
    ssize_t w = write(fd, msg, (size_t)n);
    (void)w;
    _exit(exit_code);
}

__attribute__((noreturn, format(printf, 1, 2))) static void bad_program(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(EXIT_BAD_PROGRAM, "bad_program", fmt, ap);
    va_end(ap);
    _exit(EXIT_BAD_PROGRAM);
}

__attribute__((noreturn, format(printf, 1, 2))) static void setup_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(EXIT_SETUP_ERROR, "error", fmt, ap);
    va_end(ap);
    _exit(EXIT_SETUP_ERROR);
}

static const char usage[] =
    "usage: cpushare-loader [--program-fd N | PROGRAM] --status-fd N [--OPTION NUMBER]...\n"
    "                       [--no-idle]\n"
    "Runs a static x86-64 ELF under seccomp STRICT with fd 0/1 (pipes) only.\n"
    "Normally started by the Python runner (cpushare_mq.sandbox), with an empty environment.";

static unsigned long long parse_number(const char *opt, const char *s, unsigned long long max)
{
    char *end;
    if (s == NULL)
        setup_error("option %s needs a value\n%s", opt, usage);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
        setup_error("option %s: %s is not a number in 0..%llu", opt, s, max);
    return v;
}

static const struct number_option *find_number_option(const char *name)
{
    for (size_t i = 0; i < N_NUMBER_OPTIONS; i++)
        if (strcmp(name, number_options[i].name) == 0)
            return &number_options[i];
    return NULL;
}

static void set_number_option(struct options *o, const struct number_option *opt, const char *value)
{
    unsigned long long v = parse_number(opt->name, value, opt->max);
    char *field = (char *)o + opt->offset;
    if (opt->is_int)
        *(int *)field = (int)v;
    else
        *(unsigned long long *)field = v;
}

__attribute__((noreturn)) static void unknown_option(const char *name)
{
    char names[512];
    size_t n = 0;
    for (size_t i = 0; i < N_NUMBER_OPTIONS && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, " %s", number_options[i].name);
    setup_error("unknown option %s (numeric options:%s; --no-idle)\n%s", name, names, usage);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.program_fd = -1, .status_fd = -1, .max_memory_bytes = 1ull << 30,
                          .stack_bytes = 8ull << 20, .idle = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct number_option *opt = find_number_option(a);
        if (opt != NULL)
            set_number_option(o, opt, argv[++i]);
        else if (strcmp(a, "--no-idle") == 0)
            o->idle = 0;
        else if (a[0] == '-')
            unknown_option(a);
        else if (o->program_path == NULL)
            o->program_path = a;
        else
            setup_error("more than one program given (%s)\n%s", a, usage);
    }
    if (o->status_fd < 0)
        setup_error("--status-fd N is required (the runner learns from it whether the "
                    "program started)\n%s", usage);
    if ((o->program_fd < 0) == (o->program_path == NULL))
        setup_error("give exactly one of --program-fd N or PROGRAM\n%s", usage);
    if (o->stack_bytes < 64 * 1024 || o->stack_bytes % PAGE != 0)
        setup_error("--stack-bytes must be a multiple of 4096 and at least 65536");
}

static void check_status_fd(int fd)
{
    if (fd < 0)
        return;
    if (fd <= 2)
        setup_error("--status-fd must be 3 or more, got %d", fd);
    if (fcntl(fd, F_GETFD) < 0)
        setup_error("--status-fd %d: fcntl: %s", fd, strerror(errno));
    g_status_fd = fd;
}

static void reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
        setup_error("sigprocmask: %s", strerror(errno));
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        signal(sig, SIG_DFL); /* glibc refuses its internal signals; that is fine */
    }
}

static void check_pipe(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        setup_error("fstat(fd %d): %s", fd, strerror(errno));
    if (!S_ISFIFO(st.st_mode))
        setup_error("fd %d is not a pipe (the sandbox only talks over pipes)", fd);
}

/* The program file: only its headers are read here; segments are read straight into their
 * mappings (map_segments), so the loader never holds a second copy of the program. */
struct program_file {
    int fd;
    uint64_t size;
};

static void open_program(const struct options *o, struct program_file *pf)
{
    int fd = o->program_fd;
    if (fd < 0) {
        fd = open(o->program_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            setup_error("open(%s): %s", o->program_path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        setup_error("fstat(program): %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        setup_error("the program must be a regular file or a memfd (fd %d is not)", fd);
    pf->fd = fd;
    pf->size = (uint64_t)st.st_size;
}

/* Exactly len bytes at offset off into dst; a short file is the program's fault. */
static void read_at(const struct program_file *pf, void *dst, uint64_t len, uint64_t off)
{
    unsigned char *p = dst;
    while (len > 0) {
        size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t r = pread(pf->fd, p, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            setup_error("pread(program, %zu bytes at %llu): %s", want,
                        (unsigned long long)off, strerror(errno));
        if (r == 0)
            bad_program("the program file ended at %llu bytes while reading it (changed "
                        "while loading?)", (unsigned long long)off);
        p += r;
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
}

static uint64_t page_down(uint64_t x) { return x & ~(PAGE - 1); }
static uint64_t page_up(uint64_t x) { return (x + PAGE - 1) & ~(PAGE - 1); }

static void check_ident(const unsigned char *buf, uint64_t len)
{
    if (len < 4 || memcmp(buf, ELFMAG, SELFMAG) != 0)
        bad_program("not an ELF file (no \\177ELF magic)");
    if (len < EI_NIDENT)
        bad_program("truncated ELF file (%llu bytes)", (unsigned long long)len);
    if (buf[EI_CLASS] != ELFCLASS64)
        bad_program("not a 64-bit ELF (EI_CLASS=%u%s)", buf[EI_CLASS],
                    buf[EI_CLASS] == ELFCLASS32 ? ", a 32-bit program" : "");
    if (buf[EI_DATA] != ELFDATA2LSB)
        bad_program("not a little-endian ELF (EI_DATA=%u)", buf[EI_DATA]);
    if (buf[EI_VERSION] != EV_CURRENT)
        bad_program("unknown ELF version %u", buf[EI_VERSION]);
    if (buf[EI_OSABI] != ELFOSABI_SYSV && buf[EI_OSABI] != ELFOSABI_GNU)
        bad_program("unsupported ELF OS ABI %u", buf[EI_OSABI]);
    if (len < sizeof(Elf64_Ehdr))
        bad_program("truncated ELF header (%llu bytes, need %zu)", (unsigned long long)len,
                    sizeof(Elf64_Ehdr));
}

static void check_header(const Elf64_Ehdr *eh, uint64_t len)
{
    if (eh->e_machine != EM_X86_64)
        bad_program("not an x86-64 program (e_machine=%u)", eh->e_machine);
    if (eh->e_type == ET_DYN)
        bad_program("not a static executable: ET_DYN (position-independent or shared object)");
    if (eh->e_type != ET_EXEC)
        bad_program("not an executable (e_type=%u)", eh->e_type);
    if (eh->e_version != EV_CURRENT)
        bad_program("unknown ELF version %u", eh->e_version);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        bad_program("bad program header size %u", eh->e_phentsize);
    if (eh->e_phnum == 0 || eh->e_phnum > MAX_PHNUM)
        bad_program("bad number of program headers %u (1..%d)", eh->e_phnum, MAX_PHNUM);
    if (eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
        bad_program("program header table outside the file (truncated ELF?)");
    if (eh->e_phoff % 8 != 0)
        bad_program("misaligned program header table");
}

static int segment_prot(uint32_t flags)
{
    return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
           ((flags & PF_X) ? PROT_EXEC : 0);
}

static void add_load(struct plan *p, const Elf64_Phdr *ph, int idx, uint64_t len)
{
    if (ph->p_memsz == 0)
        return;
    if (ph->p_filesz > ph->p_memsz)
        bad_program("segment %d: p_filesz 0x%llx > p_memsz 0x%llx", idx,
                    (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
    if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
        bad_program("segment %d: file bytes outside the file (truncated ELF?)", idx);
    if (ph->p_vaddr < MIN_VADDR || ph->p_vaddr >= MAX_VADDR ||
        ph->p_memsz > MAX_VADDR - ph->p_vaddr)
        bad_program("segment %d: address range 0x%llx+0x%llx outside [0x%llx, 0x%llx)", idx,
                    (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz, MIN_VADDR,
                    MAX_VADDR);
    if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
        bad_program("segment %d is both writable and executable", idx);
    struct segment *s = &p->seg[p->nseg++];
    s->start = page_down(ph->p_vaddr);
    s->end = page_up(ph->p_vaddr + ph->p_memsz);
    s->vaddr = ph->p_vaddr;
    s->filesz = ph->p_filesz;
    s->offset = ph->p_offset;
    s->prot = segment_prot(ph->p_flags);
}

static int cmp_segment(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Everything the program will ever have, under the seller's cap. */
static void check_memory(struct plan *p, const struct options *o)
{
    uint64_t total = 0, file_bytes = 0;
    for (int i = 0; i < p->nseg; i++) {
        total += p->seg[i].end - p->seg[i].start;
        file_bytes += page_up(p->seg[i].filesz);
    }
    p->memory_bytes = total + o->stack_bytes + 2 * PAGE; /* + guard + trampoline */
    /* while loading, the segments' file bytes and the loader itself are resident together */
    if (file_bytes + LOADER_RESERVE_BYTES > p->memory_bytes)
        p->memory_bytes = file_bytes + LOADER_RESERVE_BYTES;
    if (p->memory_bytes > o->max_memory_bytes)
        bad_program("program needs %llu bytes of memory (segments + stack, or its file bytes "
                    "+ the loader's own %llu while loading), over the cap of %llu bytes",
                    (unsigned long long)p->memory_bytes, LOADER_RESERVE_BYTES,
                    o->max_memory_bytes);
}

static void validate(const struct program_file *pf, const struct options *o, struct plan *p)
{
    /* the header (zero past the end of a short file) and the program header table */
    union { unsigned char bytes[sizeof(Elf64_Ehdr)]; Elf64_Ehdr eh; } head = {{0}};
    uint64_t len = pf->size;
    read_at(pf, head.bytes, len < sizeof head ? len : sizeof head, 0);
    check_ident(head.bytes, len);
    const Elf64_Ehdr *eh = &head.eh;
    check_header(eh, len);
    static Elf64_Phdr phs[MAX_PHNUM];
    read_at(pf, phs, (uint64_t)eh->e_phnum * sizeof phs[0], eh->e_phoff);
    memset(p, 0, sizeof *p);
    for (int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph = phs[i];
        if (ph.p_type == PT_INTERP)
            bad_program("dynamically linked (has an interpreter, PT_INTERP); link with -static");
        if (ph.p_type == PT_DYNAMIC)
            bad_program("dynamically linked (has PT_DYNAMIC); link with -static");
        if (ph.p_type == PT_LOAD)
            add_load(p, &ph, i, len);
    }
    if (p->nseg == 0)
        bad_program("no loadable (PT_LOAD) segment");
    qsort(p->seg, (size_t)p->nseg, sizeof p->seg[0], cmp_segment);
    for (int i = 0; i < p->nseg; i++) {
        if (i > 0 && p->seg[i].start < p->seg[i - 1].end)
            bad_program("PT_LOAD segments at 0x%llx and 0x%llx share a page",
                        (unsigned long long)p->seg[i - 1].vaddr,
                        (unsigned long long)p->seg[i].vaddr);
    }
    int entry_ok = 0;
    for (int i = 0; i < p->nseg; i++) {
        if ((p->seg[i].prot & PROT_EXEC) && eh->e_entry >= p->seg[i].vaddr &&
            eh->e_entry < p->seg[i].end)
            entry_ok = 1;
    }
    if (!entry_ok)
        bad_program("entry point 0x%llx is not in an executable segment",
                    (unsigned long long)eh->e_entry);
    p->entry = eh->e_entry;
    check_memory(p, o);
}

static void set_limit(int resource, const char *name, rlim_t value)
{
    struct rlimit rl = {value, value};
    if (setrlimit(resource, &rl) != 0)
        setup_error("setrlimit(%s): %s", name, strerror(errno));
}

/* The kernel's OOM killer takes this process before anything of the seller's: the program's
 * memory is the seller's to reclaim first. Raising one's own score needs no privilege. */
static void be_first_oom_victim(void)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        setup_error("open(/proc/self/oom_score_adj): %s (is /proc mounted?)", strerror(errno));
    ssize_t w = write(fd, "1000", 4);
    if (w != 4)
        setup_error("write(/proc/self/oom_score_adj, 1000): %s",
                    w < 0 ? strerror(errno) : "short write");
    if (close(fd) != 0)
        setup_error("close(/proc/self/oom_score_adj): %s", strerror(errno));
}

/* cpuid tells the CPU model, its features and cache sizes: programs could tell machines
 * apart and behave differently on each. Where the CPU can (Intel CPUID faulting, AMD
 * CpuidUserDis; "cpuid_fault" in /proc/cpuinfo), cpuid raises SIGSEGV from now on (reset by
 * execve only). Elsewhere the kernel answers ENODEV and cpuid keeps working (docs/sandbox.md). */
#ifndef ARCH_SET_CPUID
#define ARCH_SET_CPUID 0x1012
#endif
static void disable_cpuid(void)
{
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0L) != 0 && errno != ENODEV)
        setup_error("arch_prctl(ARCH_SET_CPUID, 0): %s", strerror(errno));
}

static void confine_process(const struct options *o)
{
    set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0);
    set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", 0);
    if (o->cpu_limit_s > 0)
        set_limit(RLIMIT_CPU, "RLIMIT_CPU", (rlim_t)o->cpu_limit_s);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        setup_error("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        setup_error("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
    if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0)
        setup_error("prctl(PR_SET_TSC, PR_TSC_SIGSEGV): %s", strerror(errno));
    if (setsid() < 0 && getsid(0) != getpid())
        setup_error("setsid: %s", strerror(errno));
    /* Its own session puts it out of reach of a kill of the worker's process group, so it
     * dies with the worker instead (no orphan burning CPU until its RLIMIT_CPU). */
    if (o->parent_pid > 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
            setup_error("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
        if (getppid() != (pid_t)o->parent_pid)
            setup_error("the parent process %d is gone", o->parent_pid);
    }
    be_first_oom_victim();
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0)
        setup_error("prctl(PR_GET_SECCOMP): seccomp unavailable or already active (%s)",
                    strerror(errno));
}

static void close_other_fds(int keep)
{
    if (close(2) != 0 && errno != EBADF)
        setup_error("close(2): %s", strerror(errno));
    unsigned int lo = 3;
    if (keep >= 3) {
        if (keep > 3 && syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) != 0)
            setup_error("close_range(3, %d): %s", keep - 1, strerror(errno));
        lo = (unsigned)keep + 1;
    }
    if (syscall(SYS_close_range, lo, ~0u, 0u) != 0)
        setup_error("close_range(%u, ~0): %s", lo, strerror(errno));
}

/* Anonymous read-write memory at exactly [start, start+len). Nothing of the loader can be
 * there on a normal memory layout (see MAX_VADDR, STACK_TOP): if something is, the machine
 * is at fault, not the program (a set-up error, never a bad_program verdict). */
static void *map_fixed(uint64_t start, uint64_t len, const char *what)
{
    void *want = (void *)(uintptr_t)start;
    void *got = mmap(want, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == MAP_FAILED && errno == EEXIST)
        setup_error("%s at 0x%llx+0x%llx overlaps the loader's own memory (the kernel placed "
                    "the loader in the program range: a legacy memory layout, "
                    "vm.legacy_va_layout=1 or setarch -L? use the default layout)", what,
                    (unsigned long long)start, (unsigned long long)len);
    if (got == MAP_FAILED)
        setup_error("mmap(%s at 0x%llx, %llu bytes): %s", what, (unsigned long long)start,
                    (unsigned long long)len, strerror(errno));
    if (got != want) /* a kernel older than 4.17 treats MAP_FIXED_NOREPLACE as a hint */
        setup_error("mmap(%s at 0x%llx) placed it at %p (kernel without "
                    "MAP_FIXED_NOREPLACE?)", what, (unsigned long long)start, got);
    return got;
}

/* Each segment: mapped, its file bytes read straight into it (no copy of the file is held),
 * the rest zero; then its own permissions. */
static void map_segments(const struct plan *p, const struct program_file *pf)
{
    for (int i = 0; i < p->nseg; i++) {
        const struct segment *s = &p->seg[i];
        map_fixed(s->start, s->end - s->start, "program segment");
        read_at(pf, (void *)(uintptr_t)s->vaddr, s->filesz, s->offset);
    }
    for (int i = 0; i < p->nseg; i++) {
        const struct segment *s = &p->seg[i];
        if (mprotect((void *)(uintptr_t)s->start, s->end - s->start, s->prot) != 0)
            setup_error("mprotect(segment 0x%llx): %s", (unsigned long long)s->start,
                        strerror(errno));
    }
    if (close(pf->fd) != 0)
        setup_error("close(program fd): %s", strerror(errno));
}

/* The stack: [guard page][stack_bytes] ending at STACK_TOP on every machine (no address a
 * program could use to tell machines or runs apart), initial frame at the top:
 * argc = 0, argv[0] = NULL, envp[0] = NULL, auxv = {AT_NULL, 0}. Returns the initial sp. */
static uint64_t map_stack(uint64_t stack_bytes, uint64_t *lo, uint64_t *hi)
{
    uint64_t len = stack_bytes + PAGE;
    void *m = map_fixed(STACK_TOP - len, len, "the program's stack");
    if (mprotect(m, PAGE, PROT_NONE) != 0)
        setup_error("mprotect(stack guard): %s", strerror(errno));
    *lo = (uint64_t)(uintptr_t)m;
    *hi = *lo + len;
    uint64_t sp = *hi - 64; /* 16-byte aligned; 5 zero words above it */
    return sp;
}

static void *map_trampoline(void)
{
    size_t n = (size_t)(cps_tramp_end - cps_tramp_begin);
    if (n > PAGE)
        setup_error("trampoline is larger than a page (%zu bytes)", n);
    void *m = map_fixed(TRAMP_ADDR, PAGE, "the trampoline");
    memcpy(m, cps_tramp_begin, n);
    if (mprotect(m, PAGE, PROT_READ | PROT_EXEC) != 0)
        setup_error("mprotect(trampoline): %s", strerror(errno));
    return m;
}

/* The argument block and, after its first page, the XSAVE area the trampoline restores
 * from: header zero (XSTATE_BV = 0: every requested component to its initial state),
 * MXCSR at its default. */
static struct tramp_args *map_tramp_args(uint64_t *bytes)
{
    struct xstate_cpu cpu;
    struct xstate_plan xs;
    xstate_read_cpu(&cpu);
    const char *why = xstate_plan(&cpu, &xs);
    if (why)
        setup_error("cannot reset this CPU's register state: %s (XCR0 %#llx, XSAVE area %u "
                    "bytes)", why, (unsigned long long)cpu.xcr0, cpu.enabled_bytes);
    *bytes = PAGE + ((xs.area_bytes + PAGE - 1) & ~(PAGE - 1));
    struct tramp_args *ta = mmap(NULL, *bytes, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ta == MAP_FAILED)
        setup_error("mmap(trampoline arguments, %llu bytes): %s", (unsigned long long)*bytes,
                    strerror(errno));
    ta->flags = xs.use_xrstor ? 1 : 0;
    ta->xrstor_mask = xs.mask;
    ta->xsave_area = (uint64_t)(uintptr_t)ta + PAGE;
    uint32_t mxcsr = 0x1f80; /* legacy area: MXCSR at 24 */
    memcpy((char *)ta + PAGE + 24, &mxcsr, sizeof mxcsr);
    return ta;
}

struct range { uint64_t start, end; };

static int cmp_range(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Everything in [0, USER_TOP) that is not kept gets unmapped; the argument block last. */
static void add_unmap(struct tramp_args *ta, size_t *n, uint64_t a, uint64_t b)
{
    if (b <= a)
        return;
    if (*n + 2 >= sizeof ta->ranges / sizeof ta->ranges[0])
        setup_error("too many address ranges to unmap");
    ta->ranges[*n].start = a;
    ta->ranges[*n].len = b - a;
    (*n)++;
}

static void plan_unmaps(struct tramp_args *ta, uint64_t ta_bytes, const struct range *keep,
                        int nkeep)
{
    struct range k[MAX_PHNUM + 4];
    memcpy(k, keep, (size_t)nkeep * sizeof k[0]);
    qsort(k, (size_t)nkeep, sizeof k[0], cmp_range);
    uint64_t self = (uint64_t)(uintptr_t)ta, cursor = 0;
    size_t n = 0;
    for (int i = 0; i <= nkeep; i++) {
        uint64_t until = i < nkeep ? k[i].start : USER_TOP;
        if (self >= cursor && self < until) {
            add_unmap(ta, &n, cursor, self);
            add_unmap(ta, &n, self + ta_bytes, until);
        } else {
            add_unmap(ta, &n, cursor, until);
        }
        if (i < nkeep && k[i].end > cursor)
            cursor = k[i].end;
    }
    ta->ranges[n].start = self;
    ta->ranges[n].len = ta_bytes;
    ta->nranges = n + 1;
}

/* rseq and the robust futex list point into the loader's TLS, which is about to go. */
static void forget_thread_pointers(void)
{
    if (__rseq_size > 0) {
        void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
        if (syscall(SYS_rseq, area, 32u, RSEQ_FLAG_UNREGISTER, 0x53053053u) != 0 &&
            syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, 0x53053053u) != 0)
            setup_error("rseq(unregister): %s", strerror(errno));
    }
    if (syscall(SYS_set_robust_list, NULL, 24u) != 0)
        setup_error("set_robust_list(NULL): %s", strerror(errno));
    syscall(SYS_set_tid_address, NULL);
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    check_status_fd(o.status_fd);
    reset_signals();
    check_pipe(0);
    check_pipe(1);

    struct program_file pf;
    open_program(&o, &pf);
    static struct plan plan;
    validate(&pf, &o, &plan);
    map_segments(&plan, &pf);

    confine_process(&o);
    close_other_fds(o.status_fd);

    struct range keep[MAX_PHNUM + 4];
    int nkeep = 0;
    for (int i = 0; i < plan.nseg; i++)
        keep[nkeep++] = (struct range){plan.seg[i].start, plan.seg[i].end};
    uint64_t stack_lo, stack_hi;
    uint64_t sp = map_stack(o.stack_bytes, &stack_lo, &stack_hi);
    keep[nkeep++] = (struct range){stack_lo, stack_hi};
    void *tramp = map_trampoline();
    keep[nkeep++] = (struct range){(uint64_t)(uintptr_t)tramp, (uint64_t)(uintptr_t)tramp + PAGE};

    uint64_t ta_bytes;
    struct tramp_args *ta = map_tramp_args(&ta_bytes);
    ta->entry = plan.entry;
    ta->sp = sp;
    ta->status_fd = (uint64_t)o.status_fd;
    ta->flags |= o.idle ? 2 : 0; /* bit 1: SCHED_IDLE */
    plan_unmaps(ta, ta_bytes, keep, nkeep);

    disable_cpuid(); /* last: xstate_read_cpu above and glibc's start-up use cpuid */
    forget_thread_pointers();
    void (*jump)(struct tramp_args *) = (void (*)(struct tramp_args *))tramp;
    jump(ta);
    return EXIT_SETUP_ERROR;
}
