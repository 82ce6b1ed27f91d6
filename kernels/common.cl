/* common.cl: what every family of kernels shares, built in front of each family's file
 * (elementwise.cl, channels.cl, q8.cl) as one program per family and dtype, after
 * include/lrelu.clh (the functions a caller's kernels fuse: the sign test on the bit
 * pattern and the f16 and bf16 conversions, which the one-element paths here use): the
 * element types, their loads and stores with one rounding, and the vector forms.
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
 * Offsets and counts are in elements (ulong); factors (alpha and the like) are float, or
 * double for f64. Offsets need no alignment: vloadn/vstoren need only element alignment.
 * Every work-item finds its elements from get_global_id alone, so the host may split a
 * launch into parts with global offsets (host/cl/launch.c), and work-items past the end
 * do nothing, so the host may round the global size up to any multiple of the local size.
 *
 * Edge cases
 *   "s > 0" is decided on the bit pattern: positive, not zero, not NaN. That is the IEEE
 *   comparison, made exact also on devices that flush denormals in comparisons, where a
 *   positive subnormal would otherwise count as 0. So +0 and -0 take the multiply branch
 *   (forward gives a signed zero, backward dy * alpha), NaN takes it too (forward NaN,
 *   backward dy * alpha), +inf passes through and -inf gives -inf * alpha (NaN when alpha
 *   is 0). Selection, never min/max, which get NaN, -0 and negative slopes wrong.
 *   In place (an output the very same range as an input) is safe: every work-item reads
 *   its elements before it writes them, and no pointer is declared restrict.
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

/* Elements per work-item of the plain forward and backward: VEC, or in the bf16 build
 * 2 * VEC, as VEC uints of pairs (the host passes -DLRELU_ITEM=32 at VEC 16: 64 bytes a
 * work-item, one AVX-512 operation where a CPU runs it). */
#ifndef LRELU_ITEM
#define LRELU_ITEM LRELU_VEC
#endif

#if LRELU_VEC != 1 && LRELU_VEC != 2 && LRELU_VEC != 4 && LRELU_VEC != 8 && LRELU_VEC != 16
#error "LRELU_VEC must be 1, 2, 4, 8 or 16"
#endif

#define LRELU_CAT_(a, b) a##b
#define LRELU_CAT(a, b)  LRELU_CAT_(a, b)

/* Per-type pieces: STORE_T storage, CALC_T the compute type, BITS_T the unsigned
 * integer of CALC_T's size,
 * LOAD1/STORE1 one element, LOADV/STOREV one vector of VEC elements. */
#if LRELU_DTYPE == 0
#define SFX             f32
#define STORE_T         float
#define CALC_T          float
#define BITS_T          uint
#define POS_LIMIT       0x7f800000u
#define LOAD1(i, p)     (p)[i]
#define STORE1(v, i, p) ((p)[i] = (v))
#elif LRELU_DTYPE == 1
#define SFX             f16
#define STORE_T         half
#define CALC_T          float
#define BITS_T          uint
#define POS_LIMIT       0x7f800000u
/* one element in integer steps (lrelu.clh) rather than vload_half and vstore_half_rte,
 * which PoCL does slowly one at a time (docs/performance.md, design measurements) */
#define LOAD1(i, p)     lrelu_f16_to_float(((const __global ushort *)(p))[i])
#define STORE1(v, i, p) (((__global ushort *)(p))[i] = lrelu_float_to_f16(v))
#elif LRELU_DTYPE == 2
#define SFX             bf16
#define STORE_T         ushort
#define CALC_T          float
#define BITS_T          uint
#define POS_LIMIT       0x7f800000u
#define LOAD1(i, p)     lrelu_bf16_to_float(((const __global ushort *)(p))[i])
#define STORE1(v, i, p) (((__global ushort *)(p))[i] = lrelu_float_to_bf16(v))
#elif LRELU_DTYPE == 3
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define SFX             f64
#define STORE_T         double
#define CALC_T          double
#define BITS_T          ulong
#define POS_LIMIT       0x7ff0000000000000ul
#define LOAD1(i, p)     (p)[i]
#define STORE1(v, i, p) ((p)[i] = (v))
#else
#error "LRELU_DTYPE must be 0 (f32), 1 (f16), 2 (bf16) or 3 (f64)"
#endif

