/* lrelu.cl: the Leaky ReLU kernels, forward and backward, for one element type per build.
 * OpenCL C 1.2, no extensions but cl_khr_fp64 for the f64 build.
 *
 * Build options
 *   -DLRELU_DTYPE=n  0 f32 (float), 1 f16 (IEEE half stored as ushort, computed in float),
 *                    2 bf16 (bfloat16 stored as ushort, computed in float),
 *                    3 f64 (double; needs cl_khr_fp64). Default 0.
 *   -DLRELU_VEC=v    elements per work-item in the body: 1, 2, 4, 8 or 16. Default 4.
 *   -DLRELU_ITEM=e   elements per work-item of the plain forward and backward: v, or 2 * v
 *                    in the bf16 build with v >= 4 on a little-endian device. Default v.
 *
 * Kernels (SFX is f32, f16, bf16 or f64)
 *   lrelu_forward_SFX(n, alpha, x, x_off, y, y_off)
 *       y[y_off + i] = x[x_off + i] > 0 ? x : x * alpha             for i in [0, n)
 *   lrelu_backward_SFX(n, alpha, s, s_off, dy, dy_off, dx, dx_off)
 *       dx[dx_off + i] = s[s_off + i] > 0 ? dy : dy * alpha         for i in [0, n)
 *       s is the forward's input x, or its output y (the host allows y only for
 *       alpha >= 0, where y > 0 exactly when x > 0).
 *   lrelu_general_SFX(n, alpha, scale, beta, s, s_off, s_inc, v, v_off, v_inc,
 *                     out, out_off, out_inc)
 *       out[out_off + i * out_inc] = scale * (s[..] > 0 ? v[..] : v[..] * alpha)
 *                                    + beta * out[out_off + i * out_inc]
 *       the _ex calls' kernel: blending and strided views (inc in elements, >= 1). The
 *       forward passes v == s. beta == 0 skips the read of out, so garbage there (NaN)
 *       cannot leak in. Each product and the sum are rounded in the compute type, in
 *       that order, then once to storage; FP_CONTRACT is off, so nothing is fused. With
 *       every inc 1 it runs the vector body below, else VEC strided elements per
 *       work-item, one at a time.
 *   n and every offset are in elements (ulong); alpha is float, or double for f64.
 *   Work-item i handles elements [i * VEC, i * VEC + VEC) (ITEM for the plain forward and
 *   backward; bf16's pairs start at the output's first even element, see PAIRS_LEAD); the
 *   one work-item past the last whole vector handles the elements that remain, one at a
 *   time; work-items past that do nothing, so the host may round the global size up to
 *   any multiple of the local size. Offsets need no alignment: vloadn/vstoren need only
 *   element alignment; where every operand of the plain forward or backward lies on 16
 *   bytes and VEC elements are 16 bytes, they move as one 16-byte vector instead. Every
 *   work-item finds its elements from get_global_id alone, so the host may split a
 *   launch into parts with global offsets (host/launch.c).
 *
 * Edge cases
 *   "s > 0" is decided on the bit pattern: positive, not zero, not NaN. That is the IEEE
 *   comparison, made exact also on devices that flush denormals in comparisons, where a
 *   positive subnormal would otherwise count as 0. So +0 and -0 take the multiply branch
 *   (forward gives a signed zero, backward dy * alpha), NaN takes it too (forward NaN,
 *   backward dy * alpha), +inf passes through and -inf gives -inf * alpha (NaN when alpha
 *   is 0). Selection, never min/max, which get NaN, -0 and negative slopes wrong.
 *   In place (y == x, dx == dy or dx == s with equal offsets) is safe: every work-item
 *   reads its elements before it writes them, and no pointer is declared restrict.
 *   The product is computed in the compute type and rounded once to the storage type,
 *   to nearest even; f16/bf16 overflow to infinity and NaN stays NaN. */

/* Bit-exact results need every product rounded on its own: no a * b + c as one FMA. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef LRELU_DTYPE
#define LRELU_DTYPE 0
#endif
#ifndef LRELU_VEC
#define LRELU_VEC 4
#endif

/* Vectors per work-item of the per-channel 2-D forwards, whose vectors are too little
 * work to carry a work-item's overhead alone; host/internal.h has the same number for
 * the launch. */
#define LRELU_ITEM_VECS 4

/* Elements per work-item of the plain forward and backward: VEC, or in the bf16 build
 * 2 * VEC, as VEC uints of pairs (the host passes -DLRELU_ITEM=32 at VEC 16: 64 bytes a
 * work-item, one AVX-512 operation where a CPU runs it, which took 8-25% off PoCL's time
 * at 2^22-2^24 against two of 32 bytes). */
#ifndef LRELU_ITEM
#define LRELU_ITEM LRELU_VEC
#endif

#if LRELU_VEC != 1 && LRELU_VEC != 2 && LRELU_VEC != 4 && LRELU_VEC != 8 && LRELU_VEC != 16
#error "LRELU_VEC must be 1, 2, 4, 8 or 16"
#endif

#define LRELU_CAT_(a, b) a##b
#define LRELU_CAT(a, b)  LRELU_CAT_(a, b)

/* Per-type pieces: S storage, C compute scalar, U the unsigned integer of C's size,
 * LOAD1/STORE1 one element, LOADV/STOREV one vector of VEC elements. */
#if LRELU_DTYPE == 0
#define SFX             f32
#define S               float
#define C               float
#define U               uint
#define POS_LIMIT       0x7f800000u
#define LOAD1(i, p)     (p)[i]
#define STORE1(v, i, p) ((p)[i] = (v))
#elif LRELU_DTYPE == 1
#define SFX             f16
#define S               half
#define C               float
#define U               uint
#define POS_LIMIT       0x7f800000u
#define LOAD1(i, p)     f16_widen(((const __global ushort *)(p))[i])
#define STORE1(v, i, p) (((__global ushort *)(p))[i] = f16_narrow(v))
#elif LRELU_DTYPE == 2
#define SFX             bf16
#define S               ushort
#define C               float
#define U               uint
#define POS_LIMIT       0x7f800000u
#define LOAD1(i, p)     bf16_load(i, p)
#define STORE1(v, i, p) bf16_store(v, i, p)
#elif LRELU_DTYPE == 3
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define SFX             f64
#define S               double
#define C               double
#define U               ulong
#define POS_LIMIT       0x7ff0000000000000ul
#define LOAD1(i, p)     (p)[i]
#define STORE1(v, i, p) ((p)[i] = (v))
#else
#error "LRELU_DTYPE must be 0 (f32), 1 (f16), 2 (bf16) or 3 (f64)"
#endif

#if LRELU_VEC == 1
#define CV    C
#define UV    U
#define AS_UV LRELU_CAT(as_, U)
#else
#define CV    LRELU_CAT(C, LRELU_VEC)
#define UV    LRELU_CAT(U, LRELU_VEC)
#define AS_UV LRELU_CAT(as_, UV)
#endif

#if LRELU_DTYPE == 2
/* bfloat16 is the top half of a float: widening is a shift, narrowing rounds to nearest
 * even by adding 0x7fff plus the lowest kept bit, which also carries to infinity on
 * overflow. NaN is not rounded, which could carry it to zero or infinity: one element
 * (bf16_bits) forces the quiet bit, as the reference does; vectors (BF16_ROUND) keep it. */
#define BF16_WIDEN(u) as_float((uint)(u) << 16)
/* BF16_ROUND(b, f): the bits b of the floats f with the bf16 result in their top half and
 * the low half left over: rounded to nearest even, or a NaN left as it is. Every NaN that
 * reaches it is NaN in its top half: a widened bf16, or an arithmetic result, which IEEE
 * 754 makes quiet (bit 22), canonical NaNs (0x7fffffff) included; NaN matches any NaN.
 * Kept in the top half, the odd elements of a pair need only a mask and the even ones a
 * shift; that and the one-compare NaN test took 2-10% off the bf16 kernels from cache on
 * PoCL, and not forcing the quiet bit (a masked add) 1-5% off the forward. */
