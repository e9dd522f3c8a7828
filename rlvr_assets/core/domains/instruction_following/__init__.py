"""The instruction-following domain: verifiable constraints (IFEval / IFBench)."""
