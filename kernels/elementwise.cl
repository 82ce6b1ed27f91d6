/* elementwise.cl: the Leaky ReLU kernels, forward and backward, built after common.cl
 * (which holds the build options and the edge cases) for one element type.
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
 *   Work-item i handles elements [i * VEC, i * VEC + VEC) (ITEM for the plain forward and
 *   backward; bf16's pairs start at the output's first even element, see PAIRS_LEAD); the
 *   one work-item past the last whole vector handles the elements that remain, one at a
 *   time. Where every operand of the plain forward or backward lies on 16 bytes and VEC
 *   elements are 16 bytes, they move as one 16-byte vector instead. */

/* Where every operand of a plain call lies on 16 bytes (offset 0 of a new buffer, the
 * common case) and a work-item's vector is 16 bytes (the GPUs' default shape: f32 4,
 * f64 2, bf16 8), the plain forward and backward move it as one 16-byte vector: vloadn
 * needs only element alignment, so compilers lower it to one load per element (clang's
 * PTX: four ld.global.f32 where ld.global.v4.f32 is one instruction). Wider vectors keep
 * vloadn: built from 16-byte pieces, they crashed Oclgrind's uninitialized-value checker,
 * and a union slowed PoCL (docs/performance.md). The same bits either way. */
#define ALIGNED16(a, b) (((((size_t)(a)) | ((size_t)(b))) & 15) == 0)
#if defined(BF16_PAIRS) && NPAIRS_ITEM == 4 /* VEC 8: 4 uints of pairs */
#define ALIGNED_OK            1
#define aload_pairs(i, p)     (((const __global uint4 *)(p))[i])
#define astore_pairs(v, i, p) (((__global uint4 *)(p))[i] = (v))
#elif (LRELU_DTYPE == 0 && LRELU_VEC == 4) || (LRELU_DTYPE == 3 && LRELU_VEC == 2)
#define ALIGNED_OK          1
#define aload_vec(i, p)     (((const __global CALC_V *)(p))[i])
#define astore_vec(v, i, p) (((__global CALC_V *)(p))[i] = (v))
#else /* no such path: the same calls as the other, never taken */
#define ALIGNED_OK            0
#define aload_pairs(i, p)     PAIR_LOAD(i, p, NPAIRS_ITEM)
#define astore_pairs(v, i, p) LRELU_CAT(vstore, NPAIRS_ITEM)((v), (i), (__global uint *)(p))
#define aload_vec(i, p)       LOADV(i, p)
#define astore_vec(v, i, p)   STOREV(v, i, p)
#endif

static inline void forward_ones(size_t from, size_t to, CALC_T alpha, const __global STORE_T *xp,
                                __global STORE_T *yp)
{
    for (size_t k = from; k < to; ++k) {
        CALC_T v = LOAD1(k, xp);
        STORE1(LRELU(IS_POS1(v), v, alpha), k, yp);
    }
}

__kernel void FORWARD_NAME(ulong n, CALC_T alpha, const __global STORE_T *x, ulong x_off,
                           __global STORE_T *y, ulong y_off)
{
    size_t i = get_global_id(0);
    int shift = (int)((x_off ^ y_off) & 1); /* these three are the same for every work-item */
    size_t lead = PAIRS_LEAD(n, y_off, shift);
    size_t body = PAIRS_BODY(n, lead, shift, LRELU_ITEM);
    const __global STORE_T *xp = x + x_off;
    __global STORE_T *yp = y + y_off;
    int aligned = ALIGNED_OK && lead == 0 && shift == 0 && ALIGNED16(xp, yp); /* for all */
    if (i < body) {
#ifdef BF16_PAIRS
        ITEM_PAIRS_V u =
            aligned ? aload_pairs(i, xp) : LRELU_CAT(pair_load, NPAIRS_ITEM)(i, xp + lead, shift);
        ITEM_PAIRS_V lo_b = u << 16, hi_b = u & 0xffff0000u;
        ITEM_PAIRS_F lo = LRELU_CAT(as_float, NPAIRS_ITEM)(lo_b),
                     hi = LRELU_CAT(as_float, NPAIRS_ITEM)(hi_b);
        ITEM_PAIRS_V r = PAIR_JOIN(LRELU(FWD_KEEPS(lo_b), lo, alpha),
                                   LRELU(FWD_KEEPS(hi_b), hi, alpha), NPAIRS_ITEM);
        if (aligned)
            astore_pairs(r, i, yp);
        else
            LRELU_CAT(vstore, NPAIRS_ITEM)(r, i, (__global uint *)(yp + lead));
#else
        if (aligned) {
            CALC_V v = aload_vec(i, xp);
            astore_vec(LRELU(IS_POSV(v), v, alpha), i, yp);
        } else {
            CALC_V v = LOADV(i, xp);
            STOREV(LRELU(IS_POSV(v), v, alpha), i, yp);
        }
#endif
    } else if (i == body) {
        forward_ones(0, lead, alpha, xp, yp);
        forward_ones(lead + body * LRELU_ITEM, (size_t)n, alpha, xp, yp);
    }
}