#if LRELU_VEC == 1
#define CALC_V    CALC_T
#define BITS_V    BITS_T
#define AS_BITS_V LRELU_CAT(as_, BITS_T)
#else
#define CALC_V    LRELU_CAT(CALC_T, LRELU_VEC)
#define BITS_V    LRELU_CAT(BITS_T, LRELU_VEC)
#define AS_BITS_V LRELU_CAT(as_, BITS_V)
#endif

#if LRELU_DTYPE == 2
/* bfloat16 is the top half of a float: widening is a shift, narrowing rounds to nearest
 * even by adding 0x7fff plus the lowest kept bit, which also carries to infinity on
 * overflow. NaN is not rounded, which could carry it to zero or infinity: one element
 * (lrelu_float_to_bf16, lrelu.clh) forces the quiet bit, as the reference does; vectors
 * (BF16_ROUND, the same rounding) keep it. */
#define BF16_WIDEN(u) as_float((uint)(u) << 16)
/* BF16_ROUND(b, f): the bits b of the floats f with the bf16 result in their top half and
 * the low half left over: rounded to nearest even, or a NaN left as it is. Every NaN that
 * reaches it is NaN in its top half: a widened bf16, or an arithmetic result, which IEEE
 * 754 makes quiet (bit 22), canonical NaNs (0x7fffffff) included; NaN matches any NaN.
 * Kept in the top half, the odd elements of a pair need only a mask and the even ones a
 * shift, and NaN takes one compare (docs/performance.md, design measurements). */
#define BF16_ROUND(b, f) select((b), (b) + 0x7fffu + (((b) >> 16) & 1u), (f) == (f))

/* bf16_storeN(v, q): N floats to bf16 at q in global memory. On little-endian devices as
 * uint pairs: N / 2 where q lies on 4 bytes; else (q 2 bytes past) the first and last
 * elements alone and the N / 2 - 1 pairs between (ODD): PoCL stores a ushort vector at
 * 2-byte alignment one element at a time. Elsewhere as ushorts. */
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

/* Vector load and store of VEC elements at vector index i. */
#if LRELU_VEC == 1
#define LOADV(i, p)     LOAD1(i, p)
#define STOREV(v, i, p) STORE1(v, i, p)
#elif LRELU_DTYPE == 1
#define LOADV(i, p)     LRELU_CAT(vload_half, LRELU_VEC)((i), (p))
#define STOREV(v, i, p) LRELU_CAT(LRELU_CAT(vstore_half, LRELU_VEC), _rte)((v), (i), (p))
#elif LRELU_DTYPE == 2
#define UINT_V LRELU_CAT(uint, LRELU_VEC)
#define LOADV(i, p)                                                                                \
    LRELU_CAT(as_float, LRELU_VEC)                                                                 \
    (LRELU_CAT(convert_uint, LRELU_VEC)(LRELU_CAT(vload, LRELU_VEC)((i), (p))) << 16)
#if LRELU_VEC >= 4 /* into global memory: by pairs where it can */
#define STOREV(v, i, p) LRELU_CAT(bf16_store, LRELU_VEC)((v), (p) + (size_t)(i)*LRELU_VEC)
#else
#define STOREV(v, i, p) LRELU_CAT(vstore, LRELU_VEC)(bf16v_bits(v), (i), (p))
static inline LRELU_CAT(ushort, LRELU_VEC) bf16v_bits(CALC_V f)
{
    UINT_V b = LRELU_CAT(as_uint, LRELU_VEC)(f);
    return LRELU_CAT(convert_ushort, LRELU_VEC)(BF16_ROUND(b, f) >> 16);
}
#endif

#if LRELU_VEC >= 4 && defined(__ENDIAN_LITTLE__)
/* Pairs: VEC bf16 elements are VEC / 2 uints, element 2k in the low half (at any
 * offsets: PAIRS_LEAD below). Loading and storing uints is much faster on some devices
 * (PoCL among them) and the halves widen with a shift or a mask. The
 * plain forward and backward take LRELU_ITEM / 2 uints (NPAIRS_ITEM), the rest VEC / 2 (NPAIRS). */
#define BF16_PAIRS 1
#if LRELU_VEC == 16
#define NPAIRS 8
#elif LRELU_VEC == 8
#define NPAIRS 4
#else
#define NPAIRS 2
#endif
#if LRELU_ITEM == 32
#define NPAIRS_ITEM 16
#elif LRELU_ITEM == 16
#define NPAIRS_ITEM 8
#elif LRELU_ITEM == 8
#define NPAIRS_ITEM 4
#else
#define NPAIRS_ITEM 2
#endif
#define PAIRS_V       LRELU_CAT(uint, NPAIRS)
#define PAIRS_F       LRELU_CAT(float, NPAIRS)
#define ITEM_PAIRS_V  LRELU_CAT(uint, NPAIRS_ITEM)
#define ITEM_PAIRS_F  LRELU_CAT(float, NPAIRS_ITEM)
/* Pairs W uints wide: the macros take W; bf16p_roundW and pair_loadW (the load at any
 * offset) are defined below for NPAIRS and NPAIRS_ITEM. */
