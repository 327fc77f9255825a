#!/bin/bash
# Kill-and-resume trials of `normlab train --checkpoint`: every trial trains with a checkpoint
# after every step, is killed with SIGKILL at random moments (twice: once in the first run, once
# in the first resumed run), then resumed to the end; its saved model must be byte-identical to
# an uninterrupted run's. A last trial stops the training with SIGINT, which must exit with 130
# and leave a checkpoint that resumes to the same bytes. KILL_RESUME_SEED fixes the delays.
#
#   kill_resume.sh NORMLAB CONFIG WORK_DIR [TRIALS]   (CONFIG: tests/kill_resume.json)
set -u
normlab=$1 config=$2 work=$3 trials=${4:-12}
rm -rf "$work" && mkdir -p "$work" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# One GEMM backend for every run: a run killed before its first checkpoint restarts from scratch
# and probes again, and two processes' probes may pick different backends, whose sums differ in
# the last bits (a resumed run keeps its checkpoint's backend; a fresh start has none to keep).
train=("$normlab" train "$config" --threads 1 --verbose 0 --blas openblas)  # run directly: $! is its pid
# The saved models in $1 and $2 are byte-identical: weights, moving statistics and model.json
# (its BatchNormalization update counts included, which checkpoints carry on).
same_model() {
  cmp -s "$1/weights.bin" "$2/weights.bin" && cmp -s "$1/model.json" "$2/model.json"
}
now_ms() { date +%s%3N; }

"${train[@]}" --out "$work/reference" >"$work/reference.log" 2>&1 || { echo "reference run failed"; exit 1; }

# How long a checkpointed run takes sets the range of the random delays.
start=$(now_ms)
"${train[@]}" --out "$work/timed" --checkpoint "$work/timed-ckpt" --checkpoint-every 1 \
  >"$work/timed.log" 2>&1 || { echo "checkpointed run failed"; exit 1; }
span=$(($(now_ms) - start))
same_model "$work/reference" "$work/timed" || fail "a checkpointed run differs from the reference"
echo "checkpointed run: ${span} ms"

RANDOM=${KILL_RESUME_SEED:-$$}
identical=0 mid_write=0
for i in $(seq 1 "$trials"); do
  ckpt=$work/ckpt-$i out=$work/out-$i log=$work/trial-$i.log
  kills=""
  for resume in "" --resume; do
    delay=$((RANDOM % (span * 9 / 10 + 1)))  # ms, before the run would finish
    "${train[@]}" --out "$out" --checkpoint "$ckpt" --checkpoint-every 1 $resume >>"$log" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      # A temporary name left in the folder: the kill came in the middle of a checkpoint write.
      if ls "$ckpt" 2>/dev/null | grep -q '\.tmp-'; then
        kills="$kills ${delay}ms (mid-write)"
        mid_write=$((mid_write + 1))
      else
        kills="$kills ${delay}ms"
      fi
    fi
    wait "$pid" 2>/dev/null
  done
  "${train[@]}" --out "$out" --checkpoint "$ckpt" --checkpoint-every 1 --resume >>"$log" 2>&1 ||
    { fail "trial $i: the last resumed run failed (see $log)"; continue; }
  if same_model "$work/reference" "$out"; then
    identical=$((identical + 1))
    echo "trial $i: killed at$kills: identical"
  else
    fail "trial $i: killed at$kills: the model differs from the reference"
  fi
done
echo "$identical of $trials kill-and-resume trials ended byte-identical ($mid_write kills in the" \
  "middle of a checkpoint write)"

# Ctrl-C, in a longer run (8 epochs) so that it comes during training: SIGINT soon after the
# first checkpoint is complete.
"${train[@]}" --epochs 8 --out "$work/reference-8" >"$work/reference-8.log" 2>&1 ||
  { echo "8-epoch reference run failed"; exit 1; }
ckpt=$work/ckpt-int out=$work/out-int log=$work/int.log
"${train[@]}" --epochs 8 --out "$out" --checkpoint "$ckpt" --checkpoint-every 1 >"$log" 2>&1 &
pid=$!
until [ -f "$ckpt/latest" ] || ! kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
sleep "0.0$((RANDOM % 10))"
kill -INT "$pid"
wait "$pid"
status=$?
if [ "$status" -ne 130 ]; then
  fail "SIGINT: exit status $status, expected 130 (see $log)"
elif ! grep -q "normlab: interrupted: checkpoint of step [0-9]* written to" "$log" ||
  ! grep -q -- "--resume" "$log" || [ ! -f "$ckpt/latest" ]; then
  fail "SIGINT: no checkpoint or no message (see $log)"
elif ! "${train[@]}" --epochs 8 --out "$out" --checkpoint "$ckpt" --checkpoint-every 1 --resume \
  >>"$log" 2>&1; then
  fail "SIGINT: the resumed run failed (see $log)"
elif ! same_model "$work/reference-8" "$out"; then
  fail "SIGINT: the resumed model differs from the reference"
else
  echo "SIGINT: exit 130, $(grep -o 'checkpoint of step [0-9]*' "$log"), resumed: identical"
fi

[ "$failures" -eq 0 ] && rm -rf "$work"
exit $((failures > 0))
