"""Training commitments and organisation reporting (the ``commitments`` plugin)."""
