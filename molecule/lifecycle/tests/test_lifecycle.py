"""One cluster through five versions of the model, applied by site.yml, under load.

For each version:
- `--check --diff` first: it changes nothing (every host's state, the loaded
  modules included, identical) and predicts which hosts change, and the table's
  exact ipvsadm commands and diff;
- the real run, while the client streams 10 requests a second (a new connection
  each) to every VIP that stays through the change: not one may fail;
- then each host's state equals exactly what the version implies; the same
  version run again changes nothing (idempotence); the state holds again
  after every host restarts; each VIP of the version is answered by the
  expected real servers, and the VIPs that left are not.

The expected state is written out here, by hand, over what the scenario
created (captured before the first version): nothing of the collection's code
computes it. tests/state.py reads a host's state as sorted lines. Another
tool's service on the director is never touched (director_purge=all, at the
end, removes exactly it). Between versions 4 and 5, bad role variables, bad
models and hostile input are refused naming the field, and no host changes
(tests/refusals.py).
Version 5, the empty model, gives back each host as the scenario created it.
Each version changes several things at once (every run costs minutes in the
lab): what one changes is listed in its name.
The tests run in file order.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from lvs_verify import (ansible_playbook, check_output, pids, reboot, start_load, stop_load,  # noqa: E402
                        summary, task_result)
import refusals  # noqa: E402

SITE = Path(__file__).resolve().parents[3] / "playbooks" / "site.yml"
STATE = Path(__file__).resolve().parent / "state.py"
HOSTS = ("director", "rs1", "rs2", "rs3", "rs4")  # the managed hosts
NAT_VIP, DR_VIP, TUN_VIP, MARK_VIP = "198.51.100.100", "198.51.100.101", "198.51.100.102", "198.51.100.103"
ADDRESS = {"rs1": "203.0.113.11", "rs2": "198.51.100.12", "rs3": "198.51.100.13", "rs4": "198.51.100.14"}
UNITS = "/etc/systemd/system"
FOREIGN = "-A -t 198.51.100.2:8080 -s rr"  # another tool's service: never the collection's

# --- The versions: what site.yml is given --------------------------------------

NAT = dict(name="web-nat", address=NAT_VIP, port=80, scheduler="wrr", forwarding="nat",
           real_servers=[dict(host="rs1")])
DR = dict(name="web-dr", address=DR_VIP, port=80, scheduler="wrr", forwarding="dr",
          real_servers=[dict(host="rs2"), dict(host="rs4")])
DR_WEIGHTS = dict(DR, real_servers=[dict(host="rs2", weight=3), dict(host="rs4")])
DR_WLC = dict(DR_WEIGHTS, scheduler="wlc")
# Thresholds count active and inactive connections (a closed one stays inactive
# for minutes): the streams' 10 new connections a second must stay below them.
DR_THRESHOLDS = dict(DR_WLC, real_servers=[dict(host="rs2", weight=3, u_threshold=3000, l_threshold=2000),
                                           dict(host="rs4")])
DR_WITHOUT_RS4 = dict(DR_THRESHOLDS, real_servers=DR_THRESHOLDS["real_servers"][:1])
TUN = dict(name="web-tun", address=TUN_VIP, port=80, scheduler="wrr", forwarding="tun",
           real_servers=[dict(host="rs3")])
TUN_THRESHOLDS = dict(TUN, persistence_timeout=60,
                      real_servers=[dict(host="rs3", u_threshold=4000, l_threshold=3000)])
MARK = dict(name="web-mark", fwmark=7, vips=[MARK_VIP], ports=[80, 8080], scheduler="sh",
            scheduler_flags=["sh-port"], forwarding="dr",
            real_servers=[dict(host="rs2"), dict(host="rs3", forwarding="tun")])
ON_DUMMY = dict(director_vip_interface="lvs0", director_vip_interface_type="dummy")


def on_eth0(*vips):
    return dict(director_vip_interface="eth0", director_vips=[f"{vip}/24" for vip in vips])


VERSIONS = [
    ("NAT and DR services", dict(ON_DUMMY, lvs_virtual_services=[NAT, DR])),
    ("a TUN service added, DR weights changed", dict(ON_DUMMY, lvs_virtual_services=[NAT, DR_WEIGHTS, TUN])),
    ("the NAT service marked absent, the DR scheduler changed, the VIPs moved from lvs0/32 to eth0/24, "
     "connection thresholds, TUN persistence",
     dict(on_eth0(DR_VIP, TUN_VIP), lvs_virtual_services=[dict(NAT, state="absent"), DR_THRESHOLDS, TUN_THRESHOLDS])),
    ("rs4 drained and out of every service, a fwmark service over two ports, sh-port",
     dict(on_eth0(DR_VIP, TUN_VIP, MARK_VIP), lvs_virtual_services=[DR_WITHOUT_RS4, TUN_THRESHOLDS, MARK])),
    ("the empty model", dict(lvs_virtual_services=[])),
]

# --- What each version implies, per host ------------------------------------------


def unit(vip):
    return [f"file {UNITS}/lvs-vip-{vip}.service", f"file {UNITS}/multi-user.target.wants/lvs-vip-{vip}.service"]


def sysctl_file(path, values):
    return [f"file {path}"] + [f"setting {path} {key} = {value}" for key, value in values.items()] \
        + [f"sysctl {key} {value}" for key, value in values.items()]


def state_folder(*records):
    return ["file /var/lib/lvs-cluster"] + [f"file /var/lib/lvs-cluster/{r}" for r in records]


def dr_server(vips):
    arp = {f"net.ipv4.conf.{i}.{k}": v for i in ("all", "lo", "eth0") for k, v in (("arp_ignore", 1), ("arp_announce", 2))}
    return ([f"addr lo {vip}/32" for vip in vips] + sum((unit(vip) for vip in vips), [])
            + sysctl_file("/etc/sysctl.d/90-lvs-realserver-dr.conf", arp) + state_folder("realserver_dr"))


def tun_server(vips):
    arp = {f"net.ipv4.conf.{i}.{k}": v for i in ("all", "eth0", "tunl0")
           for k, v in (("arp_ignore", 1), ("arp_announce", 2))}
    # rp_filter only where the decapsulated packets arrive: eth0 keeps its own
    arp.update({f"net.ipv4.conf.{i}.rp_filter": 0 for i in ("all", "tunl0")})
    return ([f"addr tunl0 {vip}/32" for vip in vips] + sum((unit(vip) for vip in vips), [])
            + ["link tunl0 ipip up", "file /etc/modules-load.d/lvs-realserver-tun.conf",
               "setting /etc/modules-load.d/lvs-realserver-tun.conf ipip"]
            + sysctl_file("/etc/sysctl.d/90-lvs-realserver-tun.conf", arp) + state_folder("realserver_tun"))


def nat_server():
    return (["route default via 203.0.113.2 dev eth0", f"file {UNITS}/lvs-nat-routes.service",
             f"file {UNITS}/multi-user.target.wants/lvs-nat-routes.service"] + state_folder("realserver_nat"))


def director(rules, vips, nat=False, marked=False):
    """rules: `ipvsadm -S -n` lines, thresholds (-x/-y) at the end of a real server's;
    vips: (interface, vip, prefix)."""
    vs = {"net.ipv4.vs.conntrack": 1 if nat else 0, "net.ipv4.vs.expire_nodest_conn": 1,
          "net.ipv4.vs.expire_quiescent_template": 1, "net.ipv4.vs.conn_reuse_mode": 1}
    if nat:
        vs["net.ipv4.ip_forward"] = 1
    # the rules restored at boot: the whole table, the other tool's service included
    lines = [f"setting /etc/ipvsadm.rules {FOREIGN}"]
    for rule in rules:
        saved, _sep, thresholds = rule.partition(" -x ")
        # ipvsadm -S leaves thresholds out; the rules restored at boot have them after the weight
        restored = re.sub(r"(-w [0-9]+)", r"\1 -x " + thresholds, saved, count=1) if thresholds else saved
        lines += [f"ipvs {saved}", f"setting /etc/ipvsadm.rules {restored}"]
        if thresholds:
            words = saved.split()
            service = ("FWM " + words[2]) if words[1] == "-f" else ("TCP " + words[2])
            lines.append(f"threshold {service} {words[4]} -x {thresholds}")
    for iface, vip, prefix in vips:
        lines += [f"addr {iface} {vip}/{prefix}"] + unit(vip)
    if any(iface == "lvs0" for iface, _v, _p in vips):
        # a new interface's settings: the container's defaults
        lines += ["link lvs0 dummy up"] + [f"sysctl net.ipv4.conf.lvs0.{k} 0"
                                           for k in ("arp_ignore", "arp_announce", "rp_filter")]
    lines += ["file /etc/ipvsadm.rules", 'setting /etc/default/ipvsadm AUTO="true"',
              "file /etc/modules-load.d/lvs-director.conf", "setting /etc/modules-load.d/lvs-director.conf ip_vs"]
    lines += sysctl_file("/etc/sysctl.d/90-lvs-director.conf", vs)
    # the package's rules file, as found, to put back with the last service
    lines += state_folder("director-engine", "director-vips", "director-services", "director-rules-as-found")
    if marked:
        lines += ["file /etc/lvs-cluster", "file /etc/lvs-cluster/fwmark.nft", f"file {UNITS}/lvs-fwmark.service",
                  f"file {UNITS}/multi-user.target.wants/lvs-fwmark.service"]
        lines += ["nft " + line for line in MARK_RULESET]
    return lines


MARK_RULESET = """table inet lvs_cluster {
chain prerouting {
type filter hook prerouting priority mangle; policy accept;
ip daddr 198.51.100.103 tcp dport { 80, 8080 } meta mark set 0x00000007
}
}""".splitlines()


def rs_rule(service, name, flag, weight=1, port=80, thresholds=""):
    """A real server's line of `ipvsadm -S -n` (ipvsadm 1.31 names the tunnel type), then its thresholds."""
    return f"-a {service} -r {ADDRESS[name]}:{port} {flag} -w {weight}" + (" --tun-type ipip" if flag == "-i" else "") \
        + thresholds


