#!/usr/bin/env bash
# run.sh: the Quick start. Installs what is missing (Debian packages), builds, and runs.
#   ./run.sh demo      the demo on the default device (LRELU_DEVICE to choose)
#   ./run.sh test      the whole test suite
#   ./run.sh sanitize  the test suite built with AddressSanitizer + UBSan
#   ./run.sh tsan      the thread tests built with ThreadSanitizer
#   ./run.sh fuzz [S]  each libFuzzer target for S seconds (default 30), from the corpus in
#                      tests/fuzz/corpus; new inputs land in build-fuzz/corpus; with CI
#                      set the seed is fixed, so a CI run can be replayed
#   ./run.sh lint      clang-format, cppcheck and clang-tidy, each failing on any finding
#   ./run.sh gpu [...] the GPU check (tools/gpu_check.py, docs/performance.md "On a GPU"):
#                      the suite on the first GPU and a benchmark sweep, one report in
#                      build/gpu-report.md. Builds where it can; on a GPU server without
#                      the packages it runs the build/ brought from a machine that ran it
#   ./run.sh stand-ins the GPU stand-ins: the suite on Oclgrind (ctest label oclgrind) and
#                      every kernel build through clang for spir64, NVIDIA and AMD
#                      (label offline); installs oclgrind and clang-15
# Warnings are errors when CI is set (or LRELU_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")"

packages=(cmake make gcc pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libxml2-utils python3)

install_missing() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "run.sh: installing ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || {
            echo "run.sh: need root or sudo to install: ${missing[*]}" >&2
            exit 1
        }
        sudo=sudo
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

build() { # build DIR [cmake options...]
    local dir=$1
    shift
    local werror=${LRELU_WERROR:-OFF}
    [ -n "${CI:-}" ] && werror=ON
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLRELU_WERROR="$werror" "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)"
}

jobs=$(nproc)
# intercept_tls_get_addr=0: up to GCC 13 and LLVM 16, ASan's __tls_get_addr interceptor
# takes a dynamic TLS block (PoCL's and LLVM's, loaded with dlopen) for a pre-2.25 glibc
# one whenever its start lands 16 bytes into a page, reads the two words before it as an
# address and a length, and LeakSanitizer's tracer then dies at exit ("Tracer caught
# signal 11") after a test has passed. Nothing of lrelu's own lives in dynamic TLS.
asan_options=detect_leaks=1:intercept_tls_get_addr=0
lsan_options="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
case "${1:-}" in
demo)
    install_missing
    build build >/dev/null
    ./build/tools/lrelu demo -o build/leaky_relu.svg
    ;;
test)
    # the examples with CLBlast, PyOpenCL and Open MPI (built and run where found)
    packages+=(libclblast-dev python3-pyopencl python3-numpy openmpi-bin libopenmpi-dev)
    install_missing
    build build
    ctest --test-dir build -j"$jobs" --output-on-failure
    ;;
sanitize) # not the stand-ins: Oclgrind preloads its runtime ahead of ASan's
    install_missing
    build build-asan -DLRELU_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=$asan_options LSAN_OPTIONS=$lsan_options \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan -j"$jobs" --output-on-failure -LE 'oclgrind|offline'
    ;;
tsan)
    install_missing
    build build-tsan -DLRELU_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
        ctest --test-dir build-tsan -j"$jobs" --output-on-failure -R 'threads/|embed/|events/|group/small'
    ;;
fuzz)
    packages+=(clang libclang-rt-14-dev)
    install_missing
    CC=clang build build-fuzz -DLRELU_FUZZ=ON -DLRELU_BUILD_TESTS=OFF -DLRELU_BUILD_TOOLS=OFF \
        -DLRELU_BUILD_BENCH=OFF -DLRELU_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
    for t in api npy; do
        mkdir -p "build-fuzz/corpus/$t"
        ASAN_OPTIONS=$asan_options LSAN_OPTIONS=$lsan_options \
            POCL_CACHE_DIR="$PWD/build-fuzz/pocl-cache" \
            "./build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="${2:-30}" -print_final_stats=1 \
            ${CI:+-seed=1} \
            "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t"
    done
    ;;
gpu)
    shift
    if command -v cmake >/dev/null && [ -e /usr/include/CL/cl.h ] || [ ! -e build/ctest.json ]; then
        install_missing
        build build >/dev/null
        # what a machine without cmake needs to run the suite: its list, and the ICD loader
        ctest --test-dir build --show-only=json-v1 >build/ctest.json
        mkdir -p build/runtime
        loader=$(ldconfig -p | awk '$1 == "libOpenCL.so.1" { print $NF; exit }')
        [ -n "$loader" ] && cp -L "$loader" build/runtime/libOpenCL.so.1
    fi
    exec python3 tools/gpu_check.py --build build "$@"
    ;;
stand-ins)
    packages+=(oclgrind clang-15)
    install_missing
    build build
    ctest --test-dir build -j"$jobs" --output-on-failure -L 'oclgrind|offline'
    ;;
lint)
    packages+=(clang-format clang-tidy cppcheck)
    install_missing
    build build >/dev/null
    sources=$(git ls-files '*.c' '*.h' '*.cl')
    # shellcheck disable=SC2086
    clang-format --dry-run --Werror $sources
    cppcheck --enable=warning,style,performance,portability --std=c11 --inline-suppr \
        --error-exitcode=1 -q -Iinclude -Ihost host tools tests bench
    # clang-tidy gets the files this build compiles (compile_commands.json): the fuzz
    # targets build only with clang, the oneDNN baseline only where oneDNN is installed
    tidy=()
    for f in $(git ls-files 'host/*.c' 'tools/*.c' 'tests/*.c' 'bench/*.c'); do
        grep -q "\"file\": \"$PWD/$f\"" build/compile_commands.json && tidy+=("$f")
    done
    clang-tidy -p build --quiet "${tidy[@]}"
    echo "lint: clean"
    ;;
*)
    echo "usage: ./run.sh demo|test|sanitize|tsan|fuzz [SECONDS]|lint|stand-ins|gpu [...]" >&2
    exit 2
    ;;
esac
