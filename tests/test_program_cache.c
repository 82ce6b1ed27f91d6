/* test_program_cache.c: the program binary cache (host/cl/cache.c). A first ctx builds
 * every program from source and keeps each binary; the next takes them all from the cache
 * and compiles nothing. A file cut short, damaged, written for another device, or one
 * that the driver refuses is passed over for the source, with results still the
 * reference's, and is then written anew; so is a folder that cannot be written, and
 * $LRELU_PROGRAM_CACHE=0 keeps nothing. Other build options are another entry. Counts
 * come from the fault layer (tests/fault_layer.c), which sees every program created. */
#include "common.h"
#include "fault_layer.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[900];

/* Every family the workload builds, through calls checked against the reference. */
static size_t workload(lrelu_ctx *ctx)
{
    size_t bad = 0;
    uint64_t rng = 7;
    for (int t = 0; t < 4; ++t) {
        if (!lt_supported(ctx, (lrelu_dtype)t))
            continue;
        size_t es = lrelu_dtype_size((lrelu_dtype)t), n = 1027;
        unsigned char *s = malloc(n * es), *dy = malloc(n * es);
        if (s == NULL || dy == NULL)
            lt_die("out of memory");
        lt_fill((lrelu_dtype)t, s, n, &rng, 0, 0);
        lt_fill((lrelu_dtype)t, dy, n, &rng, 1, 0);
        lt_case fwd = {LT_FORWARD, (lrelu_dtype)t, n, 3, 0.01, LT_OUT_OF_PLACE};
        lt_case bwd = {LT_BACKWARD, (lrelu_dtype)t, n, 5, 0.2, LT_OUT_OF_PLACE};
        bad += lt_run_device(ctx, &fwd, s, NULL) + lt_run_device(ctx, &bwd, s, dy);
        free(s);
        free(dy);
    }
    return bad + lt_chan_pipeline(ctx, &rng);
}

/* One process's worth: a ctx, the workload, the programs it created. */
static void round_of(const char *what, long *source, long *binary)
{
    programs_from_source = programs_from_binary = 0;
    lrelu_ctx *ctx = lt_open();
    size_t bad = workload(ctx);
    lrelu_destroy(ctx);
    char msg[256];
    snprintf(msg, sizeof msg, "%s: results are the reference's", what);
    lt_check(bad == 0, msg);
    *source = programs_from_source;
    *binary = programs_from_binary;
    printf("%s: %ld from source, %ld from binaries\n", what, *source, *binary);
}

/* The program files in the folder: their count, and the path of each in paths. */
static int files(char paths[][1300], int max)
{
    int count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strncmp(e->d_name, "program-", 8) == 0 && strstr(e->d_name, ".bin") != NULL &&
            strchr(e->d_name, 'X') == NULL) {
            if (count < max)
                snprintf(paths[count], 1300, "%s/%s", dir, e->d_name);
            ++count;
        }
    (void)closedir(d);
    return count;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        lt_die("cannot open %s", path);
    (void)fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    (void)fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len);
    if (b == NULL || fread(b, 1, *len, f) != *len)
        lt_die("cannot read %s", path);
    (void)fclose(f);
    return b;
}

static void spill(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b, 1, len, f) != len || fclose(f) != 0)
        lt_die("cannot write %s", path);
}

/* The layout of host/cl/cache.c: magic, identity length, binary length, checksum. */
#define HEAD 32
static void fix_checksum(unsigned char *b, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = HEAD; i < len; ++i)
        h = (h ^ b[i]) * 1099511628211ull;
    memcpy(b + 24, &h, sizeof h);
}

typedef enum { CUT, IDENTITY, PAYLOAD_BYTE, PAYLOAD_GARBAGE } damage;

