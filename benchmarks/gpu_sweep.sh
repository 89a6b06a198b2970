#!/usr/bin/env bash
# Recipe variants of the default preset screened on a lent GPU, several runs side by side (session 8;
# results in benchmarks/RESULTS.md). A CPU hour is ~190 kimg; on an H100 each run trains ~170-280 img/s
# with four to seven beside it (launch-bound), so a GPU screens many variants at once. The FID network
# (84 MB) does not travel to the device, so the EMA generators come back (fp16) and are evaluated here:
#   .venv/bin/pokegan eval EXPORT --data data/gen5-64.data --json out.json
# The runs are background processes (setsid): they outlive one device call, but not the machine, which
# goes back 30 s after a call ends, so start, watch and collect belong in one call.
#   benchmarks/gpu_sweep.sh prep   unpack what .devcarry holds (made here by `gpu_sweep.sh pack`): the data
#     (xz) and the FID network (benchmarks/fidnet_pack.py: int8 weights, for comparing runs there only)
#   benchmarks/gpu_sweep.sh start MINUTES KIMG NAME[:KIMG]...   launch these variants, each to its own kimg
#     when given (a CPU hour's worth: 190 x its CPU speed / the default's)
#   benchmarks/gpu_sweep.sh watch SECONDS   print each run's progress every minute, until all have stopped
#   benchmarks/gpu_sweep.sh collect OUT RUNS KIMG...  export the EMA generators (fp16) of those snapshots
#     and latest (RUNS: all or a comma list of names), with their stats, as 15 MiB parts of one tar
#   benchmarks/gpu_sweep.sh eval OUT [SOURCE...]   FID/KID/precision/recall/near-copies of each run's latest
#     EMA generator (and of each SOURCE) on the GPU with the carried network, as OUT/eval.tar
# Session 8's call: start 7.8 190 base seed1 flip flipnocut && watch 520; collect $OUT all 120 190
# Planned in session 9, never run (no GPU lent to that task): pack (here); then there: prep && start 17 190
#   base nocutout:183 wideg24:123 d24:146 ... && watch 440; then watch 570; then eval $OUT && collect $OUT all
set -u
ROOT=${ROOT:-runs-gpu}
PY=${PY:-python3}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2

common=(--data data/gen5-64.data --progress lines --sample-every-kimg 25)
# fp32 is the default (session 8 ran these with --no-amp, when CUDA defaulted to bf16: the same runs)
declare -A VARIANTS=(
  [base]="--seed 0"
  [seed1]="--seed 1"
  [bf16]="--seed 0 --amp"
  [flip]="--seed 0 --augment flip"
  [flipnocut]="--seed 0 --augment flip --diffaug color,translation"
  [nocutout]="--seed 0 --diffaug color,translation"
  [narrow12]="--seed 0 --set g_base=12 --set d_base=12"
  [wideg24]="--seed 0 --set g_base=24"
  [g32]="--seed 0 --set g_base=32"
  [d24]="--seed 0 --set d_base=24"
  [d32]="--seed 0 --set d_base=32"
  [g24d24]="--seed 0 --set g_base=24 --set d_base=24"
)
CARRY=.devcarry   # ignored (.gitignore); carried with `carry: [".devcarry"]`

case "${1:-}" in
pack)
  mkdir -p $CARRY
  xz -T2 -6 -c data/gen5-64.data > $CARRY/gen5-64.data.xz
  $PY benchmarks/fidnet_pack.py pack $CARRY/fidnet
  du -sh $CARRY
  ;;
prep)
  mkdir -p data && xz -dc $CARRY/gen5-64.data.xz > data/gen5-64.data
  $PY benchmarks/fidnet_pack.py unpack $CARRY/fidnet /tmp/fidnet-int8.pt
  ;;
start)
  minutes=$2; kimg=$3; shift 3
  mkdir -p $ROOT/logs
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
  for spec in "$@"; do
    name=${spec%%:*}; k=$kimg; [ "$spec" = "$name" ] || k=${spec#*:}
    # shellcheck disable=SC2086
    setsid nohup $PY -m pokegan train "${common[@]}" --run-dir $ROOT/$name ${VARIANTS[$name]} \
      --kimg "$k" --minutes "$minutes" --snapshot-every-kimg 10 --keep-snapshots 100 \
      >$ROOT/logs/$name.log 2>&1 < /dev/null &
  done
  sleep 30
  tail -n 2 $ROOT/logs/*.log
  ;;
watch)
  end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    sleep 60
    date -u +%T
    for f in $ROOT/*/*/stats.jsonl; do
      printf '%-40s %s\n' "$f" "$(tail -n 1 "$f" | $PY -c 'import json,sys; r=json.loads(sys.stdin.read()); print(r["kimg"], r["minutes"], r["img_per_sec"], r.get("aug_p"))')"
    done
    if ! pgrep -f "pokegan train" >/dev/null; then echo "all runs finished"; break; fi
  done
  ;;
collect)
  out=$2; runs=$3; shift 3
  exp=$(mktemp -d); mkdir -p "$out"
  for run in $ROOT/*/*/; do
    name=$(basename "$(dirname "$run")")
    [ "$runs" = all ] || [[ ",$runs," == *",$name,"* ]] || continue
    for k in "$@" latest; do
      if [ "$k" = latest ]; then ck=$run/checkpoints/latest; else ck=$run/checkpoints/snapshot-$(printf %06d "$k")kimg; fi
      [ -d "$ck" ] || continue
      $PY -m pokegan export "$ck" --out $exp/$name-$k >/dev/null || echo "export failed: $ck"
    done
    cp "$run/stats.jsonl" $exp/$name-stats.jsonl
  done
  # files come back at most 8, 16 MiB each, 64 MiB in all: one tar, cut into 15 MiB parts
  tar -C "$exp" -cf - . | split -b 15M - "$out/exp.tar.part-"
  ls -la "$out"; du -sh "$exp"
  ;;
eval)
  out=$2; shift 2
  ev=$(mktemp -d); mkdir -p "$out"
  export POKEGAN_FID_WEIGHTS=/tmp/fidnet-int8.pt
  for src in $ROOT/*/*/ "$@"; do
    name=$(basename "$(dirname "$src")"); [ -d "$src/checkpoints" ] || name=$(basename "$src")
    $PY -m pokegan eval "$src" --data data/gen5-64.data --device "${EVAL_DEVICE:-cuda}" ${EVAL_NUM:+--num $EVAL_NUM} --json $ev/$name.json >$ev/$name.log 2>&1 \
      || { echo "eval failed: $src"; tail -n 5 $ev/$name.log; }
    [ -f "$src/stats.jsonl" ] && cp "$src/stats.jsonl" $ev/$name-stats.jsonl
    [ -f $ev/$name.json ] && $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[2], {k: r[k] for k in r if k in ("fid","kid","precision","recall","near_copy_share","floor_fid")})' $ev/$name.json "$name"
  done
  tar -C "$ev" -cf "$out/eval.tar" .
  ls -la "$out"
  ;;
*) sed -n 2,20p "$0"; exit 2 ;;
esac
