"""The drift families, one module each; every module registers its drifts (found, not listed)."""
