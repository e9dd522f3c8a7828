"""GRPO training of one arm: arms and corpora, the trainer, launching it in a process of its own."""