/* Damages every program file the way d says. */
static int damage_all(damage d)
{
    char paths[64][1300];
    int count = files(paths, 64);
    for (int i = 0; i < count && i < 64; ++i) {
        size_t len = 0;
        unsigned char *b = slurp(paths[i], &len);
        uint64_t ilen = 0;
        memcpy(&ilen, b + 8, sizeof ilen);
        switch (d) {
        case CUT: /* a write cut short */
            len /= 2;
            break;
        case IDENTITY: /* another device's: its name's first letter, checksum made good */
            b[HEAD] ^= 0x20;
            fix_checksum(b, len);
            break;
        case PAYLOAD_BYTE: /* one bit flipped on the disk */
            b[len - 1] ^= 0x01;
            break;
        case PAYLOAD_GARBAGE: /* a binary this driver refuses, checksum made good */
            memset(b + HEAD + ilen, 0x5a, len - HEAD - ilen);
            fix_checksum(b, len);
            break;
        }
        spill(paths[i], b, len);
        free(b);
    }
    return count;
}

int main(void)
{
    const char *base = getenv("LRELU_CACHE_DIR");
    if (base == NULL || base[0] == '\0')
        base = "lrelu-cache-program-test";
    snprintf(dir, sizeof dir, "%s/programs", base);
    setenv("LRELU_CACHE_DIR", dir, 1);
    unsetenv("LRELU_PROGRAM_CACHE");
    {
        char paths[64][1300];
        int n = files(paths, 64);
        for (int i = 0; i < n && i < 64; ++i)
            (void)remove(paths[i]);
    }
    long src = 0, bin = 0, built = 0;

    round_of("first ctx", &built, &bin);
    lt_check(built > 0 && bin == 0, "the first ctx builds from source");
    lt_check(files(NULL, 0) == built, "one file per program built");
    round_of("second ctx", &src, &bin);
    lt_check(src == 0 && bin == built, "the second takes every program from the cache");

    static const struct {
        const char *what;
        damage d;
        int driver_sees_it; /* the file passes the cache's own checks */
    } damages[] = {
        {"files cut short", CUT, 0},
        {"files of another device", IDENTITY, 0},
        {"a flipped bit", PAYLOAD_BYTE, 0},
        {"binaries the driver refuses", PAYLOAD_GARBAGE, 1},
    };
    for (size_t i = 0; i < sizeof damages / sizeof damages[0]; ++i) {
        char msg[256];
        lt_check(damage_all(damages[i].d) == built, "every file damaged");
        round_of(damages[i].what, &src, &bin);
        snprintf(msg, sizeof msg, "%s: built from source", damages[i].what);
        lt_check(src == built && bin == (damages[i].driver_sees_it ? built : 0), msg);
        round_of("after them", &src, &bin);
        snprintf(msg, sizeof msg, "%s: written anew", damages[i].what);
        lt_check(src == 0 && bin == built, msg);
    }

    /* other build options: entries of their own beside the first */
    setenv("LRELU_BUILD_OPTIONS", "-DLRELU_TEST_OTHER_OPTIONS=1", 1);
    round_of("other build options", &src, &bin);
    lt_check(src == built && bin == 0, "other build options build from source");
    lt_check(files(NULL, 0) == 2 * built, "... and keep entries of their own");
    unsetenv("LRELU_BUILD_OPTIONS");

    /* LRELU_PROGRAM_CACHE=0: neither read nor written */
    setenv("LRELU_PROGRAM_CACHE", "0", 1);
    round_of("LRELU_PROGRAM_CACHE=0", &src, &bin);
    lt_check(src == built && bin == 0, "LRELU_PROGRAM_CACHE=0 reads no binary");
    unsetenv("LRELU_PROGRAM_CACHE");

    /* a folder that cannot be made (its parent is a file, whoever runs the test) */
    char file[1200];
    snprintf(file, sizeof file, "%s/not-a-folder", dir);
    spill(file, (const unsigned char *)"x", 1);
    char under[1300];
    snprintf(under, sizeof under, "%s/cache", file);
    setenv("LRELU_CACHE_DIR", under, 1);
    round_of("an unwritable folder", &src, &bin);
    lt_check(src == built && bin == 0, "an unwritable folder: built from source");
    round_of("... again", &src, &bin);
    lt_check(src == built && bin == 0, "... and nothing kept");
    (void)remove(file);
    return lt_report(lt_passed, lt_failed);
}
