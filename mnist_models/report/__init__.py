"""Reports from saved benchmark runs: read, compute, draw, render, write; plus comparison and gating.

``compute`` (tables, pure), ``stats`` (the tests they rest on) and ``verdicts`` (what the
tables say) -> ``figures`` and ``pair_figures`` (each returns a Figure) -> ``sections`` (each
section's tables, figures and text: a ``content.ReportContent``) -> ``page`` (Markdown and HTML
through ``templates/``) -> ``build`` (the only writer). ``gate``: one run against a stored
baseline, benchmark by benchmark, and the gate's rules (used by the plugin and the CLI);
``merge``: shards' runs into one. Cross-benchmark ratios (engine speed-up, lever ratios) are
computed here, from the saved rates, and nowhere else. Reads what ``mnist_models.results``
defines; imports nothing of the suite (``bench``).
"""
