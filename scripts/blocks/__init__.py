"""The generated blocks of the README and docs/, one module per subject (scripts/readme_tables.py runs them)."""
