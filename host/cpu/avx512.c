/* avx512.c: the in-process loops of loops.h built for avx512 (see the flags in
 * CMakeLists.txt); pick.c calls this copy only on a CPU that runs it. */
#define LRELU_CPU_FN(name) name##_avx512
#include "cpu/loops.h"
