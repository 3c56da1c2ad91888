"""Example jobs written against the public API only (docs/custom-jobs.md walks through them)."""
