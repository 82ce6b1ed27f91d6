/* fault_layer.h: the test-only layer between the library and OpenCL (and the C
 * allocator), linked in with the linker's --wrap (see tests/CMakeLists.txt): it counts
 * every call the library makes, the OpenCL objects alive and the allocations made while
 * `counting` is set, and makes call number `fail_at` fail. */
#ifndef LRELU_FAULT_LAYER_H
#define LRELU_FAULT_LAYER_H

#include <CL/cl.h>

#define MAX_ALLOCS 4096

extern int counting; /* track calls, objects and allocations */
/* Set on a thread: its calls never fail (and are not counted as fault points); a
 * device group's test fails its other devices' threads alone. Objects and allocations
 * are tracked on every thread. */
extern _Thread_local int fault_exempt;
extern long calls, fail_at; /* calls so far; the one to fail (0: none) */
extern const char *failed_name;
extern long live_objects; /* created + retained - released, while counting */
extern void *allocs[MAX_ALLOCS];
extern long readonly_outputs; /* kernel outputs set to CL_MEM_READ_ONLY buffers */
/* Not faults: a device type to report instead of the real one (0: the real one), and
 * counts of kernel launches (with the global offset of the last) and of kernels created
 * whose name contains `kernel_watch` (NULL: none), whether or not counting is set. */
extern cl_device_type fake_device_type;
extern long launches, watched_kernels;
extern size_t last_launch_offset[2];
extern const char *kernel_watch;
/* The largest buffer created while counting, in bytes. */
extern size_t largest_buffer;
/* Programs created from source and from a binary, counted always. */
extern long programs_from_source, programs_from_binary;

/* Allocations made while counting and not freed yet. */
int allocs_alive(void);
/* After a counted window: whether OpenCL objects or allocations outlived it (then `why`
 * says how many); forgets the allocations for the next window. */
int fault_leaks(char *why, size_t len);

#endif
