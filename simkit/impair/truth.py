"""Ground truth of an impairment run: what happened to which packet.

Packets are named by their index in the input (0-based; a seed stream's
sequence number). A test compares this with what the application under test
reported; ``simkit impair --truth`` writes it as JSONL: one ``summary`` line,
then one ``packet`` line per packet something happened to, in index order::

    {"type": "summary", "seed": 1, "impairments": ["drop:p=0.01"], "packets_in": 1000,
     "packets_out": 991, "counts": {"dropped": 9, "duplicated": 0, ...}}
    {"type": "packet", "index": 17, "dropped": true}
    {"type": "packet", "index": 40, "corrupted": {"offset": 51, "bit": 3},
     "truncated": {"from": 78, "to": 30}, "delay_ns": 21004}
    {"type": "packet", "index": 41, "malformed": "ip_options"}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import NamedTuple

from simkit.errors import ConfigError

EVENTS = ("dropped", "duplicated", "reordered", "corrupted", "truncated", "delayed", "malformed")


class Corruption(NamedTuple):
    """One flipped bit: the byte offset in the frame and the bit (0..7)."""

    offset: int
    bit: int


class Truncation(NamedTuple):
    """A frame cut from ``orig_len`` to ``len`` bytes."""

    orig_len: int
    len: int


@dataclass(frozen=True)
class GroundTruth:
    """Which packets (by input index) were dropped, duplicated, reordered,
    corrupted, truncated, delayed and malformed (the catalog kind), and how."""

    seed: int
    impairments: tuple[str, ...]
    packets_in: int
    packets_out: int
    dropped: tuple[int, ...] = ()
    duplicated: tuple[int, ...] = ()
    reordered: tuple[int, ...] = ()
    corrupted: dict[int, Corruption] = field(default_factory=dict)
    truncated: dict[int, Truncation] = field(default_factory=dict)
    delayed: dict[int, int] = field(default_factory=dict)
    malformed: dict[int, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many packets each event hit."""
        return {name: len(getattr(self, name)) for name in EVENTS}

    def summary(self) -> dict:
        """The JSONL summary line as a dict."""
        return {"type": "summary", "seed": self.seed, "impairments": list(self.impairments),
                "packets_in": self.packets_in, "packets_out": self.packets_out,
                "counts": self.counts()}

    def packet_records(self) -> list[dict]:
        """One dict per packet something happened to, in index order."""
        records: dict[int, dict] = {}

        def rec(index: int) -> dict:
            return records.setdefault(index, {"type": "packet", "index": index})

        for index in self.dropped:
            rec(index)["dropped"] = True
        for index in self.duplicated:
            rec(index)["duplicated"] = True
        for index in self.reordered:
            rec(index)["reordered"] = True
        for index, c in self.corrupted.items():
            rec(index)["corrupted"] = {"offset": c.offset, "bit": c.bit}
        for index, t in self.truncated.items():
            rec(index)["truncated"] = {"from": t.orig_len, "to": t.len}
        for index, ns in self.delayed.items():
            rec(index)["delay_ns"] = ns
        for index, kind in self.malformed.items():
            rec(index)["malformed"] = kind
        return [records[i] for i in sorted(records)]

    def to_dict(self) -> dict:
        """Everything as one JSON-ready dict: the summary plus ``packets``."""
        return {**self.summary(), "packets": self.packet_records()}

    def write_jsonl(self, path: str) -> None:
        """Write the JSONL file atomically (``.partial`` then renamed).

        Raises:
            ConfigError: the file cannot be written.
        """
        partial = f"{path}.partial"
        try:
            with open(partial, "w") as out:
                for record in [self.summary(), *self.packet_records()]:
                    out.write(json.dumps(record, separators=(",", ":")) + "\n")
            os.replace(partial, path)
        except OSError as exc:
            if os.path.exists(partial):
                os.unlink(partial)
            raise ConfigError(f"cannot write {path}: {exc.strerror}") from None

    @classmethod
    def read_jsonl(cls, path: str) -> GroundTruth:
        """Read back a file written by :meth:`write_jsonl`.

        Raises:
            ConfigError: the file is missing or not a ground-truth file.
        """
        try:
            with open(path) as f:
                lines = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read ground truth {path}: {exc}") from None
        if not lines or lines[0].get("type") != "summary":
            raise ConfigError(f"{path}: not a simkit ground-truth file (no summary line)")
        head, packets = lines[0], lines[1:]
        return cls(
            seed=head["seed"], impairments=tuple(head["impairments"]),
            packets_in=head["packets_in"], packets_out=head["packets_out"],
            dropped=tuple(p["index"] for p in packets if p.get("dropped")),
            duplicated=tuple(p["index"] for p in packets if p.get("duplicated")),
            reordered=tuple(p["index"] for p in packets if p.get("reordered")),
            corrupted={p["index"]: Corruption(p["corrupted"]["offset"], p["corrupted"]["bit"])
                       for p in packets if "corrupted" in p},
            truncated={p["index"]: Truncation(p["truncated"]["from"], p["truncated"]["to"])
                       for p in packets if "truncated" in p},
            delayed={p["index"]: p["delay_ns"] for p in packets if "delay_ns" in p},
            malformed={p["index"]: p["malformed"] for p in packets if "malformed" in p},
        )
