"""Augmentation: the operator catalogue and the optional LLM rewrite."""
