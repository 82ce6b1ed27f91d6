/* status.c: status names and messages, the per-thread last-error text, OpenCL error
 * names, and the small facts about dtypes and the version. Names and messages come from
 * one X-macro list each, so they cannot drift apart. */
#include "common/common.h"

#include <stdio.h>
#include <string.h>

#define LRELU_STATUS_LIST(X)                                                                       \
    X(LRELU_OK, "success")                                                                         \
    X(LRELU_ERR_INVALID_ARG, "an argument is invalid")                                             \
    X(LRELU_ERR_OUT_OF_RANGE, "a range lies beyond its buffer")                                    \
    X(LRELU_ERR_OVERLAP, "an output partly overlaps an input")                                     \
    X(LRELU_ERR_UNSUPPORTED, "the device cannot run this dtype")                                   \
    X(LRELU_ERR_NO_DEVICE, "no OpenCL device matches")                                             \
    X(LRELU_ERR_BUILD, "the kernels failed to build")                                              \
    X(LRELU_ERR_OUT_OF_MEMORY, "an allocation failed")                                             \
    X(LRELU_ERR_OPENCL, "an OpenCL call failed")

const char *lrelu_status_str(lrelu_status s)
{
    switch (s) {
#define LRELU_STATUS_CASE(name, phrase)                                                            \
    case name:                                                                                     \
        return #name ": " phrase;
        LRELU_STATUS_LIST(LRELU_STATUS_CASE)
#undef LRELU_STATUS_CASE
    }
    return "LRELU_ERR_UNKNOWN: not an lrelu_status";
}

static const char *status_name(lrelu_status s)
{
    switch (s) {
#define LRELU_STATUS_NAME(name, phrase)                                                            \
    case name:                                                                                     \
        return #name;
        LRELU_STATUS_LIST(LRELU_STATUS_NAME)
#undef LRELU_STATUS_NAME
    }
    return "LRELU_ERR_UNKNOWN";
}

/* Large enough for a build log of a few hundred lines; longer ones are cut. */
static _Thread_local char last_error[16384];

const char *lrelu_last_error(void) { return last_error; }

lrelu_status lrelu_fail(lrelu_status s, const char *fmt, ...)
{
    int head = snprintf(last_error, sizeof last_error, "%s: ", status_name(s));
    if (head < 0)
        head = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + head, sizeof last_error - (size_t)head, fmt, ap);
    va_end(ap);
    return s;
}

