"""``simkit doctor``: what this machine can run, and why not the rest."""

from __future__ import annotations

import json

EXAMPLES = (
    ("simkit doctor", "each backend and link: available, or why not"),
    ("simkit doctor --json | jq .backends.dpdk", "one fact, for scripts"),
)
EXITS = (0, 2)


def register(sub):
    parser = sub.add_parser("doctor", help="what this machine can run, and why not the rest")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--ports", action="store_true",
                        help="also list this machine's ports (PCI Ethernet devices and "
                             "interfaces) and their driver bindings, for --link port:ID; "
                             "JSON key ports (default: off)")
    return parser


def command(args) -> int:
    from simkit.doctor import doctor, doctor_text

    facts = doctor()
    if getattr(args, "ports", False):
        from simkit.links.port import list_ports, ports_text

        facts["ports"] = [port.to_dict() for port in list_ports()]
        print(json.dumps(facts, indent=2) if args.json else
              doctor_text(facts) + "\n" + ports_text(facts["ports"]))
        return 0
    print(json.dumps(facts, indent=2) if args.json else doctor_text(facts))
    return 0
