"""The gate audit: probes of every accepted variant, the human review loop, and the error rates with intervals
that price c_aug per correct variant (docs/gate-audit.md)."""
