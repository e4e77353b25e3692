"""Data shipped with the package (the 22 reference ETFs)."""
