"""Stand-in for "your own trainer": plain TRL GRPO on an `rlvr-assets export --format hf` directory.

Nothing here imports the pipeline; the reward is the exported `rlvr_reward.py` (which calls rlvr_assets'
verifiers). Usage: python examples/byo/train_elsewhere.py EXPORT_DIR BASE_MODEL_DIR OUT_DIR [--steps N] [--seed S]
"""

import argparse
import importlib.util
from pathlib import Path

from datasets import load_from_disk
from transformers import AutoTokenizer
from trl import GRPOConfig, GRPOTrainer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("export_dir")
    parser.add_argument("base_model")
    parser.add_argument("out_dir")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("rlvr_reward", Path(args.export_dir) / "rlvr_reward.py")
    reward = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reward)
    tokenizer = AutoTokenizer.from_pretrained(args.base_model)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    config = GRPOConfig(
        output_dir=str(Path(args.out_dir) / "trainer"),
        max_steps=args.steps,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=8,
        seed=args.seed,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
    )
    trainer = GRPOTrainer(
        model=args.base_model,
        reward_funcs=[reward.verifier_reward],
        args=config,
        train_dataset=load_from_disk(args.export_dir)["train"],  # the held-out split stays out of training
        processing_class=tokenizer,
    )
    trainer.train()
    trainer.save_model(args.out_dir)
    tokenizer.save_pretrained(args.out_dir)


if __name__ == "__main__":
    main()
