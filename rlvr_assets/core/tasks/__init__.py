"""The task model, seed files, team candidates and verify()."""
