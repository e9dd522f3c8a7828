"""The function-calling domain: tool environments, their sandbox and worker, and BFCL."""
