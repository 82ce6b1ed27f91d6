/* onednn.h: the oneDNN baseline of the benchmark (bench/onednn.c). */
#ifndef LRELU_BENCH_ONEDNN_H
#define LRELU_BENCH_ONEDNN_H
#include <stddef.h>
typedef struct onednn_op onednn_op;
/* Forward (y = f(x)) or backward (dx = f'(x) dy) over n f32 elements; NULL on failure. */
onednn_op *onednn_create(int backward, size_t n, const float *x, const float *dy, float *out,
                         float alpha);
void onednn_run(onednn_op *o);
void onednn_destroy(onednn_op *o);
#endif
