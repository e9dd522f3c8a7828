#!/usr/bin/env bash
# The bring-your-own walk-through end to end (docs/bring-your-own.md), from the repository root:
#   bash examples/byo/run.sh
# Writes under var/byo/. Needs lm-eval (pip install lm-eval) for step 4.
set -euo pipefail
CFG=examples/byo/pipeline.yaml
PY=${PYTHON:-python}
RLVR="$PY -m rlvr_assets.cli"
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# 1. your tasks in: validate the sources, then build seeds -> variants -> gate -> each arm's corpus
$RLVR seeds validate --config $CFG
$RLVR run --config $CFG --wait

# 2. out to your trainer: each arm's gated corpus as a HF dataset (+ the held-out suite kept apart)
rm -rf var/byo/export var/byo/models var/byo/lm_eval
for ARM in human-4 human-8 aug-0.50; do
  $RLVR export $ARM --format hf --output var/byo/export/$ARM --config $CFG
done
$RLVR export human-4 --format jsonl --output var/byo/export/jsonl --config $CFG   # held-out items for lm-eval

# 3. "train elsewhere": plain TRL on the exported files, from the same starting policy
BASE=var/byo/artifacts/base_model/tiny   # the starting policy the pipeline used (model.source: tiny)
for ARM in human-4 human-8 aug-0.50; do
  $PY examples/byo/train_elsewhere.py var/byo/export/$ARM $BASE var/byo/models/$ARM --steps 2 --seed 0
done

# 4. evaluate with your own harness: lm-evaluation-harness over the exported held-out items
for ARM in human-4 human-8 aug-0.50; do
  $PY -m lm_eval --model hf --model_args pretrained=var/byo/models/$ARM --device cpu --tasks byo_heldout \
    --include_path examples/byo/lm_eval --log_samples --output_path var/byo/lm_eval/$ARM --batch_size 8
done

# 5. scores back: per-item rows (the item-level CSV) and per-arm means, then the verdict
$RLVR scores from-lm-eval examples/byo/scores.yaml --output var/byo/items.csv --arms-csv var/byo/arms.csv --force
$RLVR economics var/byo/arms.csv --cost-ratios 5,40
