"""The generated blocks of the README and docs/, one module per subject (tools/readme_tables.py runs them)."""
