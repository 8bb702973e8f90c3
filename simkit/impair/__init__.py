"""Impairments with ground truth: netem-style models, seeded and deterministic.

The models (:class:`Drop`, :class:`GilbertElliott`, :class:`Duplicate`,
:class:`Reorder`, :class:`Corrupt`, :class:`Truncate`, :class:`Delay`,
:class:`Malform` - the malformed-header catalog's header-level kinds) are
implemented once, in the native core (``native/src/core/impair.c``), which the
native generator calls per packet and :class:`Impairer` calls per stream — so
the same models and seed give the same ground truth on both paths.

Typical use::

    from simkit.impair import Impairer, parse_spec
    result = Impairer(["gilbert:p=0.01,r=0.3,h=0.5,k=1", "dup:p=0.001"], seed=7).run(frames)
    result.truth.dropped        # indexes of the dropped packets
    impair_pcap("in.pcap", "out.pcap", ["reorder:p=0.01,gap=3"], seed=7, truth_path="t.jsonl")
"""

from simkit._lazy import lazy

# Names load on first use (simkit._lazy): links and capabilities need the
# models only, and the impairer pulls in the packet layers (scapy).
__getattr__, __dir__ = lazy(globals(), {
    "simkit.impair.impairer": ("Impairer", "ImpairResult", "OutPacket"),
    "simkit.impair.models": ("LAYERS", "MODELS", "Corrupt", "Delay", "Drop", "Duplicate",
                             "GilbertElliott", "Malform", "Model", "Reorder", "Truncate",
                             "check_models"),
    "simkit.impair.pcap": ("impair_pcap",),
    "simkit.impair.spec": ("parse_spec", "parse_specs"),
    "simkit.impair.truth": ("EVENTS", "Corruption", "GroundTruth", "Truncation"),
})

__all__ = [
    "EVENTS", "LAYERS", "MODELS", "Corrupt", "Corruption", "Delay", "Drop", "Duplicate",
    "GilbertElliott", "GroundTruth", "ImpairResult", "Impairer", "Malform", "Model", "OutPacket", "Reorder",
    "Truncate", "Truncation", "check_models", "impair_pcap", "parse_spec", "parse_specs",
]