#define BF16_ROUND(b, f) select((b), (b) + 0x7fffu + (((b) >> 16) & 1u), (f) == (f))
static inline uint bf16_bits(float f)
{
    uint b = as_uint(f);
    return (b & 0x7fffffffu) > 0x7f800000u ? ((b >> 16) | 0x40u)
                                           : ((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}
static inline float bf16_load(size_t i, const __global ushort *p) { return BF16_WIDEN(p[i]); }
static inline void bf16_store(float v, size_t i, __global ushort *p)
{
    p[i] = (ushort)bf16_bits(v);
}

/* bf16_storeN(v, q): N floats to bf16 at q in global memory. On little-endian devices as
 * uint pairs: N / 2 where q lies on 4 bytes; else (q 2 bytes past) the first and last
 * elements alone and the N / 2 - 1 pairs between (ODD). PoCL stores a ushort vector at
 * 2-byte alignment one element at a time, which took a third of the per-channel
 * backward's time. Elsewhere as ushorts. */
#ifdef __ENDIAN_LITTLE__
#define BF16_LE 1
#else
#define BF16_LE 0
#endif
#define BF16_JOIN(lo, hi) (((lo) >> 16) | ((hi)&0xffff0000u))
#define BF16_STORE_FN(N, H, ODD)                                                                   \
    static inline void LRELU_CAT(bf16_store, N)(LRELU_CAT(float, N) f, __global ushort * q)        \
    {                                                                                              \
        LRELU_CAT(uint, N) b = LRELU_CAT(as_uint, N)(f);                                           \
        LRELU_CAT(uint, N) r = BF16_ROUND(b, f);                                                   \
        __global uint *w = (__global uint *)(q + ((size_t)q & 2 ? 1 : 0));                         \
        if (BF16_LE && ((size_t)q & 3) == 0) {                                                     \
            LRELU_CAT(vstore, H)(BF16_JOIN(r.even, r.odd), 0, w);                                  \
        } else if (BF16_LE && ((size_t)q & 1) == 0) {                                              \
            q[0] = (ushort)(r.s0 >> 16);                                                           \
            ODD                                                                                    \
        } else {                                                                                   \
            LRELU_CAT(vstore, N)(LRELU_CAT(convert_ushort, N)(r >> 16), 0, q);                     \
        }                                                                                          \
    }
BF16_STORE_FN(8, 4, vstore3(BF16_JOIN(r.s135, r.s246), 0, w); q[7] = (ushort)(r.s7 >> 16);)
#if LRELU_VEC == 16
BF16_STORE_FN(16, 8, vstore4(BF16_JOIN(r.s1357, r.s2468), 0, w);
              vstore3(BF16_JOIN(r.s9bd, r.sace), 0, w + 4); q[15] = (ushort)(r.sf >> 16);)
#elif LRELU_VEC == 4
BF16_STORE_FN(4, 2, w[0] = BF16_JOIN(r.s1, r.s2); q[3] = (ushort)(r.s3 >> 16);)
#endif
#endif

#if LRELU_DTYPE == 1
/* One f16 element in integer steps rather than vload_half and vstore_half_rte, which PoCL
 * does slowly one at a time: the element past (N, 256, 48) rows took a third of the
 * time of the 48 before it, and vload_half in the factor loads halved the per-channel
 * forward's speed. The same values as the host's conversions (host/convert.c), and
 * subnormals exact also where float arithmetic flushes them (em * 2^-24 is a normal
 * float; products below 2^-25 round to zero before they are looked at). */
static inline float f16_widen(uint h)
{
    uint em = h & 0x7fffu;
    float mag = em < 0x400u ? (float)em * 0x1p-24f
                            : as_float(em >= 0x7c00u ? (em << 13) | 0x7f800000u
                                                     : (em << 13) + (112u << 23));
    return as_float(as_uint(mag) | ((h & 0x8000u) << 16));
}
static inline ushort f16_narrow(float f)
{
    uint b = as_uint(f), sign = (b >> 16) & 0x8000u, mag = b & 0x7fffffffu;
    if (mag > 0x7f800000u) /* NaN: the top payload bits, the quiet bit forced */
        return (ushort)(sign | 0x7e00u | ((mag >> 13) & 0x3ffu));
    if (mag >= 0x477ff000u) /* 65520 and up: infinity */
        return (ushort)(sign | 0x7c00u);
    if (mag >= 0x38800000u) /* normal: rebias and round the mantissa to nearest even */
        return (ushort)(sign | ((mag + 0xfffu + ((mag >> 13) & 1u) - 0x38000000u) >> 13));
    if (mag < 0x33000000u) /* below 2^-25: zero */
        return (ushort)sign;
    uint m = (mag & 0x7fffffu) | 0x800000u, shift = 126u - (mag >> 23); /* subnormal */
    uint h = m >> shift, rem = m & ((1u << shift) - 1u), mid = 1u << (shift - 1u);
    return (ushort)(sign | (h + (rem > mid || (rem == mid && (h & 1u)) ? 1u : 0u)));
}
#endif

/* Vector load and store of VEC elements at vector index i. */
#if LRELU_VEC == 1
#define LOADV(i, p)     LOAD1(i, p)
#define STOREV(v, i, p) STORE1(v, i, p)
#elif LRELU_DTYPE == 1
#define LOADV(i, p)     LRELU_CAT(vload_half, LRELU_VEC)((i), (p))
#define STOREV(v, i, p) LRELU_CAT(LRELU_CAT(vstore_half, LRELU_VEC), _rte)((v), (i), (p))
#elif LRELU_DTYPE == 2
#define UIV LRELU_CAT(uint, LRELU_VEC)
#define LOADV(i, p)                                                                                \
    LRELU_CAT(as_float, LRELU_VEC)                                                                 \
    (LRELU_CAT(convert_uint, LRELU_VEC)(LRELU_CAT(vload, LRELU_VEC)((i), (p))) << 16)
#if LRELU_VEC >= 4 /* into global memory: by pairs where it can */
#define STOREV(v, i, p) LRELU_CAT(bf16_store, LRELU_VEC)((v), (p) + (size_t)(i)*LRELU_VEC)
#else
#define STOREV(v, i, p) LRELU_CAT(vstore, LRELU_VEC)(bf16v_bits(v), (i), (p))
static inline LRELU_CAT(ushort, LRELU_VEC) bf16v_bits(CV f)
{
    UIV b = LRELU_CAT(as_uint, LRELU_VEC)(f);
    return LRELU_CAT(convert_ushort, LRELU_VEC)(BF16_ROUND(b, f) >> 16);
}
#endif

#if LRELU_VEC >= 4 && defined(__ENDIAN_LITTLE__)
/* Pairs: VEC bf16 elements are VEC / 2 uints, element 2k in the low half (at any
 * offsets: PAIRS_LEAD below). Loading and storing uints is much faster on some devices (PoCL: 77
 * GB/s against 47 for ushort16 copies) and the halves widen with a shift or a mask. The
 * plain forward and backward take LRELU_ITEM / 2 uints (PW), the rest VEC / 2 (PV). */
#define BF16_PAIRS 1
#if LRELU_VEC == 16
#define PV 8
#elif LRELU_VEC == 8
#define PV 4
#else
#define PV 2
#endif
#if LRELU_ITEM == 32
#define PW 16
#elif LRELU_ITEM == 16
#define PW 8
#elif LRELU_ITEM == 8
#define PW 4
#else
#define PW 2
#endif
#define UPV           LRELU_CAT(uint, PV)
#define FPV           LRELU_CAT(float, PV)
#define UPW           LRELU_CAT(uint, PW)
#define FPW           LRELU_CAT(float, PW)
/* Pairs W uints wide: the macros take W; bf16p_roundW and pair_loadW (the load at any
 * offset) are defined below for PV and PW. */
#define PAIR_LO(u, W) LRELU_CAT(as_float, W)((u) << 16)
#define PAIR_HI(u, W) LRELU_CAT(as_float, W)((u)&0xffff0000u)
#define PAIR_POS(f)   IS_POSB(AS_UPV(f)) /* PV wide, for CHAN_FWD_STEP */
#define AS_UPV        LRELU_CAT(as_uint, PV)
#define PAIR_JOIN(lo, hi, W)                                                                       \
    ((LRELU_CAT(bf16p_round, W)(lo) >> 16) | (LRELU_CAT(bf16p_round, W)(hi) & 0xffff0000u))
#define PAIR_STORE(lo, hi, i, p, W)                                                                \
    LRELU_CAT(vstore, W)(PAIR_JOIN(lo, hi, W), (i), (__global uint *)(p))
#define PAIR_LOAD(i, p, W) LRELU_CAT(vload, W)((i), (const __global uint *)(p))
#endif
#else
#define LOADV(i, p)     LRELU_CAT(vload, LRELU_VEC)((i), (p))
#define STOREV(v, i, p) LRELU_CAT(vstore, LRELU_VEC)((v), (i), (p))
#endif

/* s > 0 on the bit pattern: bits - 1 wraps +0 to the top, and every negative number and
 * every NaN lands at or above the pattern of +inf. Works unchanged on vectors, where the
 * comparison yields the all-ones mask that ?: selects on. */
#define AS_U       LRELU_CAT(as_, U)
#define IS_POS1(s) ((AS_U(s) - (U)1) < (U)POS_LIMIT)
#define IS_POSV(s) ((AS_UV(s) - (U)1) < (U)POS_LIMIT)
#define IS_POSB(b) (((b)-1u) < 0x7f800000u) /* the same on a float's bits */
/* bf16 pairs (PW wide): the forward may keep every x with the sign clear but +0, by one
 * signed compare: +NaN then passes as itself, a NaN as the multiply's would be (5-7% off
 * bf16's forward). */
#define FWD_KEEPS(b)     (LRELU_CAT(as_int, PW)(b) > 0)
#define LRELU(pos, v, a) ((pos) ? (v) : (v) * (a))

#define FORWARD_NAME  LRELU_CAT(lrelu_forward_, SFX)
#define BACKWARD_NAME LRELU_CAT(lrelu_backward_, SFX)

#ifdef BF16_PAIRS
/* Any offsets: the pairs are the output's, from its first even element. An input whose
 * offset has the other parity is read from one element before, as two overlapping uint
 * loads whose halves make its pairs. The elements before `lead` and after the body go to
 * the tail's work-item: two where an input is shifted but the output's offset is even, so
 * that no load starts before the input's first element, and the body stops one element
 * short so that none ends past its last. Odd offsets took twice as long through ushort
 * vectors on PoCL. */
#define PAIRS_LEAD(len, out_at, shift)                                                             \
    min((size_t)(len), ((out_at)&1) ? (size_t)1 : (size_t)(2 * (shift)))
#define PAIRS_BODY(len, lead, shift, per)                                                          \
    ((size_t)(len) - (lead) < (size_t)(shift) ? 0 : ((size_t)(len) - (lead) - (shift)) / (per))
#define PAIR_ROUND_FN(W)                                                                           \
    static inline LRELU_CAT(uint, W) LRELU_CAT(bf16p_round, W)(LRELU_CAT(float, W) f)              \
    {                                                                                              \
        LRELU_CAT(uint, W) b = LRELU_CAT(as_uint, W)(f);                                           \
        return BF16_ROUND(b, f);                                                                   \
    }
PAIR_ROUND_FN(PV)
static inline UPV LRELU_CAT(pair_load, PV)(size_t i, const __global S *p, int shift)
{
    if (!shift)
        return PAIR_LOAD(i, p, PV);
    /* Pair k is the high half of word k and the low half of word k + 1. Joined by
     * upsample, not (a >> 16) | (b << 16): clang turns that into llvm.fshl, which some
     * implementations cannot run (Oclgrind: "Undefined external function"). */
    const __global uint *w = (const __global uint *)(p - 1) + i * PV;
    return upsample(LRELU_CAT(convert_ushort, PV)(LRELU_CAT(vload, PV)(0, w + 1)),
                    LRELU_CAT(convert_ushort, PV)(LRELU_CAT(vload, PV)(0, w) >> 16));
}
#if LRELU_ITEM != LRELU_VEC
PAIR_ROUND_FN(PW)
/* PW is 2 PV. Shifted, as two loads of PV: written at PW, PoCL's LLVM assembled the
 * second uint16 load from five pieces, and the backward ran 12-37% slower at 2^24. */
static inline UPW LRELU_CAT(pair_load, PW)(size_t i, const __global S *p, int shift)
{
    if (!shift)
        return PAIR_LOAD(i, p, PW);
    return (UPW)(LRELU_CAT(pair_load, PV)(2 * i, p, 1), LRELU_CAT(pair_load, PV)(2 * i + 1, p, 1));
}
#endif
#else
#define PAIRS_LEAD(len, out_at, shift)    0
#define PAIRS_BODY(len, lead, shift, per) ((size_t)(len) / (per))
#if LRELU_ITEM != LRELU_VEC
#error "LRELU_ITEM other than LRELU_VEC needs bf16 pairs (a little-endian device, VEC >= 4)"
#endif
#endif
#if LRELU_ITEM != LRELU_VEC && LRELU_ITEM != 2 * LRELU_VEC
#error "LRELU_ITEM must be LRELU_VEC or 2 * LRELU_VEC"
#endif

/* Where every operand of a plain call lies on 16 bytes (offset 0 of a new buffer, the
 * common case) and a work-item's vector is 16 bytes (the GPUs' default shape: f32 4,
 * f64 2, bf16 8), the plain forward and backward move it as one 16-byte vector: vloadn
 * needs only element alignment, so compilers lower it to one load per element (clang's
 * PTX: four ld.global.f32 where ld.global.v4.f32 is one instruction). Wider vectors keep
 * vloadn: built from 16-byte pieces, they crashed Oclgrind's uninitialized-value checker,
 * and through a union PoCL ran them at a third of the speed. The same bits either way. */
#define ALIGNED16(a, b) (((((size_t)(a)) | ((size_t)(b))) & 15) == 0)
#if defined(BF16_PAIRS) && PW == 4 /* VEC 8: 4 uints of pairs */
#define ALIGNED_OK            1
#define aload_pairs(i, p)     (((const __global uint4 *)(p))[i])
#define astore_pairs(v, i, p) (((__global uint4 *)(p))[i] = (v))
#elif (LRELU_DTYPE == 0 && LRELU_VEC == 4) || (LRELU_DTYPE == 3 && LRELU_VEC == 2)
#define ALIGNED_OK          1
#define aload_vec(i, p)     (((const __global CV *)(p))[i])
#define astore_vec(v, i, p) (((__global CV *)(p))[i] = (v))
#else /* no such path: the same calls as the other, never taken */
#define ALIGNED_OK            0
#define aload_pairs(i, p)     PAIR_LOAD(i, p, PW)
#define astore_pairs(v, i, p) LRELU_CAT(vstore, PW)((v), (i), (__global uint *)(p))
#define aload_vec(i, p)       LOADV(i, p)
#define astore_vec(v, i, p)   STOREV(v, i, p)
#endif

static inline void forward_ones(size_t from, size_t to, C alpha, const __global S *xp,
                                __global S *yp)
{
    for (size_t k = from; k < to; ++k) {
        C v = LOAD1(k, xp);
        STORE1(LRELU(IS_POS1(v), v, alpha), k, yp);
    }
}

__kernel void FORWARD_NAME(ulong n, C alpha, const __global S *x, ulong x_off, __global S *y,
                           ulong y_off)
{
    size_t i = get_global_id(0);
    int shift = (int)((x_off ^ y_off) & 1); /* these three are the same for every work-item */
    size_t lead = PAIRS_LEAD(n, y_off, shift);
    size_t body = PAIRS_BODY(n, lead, shift, LRELU_ITEM);
    const __global S *xp = x + x_off;
    __global S *yp = y + y_off;
    int aligned = ALIGNED_OK && lead == 0 && shift == 0 && ALIGNED16(xp, yp); /* for all */
    if (i < body) {
#ifdef BF16_PAIRS
        UPW u = aligned ? aload_pairs(i, xp) : LRELU_CAT(pair_load, PW)(i, xp + lead, shift);
        UPW lo_b = u << 16, hi_b = u & 0xffff0000u;
        FPW lo = LRELU_CAT(as_float, PW)(lo_b), hi = LRELU_CAT(as_float, PW)(hi_b);
        UPW r = PAIR_JOIN(LRELU(FWD_KEEPS(lo_b), lo, alpha), LRELU(FWD_KEEPS(hi_b), hi, alpha), PW);
        if (aligned)
            astore_pairs(r, i, yp);
        else
            LRELU_CAT(vstore, PW)(r, i, (__global uint *)(yp + lead));
#else
        if (aligned) {
            CV v = aload_vec(i, xp);
            astore_vec(LRELU(IS_POSV(v), v, alpha), i, yp);
        } else {
            CV v = LOADV(i, xp);
            STOREV(LRELU(IS_POSV(v), v, alpha), i, yp);
        }
#endif
    } else if (i == body) {
        forward_ones(0, lead, alpha, xp, yp);
        forward_ones(lead + body * LRELU_ITEM, (size_t)n, alpha, xp, yp);
    }
}

static inline void backward_ones(size_t from, size_t to, C alpha, const __global S *sp,
                                 const __global S *dyp, __global S *dxp)
{
    for (size_t k = from; k < to; ++k) {
        C sv = LOAD1(k, sp);
        C g = LOAD1(k, dyp);
        STORE1(LRELU(IS_POS1(sv), g, alpha), k, dxp);
    }
}

__kernel void BACKWARD_NAME(ulong n, C alpha, const __global S *s, ulong s_off,
                            const __global S *dy, ulong dy_off, __global S *dx, ulong dx_off)
{
    size_t i = get_global_id(0);
    int s_shift = (int)((s_off ^ dx_off) & 1), g_shift = (int)((dy_off ^ dx_off) & 1);
    size_t lead = PAIRS_LEAD(n, dx_off, s_shift | g_shift);
    size_t body = PAIRS_BODY(n, lead, s_shift | g_shift, LRELU_ITEM);
    const __global S *sp = s + s_off;
    const __global S *dyp = dy + dy_off;
    __global S *dxp = dx + dx_off;
    int aligned = ALIGNED_OK && lead == 0 && (s_shift | g_shift) == 0 && ALIGNED16(sp, dyp) &&
                  ALIGNED16(dxp, dxp); /* the same for every work-item */
    if (i < body) {
#ifdef BF16_PAIRS
        UPW su, gu;
        if (aligned) {
            su = aload_pairs(i, sp);
            gu = aload_pairs(i, dyp);
        } else if (s_shift | g_shift) { /* apart, so that the even case keeps plain loads */
            su = LRELU_CAT(pair_load, PW)(i, sp + lead, s_shift);
            gu = LRELU_CAT(pair_load, PW)(i, dyp + lead, g_shift);
        } else {
            su = PAIR_LOAD(i, sp + lead, PW);
            gu = PAIR_LOAD(i, dyp + lead, PW);
        }
        FPW g_lo = PAIR_LO(gu, PW), g_hi = PAIR_HI(gu, PW);
        UPW r = PAIR_JOIN(LRELU(IS_POSB(su << 16), g_lo, alpha),
                          LRELU(IS_POSB(su & 0xffff0000u), g_hi, alpha), PW);
        if (aligned)
            astore_pairs(r, i, dxp);
        else
            LRELU_CAT(vstore, PW)(r, i, (__global uint *)(dxp + lead));
#else
        if (aligned) {
            CV sv = aload_vec(i, sp);
            CV g = aload_vec(i, dyp);
            astore_vec(LRELU(IS_POSV(sv), g, alpha), i, dxp);
        } else {
            CV sv = LOADV(i, sp);
            CV g = LOADV(i, dyp);
            STOREV(LRELU(IS_POSV(sv), g, alpha), i, dxp);
        }
#endif
    } else if (i == body) {
        backward_ones(0, lead, alpha, sp, dyp, dxp);
        backward_ones(lead + body * LRELU_ITEM, (size_t)n, alpha, sp, dyp, dxp);
    }
}

/* The bits of one stored element, as a type private arrays can hold (half cannot be
 * declared without cl_khr_fp16, only pointed to). */
#if LRELU_DTYPE == 1
#define SB ushort
#else
#define SB S
#endif

/* The blend: scale * r, then + beta * old when beta != 0, each step rounded in C. */
#define BLEND(r, old) ((scale * (r)) + (beta * (old)))
#define GENERAL_NAME  LRELU_CAT(lrelu_general_, SFX)

__kernel void GENERAL_NAME(ulong n, C alpha, C scale, C beta, const __global S *s, ulong s_off,
                           ulong s_inc, const __global S *v, ulong v_off, ulong v_inc,
                           __global S *out, ulong out_off, ulong out_inc)
{
    size_t i = get_global_id(0);
    size_t body = (size_t)(n / LRELU_VEC);
    const __global S *sp = s + s_off;
    const __global S *vp = v + v_off;
    __global S *op = out + out_off;
    int read_out = beta != (C)0; /* the same for every work-item */
    if ((s_inc | v_inc | out_inc) == 1) {
        if (i < body) {
            CV sv = LOADV(i, sp);
            CV g = LOADV(i, vp);
            CV r = LRELU(IS_POSV(sv), g, alpha);
            STOREV(read_out ? BLEND(r, LOADV(i, op)) : scale * r, i, op);
        } else if (i == body) {
            for (size_t k = body * LRELU_VEC; k < (size_t)n; ++k) {
                C r = LRELU(IS_POS1(LOAD1(k, sp)), LOAD1(k, vp), alpha);
                STORE1(read_out ? BLEND(r, LOAD1(k, op)) : scale * r, k, op);
            }
        }
        return;
    }
    size_t first = i * LRELU_VEC;
    size_t last = first + LRELU_VEC < (size_t)n ? first + LRELU_VEC : (size_t)n;
#if LRELU_VEC > 1 && LRELU_DTYPE == 1
    /* A whole vector's worth: gather the strided elements' bits into private arrays and
     * convert them as one vector (scalar half conversions are slow on some devices: PoCL
     * ran strided f16 at a fiftieth of this), then scatter the result's bits. */
    if (last - first == LRELU_VEC) {
        SB sb[LRELU_VEC], vb[LRELU_VEC], ob[LRELU_VEC];
        const __global SB *sg = (const __global SB *)sp, *vg = (const __global SB *)vp;
        __global SB *og = (__global SB *)op;
        for (size_t k = 0; k < LRELU_VEC; ++k) {
            sb[k] = sg[(first + k) * s_inc];
            vb[k] = vg[(first + k) * v_inc];
            if (read_out)
                ob[k] = og[(first + k) * out_inc];
        }
        CV sv = LOADV(0, (const S *)sb);
        CV g = LOADV(0, (const S *)vb);
        CV r = LRELU(IS_POSV(sv), g, alpha);
        STOREV(read_out ? BLEND(r, LOADV(0, (const S *)ob)) : scale * r, 0, (S *)ob);
        for (size_t k = 0; k < LRELU_VEC; ++k)
            og[(first + k) * out_inc] = ob[k];
        return;
    }
#endif
    for (size_t k = first; k < last; ++k) {
        C r = LRELU(IS_POS1(LOAD1(k * s_inc, sp)), LOAD1(k * v_inc, vp), alpha);
        size_t o = k * out_inc;
        STORE1(read_out ? BLEND(r, LOAD1(o, op)) : scale * r, o, op);
    }
}

/* ------------------------------------------------------------------------------------
 * Per-channel kernels: PReLU and bias_act over data laid out as (outer, channels, inner),
 * element j = (o * channels + c) * inner + r of each operand (after its offset).
 *
 *   lrelu_chan_forward_SFX(n, channels, inner, mode, alpha, gain, limit, x, x_off,
 *                          p, p_off, y, y_off)
 *     mode 0 PReLU:     y = x > 0 ? x : x * p[c]
 *     mode 1 bias_act:  t = x + p[c], mode 2 the same without a bias (t = x);
 *                       y = gain * (t > 0 ? t : t * alpha), then clamped to [-limit,
 *                       limit] when limit > 0 (NaN stays NaN)
 *   lrelu_prelu_rows_SFX, lrelu_bias_rows_SFX(rows, channels, inner, mode, ...the same
 *                          from alpha on)
 *     the same forward (mode 0, and modes 1 and 2) over the rows = outer * channels rows
 *     of `inner` elements, in a 2-D launch (vectors of a row / ITEM_VECS, rows); the host
 *     takes them where inner >= VEC, and for mode 2 over one row of all n elements
 *   lrelu_prelu_cols_SFX, lrelu_bias_cols_SFX(outer, channels, 1, mode, ...)
 *     the same where inner is 1 (modes 0 and 1), over outer rows of `channels` elements,
 *     element k of a row in channel k; the host takes them where channels >= VEC
 *   lrelu_prelu_backward_SFX (mode 0), lrelu_bias_backward_SFX (modes 1 and 2)
 *                           (m, nb, channels, inner, mode, alpha, gain, limit, x, x_off,
 *                           p, p_off, dy, dy_off, dx, dx_off, partial)
 *     work-item g = c * nb + b takes block b of channel c: the terms j in
 *     [b * BLOCK, min(m, b * BLOCK + BLOCK)) of the m = outer * inner terms of channel c
 *     in (o, r) order. It writes dx (when dx is not NULL) and partial[g], the block's sum
 *     in the compute type: term k of the block to lane k % 8, each of the 8 lanes summed
 *     from +0 in order, then the lanes from +0 in lane order:
 *       PReLU:    dx = x > 0 ? dy : dy * p[c];          term = x > 0 ? 0 : x * dy
 *       bias_act: d  = 0 where the forward clamped (|y| > limit or y NaN), else
 *                      g = dy * gain, t > 0 ? g : g * alpha;  dx = d, term = d
 *   lrelu_prelu_bcols_SFX, lrelu_bias_bcols_SFX(outer, nb, channels, 1, ...the same)
 *     the same where inner is 1 and channels >= VEC, work-item (i, b) over the VEC
 *     channels from i * VEC: neighbouring work-items on neighbouring memory, for GPUs
 *   lrelu_prelu_bgroup_SFX, lrelu_bias_bgroup_SFX(m, nb, ...the same..., partial, width)
 *     the same for CPU devices where inner is below BLOCK:
 *     work-item (g, b) takes block b of the `width` channels from g * width (width <=
 *     1024), reading rows in memory order
 *   lrelu_chan_sum_SFX(channels, nb, partial, ds, ds_off)
 *     ds[c] = the partials of channel c summed from +0 in block order, rounded once to
 *     storage. Block size and order depend on nothing but m: the same bits on every
 *     device and for any work-group size.
 * ---------------------------------------------------------------------------------- */
#define LRELU_RBLOCK 256

#define CHAN_FWD_NAME LRELU_CAT(lrelu_chan_forward_, SFX)
#define CHAN_SUM_NAME LRELU_CAT(lrelu_chan_sum_, SFX)

/* One channel factor: one element (for f16 in integer steps, above). */
#define LOADP(i, p) LOAD1(i, p)

/* y of one vector or element (T, ISPOS) of channel factor pc. bias_act (bias = 1) is
 * t = x + pc (pc = -0 without a bias: x + -0 is x, -0 included), slope alpha, gain and the
 * clamp to +-lim; PReLU (bias = 0) is t = x, slope pc, gain 1 and lim infinite, each of
 * those steps exact (1 * r is r, NaN included; nothing exceeds infinity), so that with
 * bias a constant the compiler drops them. */
#define CHAN_FWD_STEP(T, ISPOS, v, out)                                                            \
    {                                                                                              \
        T t_ = bias ? (v) + pc : (v);                                                              \
        out = (bias ? gain : (C)1) * LRELU(ISPOS(t_), t_, bias ? alpha : pc);                      \
        out = out > lim ? (T)lim : out;                                                            \
        out = out < -lim ? (T)(-lim) : out;                                                        \
    }
/* Channel c's factor: the bias, -0 where there is none (mode 2), or the slope. */
#define CHAN_FACTOR(c, p) (mode == 2 ? -(C)0 : LOADP(c, p))
/* The clamp's bound: limit where bias_act has one, else infinity. */
#define CHAN_FWD_LIM (bias && limit > (C)0 ? limit : (C)INFINITY)

__kernel void CHAN_FWD_NAME(ulong n, ulong channels, ulong inner, int mode, C alpha, C gain,
                            C limit, const __global S *x, ulong x_off, const __global S *p,
                            ulong p_off, __global S *y, ulong y_off)
{
    size_t first = get_global_id(0) * LRELU_VEC;
    if (first >= (size_t)n)
        return;
    size_t last = first + LRELU_VEC < (size_t)n ? first + LRELU_VEC : (size_t)n;
    const __global S *xp = x + x_off;
    const __global S *pp = p + p_off;
    __global S *yp = y + y_off;
    size_t row, r, c;
    if ((n >> 32) == 0) { /* 32-bit division: several times faster on most devices */
        uint f32 = (uint)first, in32 = (uint)inner, row32 = f32 / in32;
        row = row32;
        r = f32 - row32 * in32;
        c = row32 % (uint)channels;
    } else {
        row = first / inner;
        r = first - row * inner;
        c = row % channels;
    }
    int bias = mode != 0;
    C pc = CHAN_FACTOR(c, pp), lim = CHAN_FWD_LIM;
    if (last - first == LRELU_VEC && r + LRELU_VEC <= inner) { /* one channel: a vector */
        size_t i = first / LRELU_VEC;
        CV v = LOADV(i, xp), out;
        CHAN_FWD_STEP(CV, IS_POSV, v, out)
        STOREV(out, i, yp);
        return;
    }
#if LRELU_VEC > 1
    if (last - first == LRELU_VEC) {
        /* Channels change inside the vector: gather the factors' bits into a private
         * array and convert them as one vector, as the general kernel's strides (one
         * element at a time ran f16 at 1 GB/s on PoCL). */
        SB fb[LRELU_VEC];
        const __global SB *pb = (const __global SB *)pp;
        for (size_t k = 0; k < LRELU_VEC; ++k) {
            if (mode != 2)
                fb[k] = pb[c];
            if (++r == inner) {
                r = 0;
                if (++c == channels)
                    c = 0;
            }
        }
        size_t i = first / LRELU_VEC;
        CV v = LOADV(i, xp), out;
        {
            CV pc = mode == 2 ? (CV)(-(C)0) : LOADV(0, (const S *)fb);
            CHAN_FWD_STEP(CV, IS_POSV, v, out)
        }
        STOREV(out, i, yp);
        return;
    }
#endif
    for (size_t k = first; k < last; ++k) {
        C v = LOAD1(k, xp), out;
        CHAN_FWD_STEP(C, IS_POS1, v, out)
        STORE1(out, k, yp);
        if (++r == inner) {
            r = 0;
            if (++c == channels)
                c = 0;
            pc = CHAN_FACTOR(c, pp);
        }
    }
}

/* Elements [from, to) of a row of chan_2d, one at a time. */
static inline void chan_2d_ones(const int bias, const int cols, size_t from, size_t to, C alpha,
                                C gain, C lim, C pr, const __global S *xp, const __global S *pp,
                                __global S *yp)
{
    for (size_t k = from; k < to; ++k) {
        C v = LOAD1(k, xp), pc = cols ? LOADP(k, pp) : pr, out;
        CHAN_FWD_STEP(C, IS_POS1, v, out)
        STORE1(out, k, yp);
    }
}

/* The forward over rows of whole vectors, in a 2-D launch: work-item (i, row) takes
 * vectors [i * ITEM_VECS, i * ITEM_VECS + ITEM_VECS) of its row, and the one that reaches
 * vector len / VEC the len % VEC elements that remain; rows past `rows` do nothing.
 * Without cols, a row is one channel's `inner` elements (rows = outer * channels), the
 * factor loaded once for the row: the vector body has no division and no per-element
 * channel. With cols (inner 1: channels last, or (N, C)), a row is one outer index's
 * `channels` elements (rows = outer), element k in channel k, so the factors load as
 * vectors too. ITEM_VECS vectors share a work-item's overhead. Inlined into one kernel
 * per bias and cols (PReLU 0, bias_act 1): with both constants, the PReLU body is the
 * plain forward's (a runtime mode in it halved the f16 speed on PoCL). */
static inline void chan_2d(const int bias, const int cols, ulong rows, ulong channels, ulong inner,
                           int mode, C alpha, C gain, C limit, const __global S *x, ulong x_off,
                           const __global S *p, ulong p_off, __global S *y, ulong y_off)
{
    size_t first = get_global_id(0) * LRELU_ITEM_VECS, row = get_global_id(1);
    size_t len = cols ? (size_t)channels : (size_t)inner, body = len / LRELU_VEC;
    if (row >= (size_t)rows)
        return;
    const __global S *pp = p + p_off;
    C pr = cols ? (C)0 : CHAN_FACTOR(row % (size_t)channels, pp), lim = CHAN_FWD_LIM;
    const __global S *xp = x + x_off + row * len;
    __global S *yp = y + y_off + row * len;
#ifdef BF16_PAIRS
    { /* pairs as the plain forward's, from the output row's first even element */
        size_t at = (size_t)y_off + row * len;
        int x_shift = (int)((x_off ^ y_off) & 1), p_shift = cols ? (int)((p_off ^ at) & 1) : 0;
        size_t lead = PAIRS_LEAD(len, at, x_shift | p_shift);
        body = PAIRS_BODY(len, lead, x_shift | p_shift, LRELU_VEC);
        for (size_t j = first; j < first + LRELU_ITEM_VECS && j < body; ++j) {
            UPV u = LRELU_CAT(pair_load, PV)(j, xp + lead, x_shift);
            UPV f = cols ? LRELU_CAT(pair_load, PV)(j, pp + lead, p_shift) : (UPV)0;
            FPV lo = PAIR_LO(u, PV), hi = PAIR_HI(u, PV), out_lo, out_hi, pc;
            pc = cols ? PAIR_LO(f, PV) : (FPV)pr;
            CHAN_FWD_STEP(FPV, PAIR_POS, lo, out_lo)
            pc = cols ? PAIR_HI(f, PV) : (FPV)pr;
            CHAN_FWD_STEP(FPV, PAIR_POS, hi, out_hi)
            PAIR_STORE(out_lo, out_hi, j, yp + lead, PV);
        }
        if (body >= first && body < first + LRELU_ITEM_VECS) { /* the row's ends */
            chan_2d_ones(bias, cols, 0, lead, alpha, gain, lim, pr, xp, pp, yp);
            chan_2d_ones(bias, cols, lead + body * LRELU_VEC, len, alpha, gain, lim, pr, xp, pp,
                         yp);
        }
    }
#else
    for (size_t j = first; j < first + LRELU_ITEM_VECS && j < body; ++j) {
        CV v = LOADV(j, xp), pc = cols ? LOADV(j, pp) : (CV)pr, out;
        CHAN_FWD_STEP(CV, IS_POSV, v, out)
        STOREV(out, j, yp);
    }
    if (body >= first && body < first + LRELU_ITEM_VECS)
        chan_2d_ones(bias, cols, body * LRELU_VEC, len, alpha, gain, lim, pr, xp, pp, yp);
#endif
}

/* The four 2-D forwards share the arguments of the 1-D one but for the first: the number
 * of rows (outer * channels, or with cols outer). cols ignores inner (it is 1) and needs
 * a factor array: bias_act without a bias runs as rows. */
#define CHAN_2D_KERNEL(NAME, BIAS, COLS)                                                           \
    __kernel void NAME(ulong rows, ulong channels, ulong inner, int mode, C alpha, C gain,         \
                       C limit, const __global S *x, ulong x_off, const __global S *p,             \
                       ulong p_off, __global S *y, ulong y_off)                                    \
    {                                                                                              \
        chan_2d(BIAS, COLS, rows, channels, inner, mode, alpha, gain, limit, x, x_off, p, p_off,   \
                y, y_off);                                                                         \
    }
CHAN_2D_KERNEL(LRELU_CAT(lrelu_prelu_rows_, SFX), 0, 0)
CHAN_2D_KERNEL(LRELU_CAT(lrelu_bias_rows_, SFX), 1, 0)
CHAN_2D_KERNEL(LRELU_CAT(lrelu_prelu_cols_, SFX), 0, 1)
CHAN_2D_KERNEL(LRELU_CAT(lrelu_bias_cols_, SFX), 1, 1)

/* Eight elements at once for the backward's sums: C8 values, loads and stores at any
 * element index, and the "> 0" mask. */
#define C8         LRELU_CAT(C, 8)
#define U8         LRELU_CAT(U, 8)
#define IS_POS8(s) ((LRELU_CAT(as_, LRELU_CAT(U, 8))(s) - (U)1) < (U)POS_LIMIT)
#if LRELU_DTYPE == 1
#define LOAD8(i, p)     vload_half8(0, (p) + (i))
#define STORE8(v, i, p) vstore_half8_rte((v), 0, (p) + (i))
#elif LRELU_DTYPE == 2
#define LOAD8(i, p)     as_float8(convert_uint8(vload8(0, (p) + (i))) << 16)
#define STORE8(v, i, p) bf16_store8((v), (p) + (i))
#else
#define LOAD8(i, p)     vload8(0, (p) + (i))
#define STORE8(v, i, p) vstore8((v), 0, (p) + (i))
#endif

/* dx and the sum's term of one element (T = C, ISPOS = IS_POS1) or eight (C8, IS_POS8);
 * bias_act (bias = 1) with t = x + pc, pc = -0 where there is no bias (x + -0 is x). */
#define CHAN_BWD_STEP(T, ISPOS, v, gy, d, term)                                                    \
    if (!bias) {                                                                                   \
        d = ISPOS(v) ? (gy) : (gy)*pc;                                                             \
        term = ISPOS(v) ? (T)0 : (v) * (gy);                                                       \
    } else {                                                                                       \
        T t_ = (v) + pc;                                                                           \
        T y_ = gain * LRELU(ISPOS(t_), t_, alpha);                                                 \
        T gg_ = (gy)*gain;                                                                         \
        d = LRELU(ISPOS(t_), gg_, alpha);                                                          \
        if (limit > (C)0)                                                                          \
            d = (y_ >= -limit && y_ <= limit) ? d : (T)0;                                          \
        term = d;                                                                                  \
    }

/* Block b of channel c: term k of the block (k = j - b * BLOCK) goes to lane k % 8, each
 * lane summed from +0 in order; the block's sum is the lanes' from +0 in lane order. Eight
 * independent sums keep the adds from waiting on each other, and eight terms that lie
 * in one row move as vectors. Where inner is a multiple of 8, or the block lies inside
 * one row, it runs as straight loops of vectors with the lanes in a register. Inlined
 * into one kernel per bias, as the forward: PReLU's body has no bias_act code in it. */
static inline void chan_bwd(const int bias, ulong m, ulong nb, ulong channels, ulong inner,
                            int mode, C alpha, C gain, C limit, const __global S *x, ulong x_off,
                            const __global S *p, ulong p_off, const __global S *dy, ulong dy_off,
                            __global S *dx, ulong dx_off, __global C *partial)
{
    size_t g = get_global_id(0);
    if (g >= (size_t)(channels * nb))
        return;
    /* Neighbouring work-items (which PoCL runs one after the other) take neighbouring
     * memory: the next block of the same row where blocks lie inside rows, else the next
     * channel of the same rows. Across rows of another channel, a work-item's neighbour
     * was 4 KiB away or more, and the f32 backward ran at a quarter of its speed. */
    size_t b, c;
    if (inner < LRELU_RBLOCK) {
        b = g / channels;
        c = g - b * channels;
    } else {
        c = g / nb;
        b = g - c * nb;
    }
    size_t j0 = b * LRELU_RBLOCK, j = j0;
    size_t end = j + LRELU_RBLOCK < (size_t)m ? j + LRELU_RBLOCK : (size_t)m;
    size_t o = j / inner, r = j - o * inner;
    size_t idx = (o * channels + c) * inner + r, skip = (channels - 1) * inner;
    const __global S *xp = x + x_off;
    const __global S *dyp = dy + dy_off;
    __global S *dxp = dx == 0 ? 0 : dx + dx_off;
    C pc = CHAN_FACTOR(c, p + p_off);
    C acc[8];
    if ((inner & 7) == 0 || r + (end - j0) <= (size_t)inner) {
        /* Every row segment of the block starts on lane 0 and is whole vectors (inner a
         * multiple of 8), or the block lies in one row: straight loops of vectors with
         * the lanes in a register; only a channel's last block may end in a part
         * vector. */
        C8 lanes = (C8)0;
        while (j < end) {
            size_t seg = inner - r < end - j ? inner - r : end - j, q = 0;
            for (; q + 8 <= seg; q += 8) {
                C8 v = LOAD8(idx + q, xp), gy = LOAD8(idx + q, dyp), d, term;
                CHAN_BWD_STEP(C8, IS_POS8, v, gy, d, term)
                if (dxp != 0)
                    STORE8(d, idx + q, dxp);
                lanes = lanes + term;
            }
            if (q < seg) {
                vstore8(lanes, 0, acc);
                for (; q < seg; ++q) {
                    C v = LOAD1(idx + q, xp), gy = LOAD1(idx + q, dyp), d, term;
                    CHAN_BWD_STEP(C, IS_POS1, v, gy, d, term)
                    if (dxp != 0)
                        STORE1(d, idx + q, dxp);
                    acc[(j + q - j0) & 7] = acc[(j + q - j0) & 7] + term;
                }
                lanes = vload8(0, acc);
            }
            j += seg;
            idx += seg + skip; /* the next segment starts a row */
            r = 0;
        }
        vstore8(lanes, 0, acc);
    } else {
        vstore8((C8)0, 0, acc);
    }
    while (j < end) {
        if (((j - j0) & 7) == 0 && j + 8 <= end && r + 8 <= inner) {
            C8 v = LOAD8(idx, xp), gy = LOAD8(idx, dyp), d, term;
            CHAN_BWD_STEP(C8, IS_POS8, v, gy, d, term)
            if (dxp != 0)
                STORE8(d, idx, dxp);
            vstore8(vload8(0, acc) + term, 0, acc);
            j += 8;
            idx += 8;
            r += 8;
        } else {
            C v = LOAD1(idx, xp), gy = LOAD1(idx, dyp), d, term;
            CHAN_BWD_STEP(C, IS_POS1, v, gy, d, term)
            if (dxp != 0)
                STORE1(d, idx, dxp);
            acc[(j - j0) & 7] = acc[(j - j0) & 7] + term;
            ++j;
            ++idx;
            ++r;
        }
        if (r == inner) {
            r = 0;
            idx += skip;
        }
    }
    C sum = (C)0;
    for (int l = 0; l < 8; ++l)
        sum = sum + acc[l];
    if (partial != 0)
        partial[c * (size_t)nb + b] = sum;
}

/* The backward where inner is 1: work-item (i, b) of a 2-D launch takes channels
 * [i * VEC, i * VEC + VEC) (fewer in the last group) over block b of the outer index,
 * o in [b * BLOCK, min(outer, b * BLOCK + BLOCK)): a row's VEC channels are contiguous,
 * so each o is one vector of x, dy and dx, term o - b * BLOCK going to lane (o - b *
 * BLOCK) % 8 of every channel: the same order as chan_bwd, and partial[c * nb + b]. */
#define CHAN_BCOLS_GROUP(T, LD, ST, LDP, ISPOS, W)                                                 \
    {                                                                                              \
        T pc = mode == 2 ? (T)(-(C)0) : LDP(0, pp), acc[8], sum = (T)0;                            \
        for (int l = 0; l < 8; ++l)                                                                \
            acc[l] = (T)0;                                                                         \
        for (size_t base = o0; base < end; base += 8) {                                            \
            _Pragma("unroll") for (int l = 0; l < 8; ++l)                                          \
            {                                                                                      \
                size_t at = (base + (size_t)l) * (size_t)channels;                                 \
                if (base + (size_t)l < end) {                                                      \
                    T v = LD(0, xp + at), gy = LD(0, dyp + at), d, term;                           \
                    CHAN_BWD_STEP(T, ISPOS, v, gy, d, term)                                        \
                    if (dxp != 0)                                                                  \
                        ST(d, 0, dxp + at);                                                        \
                    acc[l] = acc[l] + term;                                                        \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (int l = 0; l < 8; ++l)                                                                \
            sum = sum + acc[l];                                                                    \
        W                                                                                          \
    }

#if LRELU_VEC == 1
#define LOADPV(i, p)   LOADP(i, p)
#define STOREV_C(v, a) (a)[0] = (v);
#else
#define LOADPV(i, p)   LOADV(i, p)
#define STOREV_C(v, a) LRELU_CAT(vstore, LRELU_VEC)((v), 0, (a));
#endif

static inline void chan_bcols(const int bias, ulong outer, ulong nb, ulong channels, int mode,
                              C alpha, C gain, C limit, const __global S *x, ulong x_off,
                              const __global S *p, ulong p_off, const __global S *dy, ulong dy_off,
                              __global S *dx, ulong dx_off, __global C *partial)
{
    size_t c0 = get_global_id(0) * LRELU_VEC, b = get_global_id(1);
    if (c0 >= (size_t)channels || b >= (size_t)nb)
        return;
    size_t o0 = b * LRELU_RBLOCK;
    size_t end = o0 + LRELU_RBLOCK < (size_t)outer ? o0 + LRELU_RBLOCK : (size_t)outer;
    const __global S *xp = x + x_off + c0, *dyp = dy + dy_off + c0, *pp = p + p_off + c0;
    __global S *dxp = dx == 0 ? 0 : dx + dx_off + c0;
    __global C *part = partial == 0 ? 0 : partial + c0 * (size_t)nb + b;
    if (c0 + LRELU_VEC <= (size_t)channels) {
        C sums[LRELU_VEC];
        CHAN_BCOLS_GROUP(CV, LOADV, STOREV, LOADPV, IS_POSV, STOREV_C(sum, sums);)
        if (part != 0)
            for (size_t u = 0; u < LRELU_VEC; ++u)
                part[u * (size_t)nb] = sums[u];
    } else {
        for (size_t u = 0; c0 + u < (size_t)channels; ++u) {
            CHAN_BCOLS_GROUP(C, LOAD1, STORE1, LOADP, IS_POS1, if (part != 0) part[0] = sum;)
            ++xp, ++dyp, ++pp;
            dxp = dxp == 0 ? 0 : dxp + 1;
            part = part == 0 ? 0 : part + nb;
        }
    }
}

/* The backward on CPU devices, where blocks span rows (inner below BLOCK; inner 1:
 * channels last) or rows span blocks: work-item (g, t) takes channels [g * width, g *
 * width + width) (fewer in the last group; width <= LRELU_GROUP_MAX) over blocks [t *
 * per, t * per + per), row by row, so that it reads and writes memory in order. On a CPU
 * a work-item runs alone, and the GPUs' order (neighbouring work-items on neighbouring
 * memory: chan_bcols' columns of VEC channels, strided by a row, or chan_bwd's one
 * channel a work-item) ran at half the plain backward's speed on PoCL (2^24 f32 over 256
 * channels last); with a block of one channel a work-item, (N, 64, 28, 28) at 0.6 x
 * (each block a piece of a row, its neighbours a row of channels away) and inner 300 at
 * 0.3 x. The lanes of every channel (8 x width values) live in a private array, which a
 * GPU would spill. The order of the sums is chan_bwd's: a channel's lanes go to
 * partial[c * nb + b] and start again from +0 where its block b ends. Built only with
 * -DLRELU_GROUP_MAX=w, the widest group: GPUs, which never run it, need not compile its
 * private array. */
#ifdef LRELU_GROUP_MAX
#if LRELU_VEC == 1
#define ACC_LOAD(a)     (a)[0]
#define ACC_STORE(v, a) ((a)[0] = (v))
#else
#define ACC_LOAD(a)     LRELU_CAT(vload, LRELU_VEC)(0, (a))
#define ACC_STORE(v, a) LRELU_CAT(vstore, LRELU_VEC)((v), 0, (a))
#endif
/* element I of x, dy (and dx) into lane A */
#define CHAN_BGROUP_ONE(I, A)                                                                      \
    {                                                                                              \
        C v = LOAD1(I, x + x_off), gy = LOAD1(I, dy + dy_off), d, term;                            \
        CHAN_BWD_STEP(C, IS_POS1, v, gy, d, term)                                                  \
        if (dx != 0)                                                                               \
            STORE1(d, I, dx + dx_off);                                                             \
        A = A + term;                                                                              \
    }
/* the sum of the 8 lanes at L (every STEP-th value) from +0 in lane order, to
 * partial[AT] where there is one, and the lanes cleared */
#define CHAN_BGROUP_FLUSH(L, STEP, AT)                                                             \
    {                                                                                              \
        C sum_ = (C)0;                                                                             \
        for (size_t l_ = 0; l_ < 8; ++l_) {                                                        \
            sum_ = sum_ + (L)[l_ * (STEP)];                                                        \
            (L)[l_ * (STEP)] = (C)0;                                                               \
        }                                                                                          \
        if (partial != 0)                                                                          \
            partial[AT] = sum_;                                                                    \
    }
static inline void chan_bgroup(const int bias, ulong m, ulong nb, ulong channels, ulong inner,
                               int mode, C alpha, C gain, C limit, const __global S *x, ulong x_off,
                               const __global S *p, ulong p_off, const __global S *dy, ulong dy_off,
                               __global S *dx, ulong dx_off, __global C *partial, ulong width,
                               ulong per)
{
    size_t c0 = get_global_id(0) * (size_t)width, t = get_global_id(1);
    size_t span = (size_t)per * LRELU_RBLOCK;
    if (c0 >= (size_t)channels || t >= ((size_t)m + span - 1) / span)
        return;
    size_t w = c0 + width <= channels ? (size_t)width : (size_t)channels - c0;
    size_t j0 = t * span;
    size_t end = (size_t)m - j0 > span ? j0 + span : (size_t)m;
    const __global S *pp = p + p_off + c0;
    C acc[8 * LRELU_GROUP_MAX];
    for (size_t i = 0; i < 8 * w; ++i)
        acc[i] = (C)0;
    if (inner == 1) {
        /* rows of w channels; lane l of channel c0 + k at acc[l * w + k], so that a
         * vector of channels meets a vector of its lanes */
        size_t body = w - w % LRELU_VEC;
        for (size_t o = j0; o < end; ++o) {
            size_t row = o * (size_t)channels + c0;
            const __global S *xp = x + x_off + row, *dyp = dy + dy_off + row;
            __global S *dxp = dx == 0 ? 0 : dx + dx_off + row;
            C *lane = acc + (o & 7) * w;
            size_t k = 0;
            for (; k < body; k += LRELU_VEC) {
                CV v = LOADV(0, xp + k), gy = LOADV(0, dyp + k), d, term;
                CV pc = mode == 2 ? (CV)(-(C)0) : LOADPV(0, pp + k);
                CHAN_BWD_STEP(CV, IS_POSV, v, gy, d, term)
                if (dxp != 0)
                    STOREV(d, 0, dxp + k);
                ACC_STORE(ACC_LOAD(lane + k) + term, lane + k);
            }
            for (; k < w; ++k) {
                C pc = mode == 2 ? -(C)0 : LOADP(k, pp);
                CHAN_BGROUP_ONE(row + k, lane[k])
            }
            if (((o + 1) & (LRELU_RBLOCK - 1)) == 0 || o + 1 == end)
                for (k = 0; k < w; ++k)
                    CHAN_BGROUP_FLUSH(acc + k, w, (c0 + k) * (size_t)nb + o / LRELU_RBLOCK)
        }
    } else {
        /* each row's segment of every channel, in pieces that end where blocks do:
         * vectors of 8 from the piece's first element into its lanes rotated to it, then
         * what remains one element at a time (a piece shorter than 8: all of it); channel
         * c0 + k's lanes at acc[8 * k] */
        for (size_t j = j0; j < end;) {
            size_t o = j / inner, r = j - o * inner;
            size_t seg = inner - r < end - j ? inner - r : end - j;
            size_t first = (j | (LRELU_RBLOCK - 1)) + 1 - j; /* up to the next block */
            size_t idx = (o * channels + c0) * inner + r, stop0 = first < seg ? first : seg;
            for (size_t k = 0; k < w; ++k, idx += inner) {
                C pc = mode == 2 ? -(C)0 : LOADP(k, pp);
                C *ln = acc + 8 * k;
                for (size_t q = 0, stop = stop0; q != seg;
                     stop += seg - stop > LRELU_RBLOCK ? LRELU_RBLOCK : seg - stop) {
                    if (stop - q >= 8) {
                        /* 8 at a time from the piece's first element, into the lanes
                         * rotated to it (lane i holding lane (l0 + i) % 8), with no head
                         * one element at a time (at (N, 256, 7, 7), seven of those a
                         * segment at most) */
                        U8 id = (U8)(0, 1, 2, 3, 4, 5, 6, 7);
                        U l0 = (U)((j + q) & 7);
                        C8 lanes = shuffle(vload8(0, ln), (id + l0) & (U)7);
                        for (; q + 8 <= stop; q += 8) {
                            C8 v = LOAD8(idx + q, x + x_off), gy = LOAD8(idx + q, dy + dy_off), d,
                               term;
                            CHAN_BWD_STEP(C8, IS_POS8, v, gy, d, term)
                            if (dx != 0)
                                STORE8(d, idx + q, dx + dx_off);
                            lanes = lanes + term;
                        }
                        vstore8(shuffle(lanes, (id + ((U)8 - l0)) & (U)7), 0, ln);
                    }
                    for (; q < stop; ++q)
                        CHAN_BGROUP_ONE(idx + q, ln[(j + q) & 7])
                    if (((j + stop) & (LRELU_RBLOCK - 1)) == 0 || j + stop == end)
                        CHAN_BGROUP_FLUSH(ln, 1,
                                          (c0 + k) * (size_t)nb + (j + stop - 1) / LRELU_RBLOCK)
                }
            }
            j += seg;
        }
    }
}

/* chan_bwd's arguments, the width of a channel group and the blocks of a work-item. */
#define CHAN_BGROUP_KERNEL(NAME, BIAS)                                                             \
    __kernel void NAME(ulong m, ulong nb, ulong channels, ulong inner, int mode, C alpha, C gain,  \
                       C limit, const __global S *x, ulong x_off, const __global S *p,             \
                       ulong p_off, const __global S *dy, ulong dy_off, __global S *dx,            \
                       ulong dx_off, __global C *partial, ulong width, ulong per)                  \
    {                                                                                              \
        chan_bgroup(BIAS, m, nb, channels, inner, mode, alpha, gain, limit, x, x_off, p, p_off,    \
                    dy, dy_off, dx, dx_off, partial, width, per);                                  \
    }
CHAN_BGROUP_KERNEL(LRELU_CAT(lrelu_prelu_bgroup_, SFX), 0)
CHAN_BGROUP_KERNEL(LRELU_CAT(lrelu_bias_bgroup_, SFX), 1)
#endif

#define CHAN_BWD_KERNEL(NAME, BIAS)                                                                \
    __kernel void NAME(ulong m, ulong nb, ulong channels, ulong inner, int mode, C alpha, C gain,  \
                       C limit, const __global S *x, ulong x_off, const __global S *p,             \
                       ulong p_off, const __global S *dy, ulong dy_off, __global S *dx,            \
                       ulong dx_off, __global C *partial)                                          \
    {                                                                                              \
        chan_bwd(BIAS, m, nb, channels, inner, mode, alpha, gain, limit, x, x_off, p, p_off, dy,   \
                 dy_off, dx, dx_off, partial);                                                     \
    }
CHAN_BWD_KERNEL(LRELU_CAT(lrelu_prelu_backward_, SFX), 0)
CHAN_BWD_KERNEL(LRELU_CAT(lrelu_bias_backward_, SFX), 1)

/* The same arguments but for inner (1) and the first, outer instead of m. */
#define CHAN_BCOLS_KERNEL(NAME, BIAS)                                                              \
    __kernel void NAME(ulong outer, ulong nb, ulong channels, ulong inner, int mode, C alpha,      \
                       C gain, C limit, const __global S *x, ulong x_off, const __global S *p,     \
                       ulong p_off, const __global S *dy, ulong dy_off, __global S *dx,            \
                       ulong dx_off, __global C *partial)                                          \
    {                                                                                              \
        chan_bcols(BIAS, outer, nb, channels, mode, alpha, gain, limit, x, x_off, p, p_off, dy,    \
                   dy_off, dx, dx_off, partial);                                                   \
    }
CHAN_BCOLS_KERNEL(LRELU_CAT(lrelu_prelu_bcols_, SFX), 0)
CHAN_BCOLS_KERNEL(LRELU_CAT(lrelu_bias_bcols_, SFX), 1)

__kernel void CHAN_SUM_NAME(ulong channels, ulong nb, const __global C *partial, __global S *ds,
                            ulong ds_off)
{
    size_t c = get_global_id(0);
    if (c >= (size_t)channels)
        return;
    C acc = (C)0;
    for (size_t b = 0; b < (size_t)nb; ++b)
        acc = acc + partial[c * nb + b];
    STORE1(acc, c, ds + ds_off);
}

/* ------------------------------------------------------------------------------------
 * Quantized forward, in the f32 build: int8 (s8) and uint8 (u8) storage.
 *   lrelu_forward_q8_SIGN(n, alpha, s_in, zp_in, inv_out, zp_out, x, x_off, y, y_off)
 *     f = (float)(x - zp_in) * s_in; f = f > 0 ? f : f * alpha;
 *     y = (int)clamp(rint(f * inv_out), lo - zp_out, hi - zp_out) + zp_out
 *   every step in float, rint rounds to nearest even; [lo, hi] is the type's range. The
 *   host checks the parameters so that f is finite and never NaN.
 * ---------------------------------------------------------------------------------- */
#if LRELU_DTYPE == 0
#if LRELU_VEC == 1
#define Q8_CONV(T, v)     LRELU_CAT(convert_, T)(v)
#define Q8_LOAD(i, p)     (p)[i]
#define Q8_STORE(v, i, p) ((p)[i] = (v))
#else
#define Q8_LOAD(i, p)     LRELU_CAT(vload, LRELU_VEC)(i, p)
#define Q8_STORE(v, i, p) LRELU_CAT(vstore, LRELU_VEC)(v, i, p)
#define Q8_CONV(T, v)     LRELU_CAT(LRELU_CAT(convert_, T), LRELU_VEC)(v)
#endif

/* Clamping to the integral bounds first and rounding after gives rint-then-clamp's
 * result (rint is monotonic and keeps integers); the clamped |f| <= 510, where adding and
 * subtracting 1.5 * 2^23 rounds to nearest even exactly, with no call to rint (which
 * PoCL does not vectorize). */
#define Q8_RNE 0x1.8p23f
#define AS_CV  LRELU_CAT(as_, CV)

/* The word path, where both offsets are multiples of 4: work-item i takes the VEC words
 * (4 * VEC bytes) at word index i, with no conversion instruction at all. Byte b of every
 * word is taken at once: u = (w >> 8b) & 0xff (after flipping the sign bits of int8,
 * which makes u = x + 128), and the float 2^23 + u, built from the bits 0x4b000000 | u,
 * minus 2^23 + 128 + zp_in is x - zp_in, exactly. After the clamp, f + 1.5 * 2^23 holds
 * rint(f) in its low bits (the same round to nearest even as above), and adding zp_out
 * to those bits leaves the byte to store in the lowest 8. Two to three times the speed
 * of the converting body on PoCL, and the same bits (the tests run both). */
#define Q8_WORDS(XOR, BIAS)                                                                        \
    {                                                                                              \
        const __global uint *xw = (const __global uint *)xp;                                       \
        __global uint *yw = (__global uint *)yp;                                                   \
        size_t wbody = (size_t)(n / (4 * LRELU_VEC));                                              \
        float sub = 0x1p23f + (BIAS) + (float)zp_in;                                               \
        if (i < wbody) {                                                                           \
            UV w = Q8_LOAD(i, xw) ^ (XOR), r = (UV)0;                                              \
            for (uint b = 0; b < 32; b += 8) {                                                     \
                CV f = (AS_CV(((w >> b) & 0xffu) | 0x4b000000u) - sub) * s_in;                     \
                f = clamp(LRELU(IS_POSV(f), f, alpha) * inv_out, lo, hi);                          \
                r |= ((AS_UV(f + Q8_RNE) + (uint)zp_out) & 0xffu) << b;                            \
            }                                                                                      \
            Q8_STORE(r, i, yw);                                                                    \
            return;                                                                                \
        }                                                                                          \
        body = wbody * 4; /* work-item wbody takes the tail below, the rest nothing */             \
        i = i == wbody ? body : body + 1;                                                          \
    }

#define Q8_KERNEL(NAME, Q, LO, HI, XOR, BIAS)                                                      \
    __kernel void NAME(ulong n, float alpha, float s_in, int zp_in, float inv_out, int zp_out,     \
                       const __global Q *x, ulong x_off, __global Q *y, ulong y_off)               \
    {                                                                                              \
        size_t i = get_global_id(0);                                                               \
        size_t body = (size_t)(n / LRELU_VEC);                                                     \
        const __global Q *xp = x + x_off;                                                          \
        __global Q *yp = y + y_off;                                                                \
        float lo = (float)(LO - zp_out), hi = (float)(HI - zp_out);                                \
        if (((x_off | y_off) & 3) == 0) /* the same for every work-item */                         \
            Q8_WORDS(XOR, BIAS)                                                                    \
        if (i < body) {                                                                            \
            /* small integers: every float step here is exact but the two products */              \
            CV f = (Q8_CONV(float, Q8_LOAD(i, xp)) - (float)zp_in) * s_in;                         \
            f = clamp(LRELU(IS_POSV(f), f, alpha) * inv_out, lo, hi);                              \
            f = ((f + Q8_RNE) - Q8_RNE) + (float)zp_out;                                           \
            Q8_STORE(Q8_CONV(Q, f), i, yp);                                                        \
        } else if (i == body) {                                                                    \
            for (size_t k = body * LRELU_VEC; k < (size_t)n; ++k) {                                \
                float f = (float)((int)xp[k] - zp_in) * s_in;                                      \
                f = rint(LRELU(IS_POS1(f), f, alpha) * inv_out);                                   \
                yp[k] = (Q)((int)clamp(f, lo, hi) + zp_out);                                       \
            }                                                                                      \
        }                                                                                          \
    }

Q8_KERNEL(lrelu_forward_q8_s8, char, -128, 127, 0x80808080u, 128.0f)
Q8_KERNEL(lrelu_forward_q8_u8, uchar, 0, 255, 0u, 0.0f)
#endif
