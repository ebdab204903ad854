#!/usr/bin/env bash
# Installs the built library into a scratch prefix, then builds and runs a separate consumer
# project against it twice: once with CMake's find_package(emberdb), once with pkg-config.
set -euo pipefail
source_dir=$1   # the emberdb source tree
binary_dir=$2   # its build tree
work=$3         # scratch folder
rm -rf "$work"
mkdir -p "$work"
cmake --install "$binary_dir" --prefix "$work/prefix" >/dev/null

cmake -S "$source_dir/tests/install/consumer" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer" "$work/db-cmake"

pc_dir=$(dirname "$(find "$work/prefix" -name emberdb.pc | head -n 1)")
c++ -o "$work/consumer-pc" "$source_dir/tests/install/consumer/main.cc" \
  $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs emberdb) -fopenmp
"$work/consumer-pc" "$work/db-pkgconfig"
echo "install check: find_package and pkg-config consumers both work"
