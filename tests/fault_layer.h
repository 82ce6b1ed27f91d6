/* fault_layer.h: the test-only layer between the library and OpenCL (and the C
 * allocator), linked in with the linker's --wrap (see tests/CMakeLists.txt): it counts
 * every call the library makes, the OpenCL objects alive and the allocations made while
 * `counting` is set, and makes call number `fail_at` fail. */
#ifndef LRELU_FAULT_LAYER_H
#define LRELU_FAULT_LAYER_H

#define MAX_ALLOCS 4096

extern int counting;        /* track calls, objects and allocations */
extern long calls, fail_at; /* calls so far; the one to fail (0: none) */
extern const char *failed_name;
extern long live_objects; /* created + retained - released, while counting */
extern void *allocs[MAX_ALLOCS];
extern long readonly_outputs; /* kernel outputs set to CL_MEM_READ_ONLY buffers */

/* Allocations made while counting and not freed yet. */
int allocs_alive(void);

#endif
