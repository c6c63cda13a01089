"""Reports from saved benchmark runs: compute, then draw, then write; plus comparison, gating and merging.

The stages, each a room of its own:

- ``tables``: saved runs -> tables and the verdicts they support (``compute``, ``groups``, ``verdicts``), pure.
- ``figures``: each function draws what it is handed and returns a matplotlib Figure (``basic``, ``costs``,
  ``pairs``).
- ``sections``: the registry of the report's sections (``registry``), each a pure function of the tables
  computed once (``inputs``) returning its text, tables, figures and findings; ``compose`` runs them into a
  ``ReportContent``; ``text`` and ``tables`` format numbers for people.
- ``page``: ``ReportContent`` (``content``) rendered through templates to Markdown and HTML (``render``).
- ``build``: the one writer (``write_content``, ``build_report``).

Beside them: ``gate`` (one run against a stored baseline, and the gate's rules), ``merge`` (shards' runs into
one), ``cli`` (``mnist-models report``). Reads what ``mnist_models.results`` defines and uses
``mnist_models.stats``; imports nothing of the suite (``bench``). The history (``mnist_models.history``) uses
the page's content types, ``render`` and ``build.write_content`` as its doors.
"""
