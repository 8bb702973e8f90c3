"""MoldUDP64 gap recovery: the re-request server a run starts with ``--recovery``.

MoldUDP64 1.00 lets a listener that sees a sequence gap ask a re-request
server for the missing messages: a Request Packet (session 10 bytes, sequence
u64 big-endian, requested message count u16 big-endian) answered by a normal
Downstream Packet holding those messages, unicast to the request's source
address. simkit's server is a thread of the engine (``native/src/engine/
recovery.c``): it answers from the very stream the generator sends, message by
message, and knows from the impairments' ground truth which messages the DUT
never got, so the report can say per gap whether and when it was requested,
served and recovered (the receiver got every message of it from the DUT).

It listens on the exchange's side of the DUT path, :data:`SERVER_IP`
(the generator's veth end, 198.18.0.1) port :data:`SERVER_PORT`, on a kernel UDP
socket inside the generator's namespace; a DUT finds it in its placeholders
``{recovery}`` (``IP:PORT``) and ``{recovery_mac}`` (the MAC a DPDK DUT
addresses its request frames to). Limits as real servers have them:
``recovery_max_messages`` per answer (and what fits a 1472-byte payload) and
``recovery_rate`` requests per second (over it: counted, not answered).

With recovery, what the impairments dropped or made malformed is no longer
explained loss: the DUT could have re-requested it, so ``lost`` counts every
message that stayed missing.
"""

from __future__ import annotations

from simkit.errors import ConfigError
from simkit.links.dut import GEN_IP, RECOVERY_PORT

SERVER_IP = GEN_IP  # the generator's veth end on a DUT path
SERVER_PORT = RECOVERY_PORT
GAPS_NAMED = 8  # unrecovered gaps named in a failure message


def check(scenario) -> None:
    """Refuse recovery options a scenario cannot use.

    Raises:
        ConfigError: recovery without proto itch, or its limits without recovery
            or out of range.
    """
    if not scenario.recovery:
        if scenario.recovery_max_messages or scenario.recovery_rate:
            raise ConfigError("recovery_max_messages and recovery_rate (--recovery-max-messages, "
                              "--recovery-rate) limit the re-request server: they need "
                              "recovery (--recovery)")
        return
    if scenario.proto != "itch":
        raise ConfigError("recovery (--recovery) is MoldUDP64's re-request server: it needs "
                          "proto itch")
    if not 0 <= scenario.recovery_max_messages <= 65534:
        raise ConfigError(f"recovery_max_messages {scenario.recovery_max_messages!r}: give "
                          "1..65534 messages per answer (0: as many as fit a datagram)")
    if not 0 <= scenario.recovery_rate <= 100_000_000:
        raise ConfigError(f"recovery_rate {scenario.recovery_rate!r}: give 0..100,000,000 "
                          "requests per second (0: no limit)")


def engine_args(scenario, path) -> list[str]:
    """The engine's ``--recovery ...`` options for ``scenario`` on DUT path ``path``.

    Raises:
        ConfigError: recovery without a DUT (nobody would request anything).
    """
    if not scenario.recovery:
        return []
    if path is None:
        raise ConfigError("recovery (--recovery) answers a DUT's re-requests: it needs a DUT "
                          "(--dut, or bypass.spawn before bypass.run)")
    path.enable_recovery()
    # answers leave as frames to the DUT input's MAC: the kernel needs no neighbour entry
    # (a DPDK DUT answers no ARP, and a DPDK generator's port open flushes static ones)
    args = ["--recovery", f"udp:{SERVER_IP}:{SERVER_PORT}", "--recovery-netns", path.gen_ns,
            "--recovery-peer-mac", path.addressing["input"]["dst_mac"]]
    if scenario.recovery_max_messages:
        args += ["--recovery-max-messages", str(int(scenario.recovery_max_messages))]
    if scenario.recovery_rate:
        args += ["--recovery-rate", str(int(scenario.recovery_rate))]
    return args


def unrecovered(recovery: dict) -> list[dict]:
    """The listed gaps the DUT did not recover (each ``seq``, ``count``, ``requested``...)."""
    return [gap for gap in recovery.get("gap_list", []) if not gap.get("recovered")]


def describe_unrecovered(recovery: dict) -> str:
    """One phrase naming the gaps that stayed missing, e.g. for a failure message."""
    gaps = unrecovered(recovery)
    total = recovery.get("unrecovered", len(gaps))
    named = ", ".join(f"seq {g['seq']}..{g['seq'] + g['count'] - 1}"
                      f" ({'requested' if g.get('requested') else 'never requested'})"
                      for g in gaps[:GAPS_NAMED])
    more = f", and {total - min(len(gaps), GAPS_NAMED):,} more" if total > GAPS_NAMED else ""
    return (f"{total:,} of {recovery.get('gaps', 0):,} gaps not recovered "
            f"({recovery.get('requests', 0):,} requests, "
            f"{recovery.get('messages_served', 0):,} messages served): {named}{more}")


def summary_line(recovery: dict) -> str:
    """The human summary's line for a ``--recovery`` run."""
    lat = recovery.get("request_latency_ns", {})
    return (f"recovery  gaps {recovery.get('gaps', 0):,}: requested {recovery.get('requested', 0):,}, "
            f"recovered {recovery.get('recovered', 0):,}, unrecovered "
            f"{recovery.get('unrecovered', 0):,}; requests {recovery.get('requests', 0):,} "
            f"(duplicate {recovery.get('duplicate_requests', 0):,}, needless "
            f"{recovery.get('needless_requests', 0):,}, over the rate "
            f"{recovery.get('rate_limited', 0):,}), messages served "
            f"{recovery.get('messages_served', 0):,}; request latency ns p50 "
            f"{lat.get('p50', 0):,} p99 {lat.get('p99', 0):,} max {lat.get('max', 0):,}")
