"""Reports from saved benchmark runs: read, compute, draw, write; plus comparison and gating.

runs (read and find saved runs) -> compute (tables and statistics, pure) -> figures and
pair_figures (each returns a Figure) -> render and page (Markdown, HTML strings) -> build (the
only writer). ``gate``: one run against a baseline, case by case, and the gate's rules (used by
the plugin and the CLI). ``merge``: shards' runs into one. Cross-case ratios (engine speed-up,
lever ratios) are computed here, from the saved rates, and nowhere else.
"""
