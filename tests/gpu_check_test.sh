#!/bin/sh
# gpu_check_test.sh BUILD SOURCE: the GPU check (tools/gpu_check.py) where no GPU is:
# with no driver at all it stops with status 3 and says why; with PoCL's library where no
# vendor file names it (as NVIDIA's libnvidia-opencl.so.1 often is) it finds it, runs a
# test and a tiny sweep on the CPU device, and writes a report with its figures.
set -u
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty"
fail=0
check() { # check WHAT COMMAND...: one line per check
    what=$1
    shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what" && fail=1; fi
}

unset OCL_ICD_FILENAMES
OCL_ICD_VENDORS=$work/empty LRELU_GPU_DRIVER_NAMES=no-such-driver.so \
    python3 "$src/tools/gpu_check.py" --build "$build" --report "$work/none.md" >"$work/none.out" 2>&1
check "no driver: status 3" [ $? -eq 3 ]
check "no driver: says there is no GPU" grep -q "no OpenCL GPU" "$work/none.out"
check "no driver: the report says so" grep -q "no OpenCL GPU" "$work/none.md"

pocl=$(ldconfig -p | awk '$1 == "libpocl.so.2" { print $NF; exit }')
if [ -z "$pocl" ]; then
    echo "no PoCL here: the driver search is not tried"
    [ $fail -eq 0 ] && exit 77
    exit 1
fi
OCL_ICD_VENDORS=$work/empty LRELU_GPU_DRIVER_DIRS=$(dirname "$pocl") \
    LRELU_GPU_DRIVER_NAMES=libpocl.so.2 POCL_CACHE_DIR=$build/pocl-cache/gpu_check LRELU_CACHE_DIR=$work/cache \
    python3 "$src/tools/gpu_check.py" --build "$build" --report "$work/r.md" --allow-cpu \
    --device cpu --quick --tests '^convert/' >"$work/r.out" 2>&1
rc=$?
cat "$work/r.out"
check "driver outside the vendor files: status 0" [ $rc -eq 0 ]
check "the driver found is named" grep -q "driver: $(dirname "$pocl")/libpocl.so.2 (found" "$work/r.md"
check "the test ran on the device" grep -q "^1 passed, 0 failed" "$work/r.md"
check "the sweep's rows are in the CSV" grep -q "^forward,f32,lrelu,1024," "$work/r.csv"
check "the goals have figures" grep -Eq "^\| forward f32 / device copy \| [0-9]+\.[0-9]+ \|" "$work/r.md"
check "cold start with and without the program cache" grep -q "from the program cache" "$work/r.md"
exit $fail
