"""pyrotorque's test suite (a package so ``tests.support`` imports from the repo root)."""