static inline void backward_ones(size_t from, size_t to, CALC_T alpha, const __global STORE_T *sp,
                                 const __global STORE_T *dyp, __global STORE_T *dxp)
{
    for (size_t k = from; k < to; ++k) {
        CALC_T sv = LOAD1(k, sp);
        CALC_T g = LOAD1(k, dyp);
        STORE1(LRELU(IS_POS1(sv), g, alpha), k, dxp);
    }
}

__kernel void BACKWARD_NAME(ulong n, CALC_T alpha, const __global STORE_T *s, ulong s_off,
                            const __global STORE_T *dy, ulong dy_off, __global STORE_T *dx,
                            ulong dx_off)
{
    size_t i = get_global_id(0);
    int s_shift = (int)((s_off ^ dx_off) & 1), g_shift = (int)((dy_off ^ dx_off) & 1);
    size_t lead = PAIRS_LEAD(n, dx_off, s_shift | g_shift);
    size_t body = PAIRS_BODY(n, lead, s_shift | g_shift, LRELU_ITEM);
    const __global STORE_T *sp = s + s_off;
    const __global STORE_T *dyp = dy + dy_off;
    __global STORE_T *dxp = dx + dx_off;
    int aligned = ALIGNED_OK && lead == 0 && (s_shift | g_shift) == 0 && ALIGNED16(sp, dyp) &&
                  ALIGNED16(dxp, dxp); /* the same for every work-item */
    if (i < body) {
#ifdef BF16_PAIRS
        ITEM_PAIRS_V su, gu;
        if (aligned) {
            su = aload_pairs(i, sp);
            gu = aload_pairs(i, dyp);
        } else if (s_shift | g_shift) { /* apart, so that the even case keeps plain loads */
            su = LRELU_CAT(pair_load, NPAIRS_ITEM)(i, sp + lead, s_shift);
            gu = LRELU_CAT(pair_load, NPAIRS_ITEM)(i, dyp + lead, g_shift);
        } else {
            su = PAIR_LOAD(i, sp + lead, NPAIRS_ITEM);
            gu = PAIR_LOAD(i, dyp + lead, NPAIRS_ITEM);
        }
        ITEM_PAIRS_F g_lo = PAIR_LO(gu, NPAIRS_ITEM), g_hi = PAIR_HI(gu, NPAIRS_ITEM);
        ITEM_PAIRS_V r = PAIR_JOIN(LRELU(IS_POSB(su << 16), g_lo, alpha),
                                   LRELU(IS_POSB(su & 0xffff0000u), g_hi, alpha), NPAIRS_ITEM);
        if (aligned)
            astore_pairs(r, i, dxp);
        else
            LRELU_CAT(vstore, NPAIRS_ITEM)(r, i, (__global uint *)(dxp + lead));
#else
        if (aligned) {
            CALC_V sv = aload_vec(i, sp);
            CALC_V g = aload_vec(i, dyp);
            astore_vec(LRELU(IS_POSV(sv), g, alpha), i, dxp);
        } else {
            CALC_V sv = LOADV(i, sp);
            CALC_V g = LOADV(i, dyp);
            STOREV(LRELU(IS_POSV(sv), g, alpha), i, dxp);
        }
#endif
    } else if (i == body) {
        backward_ones(0, lead, alpha, sp, dyp, dxp);
        backward_ones(lead + body * LRELU_ITEM, (size_t)n, alpha, sp, dyp, dxp);
    }
}

