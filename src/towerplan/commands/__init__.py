"""One module per ``towerplan`` command, holding that command's orchestration.

Each module exposes one library function the command line calls (``towerplan plan`` ->
:func:`towerplan.commands.plan.run_plan`, ...); the command line only parses options, calls
it and prints. Commands compose the stage graph (:mod:`towerplan.pipeline`), the stage
modules and the writers, and publish their files through :mod:`towerplan.io.outdir`. No
stage module imports a command.
"""
