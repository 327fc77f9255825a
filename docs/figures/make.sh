#!/bin/sh
# Regenerates every figure and table of docs/batchnorm.md and docs/claims.md from normlab's own
# runs:
#   docs/figures/make.sh            builds normlab_figures (Release, in build-figures/), runs it,
#                                   plots docs/figures/*.png with gnuplot and fills the tables
#                                   of docs/batchnorm.md and docs/claims.md
#   docs/figures/make.sh --quick    the same with fewer seeds and steps
#   --program PATH                  use this normlab_figures instead of building one
#   --out DIR                       write everything to DIR (the docs are left alone: filled
#                                   copies batchnorm.md and claims.md go to DIR)
# The measurements (.dat files and the tables) go to build-figures/data, or to DIR with --out.
# A table's place in a document is marked by the lines `<!-- table: NAME.md -->` and
# `<!-- end table -->`; everything between them is replaced by DIR/NAME.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
quick=""
program=""
out="$here"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick" ;;
    --program) program="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "usage: docs/figures/make.sh [--quick] [--program PATH] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v gnuplot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y gnuplot-nox >/dev/null
  else
    echo "make.sh: error: gnuplot is missing (apt-get install gnuplot-nox)" >&2
    exit 2
  fi
fi

if [ -z "$program" ]; then
  cmake -S "$repo" -B "$repo/build-figures" -DCMAKE_BUILD_TYPE=Release \
        -DNORMLAB_BUILD_BENCH=OFF >/dev/null
  cmake --build "$repo/build-figures" -j2 --target normlab_figures >/dev/null
  program="$repo/build-figures/apps/normlab_figures"
fi

data="$out"
[ "$out" = "$here" ] && data="$repo/build-figures/data"
mkdir -p "$out" "$data"
start=$(date +%s)
"$program" "$data" $quick
gnuplot -e "dir='$data'; out='$out'" "$here/plots.gp"

for doc in batchnorm claims; do
  awk -v dir="$data" '
    /^<!-- table: [^ ]+ -->$/ {
      print
      file = dir "/" $3
      while ((status = (getline line < file)) > 0) print line
      if (status < 0) { print "make.sh: error: no " file > "/dev/stderr"; exit 1 }
      close(file)
      skipping = 1
      next
    }
    /^<!-- end table -->$/ { skipping = 0 }
    !skipping { print }' "$repo/docs/$doc.md" >"$out/$doc.md.tmp"
  if [ "$out" = "$here" ]; then
    mv "$out/$doc.md.tmp" "$repo/docs/$doc.md"
  else
    mv "$out/$doc.md.tmp" "$out/$doc.md"
  fi
done
echo "make.sh: figures and tables in $out ($(($(date +%s) - start)) s)"
