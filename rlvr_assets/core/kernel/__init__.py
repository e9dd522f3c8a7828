"""The kernel: types every layer shares (verdicts, typed failures, episodes, scoring). Imports nothing from the package."""
