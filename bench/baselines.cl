/* baselines.cl: the kernels the benchmark measures lrelu against, f32 only: the plain
 * one-element-per-work-item kernel with no bounds guard (the global size is exactly n,
 * the local size left to the driver), and a float16-vector kernel over n / 16 work-items
 * (n a multiple of 16). Both compute what lrelu computes; neither handles tails,
 * offsets or other dtypes, which is what lrelu adds. */

__kernel void base_forward_1(const __global float *x, __global float *y, float a)
{
    size_t i = get_global_id(0);
    float v = x[i];
    y[i] = v > 0.0f ? v : v * a;
}

__kernel void base_backward_1(const __global float *x, const __global float *dy, __global float *dx,
                              float a)
{
    size_t i = get_global_id(0);
    float g = dy[i];
    dx[i] = x[i] > 0.0f ? g : g * a;
}

__kernel void base_forward_16(const __global float16 *x, __global float16 *y, float a)
{
    size_t i = get_global_id(0);
    float16 v = x[i];
    y[i] = v > 0.0f ? v : v * a;
}

__kernel void base_backward_16(const __global float16 *x, const __global float16 *dy,
                               __global float16 *dx, float a)
{
    size_t i = get_global_id(0);
    float16 g = dy[i];
    dx[i] = x[i] > 0.0f ? g : g * a;
}
