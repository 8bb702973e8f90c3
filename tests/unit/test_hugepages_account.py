"""simkit.hugepages: the shared account of reserved pages, on a stand-in sysfs (no privileges).

The kernel's pool is a directory of files like /sys/kernel/mm/hugepages; mounting
is recorded instead of done. What is checked: a pool is raised by what is missing
(free pages are borrowed first), several holders add up, the last one out puts
the original size back, a dead holder (a killed run) is swept, a kernel that
gives fewer pages than asked for is an error that undoes the account, and the
EAL arguments point DPDK at the mount.
"""

import json
import os
import subprocess

import pytest

from simkit import hugepages, rundir
from simkit.errors import BackendUnavailable, ConfigError


class FakeKernel:
    """A 2 MiB pool in files; ``limit``: the most pages the 'kernel' will give."""

    def __init__(self, root, total=0, free=0, limit=10_000):
        self.dir = root / "hugepages-2048kB"
        self.dir.mkdir(parents=True)
        self.limit, self.in_use = limit, total - free
        self.mounted: list[str] = []
        self._write(total)

    def _write(self, total):
        total = min(total, self.limit)
        for name, value in (("nr_hugepages", total), ("free_hugepages", total - self.in_use),
                            ("resv_hugepages", 0), ("surplus_hugepages", 0)):
            (self.dir / name).write_text(f"{value}\n")

    @property
    def total(self) -> int:
        return int((self.dir / "nr_hugepages").read_text())

    def sync(self):
        """What a write to nr_hugepages does: the kernel gives what it can."""
        self._write(self.total)


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    def make(total=0, free=0, limit=10_000):
        fake = FakeKernel(tmp_path / "sys", total, free, limit)
        real_write = hugepages._write_pool

        def write_pool(size_kb, pages):
            real_write(size_kb, pages)
            fake._write(pages)
            return fake.total

        monkeypatch.setattr(hugepages, "SYSFS", str(tmp_path / "sys"))
        monkeypatch.setattr(hugepages, "_write_pool", write_pool)
        monkeypatch.setattr(hugepages, "_has_cap", lambda bit: True)
        monkeypatch.setattr(hugepages, "_mount", lambda path, size, pages:
                            fake.mounted.append(path))
        monkeypatch.setattr(hugepages, "_unmount", lambda path: path in fake.mounted and
                            not fake.mounted.remove(path))
        monkeypatch.setattr(hugepages, "mounts", lambda: [{"path": p} for p in fake.mounted])
        return fake
    monkeypatch.setenv(rundir.RUN_DIR_ENV, str(tmp_path / "run"))
    return make


def account(tmp_path) -> dict | None:
    path = tmp_path / "run" / hugepages.ACCOUNT
    return json.loads(path.read_text()) if path.exists() else None


def test_a_reservation_raises_the_pool_by_what_is_missing_and_puts_it_back(kernel, tmp_path):
    fake = kernel(total=4, free=3)  # one page is someone else's; three are free to borrow
    with hugepages.reserved(10) as mount:
        assert fake.total == 4 + 10 - 3
        assert mount.reserved == 7 and mount.pages == 10
        assert fake.mounted == [mount.path]
        assert mount.path.startswith(str(tmp_path / "run" / "hugetlbfs") + "/")
        assert mount.eal_args() == ["--huge-dir", mount.path, "--huge-unlink"]
        assert account(tmp_path)["pools"]["2048"]["original"] == 4
    assert fake.total == 4 and fake.mounted == []
    assert account(tmp_path) is None  # nothing held: no account left behind


def test_holders_add_up_and_the_last_one_out_restores_the_original(kernel, tmp_path):
    fake = kernel(total=2, free=2)
    with hugepages.reserved(8):
        assert fake.total == 8
        with hugepages.reserved(5):
            assert fake.total == 13  # 2 spare borrowed once, not twice
        assert fake.total == 8
    assert fake.total == 2


def test_a_killed_holder_is_swept_and_its_pages_given_back(kernel, tmp_path):
    fake = kernel(total=0)
    with hugepages.reserved(6):
        state = account(tmp_path)
        gone = subprocess.Popen(["sleep", "30"])  # a second holder, whose process is gone
        start = rundir.start_time(gone.pid)
        gone.kill()
        gone.wait()
        dead = {"pid": gone.pid, "start": start, "pages": 16, "size_kb": 2048,
                "mount": str(tmp_path / "run" / "hugetlbfs" / f"{gone.pid}-{start}-0")}
        state["holders"].append(dead)
        (tmp_path / "run" / hugepages.ACCOUNT).write_text(json.dumps(state))
        fake.mounted.append(dead["mount"])
        done = hugepages.sweep()
        assert f"hugetlbfs {dead['mount']}" in done
        assert fake.total == 6 and dead["mount"] not in fake.mounted
        assert [h["pid"] for h in account(tmp_path)["holders"]] == [os.getpid()]
    assert fake.total == 0


def test_a_pool_someone_else_changed_since_is_left_alone(kernel, tmp_path):
    fake = kernel(total=0)
    with hugepages.reserved(4):
        fake._write(100)  # the admin raised it meanwhile
    assert fake.total == 100


def test_a_kernel_short_of_memory_is_unavailable_and_the_account_undone(kernel, tmp_path):
    fake = kernel(total=0, limit=3)
    with pytest.raises(BackendUnavailable, match=r"found only 3 of the 8 2048 kB pages"):
        with hugepages.reserved(8):
            pytest.fail("must not get here")
    assert fake.total == 0 and fake.mounted == [] and account(tmp_path) is None


def test_without_root_it_says_so(kernel, monkeypatch):
    kernel()
    monkeypatch.setattr(hugepages, "_has_cap", lambda bit: False)
    with pytest.raises(BackendUnavailable, match=r"--hugepages 4: .*need root"):
        with hugepages.reserved(4):
            pass
    assert hugepages.status()["can_reserve"] is False


@pytest.mark.parametrize("bad", [-1, 1.5, "x", True, hugepages.MAX_PAGES + 1])
def test_page_counts_are_whole_and_bounded(bad):
    with pytest.raises(ConfigError, match="hugepages"):
        hugepages.parse_pages(bad)


def test_page_counts_parse_from_text_and_none_is_zero():
    assert hugepages.parse_pages("64") == 64 and hugepages.parse_pages(None) == 0


def test_status_has_the_contract_keys(kernel):
    kernel(total=5, free=2)
    facts = hugepages.status()
    assert {"sizes", "total", "free", "mounts", "can_reserve"} <= set(facts)
    assert facts["sizes"]["2048kB"]["total"] == 5 and facts["sizes"]["2048kB"]["free"] == 2


def test_the_active_mount_goes_into_the_engine_and_dut_eal():
    from simkit import Scenario
    from simkit.engine.run import eal_option
    from simkit.links.dut import DutPath

    mount = hugepages.HugeMount("/run/simkit/hugetlbfs/1-2-0", 32)
    scenario = Scenario(eal_args=("--log-level=8",))
    assert eal_option(scenario) == ["--eal", "--log-level=8"]
    with hugepages.using(mount):
        assert eal_option(scenario) == [
            "--eal", "--huge-dir /run/simkit/hugetlbfs/1-2-0 --huge-unlink --log-level=8"]
    assert hugepages.active() is None
    path = DutPath("simkit-1-0-x", hugepages=mount)
    eal = path.eal("1")
    assert eal.startswith("-l 1 --huge-dir /run/simkit/hugetlbfs/1-2-0 --huge-unlink --no-pci")
    assert "--no-huge" not in eal and "-m 256" not in eal
    assert "--no-huge" in DutPath("simkit-1-0-y").eal("1")


def test_a_scenario_with_hugepages_needs_a_dpdk_side():
    from simkit import Scenario

    assert Scenario(hugepages=16).hugepages == 16
    with pytest.raises(ConfigError, match="hugepages 16 are DPDK's memory"):
        Scenario(backend="socket", link="veth", hugepages=16)


def test_a_reservation_that_would_starve_the_machine_is_refused(kernel, tmp_path, monkeypatch):
    fake = kernel(total=0)
    monkeypatch.setattr(hugepages, "_mem_available_kb", lambda: 100 * 2048)  # 100 pages' worth
    with hugepages.reserved(50):  # half of what is available: allowed
        assert fake.total == 50
    with pytest.raises(BackendUnavailable, match=r"51 more 2048 kB pages would take 102 MiB "
                                                 r"of the 200 MiB available \(at most 50%\)"):
        with hugepages.reserved(51):
            pass
    assert fake.total == 0 and account(tmp_path) is None
