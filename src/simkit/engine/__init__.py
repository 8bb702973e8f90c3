"""Spawning and wiring the native engine: probes and runs."""

from simkit.engine.probe import probe
from simkit.engine.run import run

__all__ = ["probe", "run"]
