/* bench.h: the benchmark's entry point, shared by lrelu-bench and `lrelu bench`. */
#ifndef LRELU_BENCH_H
#define LRELU_BENCH_H
int lrelu_bench_main(int argc, char **argv);
#endif
