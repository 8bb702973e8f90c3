"""Run results: the `Report` model, its JSON form, and its human renderings."""

from simkit.report.model import Latency, Report, SeqStats, Side

__all__ = ["Latency", "Report", "SeqStats", "Side"]