NAT_RULES = ["-A -t 198.51.100.100:80 -s wrr", rs_rule("-t 198.51.100.100:80", "rs1", "-m")]
DR_RULES = ["-A -t 198.51.100.101:80 -s wrr", rs_rule("-t 198.51.100.101:80", "rs2", "-g"),
            rs_rule("-t 198.51.100.101:80", "rs4", "-g")]
DR_3 = ["-A -t 198.51.100.101:80 -s wrr", rs_rule("-t 198.51.100.101:80", "rs2", "-g", weight=3),
        rs_rule("-t 198.51.100.101:80", "rs4", "-g")]
DR_X = ["-A -t 198.51.100.101:80 -s wlc",
        rs_rule("-t 198.51.100.101:80", "rs2", "-g", weight=3, thresholds=" -x 3000 -y 2000"),
        rs_rule("-t 198.51.100.101:80", "rs4", "-g")]
TUN_RULES = ["-A -t 198.51.100.102:80 -s wrr", rs_rule("-t 198.51.100.102:80", "rs3", "-i")]
TUN_X = ["-A -t 198.51.100.102:80 -s wrr -p 60",
         rs_rule("-t 198.51.100.102:80", "rs3", "-i", thresholds=" -x 4000 -y 3000")]
MARK_RULES = ["-A -f 7 -s sh -b sh-port", rs_rule("-f 7", "rs2", "-g", port=0), rs_rule("-f 7", "rs3", "-i", port=0)]
DUMMY = [("lvs0", NAT_VIP, 32), ("lvs0", DR_VIP, 32)]
ETH0 = [("eth0", DR_VIP, 24), ("eth0", TUN_VIP, 24)]

