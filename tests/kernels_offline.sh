#!/usr/bin/env bash
# kernels_offline.sh [KERNELS_DIR]: the GPU compilers' view of the kernels. Compiles each
# family (include/lrelu.clh and common.cl, then elementwise.cl, channels.cl or q8.cl: the programs the library
# builds) for every dtype and every width the tuner or a default may pick (with the build
# options host/cl/programs.c passes), with clang (the major version PoCL uses, 15 on Debian
# 12) for spir64, nvptx64-nvidia-nvcl and amdgcn-amd-amdhsa (gfx90a), at -O0 and -O2,
# -cl-std=CL1.2 -Werror. Fails on any error or warning, on any function a program
# declares and never defines (an OpenCL builtin, _Z..., or an LLVM intrinsic is fine),
# on any backend failure, and where the plain kernels' PTX at the GPUs' default widths
# has no 128-bit load and store (their path for 16-byte aligned operands).
set -euo pipefail
dir=$(realpath "${1:-$(dirname "$0")/../kernels}")
clang=${CLANG:-clang-15}
command -v "$clang" >/dev/null || { echo "kernels_offline: $clang not found" >&2; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# each family's program as the library builds it: lrelu.clh and common.cl in front
for f in elementwise channels q8; do
    cat "$dir/../include/lrelu.clh" "$dir/common.cl" "$dir/$f.cl" >"$out/$f.cl"
done
# family:dtype:vec:item[:extra]; bf16 takes 32 elements a work-item at 16 on
# little-endian devices; the channels' constants are the host's (host/common/common.h),
# LRELU_COALESCE the GPUs' 2-D forwards, and LRELU_GROUP_MAX builds the CPU devices'
# per-channel backward instead
chan="-DLRELU_RBLOCK=256 -DLRELU_ITEM_VECS=4 -DLRELU_CHAN_TILE=4"
builds=()
for t in 0 1 2 3; do
    for v in 1 2 4 8 16; do
        builds+=("elementwise:$t:$v:$v" "channels:$t:$v:$v:$chan -DLRELU_COALESCE")
    done
    builds+=("channels:$t:16:16:$chan -DLRELU_GROUP_MAX=1024")
done
builds+=("elementwise:2:16:32")
for v in 1 2 4 8 16; do
    builds+=("q8:0:$v:$v")
done
targets=("spir64" "nvptx64-nvidia-nvcl" "amdgcn-amd-amdhsa -mcpu=gfx90a -nogpulib")

one() { # one TARGET OPT BUILD: compile to LLVM IR (and to assembly for the GPU targets)
    local target=$1 opt=$2 b=$3 f t v i extra
    IFS=: read -r f t v i extra <<<"$b"
    local name tag src="$out/$f.cl"
    name=$(echo "$target" | cut -d' ' -f1)
    tag="$out/$name-O$opt-$f-$t-$v-$i${extra:+-$(echo "$extra" | wc -w)}"
    local flags=(-cl-std=CL1.2 -Xclang -finclude-default-header -Werror "-O$opt"
        -DLRELU_DTYPE="$t" -DLRELU_VEC="$v" -DLRELU_ITEM="$i" $extra)
    # shellcheck disable=SC2086
    if ! "$clang" "${flags[@]}" -target $target -emit-llvm -S -o "$tag.ll" "$src" 2>"$tag.err"; then
        echo "FAIL $target -O$opt $b:"; cat "$tag.err"; return 1
    fi
    local undefined
    undefined=$(grep '^declare' "$tag.ll" | grep -v '@_Z\|@llvm\.' || true)
    if [ -n "$undefined" ]; then
        echo "FAIL $target -O$opt $b declares functions it never defines:"; echo "$undefined"
        return 1
    fi
    if [ "$name" != spir64 ] && [ "$opt" = 2 ]; then
        # shellcheck disable=SC2086
        if ! "$clang" "${flags[@]}" -target $target -S -o "$tag.s" "$src" 2>"$tag.err"; then
            echo "FAIL $target -O$opt $b (backend):"; cat "$tag.err"; return 1
        fi
    fi
}
export -f one
export clang out

jobs=()
for target in "${targets[@]}"; do
    for opt in 0 2; do
        for b in "${builds[@]}"; do
            jobs+=("$target|$opt|$b")
        done
    done
done
failed=0
printf '%s\n' "${jobs[@]}" |
    xargs -P "$(nproc)" -I{} bash -c 'IFS="|" read -r a b c <<<"{}"; one "$a" "$b" "$c"' ||
    failed=1

# 16-byte aligned operands at the GPUs' default widths (f32 4, bf16 8, f64 2): one
# 128-bit load and store in the PTX
for tv in 0:4 2:8 3:2; do
    t=${tv%:*} v=${tv#*:}
    ptx="$out/nvptx64-nvidia-nvcl-O2-elementwise-$t-$v-$v.s"
    if ! grep -Eq 'ld\.global\.v(4\.(f32|u32|b32)|2\.f64)' "$ptx" ||
        ! grep -Eq 'st\.global\.v(4\.(f32|u32|b32)|2\.f64)' "$ptx"; then
        echo "FAIL dtype $t width $v: no 128-bit global load and store in the PTX"
        failed=1
    fi
done
echo "kernels_offline: ${#jobs[@]} builds ($clang: ${#targets[@]} targets, -O0 and -O2), $([ $failed = 0 ] && echo clean || echo FAILED)"
exit $failed
