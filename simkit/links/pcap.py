"""`pcap`: the generator writes a capture through net_pcap, the receiver reads it back.

The file is written completely before it is read (``tx_pcap`` is flushed when
its port closes; ``rx_pcap`` opens the file when its port is probed), so the
run is phased. The capture lives in a private temporary directory
(``$TMPDIR/simkit-<pid>-...``, in simkit's record: :mod:`simkit.rundir`) that
is removed afterwards, unless the user asked to keep it at a path of their own.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from simkit import rundir
from simkit.errors import ConfigError
from simkit.links.base import Link, Wiring


class PcapLink(Link):
    name = "pcap"
    pmd = "net_pcap"

    def __init__(self, run_id: str, path: str | None = None, tx_backend: str = "dpdk",
                 rx_backend: str = "dpdk") -> None:
        super().__init__(run_id, tx_backend, rx_backend)
        self.keep_path = path
        self._tmpdir: str | None = None

    def _capture_path(self) -> str:
        if self.keep_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix=f"{self.run_id}-")
            rundir.record("tmpdir", self._tmpdir)
            return os.path.join(self._tmpdir, "link.pcap")
        path = os.path.abspath(self.keep_path)
        if "," in path or "=" in path:
            raise ConfigError(f"pcap path {path!r} cannot contain ',' or '=' (DPDK devargs)")
        parent = os.path.dirname(path)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            raise ConfigError(f"cannot write the capture {path}: {parent} is not a writable "
                              "directory")
        return path

    def setup(self) -> Wiring:
        path = self._capture_path()
        tag = self.run_id.replace("-", "_")
        return Wiring(tx_dev=f"net_pcap_tx_{tag},tx_pcap={path}",
                      rx_dev=f"net_pcap_rx_{tag},rx_pcap={path}", phased=True)

    def teardown(self) -> None:
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            rundir.forget("tmpdir", self._tmpdir)
            self._tmpdir = None
