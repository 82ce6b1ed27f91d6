/* config.c: the environment, read once per ctx at creation and validated into one struct,
 * so that a value that does not parse is an error naming the variable, not a silent
 * default. The table says each variable's kind and bounds; the README documents the ones
 * for users, docs/architecture.md the internal ones (tuning knobs and test seams, subject
 * to change). */
#include "common/common.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    NUMBER, /* a decimal number in [lo, hi] */
    PAIR,   /* "A" or "A:B", each a number in [lo, hi] */
    SHAPE,  /* "VEC:LOCAL", a shape the kernels build with */
    FLAG,   /* 0 or 1 */
    TEXT,   /* any text that fits */
    SIMD,   /* the name of a copy of the in-process loops */
} kind;

static const struct {
    const char *name;
    kind k;
    size_t at;   /* offsetof the lrelu_setting (or, TEXT, the char array) in lrelu_config */
    size_t size; /* TEXT: the array's size */
    unsigned long long lo, hi;
    const char *what; /* for the message: what the value must be */
} vars[] = {
#define SET(field) offsetof(lrelu_config, field), 0
#define TXT(field) offsetof(lrelu_config, field), sizeof(((lrelu_config *)0)->field)
    {"LRELU_DEVICE", TEXT, TXT(device), 0, 0, "a device selector"},
    {"LRELU_DISABLE_FP64", FLAG, SET(disable_fp64), 0, 1, "0 or 1"},
    {"LRELU_HOST_THREADS", NUMBER, SET(host_threads), 0, 1u << 20, "a number of threads"},
    {"LRELU_KERNEL_SHAPE", SHAPE, SET(kernel_shape), 1, 4096,
     "VEC:LOCAL, VEC 1, 2, 4, 8 or 16 and LOCAL a power of two up to 4096"},
    {"LRELU_TUNE", FLAG, SET(tune), 0, 1, "0 or 1"},
    {"LRELU_PROGRAM_CACHE", FLAG, SET(program_cache), 0, 1, "0 or 1"},
    {"LRELU_CACHE_DIR", TEXT, TXT(cache_dir), 0, 0, "a folder"},
    {"LRELU_BUILD_OPTIONS", TEXT, TXT(build_options), 0, 0, "kernel build options"},
    {"LRELU_HOST_CHUNK", NUMBER, SET(host_chunk), 64, ~0ull, "a number of bytes, at least 64"},
    {"LRELU_HOST_ZERO_COPY", FLAG, SET(host_zero_copy), 0, 1, "0 or 1"},
    {"LRELU_HOST_INPROCESS_BYTES", NUMBER, SET(inprocess_bytes), 0, ~0ull, "a number of bytes"},
    {"LRELU_HOST_CREW_BYTES", NUMBER, SET(crew_bytes), 0, ~0ull, "a number of bytes"},
    {"LRELU_HOST_STREAM_BYTES", NUMBER, SET(stream_bytes), 0, ~0ull, "a number of bytes"},
    {"LRELU_HOST_SIMD", SIMD, TXT(host_simd), 0, 0, "avx512, avx2 or base"},
    {"LRELU_CHAN_GROUP", NUMBER, SET(chan_group), 0, ~0ull, "a number of channels"},
    {"LRELU_CHAN_BLOCKS", NUMBER, SET(chan_blocks), 0, ~0ull, "a number of blocks"},
    {"LRELU_LAUNCH_LIMITS", PAIR, SET(launch_limits), 1, ~0ull, "ITEMS or ITEMS:GROUPS"},
    {"LRELU_TUNE_BYTES", NUMBER, SET(tune_bytes), 4096, ~0ull, "a number of bytes, at least 4096"},
    {"LRELU_POISON_SCRATCH", FLAG, SET(poison_scratch), 0, 1, "0 or 1"},
#undef SET
#undef TXT
};

int lrelu_shape_valid(unsigned long long vec, unsigned long long local)
{
    return (vec == 1 || vec == 2 || vec == 4 || vec == 8 || vec == 16) && local >= 1 &&
           local <= 4096 && (local & (local - 1)) == 0;
}

/* A whole decimal number within [lo, hi]; *end past it. */
static int number(const char *s, unsigned long long lo, unsigned long long hi,
                  unsigned long long *v, const char **end)
{
    if (*s < '0' || *s > '9')
        return 0;
    char *e = NULL;
    errno = 0;
    *v = strtoull(s, &e, 10);
    *end = e;
    return errno == 0 && *v >= lo && *v <= hi;
}

static int parse(int i, const char *s, lrelu_config *c)
{
    char *base = (char *)c + vars[i].at;
    lrelu_setting *set = (lrelu_setting *)(void *)base;
    const char *end = s;
    switch (vars[i].k) {
    case TEXT:
        if (strlen(s) >= vars[i].size)
            return 0;
        memcpy(base, s, strlen(s) + 1);
        return 1;
    case SIMD:
        if (strcmp(s, "avx512") != 0 && strcmp(s, "avx2") != 0 && strcmp(s, "base") != 0)
            return 0;
        memcpy(base, s, strlen(s) + 1);
        return 1;
    case FLAG:
        if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
            return 0;
        set->v[0] = s[0] == '1';
        break;
    case NUMBER:
        if (!number(s, vars[i].lo, vars[i].hi, &set->v[0], &end) || *end != '\0')
            return 0;
        break;
    case SHAPE:
    case PAIR:
        set->v[1] = 0;
        if (!number(s, vars[i].lo, vars[i].hi, &set->v[0], &end))
            return 0;
        if (*end == ':' && !number(end + 1, vars[i].lo, vars[i].hi, &set->v[1], &end))
            return 0;
        if (*end != '\0' || (vars[i].k == SHAPE && !lrelu_shape_valid(set->v[0], set->v[1])))
            return 0;
        break;
    }
    set->set = 1;
    return 1;
}

lrelu_status lrelu_config_read(const char *fn, lrelu_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; ++i) {
        const char *s = getenv(vars[i].name);
        if (s == NULL || s[0] == '\0')
            continue; /* empty: unset, as the shells' VAR= */
        if (!parse((int)i, s, c))
            return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: $%s is '%.64s'%s; it must be %s", fn,
                              vars[i].name, s, strlen(s) > 64 ? "..." : "", vars[i].what);
    }
    if (c->cache_dir[0] == '\0') {
        /* the cache's default: $XDG_CACHE_HOME/lrelu, else ~/.cache/lrelu */
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        int w = 0;
        if (xdg != NULL && xdg[0] != '\0')
            w = snprintf(c->cache_dir, sizeof c->cache_dir, "%s/lrelu", xdg);
        else if (home != NULL && home[0] != '\0')
            w = snprintf(c->cache_dir, sizeof c->cache_dir, "%s/.cache/lrelu", home);
        if (w < 0 || (size_t)w >= sizeof c->cache_dir)
            c->cache_dir[0] = '\0'; /* too long: no cache */
    }
    return LRELU_OK;
}