# Per version: each host's additions to what the scenario created (a sysctl
# line replaces that key's), then (VIP, port) -> who answers, and what is silent.
EXPECTED = [
    (dict(director=director(NAT_RULES + DR_RULES, DUMMY, nat=True), rs1=nat_server(),
          rs2=dr_server([DR_VIP]), rs4=dr_server([DR_VIP])),
     {(NAT_VIP, 80): {"rs1"}, (DR_VIP, 80): {"rs2", "rs4"}}, [TUN_VIP]),
    (dict(director=director(NAT_RULES + DR_3 + TUN_RULES, DUMMY + [("lvs0", TUN_VIP, 32)], nat=True),
          rs1=nat_server(), rs2=dr_server([DR_VIP]), rs3=tun_server([TUN_VIP]), rs4=dr_server([DR_VIP])),
     {(NAT_VIP, 80): {"rs1"}, (DR_VIP, 80): {"rs2", "rs4"}, (TUN_VIP, 80): {"rs3"}}, []),
    (dict(director=director(DR_X + TUN_X, ETH0),
          rs2=dr_server([DR_VIP]), rs3=tun_server([TUN_VIP]), rs4=dr_server([DR_VIP])),
     {(DR_VIP, 80): {"rs2", "rs4"}, (TUN_VIP, 80): {"rs3"}}, [NAT_VIP]),
    (dict(director=director(DR_X[:2] + TUN_X + MARK_RULES, ETH0 + [("eth0", MARK_VIP, 24)], marked=True),
          rs2=dr_server([DR_VIP, MARK_VIP]), rs3=tun_server([TUN_VIP, MARK_VIP])),
     {(DR_VIP, 80): {"rs2"}, (TUN_VIP, 80): {"rs3"}, (MARK_VIP, 80): {"rs2", "rs3"}, (MARK_VIP, 8080): {"rs2", "rs3"}},
     [NAT_VIP]),
    ({}, {}, [NAT_VIP, DR_VIP, TUN_VIP, MARK_VIP]),
]

