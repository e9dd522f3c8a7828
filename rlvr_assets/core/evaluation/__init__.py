"""Held-out evaluation: benchmark registry and loaders, greedy per-item rewards, suite scores."""
