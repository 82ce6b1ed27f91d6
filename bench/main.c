/* main.c: lrelu-bench, the benchmark on its own (also `lrelu bench`). */
#include "bench.h"

int main(int argc, char **argv) { return lrelu_bench_main(argc, argv); }
