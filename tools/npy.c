/* npy.c: reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0), the
 * arrays `lrelu apply` works on. Little-endian float data in C order: '<f4' (f32), '<f8'
 * (f64), '<f2' (f16), and for bf16, which NumPy has no type for, the raw 16-bit patterns
 * as '<u2' or '<V2' (what ml_dtypes' bfloat16 arrays save as), taken only with
 * --dtype bf16. Every malformation is an error with a message; nothing is guessed. */
#include "cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t len, const char *path, const char *what)
{
    snprintf(err, len, "%s: %s", path, what);
    return -1;
}

/* The value of 'key' in the header dict, as the text that follows "'key':". */
static const char *dict_value(const char *hdr, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(hdr, pat);
    if (p == NULL)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        ++p;
    return p;
}

int npy_read(const char *path, npy_array *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail(err, errlen, path, "cannot open");
    unsigned char pre[12];
    size_t got = fread(pre, 1, 10, f);
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return fail(err, errlen, path, "not a .npy file (no \\x93NUMPY magic)");
    }
    int major = pre[6];
    size_t hlen;
    if (major == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            fclose(f);
            return fail(err, errlen, path, "truncated header");
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        fclose(f);
        return fail(err, errlen, path, "unknown .npy format version");
    }
    if (hlen == 0 || hlen > (1u << 20)) {
        fclose(f);
        return fail(err, errlen, path, "implausible header length");
    }
    char *hdr = malloc(hlen + 1);
    if (hdr == NULL || fread(hdr, 1, hlen, f) != hlen) {
        free(hdr);
        fclose(f);
        return fail(err, errlen, path, "truncated header");
    }
    hdr[hlen] = '\0';
    const char *descr = dict_value(hdr, "descr");
    const char *fortran = dict_value(hdr, "fortran_order");
    const char *shape = dict_value(hdr, "shape");
    int rc = 0;
    if (descr == NULL || fortran == NULL || shape == NULL || *descr != '\'' || *shape != '(') {
        rc = fail(err, errlen, path, "malformed header (needs descr, fortran_order, shape)");
    } else if (strncmp(fortran, "False", 5) != 0) {
        rc = fail(err, errlen, path,
                  strncmp(fortran, "True", 4) == 0
                      ? "Fortran order is not supported: save the array in C order"
                      : "malformed fortran_order");
    } else {
        const char *end = strchr(descr + 1, '\'');
        size_t dl = end ? (size_t)(end - descr - 1) : 0;
        if (end == NULL || dl == 0 || dl >= sizeof a->descr) {
            rc = fail(err, errlen, path, "malformed descr");
        } else {
            memcpy(a->descr, descr + 1, dl);
            a->descr[dl] = '\0';
        }
        /* shape: (d0, d1, ...) */
        a->ndim = 0;
        a->count = 1;
        const char *p = shape + 1;
        while (rc == 0) {
            while (*p == ' ' || *p == ',')
                ++p;
            if (*p == ')')
                break;
            if (!isdigit((unsigned char)*p) || a->ndim == NPY_MAX_DIMS) {
                rc = fail(err, errlen, path, "malformed shape");
                break;
            }
            char *next;
            unsigned long long d = strtoull(p, &next, 10);
            if (d != 0 && a->count > SIZE_MAX / d) {
                rc = fail(err, errlen, path, "shape too large");
                break;
            }
            a->dims[a->ndim++] = (size_t)d;
            a->count *= (size_t)d;
            p = next;
        }
    }
    free(hdr);
    if (rc != 0) {
        fclose(f);
        return rc;
    }
    if (strcmp(a->descr, "<f4") == 0)
        a->elem = 4;
    else if (strcmp(a->descr, "<f8") == 0)
        a->elem = 8;
    else if (strcmp(a->descr, "<f2") == 0 || strcmp(a->descr, "<u2") == 0 ||
             strcmp(a->descr, "<V2") == 0 || strcmp(a->descr, "|V2") == 0)
        a->elem = 2;
    else if (strcmp(a->descr, "|i1") == 0 || strcmp(a->descr, "|u1") == 0)
        a->elem = 1;
    else {
        fclose(f);
        char what[128];
        snprintf(what, sizeof what,
                 "dtype '%s' is not supported (little-endian f4, f8, f2, bf16 as u2/V2, "
                 "or i1/u1 for --q8)",
                 a->descr);
        return fail(err, errlen, path, what);
    }
    if (a->count > SIZE_MAX / a->elem) {
        fclose(f);
        return fail(err, errlen, path, "array too large");
    }
    /* The shape is only a claim: allocate nothing before the file shows it holds that
     * much (a tiny file must not make us ask for terabytes). */
    long here = ftell(f);
    if (here < 0 || fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return fail(err, errlen, path, "cannot seek in the file");
    }
    long end = ftell(f);
    if (end < here || fseek(f, here, SEEK_SET) != 0) {
        fclose(f);
        return fail(err, errlen, path, "cannot seek in the file");
    }
    if ((size_t)(end - here) != a->count * a->elem) {
        fclose(f);
        return fail(err, errlen, path,
                    (size_t)(end - here) < a->count * a->elem
                        ? "truncated data: the file is shorter than its shape"
                        : "trailing bytes after the data");
    }
    a->data = malloc(a->count * a->elem > 0 ? a->count * a->elem : 1);
    if (a->data == NULL) {
        fclose(f);
        return fail(err, errlen, path, "out of memory");
    }
    size_t bytes = a->count * a->elem;
    got = fread(a->data, 1, bytes, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != bytes) {
        npy_free(a);
        return fail(err, errlen, path, "truncated data: the file is shorter than its shape");
    }
    if (extra) {
        npy_free(a);
        return fail(err, errlen, path, "trailing bytes after the data");
    }
    return 0;
}

int npy_write(const char *path, const npy_array *a, char *err, size_t errlen)
{
    /* write a temporary file beside the target, then rename: no partial output */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.partial", path);
    char dict[512], dims[400] = "";
    size_t used = 0;
    for (int i = 0; i < a->ndim; ++i)
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%zu%s", a->dims[i],
                                 a->ndim == 1 ? "," : (i + 1 < a->ndim ? ", " : ""));
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                      a->descr, dims);
    /* version 1.0: magic, 2 version bytes, 2 length bytes, header padded with spaces to a
     * multiple of 64 and ended by a newline */
    size_t total = 10 + (size_t)dl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)dl + pad + 1;
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return fail(err, errlen, path, "cannot create the output file");
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)dl, f) == (size_t)dl;
    for (size_t i = 0; ok && i < pad; ++i)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(a->data, 1, a->count * a->elem, f) == a->count * a->elem;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return fail(err, errlen, path, "cannot write the output file");
    }
    return 0;
}

void npy_free(npy_array *a)
{
    free(a->data);
    a->data = NULL;
}
