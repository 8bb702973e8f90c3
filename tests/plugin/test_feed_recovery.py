"""The pytest plugin route to gap recovery: ``bypass.spawn`` fills ``{recovery}``,
``bypass.run(recovery=True, ...)`` starts the server and reports what it did."""


def feed_handler(build, backend):
    if backend == "dpdk":
        return [str(build / "feed-handler-dpdk"), "{eal}", "--", "--rx-port", "{rx_port}",
                "--tx-port", "{tx_port}", "--dst-mac", "{dst_mac}", "--dst-ip", "{dst_ip}",
                "--src-mac", "{src_mac}", "--src-ip", "{src_ip}", "--seed-port", "9",
                "--itch-port", "{port}", "--output", "mold", "--recovery", "{recovery}",
                "--recovery-mac", "{recovery_mac}", "--recovery-from", "{addr}:{port}"]
    return [str(build / "feed-handler-uring"), "--listen", "{listen}", "--publish", "{publish}",
            "--proto", "itch", "--output", "mold", "--recovery", "{recovery}"]


def test_bypass_run_with_recovery_reports_every_gap_recovered(bypass, feed_handler_build):
    bypass.spawn(feed_handler(feed_handler_build, bypass.backend))
    report = bypass.run(proto="itch", count=600, rate_pps=10_000, seed=3,
                        impairments=("drop:p=0.02",), recovery=True, recovery_max_messages=8)
    rec = report.recovery
    assert rec["gaps"] > 0 and rec["recovered"] == rec["gaps"] and rec["unrecovered"] == 0
    assert rec["max_messages"] == 8
    assert rec["messages_served"] >= rec["gap_messages"]
    assert report.lost == 0
