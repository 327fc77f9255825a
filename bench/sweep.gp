# Plots docs/performance-sweep.tsv (bench/sweep.sh): GEMM GFLOP/s of the training step against
# the batch size (width 512) and against the width (batch 128), per backend at 1 and 2 threads,
# with the CPU's FMA peak (peak1, peak2: 1 and 2 threads) as lines.
# Columns: sweep backend batch width threads median_ms gflops.
set terminal pngcairo size 1200,480 font ",10"
set output out
set datafile separator "\t"
set multiplot layout 1,2 title "normlab training step: GEMM flops / step time (Dense-BN-ReLU x2, Adam, float32)"
set logscale x 2
set grid
set key left top font ",8"
set ylabel "GFLOP/s"
set yrange [0:*]
set xlabel "batch size (width 512)"
plot for [b in backends] for [t=1:2] data using (strcol(1) eq "batch" && strcol(2) eq b && $5 == t ? $3 : NaN):7 \
       with linespoints title sprintf("%s, %d thread%s", b, t, t > 1 ? "s" : ""), \
     peak1 with lines dt 2 lc "black" title "FMA peak, 1 thread", \
     peak2 with lines dt 3 lc "black" title "FMA peak, 2 threads"
set xlabel "width H (input H, hidden [H, H]; batch 128)"
plot for [b in backends] for [t=1:2] data using (strcol(1) eq "width" && strcol(2) eq b && $5 == t ? $4 : NaN):7 \
       with linespoints title sprintf("%s, %d thread%s", b, t, t > 1 ? "s" : ""), \
     peak1 with lines dt 2 lc "black" title "FMA peak, 1 thread", \
     peak2 with lines dt 3 lc "black" title "FMA peak, 2 threads"
unset multiplot
