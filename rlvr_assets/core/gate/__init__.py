"""The five-factor quality gate, its funnel, data-quality suites and seed-library validation."""
