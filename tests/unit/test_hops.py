"""Reading a DUT path's hops: frame addresses (against scapy), counter deltas, the loss line."""

from scapy.layers.inet import IP, UDP, IPOption_Router_Alert
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from simkit.links.hops import describe_frame, hop_counters, mismatch, where_lost


def test_describe_frame_reads_what_scapy_wrote_past_vlan_tags_and_ip_options():
    frame = bytes(Ether(dst="02:00:00:00:00:0a", src="02:00:00:00:00:0b") / Dot1Q(vlan=3)
                  / IP(src="198.18.0.1", dst="198.18.0.2", options=[IPOption_Router_Alert()])
                  / UDP(sport=1234, dport=20000) / Raw(b"x" * 8))
    seen = describe_frame(frame)
    assert seen == {"len": len(frame), "dst_mac": "02:00:00:00:00:0a",
                    "src_mac": "02:00:00:00:00:0b", "ethertype": "0x0800",
                    "src_ip": "198.18.0.1", "dst_ip": "198.18.0.2", "ip_proto": 17,
                    "src_port": 1234, "dst_port": 20000}
    assert describe_frame(frame[:10]) == {"len": 10}


def test_mismatch_names_the_fields_the_receiver_does_not_listen_on():
    seen = {"dst_mac": "02:00:00:00:00:0A", "dst_ip": "198.18.0.2", "dst_port": 20000}
    listens = {"dst_mac": "02:00:00:00:00:0a", "dst_ip": "198.18.0.6", "dst_port": 20000}
    assert mismatch(seen, listens) == ["dst_ip 198.18.0.2 (receiver: 198.18.0.6)"]


def test_hop_counters_are_the_runs_share_and_where_lost_names_each_dropping_hop():
    hop = {"hop": "DUT input", "netns": "n", "iface": "i"}
    before = [{**hop, "rx_packets": 100, "rx_dropped": 5, "tx_dropped": 0, "qdisc_dropped": 0,
               "snmp": {"udp_RcvbufErrors": 1, "ip_InReceives": 100}},
              {"hop": "receiver", "netns": "r", "iface": "r", "error": "gone"}]
    after = [{**hop, "rx_packets": 1100, "rx_dropped": 12, "tx_dropped": 0, "qdisc_dropped": 3,
              "snmp": {"udp_RcvbufErrors": 41, "ip_InReceives": 1100}},
             {"hop": "receiver", "netns": "r", "iface": "r", "rx_packets": 7}]
    counted = hop_counters(before, after)
    assert counted[0]["rx_packets"] == 1000 and counted[0]["rx_dropped"] == 7
    assert counted[0]["snmp"] == {"udp_RcvbufErrors": 40, "ip_InReceives": 1000}
    assert counted[1]["error"] == "gone"
    assert where_lost(counted) == ("drops by hop: DUT input (i): rx_dropped 7, qdisc_dropped 3, "
                                   "udp_RcvbufErrors 40")
    assert where_lost(hop_counters(before[:1], before[:1])).startswith("no hop counted a drop")
