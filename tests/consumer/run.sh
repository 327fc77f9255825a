#!/usr/bin/env bash
# Installs normlab from BUILD_DIR into a temporary prefix and builds a program against it three
# ways: find_package (shared and static), pkg-config, and the Debian package made by CPack
# unpacked into a scratch root (dpkg -x), whose normlab command must answer --version.
#   tests/consumer/run.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC="$(readlink -f "$1")"
BUILD="$(readlink -f "$2")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
VERSION="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")"

echo "== cmake --install into $WORK/prefix"
cmake --install "$BUILD" --prefix "$WORK/prefix" >/dev/null
test -f "$WORK/prefix/include/normlab/normlab.h"
test -f "$WORK/prefix/include/normlab/layers/batch_normalization.h"

echo "== find_package(normlab 0.1) consumer"
cmake -S "$SRC/tests/consumer" -B "$WORK/consumer" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$WORK/consumer" -j 2 >/dev/null
LIBDIR="$(dirname "$(find "$WORK/prefix" -name 'libnormlab.so' | head -1)")"
LD_LIBRARY_PATH="$LIBDIR" "$WORK/consumer/consumer"
"$WORK/consumer/consumer_static"

echo "== pkg-config consumer"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
test "$(pkg-config --modversion normlab)" = "$VERSION"
# shellcheck disable=SC2046
g++ -O2 "$SRC/tests/consumer/main.cpp" -o "$WORK/pc_consumer" $(pkg-config --cflags --libs normlab)
LD_LIBRARY_PATH="$LIBDIR" "$WORK/pc_consumer"

echo "== Debian package"
(cd "$BUILD" && cpack -G DEB -B "$WORK/deb" >/dev/null)
DEB="$(ls "$WORK"/deb/normlab_"$VERSION"_*.deb)"
dpkg-deb --field "$DEB" Depends | grep -q libopenblas0
dpkg -x "$DEB" "$WORK/root"
OUT="$(LD_LIBRARY_PATH="$(dirname "$(find "$WORK/root" -name 'libnormlab.so.*' | head -1)")" \
  "$WORK/root/usr/bin/normlab" --version)"
echo "$OUT"
echo "$OUT" | grep -q "$VERSION"
echo "consumer: all ok"
