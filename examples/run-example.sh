#!/usr/bin/env bash
# kiln's job, end to end, on a llama-family checkpoint the repository generates (random weights, so the text it
# writes is noise; a real Hugging Face checkpoint in the same layout goes through the same four steps):
#   1. a checkpoint: config.json, model.safetensors and a tokenizer.json;
#   2. the passes `kiln compile` will run for these options, among them sparsify (prune to 80 % zeros) and
#      encode-sparse-weights (Flash-LLM's Tiled-CSL, where the device's cost model says sparse kernels pay);
#   3. compile: import, passes, WGSL kernels, memory plan, artifact (model.js, runtime.js, weights); inspect it;
#   4. run: prefill and decode on the WebGPU adapter, tokens streamed as they come.
# Run it with `npm run example` (after `bash scripts/setup.sh`, which installs a WebGPU driver where none is).
set -euo pipefail
cd "$(dirname "$0")/.."
kiln() { node bin/kiln.js "$@"; }
options=(out/example-llama/config.json --weights out/example-llama --max-seq 128 --sparsity 0.8 --device-profile lavapipe)

echo '== 1. a llama checkpoint (random weights) and its tokenizer'
npx tsx scripts/make-checkpoints.ts out/example-llama --family llama --preset small
echo '== 2. the pass pipeline'
kiln compile "${options[@]}" --print-pipeline
echo '== 3. compile, then the sparse layers as kiln inspect reports them'
kiln compile "${options[@]}" -o out/example
kiln inspect out/example | grep -A 16 '^sparsity'
echo '== 4. generate on the WebGPU adapter'
# Sampled (a seed makes it repeatable): random weights often rank the end-of-text token first, which ends greedy text at once.
kiln generate out/example --prompt "once upon a time" --max-new-tokens 24 --temperature 0.8 --seed 7
