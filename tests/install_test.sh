#!/bin/sh
# install_test.sh BUILD_DIR SOURCE_DIR: installs the build into a temporary prefix, then
# builds and runs a client once through pkg-config and once through find_package(lrelu),
# and each time a caller's kernel built on the installed lrelu.clh (fused.c), checked
# against lrelu's calls.
set -eu
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
pcdir=$(dirname "$(find "$work/prefix" -name lrelu.pc | head -n 1)")
libdir=$(dirname "$pcdir")
test -f "$work/prefix/include/lrelu.h"
clh_dir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=clh_dir lrelu)
test -f "$clh_dir/lrelu.clh"
test -f "$libdir/liblrelu.a"
test -f "$libdir/cmake/lrelu/lrelu-config.cmake"
echo "pkg-config: $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs lrelu)"
# shellcheck disable=SC2046
cc -Wall -Werror "$src/tests/install/client.c" -o "$work/client_pc" \
   $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs lrelu)
LD_LIBRARY_PATH=$libdir "$work/client_pc"
# shellcheck disable=SC2046
cc -Wall -Werror -DLRELU_CLH_DIR="\"$clh_dir\"" "$src/tests/install/fused.c" -o "$work/fused_pc" \
   $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs lrelu)
LD_LIBRARY_PATH=$libdir "$work/fused_pc"
cmake -S "$src/tests/install" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/client"
"$work/cmake/fused"
