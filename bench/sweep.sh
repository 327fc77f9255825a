#!/usr/bin/env bash
# GEMM rate of the training step against size, per GEMM backend: normlab_bench --batch B
# --width H (input H, hidden [H, H], 10 classes) over a batch sweep at width 512 and a width
# sweep at batch 128, at 1 and 2 threads, on each built backend (NORMLAB_BLAS); the FMA peak of
# the CPU's highest vector level (normlab_bench --machine) is drawn as a line. Writes
# docs/performance-sweep.tsv and plots it to docs/performance-sweep.png.
#
#   bench/sweep.sh [build-dir]        # default build dir: build (needs gnuplot)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="${1:-$ROOT/build}/bench/normlab_bench"
OUT="$ROOT/docs/performance-sweep.tsv"
TMP="$OUT.tmp"
MACHINE="$("$BENCH" --machine)"
backends=$(awk -F'\t' '$1 == "GEMM" && $3 == "M" {print $2}' <<<"$MACHINE")
# The last PEAK lines are the highest level's.
peak1=$(awk -F'\t' '$1 == "PEAK" && $3 == 1 {p = $4} END {print p}' <<<"$MACHINE")
peak2=$(awk -F'\t' '$1 == "PEAK" && $3 == 2 {p = $4} END {print p}' <<<"$MACHINE")
{
  printf '# %s\n' "$(head -1 <<<"$MACHINE" | cut -f2-)"
  printf '# peak\t%s\t%s\n' "$peak1" "$peak2"
  printf '# sweep\tbackend\tbatch\twidth\tthreads\tmedian_ms\tgflops\n'
} >"$TMP"
for blas in $backends; do
  for t in 1 2; do
    for b in 16 32 64 128 256 512; do
      NORMLAB_BLAS=$blas "$BENCH" --threads "$t" --batch "$b" --width 512 --reps 3 \
        --target-ms 150 2>/dev/null | sed -n "s/^SWEEP/batch\t$blas/p" >>"$TMP"
    done
    for h in 64 128 256 512 1024 2048; do
      NORMLAB_BLAS=$blas "$BENCH" --threads "$t" --batch 128 --width "$h" --reps 3 \
        --target-ms 150 2>/dev/null | sed -n "s/^SWEEP/width\t$blas/p" >>"$TMP"
    done
  done
done
mv "$TMP" "$OUT"
gnuplot -e "data='$OUT'; out='$ROOT/docs/performance-sweep.png'; peak1=$peak1; peak2=$peak2; \
backends='$(echo $backends)'" "$ROOT/bench/sweep.gp"
echo "wrote $OUT and $ROOT/docs/performance-sweep.png"