#define LRELU_CL_ERROR_LIST(X)                                                                     \
    X(CL_SUCCESS)                                                                                  \
    X(CL_DEVICE_NOT_FOUND)                                                                         \
    X(CL_DEVICE_NOT_AVAILABLE)                                                                     \
    X(CL_COMPILER_NOT_AVAILABLE)                                                                   \
    X(CL_MEM_OBJECT_ALLOCATION_FAILURE)                                                            \
    X(CL_OUT_OF_RESOURCES)                                                                         \
    X(CL_OUT_OF_HOST_MEMORY)                                                                       \
    X(CL_PROFILING_INFO_NOT_AVAILABLE)                                                             \
    X(CL_MEM_COPY_OVERLAP)                                                                         \
    X(CL_IMAGE_FORMAT_MISMATCH)                                                                    \
    X(CL_IMAGE_FORMAT_NOT_SUPPORTED)                                                               \
    X(CL_BUILD_PROGRAM_FAILURE)                                                                    \
    X(CL_MAP_FAILURE)                                                                              \
    X(CL_MISALIGNED_SUB_BUFFER_OFFSET)                                                             \
    X(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)                                                \
    X(CL_COMPILE_PROGRAM_FAILURE)                                                                  \
    X(CL_LINKER_NOT_AVAILABLE)                                                                     \
    X(CL_LINK_PROGRAM_FAILURE)                                                                     \
    X(CL_DEVICE_PARTITION_FAILED)                                                                  \
    X(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)                                                            \
    X(CL_INVALID_VALUE)                                                                            \
    X(CL_INVALID_DEVICE_TYPE)                                                                      \
    X(CL_INVALID_PLATFORM)                                                                         \
    X(CL_INVALID_DEVICE)                                                                           \
    X(CL_INVALID_CONTEXT)                                                                          \
    X(CL_INVALID_QUEUE_PROPERTIES)                                                                 \
    X(CL_INVALID_COMMAND_QUEUE)                                                                    \
    X(CL_INVALID_HOST_PTR)                                                                         \
    X(CL_INVALID_MEM_OBJECT)                                                                       \
    X(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)                                                          \
    X(CL_INVALID_IMAGE_SIZE)                                                                       \
    X(CL_INVALID_SAMPLER)                                                                          \
    X(CL_INVALID_BINARY)                                                                           \
    X(CL_INVALID_BUILD_OPTIONS)                                                                    \
    X(CL_INVALID_PROGRAM)                                                                          \
    X(CL_INVALID_PROGRAM_EXECUTABLE)                                                               \
    X(CL_INVALID_KERNEL_NAME)                                                                      \
    X(CL_INVALID_KERNEL_DEFINITION)                                                                \
    X(CL_INVALID_KERNEL)                                                                           \
    X(CL_INVALID_ARG_INDEX)                                                                        \
    X(CL_INVALID_ARG_VALUE)                                                                        \
    X(CL_INVALID_ARG_SIZE)                                                                         \
    X(CL_INVALID_KERNEL_ARGS)                                                                      \
    X(CL_INVALID_WORK_DIMENSION)                                                                   \
    X(CL_INVALID_WORK_GROUP_SIZE)                                                                  \
    X(CL_INVALID_WORK_ITEM_SIZE)                                                                   \
    X(CL_INVALID_GLOBAL_OFFSET)                                                                    \
    X(CL_INVALID_EVENT_WAIT_LIST)                                                                  \
    X(CL_INVALID_EVENT)                                                                            \
    X(CL_INVALID_OPERATION)                                                                        \
    X(CL_INVALID_GL_OBJECT)                                                                        \
    X(CL_INVALID_BUFFER_SIZE)                                                                      \
    X(CL_INVALID_MIP_LEVEL)                                                                        \
    X(CL_INVALID_GLOBAL_WORK_SIZE)                                                                 \
    X(CL_INVALID_PROPERTY)                                                                         \
    X(CL_INVALID_IMAGE_DESCRIPTOR)                                                                 \
    X(CL_INVALID_COMPILER_OPTIONS)                                                                 \
    X(CL_INVALID_LINKER_OPTIONS)                                                                   \
    X(CL_INVALID_DEVICE_PARTITION_COUNT)

const char *lrelu_cl_error_name(cl_int err)
{
    switch (err) {
#define LRELU_CL_ERROR_CASE(name)                                                                  \
    case name:                                                                                     \
        return #name;
        LRELU_CL_ERROR_LIST(LRELU_CL_ERROR_CASE)
#undef LRELU_CL_ERROR_CASE
    default:
        return "CL_UNKNOWN_ERROR";
    }
}

lrelu_status lrelu_cl_fail(cl_int err, const char *call, const char *file, int line)
{
    lrelu_status s = LRELU_ERR_OPENCL;
    if (err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
        err == CL_OUT_OF_RESOURCES)
        s = LRELU_ERR_OUT_OF_MEMORY;
    else if (err == CL_BUILD_PROGRAM_FAILURE)
        s = LRELU_ERR_BUILD;
    const char *base = strrchr(file, '/');
    return lrelu_fail(s, "%s (%d) from %s at %s:%d", lrelu_cl_error_name(err), (int)err, call,
                      base ? base + 1 : file, line);
}

size_t lrelu_dtype_size(lrelu_dtype t)
{
    switch (t) {
    case LRELU_F32:
        return 4;
    case LRELU_F16:
    case LRELU_BF16:
        return 2;
    case LRELU_F64:
        return 8;
    }
    return 0;
}

const char *lrelu_dtype_name(lrelu_dtype t)
{
    switch (t) {
    case LRELU_F32:
        return "f32";
    case LRELU_F16:
        return "f16";
    case LRELU_BF16:
        return "bf16";
    case LRELU_F64:
        return "f64";
    }
    return "?";
}

const char *lrelu_op_name(lrelu_op op)
{
    switch (op) {
    case LRELU_OP_FORWARD:
        return "forward";
    case LRELU_OP_BACKWARD:
        return "backward";
    case LRELU_OP_BACKWARD_FROM_OUTPUT:
        return "backward_from_output";
    }
    return "?";
}

#define LRELU_STR_(x) #x
#define LRELU_STR(x)  LRELU_STR_(x)
const char *lrelu_version(void)
{
    return LRELU_STR(LRELU_VERSION_MAJOR) "." LRELU_STR(LRELU_VERSION_MINOR) "." LRELU_STR(
        LRELU_VERSION_PATCH);
}