CREATED = {}  # each host as the scenario created it
CREATED_FILE = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", tempfile.gettempdir())) / "lifecycle-created.json"
PIDS = {}  # each container's PID 1, for nsenter
LAST = {}  # each host's state after the last restart
FIGURES = []


def state(name):
    return check_output(PIDS[name], "python3 /usr/local/lib/lvs-lab/state.py").splitlines()


def states():
    """Every managed host's state, read side by side."""
    with concurrent.futures.ThreadPoolExecutor(len(HOSTS)) as pool:
        return dict(zip(HOSTS, pool.map(state, HOSTS)))


def key(line):
    """Lines that hold one value of one thing: a sysctl, a link's state, Debian's AUTO setting."""
    if line.startswith(("sysctl ", "link ")):
        return line.split()[:2]
    if line.startswith("setting /etc/default/ipvsadm AUTO="):
        return line.split("=")[0]
    return line


# ipip puts its fallback device tunl0 into every network namespace while it is
# loaded: down, at the kernel's defaults. It comes and stays with the module,
# which the lab's hosts share (a real server that loads it gives the director
# one too).
MODULE_DEVICE = ["link tunl0 ipip down"] + [
    f"sysctl net.ipv4.conf.tunl0.{k} 0" for k in ("arp_announce", "arp_ignore", "rp_filter")]


def settled(lines):
    """A state but the loaded modules, and the device a module brings as it brings it: a module the
    collection loaded stays loaded, on purpose."""
    module_device = set(MODULE_DEVICE) if MODULE_DEVICE[0] in lines else set()
    return [line for line in lines if not line.startswith("module ") and line not in module_device]


def expected(name, additions):
    """What the scenario created, with the version's additions (a line replaces the one of its key)."""
    keys = {str(key(line)) for line in additions}
    return sorted(set([line for line in settled(CREATED[name]) if str(key(line)) not in keys] + additions))


def compare(name, got, want, when):
    missing = [line for line in want if line not in got]
    extra = [line for line in got if line not in want]
    assert not missing and not extra, (f"{name} {when}:\n  missing: " + "\n  missing: ".join(missing)
                                       + "\n  not expected: " + "\n  not expected: ".join(extra))


def answers(vip, port, count):
    """Who answered each of `count` requests (FAILED when none)."""
    out = check_output(PIDS["client"], f"for i in $(seq {count}); do curl -sS -m 1 http://{vip}:{port}/ 2>/dev/null"
                                       " || echo FAILED; done")
    return out.split()


def test_what_the_scenario_created():
    PIDS.update(pids(HOSTS + ("client",)))
    check_output(PIDS["director"], "ipvsadm " + FOREIGN)
    for name in HOSTS:
        subprocess.run(["podman", "cp", str(STATE), f"{name}:/usr/local/lib/lvs-lab/state.py"], check=True)
    CREATED.update(states())
    LAST.update(CREATED)
    CREATED_FILE.write_text(json.dumps(CREATED))
    assert f"ipvs {FOREIGN}" in CREATED["director"]
    assert any(line.startswith("sysctl net.ipv4.conf.all.arp_ignore ") for line in CREATED["rs2"])


