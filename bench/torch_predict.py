#!/usr/bin/env python3
"""PyTorch's side of `normlab_bench --predict` at L: the same model (Linear -> BatchNorm1d ->
ReLU, x2, then Linear(10)) in eval mode under torch.no_grad(), 2048 rows of x ~ N(0, 1) in
batches of 1024, with the benchmark's protocol (warm-up >= 3 calls and 0.3 s, then --reps
repetitions of N calls of about --target-ms each; median). Prints
  PREDICT L pytorch <threads> 2048 <median_ms> <min_ms> <max_ms> <reps> <calls_per_rep>

  python3 bench/torch_predict.py [--threads T] [--reps R] [--target-ms T]
"""
import argparse
import os
import statistics
import time

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--reps", type=int, default=7)
parser.add_argument("--target-ms", type=float, default=300.0)
args = parser.parse_args()
# Debian's torch does its products in OpenBLAS, whose thread count is read from the environment
# when the library loads: set it before the import, or "1 thread" runs OpenBLAS on every core.
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)

layers, width = [], 1024
for h in (2048, 2048):
    layers += [torch.nn.Linear(width, h), torch.nn.BatchNorm1d(h, momentum=0.01, eps=1e-3), torch.nn.ReLU()]
    width = h
model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10)).eval()
x = torch.randn(2048, 1024)


def call():
    with torch.no_grad():
        for chunk in torch.split(x, 1024):
            model(chunk)


start, warm = time.perf_counter(), 0
while warm < 3 or time.perf_counter() - start < 0.3:
    call()
    warm += 1
per_call_ms = (time.perf_counter() - start) * 1e3 / warm
calls = max(1, round(args.target_ms / per_call_ms))
ms = []
for _ in range(args.reps):
    t0 = time.perf_counter()
    for _ in range(calls):
        call()
    ms.append((time.perf_counter() - t0) * 1e3 / calls)
print(f"PREDICT\tL\tpytorch\t{args.threads}\t2048\t{statistics.median(ms):.6f}\t{min(ms):.6f}\t"
      f"{max(ms):.6f}\t{args.reps}\t{calls}", flush=True)
