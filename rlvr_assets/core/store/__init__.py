"""Storage, code versions and the run lock. Imports nothing from the package."""
