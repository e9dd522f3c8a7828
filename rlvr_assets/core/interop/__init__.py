"""Bring your own: task sources in, corpora out to other trainers, per-item scores back from other harnesses
(docs/bring-your-own.md)."""
