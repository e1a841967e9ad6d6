"""The stages of a plan, one module each (see :mod:`towerplan.pipeline.plan` for the graph).

Each module defines one :class:`~towerplan.pipeline.graph.Stage` as ``STAGE``: its function,
the stages it needs, the scenario values it reads and its progress label. A stage module
imports only what its function runs, so its code hash (part of its cache key) changes only
when that code changes.
"""
