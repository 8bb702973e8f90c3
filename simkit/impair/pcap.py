"""Impair a capture file: ``simkit impair IN.pcap OUT.pcap --impair SPEC ...``.

The output is written atomically (:class:`~simkit.pcap.PcapWriter`), and so
is the ground truth: on any error neither file is left behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from simkit.errors import ConfigError
from simkit.impair.impairer import Impairer
from simkit.impair.models import Model
from simkit.impair.truth import GroundTruth
from simkit.pcap import PcapWriter, read_packets
from simkit.validators import parse_output_path


def impair_pcap(in_path: str, out_path: str, models: Iterable[Model | str], seed: int = 1,
                truth_path: str | None = None, fmt: str = "pcap") -> GroundTruth:
    """Read a capture, impair its packets, write the result (and the ground truth).

    Packet ``i`` of the input has index ``i`` in the ground truth. Delays move
    timestamps (and may reorder packets accordingly); reordered packets take
    the timestamp of the packet they follow.

    Args:
        in_path: a pcap or pcapng file.
        out_path: the capture to write.
        models: models or SPEC strings.
        seed: the seed of every random choice.
        truth_path: where to write the ground truth as JSONL (optional).
        fmt: ``pcap`` or ``pcapng`` for the output.

    Returns:
        The ground truth.

    Raises:
        ConfigError: bad models or seed, an unreadable or truncated input, one
            that is not Ethernet (its link type named), a stream too short for
            the models, or an output that cannot be written.
    """
    impairer = Impairer(models, seed)  # bad models fail before any file is touched
    parse_output_path(out_path, "capture")
    if truth_path:
        parse_output_path(truth_path, "ground truth")
        if os.path.abspath(truth_path) == os.path.abspath(out_path):
            raise ConfigError(f"the capture and the ground truth are both {out_path}: "
                              "give them different paths")
    packets = list(read_packets(in_path))
    result = impairer.run([frame for _, frame in packets], [ts for ts, _ in packets])
    try:
        with PcapWriter(out_path, fmt) as writer:
            for packet in result.packets:
                writer.write(packet.frame, packet.ts_ns)
            if truth_path:  # inside: a failure here aborts the capture too
                result.truth.write_jsonl(truth_path)
    except OSError as exc:  # a disk that filled: the writer removed its partial file
        raise ConfigError(f"cannot write {out_path}: {exc.strerror}") from None
    return result.truth
