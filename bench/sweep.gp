# Plots docs/performance-sweep.tsv (bench/sweep.sh): GEMM GFLOP/s of the training step against
# the batch size (width 512) and against the width (batch 128), at 1 and 2 threads.
# Columns: sweep batch width threads median_ms gflops.
set terminal pngcairo size 1100,450 font ",10"
set output out
set datafile separator "\t"
set multiplot layout 1,2 title "normlab training step: GEMM flops / step time (Dense-BN-ReLU x2, Adam, float32)"
set logscale x 2
set grid
set key left top
set ylabel "GFLOP/s"
set yrange [0:*]
set xlabel "batch size (width 512)"
plot data using (strcol(1) eq "batch" && $4 == 1 ? $2 : NaN):6 with linespoints title "1 thread", \
     data using (strcol(1) eq "batch" && $4 == 2 ? $2 : NaN):6 with linespoints title "2 threads"
set xlabel "width H (input H, hidden [H, H]; batch 128)"
plot data using (strcol(1) eq "width" && $4 == 1 ? $3 : NaN):6 with linespoints title "1 thread", \
     data using (strcol(1) eq "width" && $4 == 2 ? $3 : NaN):6 with linespoints title "2 threads"
unset multiplot
