/* setjmp.h: callee-saved registers, stack pointer and return address (x86-64 SysV). */
#ifndef _CPUSHARE_SETJMP_H
#define _CPUSHARE_SETJMP_H
typedef unsigned long jmp_buf[8];
typedef unsigned long sigjmp_buf[8];
int setjmp(jmp_buf env) __attribute__((returns_twice));
int _setjmp(jmp_buf env) __attribute__((returns_twice));
int sigsetjmp(sigjmp_buf env, int savesigs) __attribute__((returns_twice));
void longjmp(jmp_buf env, int val) __attribute__((noreturn));
void _longjmp(jmp_buf env, int val) __attribute__((noreturn));
void siglongjmp(sigjmp_buf env, int val) __attribute__((noreturn));
#endif