#define PAIR_LO(u, W) LRELU_CAT(as_float, W)((u) << 16)
#define PAIR_HI(u, W) LRELU_CAT(as_float, W)((u)&0xffff0000u)
#define PAIR_POS(f)   IS_POSB(AS_PAIRS_V(f)) /* NPAIRS wide, for CHAN_FWD_STEP */
#define AS_PAIRS_V    LRELU_CAT(as_uint, NPAIRS)
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
#define AS_BITS LRELU_CAT(as_, BITS_T)
#if LRELU_DTYPE == 3 /* one element: lrelu.clh's test */
#define IS_POS1(s) lrelu_positive_f64(s)
#else
#define IS_POS1(s) lrelu_positive_f32(s)
#endif
#define IS_POSV(s) ((AS_BITS_V(s) - (BITS_T)1) < (BITS_T)POS_LIMIT)
#define IS_POSB(b) (((b)-1u) < 0x7f800000u) /* the same on a float's bits */
/* bf16 pairs (NPAIRS_ITEM wide): the forward may keep every x with the sign clear but +0, by one
 * signed compare: +NaN then passes as itself, a NaN as the multiply's would be (5-7% off
 * bf16's forward). */
#define FWD_KEEPS(b)     (LRELU_CAT(as_int, NPAIRS_ITEM)(b) > 0)
#define LRELU(pos, v, a) ((pos) ? (v) : (v) * (a))

#define FORWARD_NAME  LRELU_CAT(lrelu_forward_, SFX)
#define BACKWARD_NAME LRELU_CAT(lrelu_backward_, SFX)

#ifdef BF16_PAIRS
/* Any offsets: the pairs are the output's, from its first even element. An input whose
 * offset has the other parity is read from one element before, as two overlapping uint
 * loads whose halves make its pairs. The elements before `lead` and after the body go to
 * the tail's work-item: two where an input is shifted but the output's offset is even, so
 * that no load starts before the input's first element, and the body stops one element
 * short so that none ends past its last: ushort vectors at odd offsets are slow on PoCL. */
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
PAIR_ROUND_FN(NPAIRS)
static inline PAIRS_V LRELU_CAT(pair_load, NPAIRS)(size_t i, const __global STORE_T *p, int shift)
{
    if (!shift)
        return PAIR_LOAD(i, p, NPAIRS);
    /* Pair k is the high half of word k and the low half of word k + 1. Joined by
     * upsample, not (a >> 16) | (b << 16): clang turns that into llvm.fshl, which some
     * implementations cannot run (Oclgrind: "Undefined external function"). */
    const __global uint *w = (const __global uint *)(p - 1) + i * NPAIRS;
    return upsample(LRELU_CAT(convert_ushort, NPAIRS)(LRELU_CAT(vload, NPAIRS)(0, w + 1)),
                    LRELU_CAT(convert_ushort, NPAIRS)(LRELU_CAT(vload, NPAIRS)(0, w) >> 16));
}
#if LRELU_ITEM != LRELU_VEC
PAIR_ROUND_FN(NPAIRS_ITEM)
/* NPAIRS_ITEM is 2 NPAIRS. Shifted, as two loads of NPAIRS: written at NPAIRS_ITEM, PoCL's LLVM
 * assembles the second uint16 load from five pieces, a slower backward. */
static inline ITEM_PAIRS_V LRELU_CAT(pair_load, NPAIRS_ITEM)(size_t i, const __global STORE_T *p,
                                                             int shift)
{
    if (!shift)
        return PAIR_LOAD(i, p, NPAIRS_ITEM);
    return (ITEM_PAIRS_V)(LRELU_CAT(pair_load, NPAIRS)(2 * i, p, 1),
                          LRELU_CAT(pair_load, NPAIRS)(2 * i + 1, p, 1));
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

/* The bits of one stored element, as a type private arrays can hold (half cannot be
 * declared without cl_khr_fp16, only pointed to). */
#if LRELU_DTYPE == 1
#define SBITS_T ushort
#else
#define SBITS_T STORE_T
#endif
