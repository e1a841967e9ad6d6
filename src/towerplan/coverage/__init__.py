"""Coverage engine: per-site RSRP over grids, best-server composite, coverage matrices."""
