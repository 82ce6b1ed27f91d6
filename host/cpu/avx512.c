/* cpu_x86_avx512.c: the in-process loops of cpu_loops.h built for avx512 (see the flags in
 * CMakeLists.txt); cpu.c calls this copy only on a CPU that runs it. */
#define LRELU_CPU_FN(name) name##_avx512
#include "cpu/loops.h"
