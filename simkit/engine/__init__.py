"""Spawning and wiring the native engine: ``probe.probe`` (what a backend
and link can do here), ``run.run`` (one scenario), ``process`` (the engine
child), ``streams`` (the ITCH stream files the engine maps).

Nothing is imported here: ``simkit.engine.process`` alone (rundir's sweep,
in every pytest run) must not pull in the run's packet layers.
"""
