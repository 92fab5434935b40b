"""HA with keepalived: health checks mask a failed real server, VRRP moves the
VIP to the backup director, connection sync keeps an established connection,
and a reload with a changed weight drops nothing. Real traffic throughout.

The tests run in file order; the failover test stops director1 last-but-one.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lvs_verify import (ansible_playbook, assert_ratio, assert_suites, host, load_so_far,  # noqa: E402
                        longest_outage, mac, reboot, requests, start_load, stop_load, summary, wait_until)

VIP = "198.51.100.100"
URL = f"http://{VIP}/"
VIP6 = "2001:db8:51::100"
FRESH_SOURCE = "198.51.100.70"  # a second address of the client's, on its segment
URL6 = f"http://[{VIP6}]/"
SITE = Path(__file__).resolve().parents[3] / "playbooks" / "site.yml"
# molecule.yml: delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1.
# keepalived declares a server down after the failed check and its one retry:
# at most delay_loop + 2 x connect_timeout + delay_before_retry = 4 s, +1 s slack.
DETECTION_BOUND = 5.0
FAILOVER_BOUND = 3.0  # the figure; VRRPv3 at advert_int 0.5 needs about 1.7 s


def vip_holders():
    return [name for name in ("director1", "director2")
            if f"inet {VIP}/32" in host(name).run("ip -o -4 addr show").stdout]


def table(name):
    return host(name).check_output("ipvsadm -S -n")


def test_a_fleet_mid_upgrade():
    # one director on each suite in one VRRP group (keepalived 2.3 and 2.2),
    # one real server on each; director1 is MASTER first, director2 after the failover
    suites = assert_suites(Path(__file__).resolve().parents[1], keepalived=("director1", "director2"))
    assert [suites["director1"], suites["director2"]] == ["trixie", "bookworm"]
    assert {suites["rs1"], suites["rs2"]} == {"bookworm", "trixie"}


def test_keepalived_config_passes_its_own_test():
    for name in ("director1", "director2"):
        out = host(name).run("keepalived --config-test -f /etc/keepalived/keepalived.conf")
        print(f"{name}: keepalived --config-test rc={out.rc} {out.stderr.strip()}")
        assert out.rc == 0
        assert host(name).service("keepalived").is_running
        assert host(name).service("keepalived").is_enabled


def test_every_rendered_option_passes_keepalived_config_test():
    assert ansible_playbook(Path(__file__).resolve().parents[1] / "config_matrix.yml").returncode == 0
    conf = host("director2").file("/tmp/keepalived-matrix.conf").content_string
    # the password in its own file, only root reads it; keepalived.conf includes it (and its diff never shows it)
    assert "lvs-pass" not in conf and "include /tmp/lvs-cluster-vrrp-auth.conf" in conf, conf
    auth = host("director2").file("/tmp/lvs-cluster-vrrp-auth.conf")
    assert "auth_pass lvs-pass" in auth.content_string and auth.mode == 0o600
    for expected in ("unicast_peer {", "SSL_GET {", "MISC_CHECK {", "sorry_server 198.51.100.50 80",
                     "lvs_method TUN type gue port 6080 csum", "virtual_server fwmark 7 {", "protocol SCTP",
                     "persistence_engine sip", "virtualhost www.example.org", "203.0.113.1/24 dev eth0",
                     "virtual_server_group extra {"):
        assert expected in conf, expected
    # IPv6 VIPs only: they are the VRRP instance's own (version 3), none excluded
    conf6 = host("director2").file("/tmp/keepalived-matrix6.conf").content_string
    vips = conf6.split("virtual_ipaddress {")[1].split("}")[0].split()
    assert vips == ["2001:db8::100/128", "dev", "eth0"] and "version 3" in conf6, conf6
    assert "virtual_ipaddress_excluded" not in conf6 and "virtual_server 2001:db8::100 443 {" in conf6, conf6


def test_switch_from_static_left_nothing_behind():
    # prepare.yml converged the static engine on both directors
    assert vip_holders() == ["director1"], "the VIP must be on the VRRP master only"
    for name in ("director1", "director2"):
        director = host(name)
        units = director.run("ls /etc/systemd/system | grep '^lvs-vip-' || true").stdout.split()
        assert units == [], f"{name}: static VIP units left: {units}"
        # the package's rules file as the role found it (a conffile on Debian), no rule of the static table
        rules = director.file("/etc/ipvsadm.rules")
        assert not rules.exists or not [r for r in rules.content_string.splitlines() if r.startswith("-")], \
            f"{name}: {rules.content_string}"
        assert not director.service("ipvsadm").is_enabled
        assert director.file("/var/lib/lvs-cluster/director-engine").content_string == "keepalived\n"
        services = [line for line in table(name).splitlines() if line.startswith("-A")]
        assert services == [f"-A -t {VIP}:80 -s wrr", f"-A -t [{VIP6}]:80 -s wrr"], f"{name}: {services}"
        # the IPv6 VIP too: on the master only, as keepalived adds it
        vip6 = director.run(f"ip -o -6 addr show dev eth0 to {VIP6}/128").stdout
        assert (f"inet6 {VIP6}/128" in vip6) == (name == "director1"), f"{name}: {vip6}"


def test_connection_sync_follows_vrrp():
    assert "master sync daemon" in host("director1").check_output("ipvsadm -L -n --daemon")
    assert "backup sync daemon" in host("director2").check_output("ipvsadm -L -n --daemon")


def assert_wrr_two_to_one():
    """30 new connections split 2:1 (rs1 at weight 2). wrr 2:1 is exact
    through one director; two VIP holders (a VRRP split under a starved CPU)
    would mix two schedulers, so say who held the VIP. Sent from an address no
    earlier connection came from: the director keeps a stream's closed
    connections (TIME_WAIT) for 120 s, the client its ports for 60 s, and a
    port the client reuses meanwhile goes to that connection's real server,
    not to the scheduler (16/14 and 15/15 were seen)."""
    holders = vip_holders()
    client = host("client")
    client.check_output(f"ip addr add {FRESH_SOURCE}/24 dev eth0")
    try:
        counts = requests(VIP, 30, source=FRESH_SOURCE)
    finally:
        client.check_output(f"ip addr del {FRESH_SOURCE}/24 dev eth0")
    print(f"VIP holders before and after the 30 requests: {holders}, {vip_holders()}")
    assert_ratio(counts, {"rs1": 2, "rs2": 1}, tolerance=2)


def test_reload_with_a_changed_weight_dropped_nothing():
    # reload.yml ran site.yml with rs1 at weight 2 under a 20 requests/s stream
    records = [json.loads(line) for line in
               host("client").file("/tmp/reload.jsonl").content_string.splitlines()]
    done = records.pop()
    print(f"reload under load: {summary(records)}")
    assert done["sent"] == len(records) >= 100
    assert all(r["ok"] for r in records), [r for r in records if not r["ok"]][:5]
    for name in ("director1", "director2"):
        before = host(name).file("/tmp/keepalived-pid-before").content_string.strip()
        now = host(name).check_output("systemctl show --value --property=MainPID keepalived")
        assert before == now.strip(), f"{name}: keepalived restarted ({before} -> {now}), not reloaded"
        assert "-r 198.51.100.11:80 -g -w 2" in table(name)
    assert_wrr_two_to_one()


def answered(out, since, by=None):
    """Requests of the running load `out` that started after `since` and were answered (by `by`)."""
    return [r for r in load_so_far(out) if r["ok"] and r["start"] > since and by in (None, r["answer"])]


def test_failed_real_server_is_masked_and_returns():
    began = time.time()
    start_load("stream", "/tmp/hc.jsonl", "--rate", "10", "--timeout", "2", "--max", "120", url=URL)
    wait_until(lambda: len(answered("/tmp/hc.jsonl", began, "rs1")) >= 3, 10, "rs1 answering the stream")
    stopped = time.time()
    host("rs1").check_output("systemctl stop lvs-lab-httpd")
    deadline = time.monotonic() + 15
    while "198.51.100.11:80" in table("director1"):
        assert time.monotonic() < deadline, "keepalived did not remove rs1"
        time.sleep(0.2)
    removed = time.time()
    # rs2 alone answers while rs1 is down, past the detection bound: 10 requests (1 s of the stream)
    down = max(removed, stopped + DETECTION_BOUND)
    wait_until(lambda: len(answered("/tmp/hc.jsonl", down)) >= 10, 10 + DETECTION_BOUND, "10 answers with rs1 down")
    restarted = time.time()
    host("rs1").check_output("systemctl start lvs-lab-httpd")
    # keepalived adds rs1 back after its first good check; the stream then reaches it
    wait_until(lambda: answered("/tmp/hc.jsonl", restarted, "rs1"), 2 * DETECTION_BOUND, "rs1 answering again")
    records = stop_load("/tmp/hc.jsonl")

    failures = [r for r in records if not r["ok"]]
    detection = max((r["start"] for r in failures), default=stopped) - stopped
    back = min(r["end"] for r in records if r["ok"] and r["answer"] == "rs1" and r["start"] > restarted)
    print(f"health check: {summary(records)}; rs1 stopped at 0 s, removed from the table at "
          f"{removed - stopped:.1f} s, last failed request started at {detection:.1f} s; "
          f"rs1 back after {back - restarted:.1f} s")
    # the bounds hold on keepalived's timers (see DETECTION_BOUND), not on the verifier's pace
    assert detection <= DETECTION_BOUND, f"requests failed until {detection:.1f} s after rs1 stopped"
    after = [r for r in records if r["start"] > stopped + DETECTION_BOUND]
    assert after and all(r["ok"] for r in after), [r for r in after if not r["ok"]][:3]
    while_down = [r for r in after if r["start"] < restarted]
    assert while_down and {r["answer"] for r in while_down} == {"rs2"}
    assert back - restarted <= DETECTION_BOUND, f"rs1 answered {back - restarted:.1f} s after it restarted"
    assert "198.51.100.11:80" in table("director1") and "198.51.100.11:80" in table("director2")


def test_failover_keeps_traffic_and_established_connections():
    start_load("hold", "/tmp/hold.jsonl", "--interval", "0.2", "--max", "120", "--timeout", "10", url=URL)
    # 5 s: a connection whose SYN went to the dead master gets through on its retransmission
    start_load("stream", "/tmp/fo.jsonl", "--rate", "10", "--timeout", "5", "--max", "120", url=URL)
    start_load("stream", "/tmp/fo6.jsonl", "--rate", "5", "--timeout", "5", "--max", "120", url=URL6)
    # the sync daemon sends an established connection to the backup within about a second
    wait_until(lambda: "ESTABLISHED" in host("director2").check_output("ipvsadm -L -n -c"), 10,
               "a synced established connection on the backup")
    began = time.time()
    wait_until(lambda: answered("/tmp/fo.jsonl", 0) and answered("/tmp/fo6.jsonl", 0)
               and answered("/tmp/hold.jsonl", began), 10, "every load answered before the failover")
    print(f"director2 (backup) synced connections before the failover:\n{host('director2').check_output('ipvsadm -L -n -c')}")
    # The master dies: its cable is pulled (a killed container's namespace would
    # go on forwarding in the kernel until podman tears it down), then it is killed.
    cut = float(subprocess.run(
        ["podman", "exec", "director1", "python3", "-c",
         "import subprocess, time; t = time.time(); subprocess.run(['ip', 'link', 'set', 'eth0', 'down'], "
         "check=True); print(t)"], capture_output=True, text=True, check=True).stdout)
    subprocess.run(["podman", "kill", "director1"], check=True)
    deadline = time.monotonic() + 10
    while f"inet {VIP}/32" not in host("director2").run("ip -o -4 addr show").stdout:
        assert time.monotonic() < deadline, "the VIP did not move to director2"
        time.sleep(0.2)
    moved = time.time()
    # after the move: 3 s of answered streams (both families), and the held
    # connection answering beyond cut + 5 s (what the asserts below look at)
    wait_until(lambda: len(answered("/tmp/fo.jsonl", moved)) >= 30 and len(answered("/tmp/fo6.jsonl", moved)) >= 15
               and answered("/tmp/hold.jsonl", cut + 5.5), 20, "the streams and the held connection after the move")
    stream, held = stop_load("/tmp/fo.jsonl"), stop_load("/tmp/hold.jsonl")
    stream6 = stop_load("/tmp/fo6.jsonl")

    outage, since = longest_outage(stream)
    back = since + outage  # the first answer after the longest silence
    in_gap = [r for r in stream if since < r["start"] < back]
    after = [r for r in stream if r["start"] >= back]
    held_outage = longest_outage(held)[0]
    print(f"failover: director1's link cut at 0 s, then killed; stream {summary(stream)}; answers stopped "
          f"at {since - cut:+.2f} s and came back at {back - cut:.2f} s (outage {outage:.2f} s); of the "
          f"{len(in_gap)} requests sent in the outage {sum(not r['ok'] for r in in_gap)} failed; "
          f"{len(after)} sent after it, {sum(not r['ok'] for r in after)} failed; held connection "
          f"{summary(held)}, longest wait between its answers {held_outage:.2f} s")
    assert since >= cut - 1, "the longest silence is not the failover"
    assert back - cut <= FAILOVER_BOUND
    assert after and all(r["ok"] for r in after)
    assert all(r["ok"] for r in held), "the established connection broke"
    assert len({r["port"] for r in held}) == 1 and len({r["answer"] for r in held}) == 1
    assert held[-1]["start"] > cut + 5, "the held connection did not outlive the failover"
    # the IPv6 VIP went with it, and the client's neighbour entry followed
    outage6, since6 = longest_outage(stream6)
    after6 = [r for r in stream6 if r["start"] >= since6 + outage6]
    print(f"IPv6: stream {summary(stream6)}; outage {outage6:.2f} s from {since6 - cut:+.2f} s")
    assert f"inet6 {VIP6}/128" in host("director2").check_output("ip -o -6 addr show dev eth0")
    assert since6 + outage6 - cut <= FAILOVER_BOUND
    assert after6 and all(r["ok"] for r in after6)
    neigh = host("client").check_output(f"ip -6 neigh show {VIP6}")
    assert f"lladdr {mac('director2')}" in neigh, neigh


def test_master_returns_and_takes_the_vip_back():
    subprocess.run(["podman", "start", "director1"], check=True)
    host("director1").run("systemctl is-system-running --wait")
    deadline = time.monotonic() + 30
    while vip_holders() != ["director1"]:
        assert time.monotonic() < deadline, f"VIP holders {vip_holders()}"
        time.sleep(0.5)
    assert_wrr_two_to_one()


def test_a_restart_restores_what_keepalived_applied():
    """Both directors restart (no Ansible run): keepalived rebuilds the same
    table from its configuration and director1 takes the VIP back."""
    directors = ("director1", "director2")
    before = {name: sorted(table(name).splitlines()) for name in directors}
    took = reboot(directors)
    deadline = time.monotonic() + 30
    while vip_holders() != ["director1"] or any(sorted(table(n).splitlines()) != before[n] for n in directors):
        assert time.monotonic() < deadline, (f"VIP holders {vip_holders()}; tables "
                                             f"{ {n: table(n) for n in directors} }, before {before}")
        time.sleep(0.5)
    print(f"restart of both directors: {took:.0f} s, tables identical ({sum(map(len, before.values()))} rules)")
    assert before["director1"], "keepalived applied no table"
    assert_ratio(requests(VIP, 30), {"rs1": 2, "rs2": 1}, tolerance=2)


def test_switch_back_to_static_removes_keepalived():
    assert ansible_playbook(SITE, "-e", "director_engine=static").returncode == 0
    for name in ("director1", "director2"):
        director = host(name)
        assert not director.service("keepalived").is_running
        assert not director.service("keepalived").is_enabled
        assert not director.file("/etc/keepalived/keepalived.conf").exists
        assert director.file("/var/lib/lvs-cluster/director-engine").content_string == "static\n"
        saved = table(name)
        assert director.file("/etc/ipvsadm.rules").content_string.strip() == saved.strip()
        assert sorted(saved.splitlines()) == sorted([
            f"-A -t {VIP}:80 -s wrr", f"-a -t {VIP}:80 -r 198.51.100.11:80 -g -w 1",
            f"-a -t {VIP}:80 -r 198.51.100.12:80 -g -w 1",
            f"-A -t [{VIP6}]:80 -s wrr", f"-a -t [{VIP6}]:80 -r [2001:db8:51::11]:80 -g -w 1",
            f"-a -t [{VIP6}]:80 -r [2001:db8:51::12]:80 -g -w 1"]), saved
        addrs = director.check_output("ip -o addr show")
        assert addrs.count(f"inet {VIP}/32") == 1 and addrs.count(f"inet6 {VIP6}/128") == 1, addrs
    assert_ratio(requests(VIP, 20), {"rs1": 1, "rs2": 1}, tolerance=1)


@pytest.fixture(scope="module", autouse=True)
def _show_tables():
    yield
    for name in ("director1", "director2"):
        print(f"{name}:\n{host(name).run('ipvsadm -L -n').stdout}")
