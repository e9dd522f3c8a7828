"""The reasoning domain: one checkable final answer, solutions re-derived in the sandbox."""
