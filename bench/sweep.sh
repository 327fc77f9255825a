#!/usr/bin/env bash
# GEMM rate of the training step against size: normlab_bench --batch B --width H (input H,
# hidden [H, H], 10 classes) over a batch sweep at width 512 and a width sweep at batch 128, at 1
# and 2 threads; writes docs/performance-sweep.tsv and plots it to docs/performance-sweep.png.
#
#   bench/sweep.sh [build-dir]        # default build dir: build (needs gnuplot)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="${1:-$ROOT/build}/bench/normlab_bench"
OUT="$ROOT/docs/performance-sweep.tsv"
TMP="$OUT.tmp"
printf '# sweep\tbatch\twidth\tthreads\tmedian_ms\tgflops\n' >"$TMP"
for t in 1 2; do
  for b in 16 32 64 128 256 512; do
    OPENBLAS_NUM_THREADS=$t "$BENCH" --threads "$t" --batch "$b" --width 512 --reps 3 \
      --target-ms 150 2>/dev/null | sed -n 's/^SWEEP/batch/p' >>"$TMP"
  done
  for h in 64 128 256 512 1024 2048; do
    OPENBLAS_NUM_THREADS=$t "$BENCH" --threads "$t" --batch 128 --width "$h" --reps 3 \
      --target-ms 150 2>/dev/null | sed -n 's/^SWEEP/width/p' >>"$TMP"
  done
done
mv "$TMP" "$OUT"
gnuplot -e "data='$OUT'; out='$ROOT/docs/performance-sweep.png'" "$ROOT/bench/sweep.gp"
echo "wrote $OUT and $ROOT/docs/performance-sweep.png"
