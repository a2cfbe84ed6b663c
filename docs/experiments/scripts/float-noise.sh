#!/bin/bash
# How far float-level changes move the demo's scores: both VLM stages of one finished run are trained again
# (same data, tokenizer and synthetic embeddings) on the wasm path, and on the native path with the VLM learning
# rate changed in its 7th significant digit. Each variant works on a copy of the run; results go to $OUT.
# usage: float-noise.sh <finished run dir> <scratch dir> <out.jsonl>   (run from the repository root)
set -euo pipefail
SRC=$1; SCRATCH=$2; OUT=$3
mkdir -p "$SCRATCH"; : > "$OUT"
variant() { # name, env, flags...
  local name=$1 env=$2; shift 2
  local dir="$SCRATCH/$name"
  rm -rf "$dir"; cp -a "$SRC" "$dir"
  local t0=$(date +%s)
  env $env node packages/cli/dist/bin.js run --out "$dir" --seed "$SEED" --quiet "$@"
  SECS=$(( $(date +%s) - t0 )) node -e '
    const [dir, name, env, ...flags] = process.argv.slice(1);
    const r = require(dir + "/results.json");
    const m = (k) => ({ all: r.models[k].all.CIDEr, heldOut: r.models[k].heldOut?.CIDEr, recall: r.models[k].heldOutPairRecall });
    console.log(JSON.stringify({ variant: name, env, flags, seconds: Number(process.env.SECS), baseline: m("baseline"), synth2: m("synth2") }));
  ' "$dir" "$name" "$env" "$@" >> "$OUT"
  echo "$name done in $(( $(date +%s) - t0 )) s"
}
SEED=${SEED:-1}
variant native-again "" --redo vlm-baseline --redo vlm-synth2
variant wasm "SYNTH2_NATIVE=0" --redo vlm-baseline --redo vlm-synth2
variant lr-plus-1e-6 "" --vlm.lr 0.004000004
variant lr-minus-1e-6 "" --vlm.lr 0.003999996
variant lr-plus-2e-6 "" --vlm.lr 0.004000008
