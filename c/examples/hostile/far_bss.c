/* Valid: a large bss at a fixed address of its own, FAR_BSS_ADDR (set by the Makefile), with
 * FAR_BSS_BYTES bytes. Built twice:
 *   far_bss_top.elf  1 GiB ending exactly at the top of the range the loader accepts
 *                    (0x500000000000): must run, on every machine, every time;
 *   far_bss_brk.elf  1.5 GiB over 0x555540000000, where the kernel puts a static PIE's brk
 *                    (2/3 of the address space plus up to 1 GiB): once randomly refused as
 *                    "overlaps the loader's own memory", now always refused for its range;
 *   far_bss_legacy.elf 16 MiB over 0x2aaaaaaab000, where a legacy bottom-up memory layout
 *                    without randomisation (setarch -L -R) maps the loader: a set-up error
 *                    of the machine there, never a bad_program verdict; runs elsewhere.
 * Answers each fragment with its bytes after touching the first and last byte of the bss. */
#include "rt.h"

static char far[FAR_BSS_BYTES] __attribute__((section(".far_bss,\"aw\",@nobits#")));

static const char *touch_and_echo(rt_bytes shared, rt_bytes frag, void *ctx)
{
    volatile char *p = far;
    p[0] = 1;
    p[FAR_BSS_BYTES - 1] = 1;
    rt_abi_data(frag.data, frag.len);
    return NULL;
}

int main(void)
{
    return rt_abi_serve(touch_and_echo, NULL);
}
