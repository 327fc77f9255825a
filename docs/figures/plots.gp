# The figures of docs/batchnorm.md from the .dat files normlab_figures writes to `dir`, drawn
# into `out` (docs/figures/make.sh sets both): gnuplot -e "dir='DATA'; out='OUT'" plots.gp
set terminal pngcairo size 1500,480 font ",11" noenhanced
set key top left box opaque
set grid

# Figure 1: one channel's moving averages (batches of 32 from N(3, 4)), momentum 0.9, 0.99,
# 0.999; measured averages over runs, one run, and the closed forms.
do for [what in "mean variance"] {
  set output out."/ema_".what.".png"
  set multiplot layout 1,3 title "moving ".what." of one channel: batches of 32 rows from N(3, 4), moving_mean starts at 0, moving_variance at 1"
  set logscale x
  set key bottom right
  set xlabel "training step t"
  do for [m in "0.9 0.99 0.999"] {
    tau = 1.0 / (1.0 - m)
    set title "momentum ".m.": time constant 1/(1-m) = ".sprintf("%.0f", tau)
    set arrow 1 from tau, graph 0 to tau, graph 1 nohead dashtype 3 lc rgb "gray40"
    file = dir."/ema_".m.".dat"
    if (what eq "mean") {
      set ylabel "moving_mean"
      set yrange [-0.2:3.6]
      plot file u 1:8 w l lc rgb "#c0c0c0" t "plain, one run", \
           file u 1:2 w l lw 2 lc rgb "#1f77b4" t "plain, mean of runs", \
           file u 1:4 w l lw 2 dt 2 lc rgb "black" t "closed form 3 (1 - m^t)", \
           file u 1:3 w l lw 2 lc rgb "#d62728" t "debiased, mean of runs", \
           3 w l lc rgb "#2ca02c" t "population mean 3"
    } else {
      set ylabel "moving_variance"
      set yrange [0:7]
      set key top left
      plot file u 1:9 w l lc rgb "#c0c0c0" t "plain, one run", \
           file u 1:5 w l lw 2 lc rgb "#1f77b4" t "plain, mean of runs", \
           file u 1:7 w l lw 2 dt 2 lc rgb "black" t "closed form m^t + (1 - m^t) 4 (31/32)", \
           file u 1:6 w l lw 2 lc rgb "#d62728" t "debiased, mean of runs", \
           4 w l lc rgb "#2ca02c" t "population variance 4"
    }
  }
  unset multiplot
  unset arrow 1
  unset logscale x
  set autoscale y
}

# Figure 2: Example 3, training-mode against inference-mode accuracy and loss per batch size.
set output out."/batch_size.png"
set multiplot layout 1,2 title "Example 3 (test set): training mode (dashed, batch statistics) against inference mode (solid, moving statistics); mean and range over seeds"
set logscale x 2
set xlabel "batch size"
set xrange [1.5:170]
set key bottom right
variants = "plain renorm ghost precise"
colors = "#1f77b4 #ff7f0e #2ca02c #d62728"
label(i) = i == 1 ? "plain BN" : i == 2 ? "renorm (schedule)" : i == 3 ? "ghost batches of 4" : "plain BN, recalibrated"
set title "accuracy"
set ylabel "accuracy"
set yrange [0.97:1.003]
plot for [i=1:4] dir."/batch_".word(variants, i).".dat" u 1:5:6:7 w yerrorlines lw 2 lc rgb word(colors, i) t label(i)." inference", \
     for [i=1:3] dir."/batch_".word(variants, i).".dat" u 1:2:3:4 w yerrorlines lw 2 dt 2 lc rgb word(colors, i) t label(i)." training mode"
set title "binary cross-entropy"
set ylabel "loss"
set logscale y
set yrange [0.0008:3]
set key top right
plot for [i=1:4] dir."/batch_".word(variants, i).".dat" u 1:11:12:13 w yerrorlines lw 2 lc rgb word(colors, i) t label(i)." inference", \
     for [i=1:3] dir."/batch_".word(variants, i).".dat" u 1:8:9:10 w yerrorlines lw 2 dt 2 lc rgb word(colors, i) t label(i)." training mode"
unset multiplot
unset logscale
set autoscale

# Figure 3: loss per epoch with and without BN, the three examples.
set output out."/loss_curves.png"
set multiplot layout 1,3 title "training loss per epoch, with and without BatchNormalization (seed 0)"
set xlabel "epoch"
set logscale y
set key top right
set title "Example 1: Dense(64) -> BN(0.99) -> ReLU, MSE"
set ylabel "MSE"
plot dir."/loss_example1.dat" u 1:2 w lp lw 2 t "with BN", "" u 1:3 w lp lw 2 t "without BN"
set title "Example 2: the same with BN(0.9)"
plot dir."/loss_example2.dat" u 1:2 w lp lw 2 t "with BN", "" u 1:3 w lp lw 2 t "without BN"
set title "Example 3: imbalanced classes, BN(0.95)"
set ylabel "binary cross-entropy"
plot dir."/loss_example3.dat" u 1:2 w lp lw 2 t "with BN", "" u 1:3 w lp lw 2 t "without BN", \
     "" u 1:4 w lp dt 2 lw 2 t "with BN, test set", "" u 1:5 w lp dt 2 lw 2 t "without BN, test set"
unset multiplot
