"""The plan as a graph of cached stages.

:mod:`.graph` (stages, cache keys, evaluation), :mod:`.codehash` (the code a stage depends
on), :mod:`.stages` (one module per stage), :mod:`.assemble` (today's state and the selection
problem from stage results), :mod:`.summary` (``summary.json``) and :mod:`.plan` (the plan
graph and :class:`~towerplan.results.PlanResult`). Commands (:mod:`towerplan.commands`) run
it; no stage module imports a command.
"""
