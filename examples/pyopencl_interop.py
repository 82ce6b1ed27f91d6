#!/usr/bin/env python3
"""pyopencl_interop.py [LIBRARY]: lrelu inside a PyOpenCL program.

The program owns the context, the queue and the buffers (PyOpenCL's); lrelu joins its
queue (lrelu_create_from_queue) and runs on its buffers through the shared library
(ctypes), with no copy and no wait of its own: each lrelu call waits on PyOpenCL's events
and hands back an event that PyOpenCL's next command waits on. The results are checked
against NumPy, which computes what lrelu computes: x > 0 ? x : x * alpha in float (double
for f64), rounded once to the dtype. LIBRARY: the path of liblrelu.so (default: the
loader's search path). Exits 0 when every result matches, 1 otherwise.
"""
import ctypes
import sys

import numpy as np
import pyopencl as cl

F32, F16, F64 = 0, 1, 3


def load(path):
    lib = ctypes.CDLL(path)
    ptr, size, event_p = ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)
    lib.lrelu_create_from_queue.argtypes = [ctypes.POINTER(ptr), ptr]
    lib.lrelu_destroy.argtypes = [ptr]
    lib.lrelu_last_error.restype = ctypes.c_char_p
    lib.lrelu_forward.argtypes = [ptr, ctypes.c_int, size, ctypes.c_double, ptr, size, ptr, size,
                                  ctypes.c_uint, ptr, event_p]
    lib.lrelu_backward.argtypes = [ptr, ctypes.c_int, size, ctypes.c_double, ptr, size, ptr, size,
                                   ptr, size, ctypes.c_uint, ptr, event_p]
    return lib


def wait_list(events):
    """A cl_event array for lrelu from PyOpenCL events (kept alive by the caller)."""
    return (ctypes.c_void_p * len(events))(*[e.int_ptr for e in events])


def checked(lib, status, what):
    if status != 0:
        raise RuntimeError("%s: %s" % (what, lib.lrelu_last_error().decode()))


def reference(x, dy, alpha, dtype):
    """What lrelu computes, in NumPy: the compute type is float32 (float64 for f64)."""
    ct = np.float64 if dtype == np.float64 else np.float32
    xs, ds = x.astype(ct), dy.astype(ct)
    a = ct(alpha)
    y = np.where(xs > 0, xs, xs * a).astype(dtype)
    dx = np.where(xs > 0, ds, ds * a).astype(dtype)
    return y, dx


def same_bits(got, want):
    """Bit for bit, but for NaN's payload (a NaN must stay a NaN)."""
    nan = np.isnan(want)
    if not np.array_equal(nan, np.isnan(got)):
        return False
    ints = {2: np.uint16, 4: np.uint32, 8: np.uint64}[want.dtype.itemsize]
    return np.array_equal(got[~nan].view(ints), want[~nan].view(ints))


def inputs(n, dtype, rng):
    """Random values of every magnitude, with the specials first: signed zeros, the
    infinities, NaN and the smallest subnormal of each sign."""
    tiny = np.finfo(dtype).smallest_subnormal
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, tiny, -tiny, 1.0, -1.0], dtype=dtype)
    with np.errstate(over="ignore"):  # f16's largest is 65504: the rest become infinities
        x = (rng.standard_normal(n) * np.exp2(rng.integers(-20, 20, n))).astype(dtype)
    k = min(n, len(specials))
    x[:k] = specials[:k]
    return x


def main():
    lib = load(sys.argv[1] if len(sys.argv) > 1 else "liblrelu.so")
    context = cl.create_some_context(interactive=False)
    queue = cl.CommandQueue(context)
    ctx = ctypes.c_void_p()
    checked(lib, lib.lrelu_create_from_queue(ctypes.byref(ctx), queue.int_ptr),
            "lrelu_create_from_queue")
    print("device:", queue.device.name)
    rng = np.random.default_rng(20261205)
    failed = 0
    mf = cl.mem_flags
    dtypes = [(F32, np.float32), (F16, np.float16)]
    if queue.device.double_fp_config:
        dtypes.append((F64, np.float64))
    try:
        for code, dtype in dtypes:
            for n in (1, 1000, 100003):
                x, dy = inputs(n, dtype, rng), inputs(n, dtype, rng)
                alpha = 0.01
                xb = cl.Buffer(context, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=x)
                dyb = cl.Buffer(context, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=dy)
                yb = cl.Buffer(context, mf.READ_WRITE, x.nbytes)
                dxb = cl.Buffer(context, mf.READ_WRITE, x.nbytes)
                # the outputs poisoned by PyOpenCL's own command, which lrelu waits on
                poison = [cl.enqueue_fill_buffer(queue, b, np.uint8(0xA5), 0, x.nbytes)
                          for b in (yb, dxb)]
                fwd, bwd = ctypes.c_void_p(), ctypes.c_void_p()
                wy, wdx = wait_list(poison[:1]), wait_list(poison[1:])
                checked(lib, lib.lrelu_forward(ctx, code, n, alpha, xb.int_ptr, 0, yb.int_ptr, 0, 1,
                                               wy, ctypes.byref(fwd)), "lrelu_forward")
                checked(lib, lib.lrelu_backward(ctx, code, n, alpha, xb.int_ptr, 0, dyb.int_ptr, 0,
                                                dxb.int_ptr, 0, 1, wdx, ctypes.byref(bwd)),
                        "lrelu_backward")
                # lrelu's events as PyOpenCL's (they own the references lrelu handed out)
                after = [cl.Event.from_int_ptr(e.value, retain=False) for e in (fwd, bwd)]
                y, dx = np.empty_like(x), np.empty_like(x)
                cl.enqueue_copy(queue, y, yb, wait_for=after[:1])
                cl.enqueue_copy(queue, dx, dxb, wait_for=after[1:])
                queue.finish()
                want_y, want_dx = reference(x, dy, alpha, dtype)
                for name, got, want in (("forward", y, want_y), ("backward", dx, want_dx)):
                    ok = same_bits(got, want)
                    failed += not ok
                    print("%-4s %-8s n=%-6d %s" % (np.dtype(dtype).name, name, n,
                                                    "ok" if ok else "FAIL: differs from NumPy"))
    finally:
        lib.lrelu_destroy(ctx)
    print("%s" % ("all match NumPy" if failed == 0 else "%d FAILED" % failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
