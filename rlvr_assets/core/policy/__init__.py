"""The policy: starting models, the rollout engine, the episode loop and agentic rollouts."""