def converge(version):
    """Version `version` (0-based) through check mode, then for real under load, then a restart."""
    name, extra = VERSIONS[version]
    additions, served, silent = EXPECTED[version]
    extra = json.dumps(extra)
    before = dict(LAST)  # nothing ran since the last version's restart but requests
    began = time.monotonic()
    check = ansible_playbook(SITE, "-e", extra, "--check", "--diff", as_json=True)
    checked = time.monotonic() - began
    assert check.returncode == 0
    after = states()
    for h in HOSTS:
        compare(h, after[h], before[h], "after --check")  # the loaded modules included

    # the VIPs that stay through the change get a stream each
    previous = {vip for vip, _port in EXPECTED[version - 1][1]} if version else set()
    steady = sorted({vip for vip, port in served if port == 80} & previous)
    for vip in steady:
        start_load("stream", f"/tmp/{vip}.jsonl", "--rate", "10", "--max", "400", url=f"http://{vip}/")
    time.sleep(1)
    began = time.monotonic()
    run = ansible_playbook(SITE, "-e", extra, "--diff", as_json=True)
    ran = time.monotonic() - began
    time.sleep(1)
    streams = {vip: stop_load(f"/tmp/{vip}.jsonl") for vip in steady}
    assert run.returncode == 0
    for vip, records in streams.items():
        failed = [r for r in records if not r["ok"]]
        assert not failed, f"{vip}: {len(failed)} of {len(records)} requests failed, first {failed[:3]}"
        assert len(records) >= 10 * ran

    predicted = {h for h, s in check.json["stats"].items() if s["changed"]}
    changed = {h for h, s in run.json["stats"].items() if s["changed"]}
    assert predicted == changed, f"check mode predicted changes on {sorted(predicted)}, the run changed {sorted(changed)}"
    # the table: the same ipvsadm commands and the same diff
    table_check, table_run = (task_result(r, "Converge the IPVS table", "director") for r in (check, run))
    assert (table_check["changed"], table_check["commands"], table_check.get("diff")) == \
        (table_run["changed"], table_run["commands"], table_run.get("diff")), \
        f"check mode predicted {table_check['commands']}, the run made {table_run['commands']}"

    want = {h: expected(h, additions.get(h, [])) for h in HOSTS}
    got = states()
    for h in HOSTS:
        compare(h, settled(got[h]), want[h], f"after version {version + 1} ({name})")
    # idempotence: the same version again changes nothing, on any host
    began = time.monotonic()
    again = ansible_playbook(SITE, "-e", extra, as_json=True)
    rerun = time.monotonic() - began
    assert again.returncode == 0
    changed_again = {h: s["changed"] for h, s in again.json["stats"].items() if s["changed"]}
    assert not changed_again, f"version {version + 1} run again changed {changed_again} (tasks per host)"
    print(f"version {version + 1} ({name}) run again: changed nothing on {len(again.json['stats'])} hosts")
    took = reboot(HOSTS)
    PIDS.update(pids(HOSTS))
    if "director" not in additions:
        # nothing restores the other tool's service at boot once the collection persists no rules
        want["director"] = [line for line in want["director"] if line != f"ipvs {FOREIGN}"]
    got = states()
    for h in HOSTS:
        compare(h, settled(got[h]), want[h], f"after version {version + 1} ({name}) and a restart")
    LAST.update(got)
    for (vip, port), servers in served.items():
        got = answers(vip, port, 6)
        assert "FAILED" not in got and set(got) <= servers, f"{vip}:{port} answered {got}, expected {servers}"
        if vip in (NAT_VIP, DR_VIP):  # schedulers that spread six requests over every real server
            assert set(got) == servers, f"{vip}:{port}: {got}, not all of {servers}"
    for vip in silent:
        assert answers(vip, 80, 1) == ["FAILED"], f"{vip} answers, but left the model"
    FIGURES.append(f"version {version + 1} ({name}): changed {sorted(changed)}; "
                   f"{sum(len(w) for w in want.values())} state lines equal; check {checked:.0f} s, run {ran:.0f} s, "
                   f"run again {rerun:.0f} s (changed nothing), restart {took:.0f} s; " + "; ".join(f"{vip} {summary(r)}" for vip, r in streams.items()))
    print(FIGURES[-1])


