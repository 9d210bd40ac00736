# Shared settings for every C part. Each subdirectory's Makefile includes this file and
# writes its outputs into $(BUILD) (c/build).
C_ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD   := $(C_ROOT)/build
CC      ?= cc
WARN    := -Wall -Wextra -Wno-unused-parameter

# Native (hosted) programs: the loader, the povray server, the native renderer, tests.
HOST_CFLAGS := -O2 -g $(WARN) -std=gnu11 -ffp-contract=off

# Freestanding sandbox programs: static, no libc, deterministic floating point.
# x86-64 baseline ISA (SSE2, no FMA) and -ffp-contract=off give the same bits on every
# x86-64 CPU; no -ffast-math anywhere.
# KIT_CFLAGS are the code-generation flags every sandbox program needs; cpushare-cc reads
# them from c/build/kit/cflags (written by c/kit/Makefile), so they live only here.
KIT_CFLAGS := -static -fno-pie -no-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fcf-protection=none -ffp-contract=off -march=x86-64 -mtune=generic
FREE_CFLAGS := -O2 $(WARN) -std=gnu11 -ffreestanding -fno-builtin -nostdlib $(KIT_CFLAGS) \
	-I$(C_ROOT)/rt
FREE_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack
