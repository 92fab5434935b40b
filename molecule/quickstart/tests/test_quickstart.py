"""The quick start's cluster carries real traffic: the VIP answers from both
real servers, and only the director answers ARP for it."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lvs_verify import arp_repliers, assert_ratio, mac, requests  # noqa: E402

VIP = "192.0.2.100"


def test_rr_over_both_real_servers():
    counts = requests(VIP, 20)
    assert_ratio(counts, {"rs1": 1, "rs2": 1}, tolerance=1)


def test_only_the_director_answers_arp():
    assert arp_repliers("client", VIP) == {mac("director")}
