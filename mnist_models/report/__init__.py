"""Reports from saved benchmark runs: read, compute, draw, write; plus comparison and gating."""