@pytest.mark.parametrize("version", range(len(VERSIONS) - 1), ids=[v[0] for v in VERSIONS[:-1]])
def test_version(version):
    converge(version)


def test_bad_role_variables_are_refused_naming_the_field_and_change_nothing(tmp_path):
    before = states()
    playbook = tmp_path / "bad_inputs.yml"
    refusals.bad_input_playbook(playbook, VERSIONS[-2][1])
    run = ansible_playbook(playbook, as_json=True)
    assert run.returncode == 0
    outcomes = refusals.refused_inputs(run)
    for name, refused, msg in outcomes:
        print(f"{name}: {'refused' if refused else 'NOT REFUSED AS EXPECTED'}: {msg[:300]}")
    after = states()
    FIGURES.append(f"bad role variables: {len(outcomes)} tried, {sum(r for _n, r, _m in outcomes)} refused naming "
                   f"the field, state changed: {'no' if after == before else 'YES'}")
    print(FIGURES[-1])
    assert all(refused for _n, refused, _m in outcomes)
    for h in HOSTS:
        compare(h, after[h], before[h], "after the bad role variables")


def test_bad_models_through_site_yml_change_no_host(tmp_path):
    """Bad models, and hostile models and role variables, each through site.yml: refused naming the field, no host
    changed. Four runs at a time: each stops at the gate, on the controller."""
    before = states()
    cases = [(name, {refusals.M: bad}, field) for name, bad, field in refusals.BAD_MODELS] + refusals.HOSTILE

    def attempt(index):
        name, extra_vars, field = cases[index]
        extra = tmp_path / f"extra{index}.json"
        extra.write_text(json.dumps(extra_vars))
        began = time.monotonic()
        run = ansible_playbook(SITE, "-e", f"@{extra}", as_json=True)
        return name, field, time.monotonic() - began, refusals.refused_model(run, field)

    wrong, seconds = [], []
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for name, field, took, (refused, msg) in pool.map(attempt, range(len(cases))):
            seconds.append(took)
            print(f"{name}: {'refused' if refused else 'NOT REFUSED AS EXPECTED'}: {msg[:240]}")
            if not refused:
                wrong.append(f"{name}: expected a failure naming {field!r} and no change, got {msg[:240]!r}")
    after = states()
    FIGURES.append(f"bad and hostile input through site.yml: {len(refusals.BAD_MODELS)} bad models and "
                   f"{len(refusals.HOSTILE)} hostile models or role variables tried, {len(cases) - len(wrong)} refused "
                   f"naming the field, state of {len(HOSTS)} hosts changed: {'no' if after == before else 'YES'}, "
                   f"{sum(seconds) / len(seconds):.1f} s a run, {time.monotonic() - began:.0f} s in all")
    print(FIGURES[-1])
    assert not wrong, "\n".join(wrong)
    for h in HOSTS:
        compare(h, after[h], before[h], "after the bad models")


def test_the_empty_model():
    converge(len(VERSIONS) - 1)


def test_the_empty_model_left_the_hosts_as_created():
    if not CREATED:  # the negative check runs this test alone, in a later session
        CREATED.update(json.loads(CREATED_FILE.read_text()))
        PIDS.update(pids(HOSTS))
    got = states()
    for h in HOSTS:
        want = settled(CREATED[h])
        if h == "director":
            want = [line for line in want if line != f"ipvs {FOREIGN}"]  # see test_version
        compare(h, settled(got[h]), want, "after the empty model and a restart")


def test_purge_all_takes_another_tools_service_only_when_asked():
    """The other tool's service outlived every version; director_purge=all removes exactly it."""
    check_output(PIDS["director"], "ipvsadm " + FOREIGN)
    extra = json.dumps({"lvs_virtual_services": [], "director_purge": "all"})
    run = ansible_playbook(SITE, "-e", extra, "--limit", "lvs_directors", as_json=True)
    assert run.returncode == 0
    assert task_result(run, "Converge the IPVS table", "director")["commands"] == ["-D -t 198.51.100.2:8080"]
    assert check_output(PIDS["director"], "ipvsadm -S -n") == ""
    print("\n".join(["lifecycle:"] + FIGURES))