/* The blend: scale * r, then + beta * old when beta != 0, each step rounded in CALC_T. */
#define BLEND(r, old) ((scale * (r)) + (beta * (old)))
#define GENERAL_NAME  LRELU_CAT(lrelu_general_, SFX)

__kernel void GENERAL_NAME(ulong n, CALC_T alpha, CALC_T scale, CALC_T beta,
                           const __global STORE_T *s, ulong s_off, ulong s_inc,
                           const __global STORE_T *v, ulong v_off, ulong v_inc,
                           __global STORE_T *out, ulong out_off, ulong out_inc)
{
    size_t i = get_global_id(0);
    size_t body = (size_t)(n / LRELU_VEC);
    const __global STORE_T *sp = s + s_off;
    const __global STORE_T *vp = v + v_off;
    __global STORE_T *op = out + out_off;
    int read_out = beta != (CALC_T)0; /* the same for every work-item */
    if ((s_inc | v_inc | out_inc) == 1) {
        if (i < body) {
            CALC_V sv = LOADV(i, sp);
            CALC_V g = LOADV(i, vp);
            CALC_V r = LRELU(IS_POSV(sv), g, alpha);
            STOREV(read_out ? BLEND(r, LOADV(i, op)) : scale * r, i, op);
        } else if (i == body) {
            for (size_t k = body * LRELU_VEC; k < (size_t)n; ++k) {
                CALC_T r = LRELU(IS_POS1(LOAD1(k, sp)), LOAD1(k, vp), alpha);
                STORE1(read_out ? BLEND(r, LOAD1(k, op)) : scale * r, k, op);
            }
        }
        return;
    }
    size_t first = i * LRELU_VEC;
    size_t last = first + LRELU_VEC < (size_t)n ? first + LRELU_VEC : (size_t)n;
#if LRELU_VEC > 1 && LRELU_DTYPE == 1
    /* A whole vector's worth: gather the strided elements' bits into private arrays and
     * convert them as one vector (scalar half conversions are slow on some devices,
     * PoCL among them), then scatter the result's bits. */
    if (last - first == LRELU_VEC) {
        SBITS_T sb[LRELU_VEC], vb[LRELU_VEC], ob[LRELU_VEC];
        const __global SBITS_T *sg = (const __global SBITS_T *)sp,
                               *vg = (const __global SBITS_T *)vp;
        __global SBITS_T *og = (__global SBITS_T *)op;
        for (size_t k = 0; k < LRELU_VEC; ++k) {
            sb[k] = sg[(first + k) * s_inc];
            vb[k] = vg[(first + k) * v_inc];
            if (read_out)
                ob[k] = og[(first + k) * out_inc];
        }
        CALC_V sv = LOADV(0, (const STORE_T *)sb);
        CALC_V g = LOADV(0, (const STORE_T *)vb);
        CALC_V r = LRELU(IS_POSV(sv), g, alpha);
        STOREV(read_out ? BLEND(r, LOADV(0, (const STORE_T *)ob)) : scale * r, 0, (STORE_T *)ob);
        for (size_t k = 0; k < LRELU_VEC; ++k)
            og[(first + k) * out_inc] = ob[k];
        return;
    }
#endif
    for (size_t k = first; k < last; ++k) {
        CALC_T r = LRELU(IS_POS1(LOAD1(k * s_inc, sp)), LOAD1(k * v_inc, vp), alpha);
        size_t o = k * out_inc;
        STORE1(read_out ? BLEND(r, LOAD1(o, op)) : scale * r, o, op);
    }
}
