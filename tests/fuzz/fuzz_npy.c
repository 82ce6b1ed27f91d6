/* fuzz_npy.c: libFuzzer target over `lrelu apply`'s .npy reader: any bytes as a file.
 * It must either refuse them with a message or hand back an array whose element count
 * and size agree with what it read; never crash, never read past the file. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/lrelu-fuzz-npy-%ld.npy", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    npy_array a;
    char err[512];
    if (npy_read(path, &a, err, sizeof err) == 0) {
        if (a.elem == 0 || a.count * a.elem > size || (a.count && a.data == NULL))
            abort();
        npy_free(&a);
    } else if (err[0] == '\0') {
        abort(); /* a refusal must say why */
    }
    return 0;
}
