/* Program entry for programs linked against librt.a: clear the frame pointer, align the
 * stack, call main(), exit with its return value. A program that defines its own _start
 * does not pull this object in. */
#include "rt.h"

int main(void);

__attribute__((noreturn, used)) void rt_start_c(void)
{
    rt_exit(main());
}

__asm__(
    ".text\n"
    ".globl _start\n"
    ".type _start, @function\n"
    "_start:\n"
    "    xor %ebp, %ebp\n"
    "    and $-16, %rsp\n"
    "    call rt_start_c\n"
    "    hlt\n"
    ".size _start, .-_start\n");
