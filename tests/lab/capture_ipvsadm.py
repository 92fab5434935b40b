# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Capture real ipvsadm answers for the unit tests' simulated host.

Runs as root next to a kernel with IPVS (the lab VM), where it owns the
IPVS table: every case starts from `ipvsadm -C`. Usage, from the repository:

    python3 lab/lab.py run -- python3 tests/lab/capture_ipvsadm.py \
        tests/unit/fixtures/ipvsadm_lab.json

Each case: setup commands (must succeed), then probes whose rc, stdout and
stderr are recorded, then the table as `ipvsadm -S -n` prints it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

IPVSADM = 'ipvsadm'

SVC = '-t 10.0.0.1:80'
BASE = ['-A %s -s rr' % SVC, '-a %s -r 192.168.1.10:8080 -m -w 3' % SVC]

# Two tables in save format, loaded with -R for the listing cases.
FULL = """\
-A -t 10.0.0.1:80 -s wrr
-a -t 10.0.0.1:80 -r 192.168.1.11:8080 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 3 -x 100 -y 50
-A -t 10.0.0.1:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 10.0.0.1:443 -r 10.0.0.22:443 -g -w 0
-a -t 10.0.0.1:443 -r 10.0.0.21:443 -g -w 1
-A -u 10.0.0.2:53 -s rr -o
-a -u 10.0.0.2:53 -r 192.168.1.20:53 -m -w 1
-A --sctp-service 10.0.0.3:3868 -s wlc
-A -t [2001:db8::1]:80 -s mh -p 300 -M 64 --pe sip -b mh-port
-a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -g -w 2
-a -t [2001:db8::1]:80 -r 192.168.2.10:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -f 1 -s lc -p 360
-a -f 1 -r 192.168.1.31:0 -i -w 5 --tun-type gre --tun-csum
-a -f 1 -r 192.168.1.30 -i -w 1 --tun-type ipip
-A -f 2 -6 -s rr
-a -f 2 -6 -r [2001:db8::20]:0 -g -w 1
-A -u [2001:db8::2]:53 -s wrr -o --pe sip
-a -u [2001:db8::2]:53 -r [2001:db8::30]:5353 -m -w 4 -x 20 -y 20
-a -u [2001:db8::2]:53 -r 10.9.0.1:53 -i --tun-type gue --tun-port 6081 --tun-remcsum
"""

# Addresses, ports, marks and families whose order the listing must keep:
# ipvsadm sorts with differences of unsigned 32-bit words cast to int, so
# 198.51.100.100 comes before 10.0.0.1. That is no total order once values
# spread over more than half the 32-bit range: the result then depends on the
# order the kernel hands them over, which for services is its hash table's
# (not reproducible); the services here stay within half the range. Real
# servers come newest first, so theirs is reproducible and spread wide.
ORDER = """\
-A -t 198.51.100.100:80 -s rr
-A -t 9.0.0.1:80 -s rr
-A -t 10.0.0.1:80 -s rr
-A -t 200.0.0.1:80 -s rr
-A -t 10.0.0.1:8080 -s rr
-A -t 10.0.0.1:443 -s rr
-A -u 10.0.0.1:80 -s rr
-A --sctp-service 1.2.3.4:80 -s rr
-A -t [fe80::1]:80 -s rr
-A -t [2001:db8::1]:80 -s rr
-A -t [::1]:80 -s rr
-A -t [2001:db8:0:1::1]:80 -s rr
-A -f 3000000000 -s rr
-A -f 1 -s rr
-A -f 7 -6 -s rr
-A -f 5 -s rr
-a -t 10.0.0.1:80 -r 198.51.100.11:80 -m
-a -t 10.0.0.1:80 -r 10.0.0.11:80 -m
-a -t 10.0.0.1:80 -r 200.0.0.11:80 -m
-a -t 10.0.0.1:80 -r 9.0.0.11:80 -m
-a -t 10.0.0.1:80 -r 10.0.0.11:81 -m
-a -t 10.0.0.1:80 -r 10.0.0.11:8080 -m
-a -t 10.0.0.1:80 -r 127.0.0.11:80 -m
-a -t 10.0.0.1:80 -r 129.0.0.11:80 -m
-a -t 10.0.0.1:80 -r [2001:db8::5]:80 -i
-a -t 10.0.0.1:80 -r [fd00::5]:80 -i
-a -t 10.0.0.1:80 -r 223.255.0.1:80 -i
-a -t [2001:db8::1]:80 -r [fd00::5]:80 -m
-a -t [2001:db8::1]:80 -r [2001:db8::5]:80 -m
-a -t [2001:db8::1]:80 -r 10.0.0.5:80 -i
-a -t [2001:db8::1]:80 -r 200.0.0.5:80 -i
-a -t [2001:db8::1]:80 -r [::5]:80 -m
"""

EDGE = """\
-A -t 10.0.0.7:80 -s mh -b flag-3
-A -t 10.0.0.8:80 -s sh -b flag-1,flag-3
-A -t 10.0.0.12:80 -s mh -b mh-fallback,mh-port
-A -t 10.0.0.13:80 -s rr -b flag-1,flag-2
-A -t 10.0.0.14:80 -s sh -b flag-1,flag-2,flag-3
-A -t 10.0.0.18:80 -s wrr -b flag-3
-A -t 10.0.0.10:80 -s rr -p 300 -M 0.0.0.0
-A -t 10.0.0.11:80 -s rr -p 300 -M 255.255.255.255
-A -t [2001:db8::3]:80 -s rr -p 300 -M 128
-A -t [2001:db8::4]:80 -s rr -p 300 -M 1
-A -t 10.0.0.15:0 -s rr -p 20 --pe sip
-A -u 10.0.0.16:0 -s rr -p 1 -o
-A -f 3 -6 -s rr -p 2678400
-a -f 3 -6 -r [2001:db8::8]:8080 -m -w 1 -x 10 -y 10
-a -f 3 -6 -r 10.3.0.1 -i -w 1
-a -f 3 -6 -r [2001:db8::7]:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -f 3 -6 -r 2001:db8::9 -i -w 2147483647 -x 2147483647 --tun-type gre
-A -t 10.0.0.17:80 -s rr
-a -t 10.0.0.17:80 -r [2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:65535 -i
"""

LISTINGS = [['-S', '-n'], ['-L', '-n'], ['-L', '-n', '--thresholds']]


def cmd(text):
    return text.split()


def restore(script):
    return {'argv': ['-R'], 'stdin': script}


def case(name, setup, *probes):
    return {'name': name, 'setup': [cmd(s) if isinstance(s, str) else s for s in setup],
            'probes': [cmd(p) if isinstance(p, str) else p for p in probes]}


CASES = [
    # --- refusals of the kernel (rc 255) ---------------------------------
    case('add existing service', BASE, '-A %s -s wlc' % SVC),
    case('add existing fwmark service', ['-A -f 1 -s rr'], '-A -f 1 -s wlc'),
    case('edit missing service', BASE, '-E -t 10.0.0.2:80 -s rr'),
    case('delete missing service', BASE, '-D -t 10.0.0.2:80'),
    case('delete missing fwmark service of the other family', ['-A -f 1 -s rr'], '-D -f 1 -6'),
    case('delete missing udp twin', BASE, '-D -u 10.0.0.1:80'),
    case('add real server to missing service', BASE, '-a -t 10.0.0.2:80 -r 192.168.1.10:8080 -m'),
    case('edit real server of missing service', BASE, '-e -t 10.0.0.2:80 -r 192.168.1.10:8080 -m'),
    case('delete real server of missing service', BASE, '-d -t 10.0.0.2:80 -r 192.168.1.10:8080'),
    case('add existing real server', BASE, '-a %s -r 192.168.1.10:8080 -m -w 2' % SVC),
    case('add existing real server with another method', BASE, '-a %s -r 192.168.1.10:8080 -g' % SVC),
    case('edit missing real server', BASE, '-e %s -r 192.168.1.11:8080 -m -w 1' % SVC),
    case('edit real server on another port', BASE, '-e %s -r 192.168.1.10:8081 -m' % SVC),
    case('delete missing real server', BASE, '-d %s -r 192.168.1.11:8080' % SVC),
    case('add with l_threshold above u_threshold', BASE, '-a %s -r 192.168.1.11:8080 -m -x 5 -y 10' % SVC),
    case('edit with l_threshold above u_threshold', BASE, '-e %s -r 192.168.1.10:8080 -m -x 5 -y 10' % SVC),
    case('l_threshold without u_threshold', BASE, '-a %s -r 192.168.1.11:8080 -m -y 10' % SVC),
    case('edit missing real server with bad thresholds', BASE,
         '-e %s -r 192.168.1.99:8080 -m -x 5 -y 10' % SVC),
    case('add existing real server with bad thresholds', BASE,
         '-a %s -r 192.168.1.10:8080 -m -x 5 -y 10' % SVC),
    case('bad thresholds on a missing service', BASE, '-a -t 10.0.0.2:80 -r 192.168.1.10:8080 -m -x 5 -y 10'),
    case('unknown scheduler on add', BASE, '-A -t 10.0.0.2:80 -s fastest'),
    case('unknown scheduler on edit', BASE, '-E %s -s fastest' % SVC),
    case('unknown scheduler on missing service', BASE, '-E -t 10.0.0.2:80 -s fastest'),
    case('unknown persistence engine', BASE, '-A -t 10.0.0.2:80 -s rr -p 60 --pe nosuch'),
    case('multicast real server', BASE, '-a %s -r 224.0.0.1:80 -m' % SVC),
    # --- refusals of ipvsadm itself (rc 2) -------------------------------
    case('negative weight', BASE, '-a %s -r 192.168.1.11:8080 -m -w -1' % SVC),
    case('weight above INT_MAX', BASE, '-a %s -r 192.168.1.11:8080 -m -w 2147483648' % SVC),
    case('weight not a number', BASE, '-e %s -r 192.168.1.10:8080 -m -w many' % SVC),
    case('u_threshold out of range', BASE, '-a %s -r 192.168.1.11:8080 -m -x 2147483648' % SVC),
    case('l_threshold out of range', BASE, '-a %s -r 192.168.1.11:8080 -m -y -1' % SVC),
    case('persistence timeout 0', BASE, '-A -t 10.0.0.2:80 -p 0'),
    case('persistence timeout above 31 days', BASE, '-A -t 10.0.0.2:80 -p 2678401'),
    case('fwmark 0', BASE, '-A -f 0 -s rr'),
    case('fwmark above 32 bits', BASE, '-A -f 4294967296 -s rr'),
    case('service port out of range', BASE, '-A -t 10.0.0.2:65536 -s rr'),
    case('real server port out of range', BASE, '-a %s -r 192.168.1.11:65536 -m' % SVC),
    case('service address not an address', BASE, '-A -t bogus:80 -s rr'),
    case('zero port without persistence', BASE, '-A -t 10.0.0.2:0 -s rr'),
    case('one-packet on tcp', BASE, '-A -t 10.0.0.2:80 -s rr -o'),
    case('scheduler flag of another scheduler', BASE, '-A -t 10.0.0.2:80 -s rr -b sh-port'),
    case('unknown scheduler flag', BASE, '-A -t 10.0.0.2:80 -s sh -b nosuch'),
    case('ipv6 netmask above 128', BASE, '-A -f 9 -6 -s rr -p 60 -M 129'),
    case('ipv6 netmask 0', BASE, '-A -f 9 -6 -s rr -p 60 -M 0'),
    case('netmask without persistence is ignored', BASE, '-A -t 10.0.0.2:80 -s rr -M 255.255.255.0'),
    case('ipv6 masq real server of an ipv4 service', BASE, '-a %s -r [2001:db8::1]:80 -m' % SVC),
    case('gue without a port', BASE, '-a %s -r 192.168.1.11 -i --tun-type gue' % SVC),
    case('unknown tunnel type', BASE, '-a %s -r 192.168.1.11 -i --tun-type vxlan' % SVC),
    case('tunnel options without tunnel forwarding', BASE, '-a %s -r 192.168.1.11 -m --tun-type gre' % SVC),
    case('tunnel port with ipip', BASE, '-a %s -r 192.168.1.11 -i --tun-port 6080' % SVC),
    case('checksum option with ipip', BASE, '-a %s -r 192.168.1.11 -i --tun-csum' % SVC),
    case('tunnel port 0', BASE, '-a %s -r 192.168.1.11 -i --tun-type gue --tun-port 0' % SVC),
    case('real server option on a service command', BASE, '-A -t 10.0.0.2:80 -s rr -r 192.168.1.11'),
    case('scheduler option on a real server command', BASE, '-a %s -r 192.168.1.11:8080 -m -s rr' % SVC),
    case('two commands', BASE, '-A -t 10.0.0.2:80 -D -t 10.0.0.1:80'),
    case('unknown option', BASE, '-a %s -r 192.168.1.11:8080 --bogus' % SVC),
    case('one-packet on a fwmark service', BASE, '-A -f 1 -s rr -o'),
    case('extra argument', BASE, '-D %s extra' % SVC),
    case('no service given', BASE, '-a -r 192.168.1.11:8080 -m'),
    case('no real server given', BASE, '-d %s' % SVC),
    case('ipv6 real server in brackets without a port', ['-A -f 1 -6 -s rr'], '-a -f 1 -6 -r [2001:db8::1] -g'),
    case('link-local ipv6 real server', ['-A -t [2001:db8::1]:80 -s rr'], '-a -t [2001:db8::1]:80 -r [fe80::1]:80 -m'),
    case('real server 0.0.0.0', BASE, '-a %s -r 0.0.0.0:80 -m' % SVC),
    case('listing a missing service', BASE, '-L -n --exact -t 10.0.0.2:80'),
    # --- what a write keeps and what it resets ---------------------------
    case('edit service resets what it does not state',
         ['-A %s -s sh -p 600 -M 255.255.255.0 -b sh-port' % SVC], '-E %s -s rr' % SVC, '-E %s' % SVC),
    case('edit real server resets what it does not state',
         BASE + ['-e %s -r 192.168.1.10:8080 -m -w 5 -x 10 -y 2' % SVC],
         '-e %s -r 192.168.1.10:8080 -m' % SVC, ['-L', '-n', '--thresholds']),
    case('real server defaults and port rules', BASE,
         '-a %s -r 192.168.1.11' % SVC, '-a %s -r 192.168.1.12:9999 -g' % SVC,
         '-a %s -r 192.168.1.13:9999 -i' % SVC, '-a %s -r 192.168.1.14:0 -m' % SVC,
         '-a %s -r 192.168.1.15 -m' % SVC, '-A -f 4 -s rr', '-a -f 4 -r 192.168.1.16 -m',
         '-a -f 4 -r 192.168.1.17:8080 -g'),
    case('bare persistence flag', BASE, '-A -t 10.0.0.2:80 -s rr -p', '-A -t 10.0.0.3:80 -s rr -p -o'),
    case('delete service takes its real servers', BASE, '-D %s' % SVC, '-A %s -s rr' % SVC),
    case('clear', BASE, '-C'),
    # --- ipvsadm -R: one line at a time, rc of the last line ------------
    case('restore: a refused line in the middle', BASE, restore(
        '-a %s -r 192.168.1.11:8080 -m\n-a %s -r 192.168.1.10:8080 -m\n-a %s -r 192.168.1.12:8080 -m\n'
        % (SVC, SVC, SVC))),
    case('restore: the last line refused', BASE, restore(
        '-a %s -r 192.168.1.11:8080 -m\n-e %s -r 192.168.1.99:8080 -m\n' % (SVC, SVC))),
    case('restore: every kind of refusal', BASE, restore(
        '-A %s -s rr\n-E -t 10.0.0.2:80 -s rr\n-D -t 10.0.0.2:80\n-a %s -r 192.168.1.10:8080 -m\n'
        '-e %s -r 192.168.1.99:8080 -m\n-d %s -r 192.168.1.99:8080\n-a -t 10.0.0.2:80 -r 192.168.1.1 -m\n'
        '-a %s -r 192.168.1.11:8080 -m -x 1 -y 2\n-A -t 10.0.0.2:80 -s fastest\n-A -t 10.0.0.3:80 -s rr\n'
        % (SVC, SVC, SVC, SVC, SVC))),
    case('restore: an ipvsadm error stops the batch', BASE, restore(
        '-a %s -r 192.168.1.11:8080 -m\n-a %s -r 192.168.1.12:8080 -m -w -1\n-a %s -r 192.168.1.13:8080 -m\n'
        % (SVC, SVC, SVC))),
    case('restore: an unknown option stops the batch', BASE, restore(
        '-a %s -r 192.168.1.11:8080 -m\n-a %s -r 192.168.1.12:8080 --bogus\n-a %s -r 192.168.1.13:8080 -m\n'
        % (SVC, SVC, SVC))),
    case('restore: comments and blank lines', BASE, restore(
        '# a comment\n-a %s -r 192.168.1.11:8080 -m\n\n   \n-a %s -r 192.168.1.12:8080 -m\n' % (SVC, SVC))),
    case('restore: a blank line', BASE, restore(
        '-a %s -r 192.168.1.11:8080 -m\n\n-a %s -r 192.168.1.12:8080 -m\n' % (SVC, SVC))),
    case('restore: a line without a command', BASE, restore(
        '-a %s -r 192.168.1.11:8080 -m\n-t 10.0.0.9:80 -s rr\n-a %s -r 192.168.1.12:8080 -m\n' % (SVC, SVC))),
    case('restore: the whole batch is fine', [], restore(
        '-A %s -s rr\n-a %s -r 192.168.1.11:8080 -m\n-e %s -r 192.168.1.11:8080 -m -w 4\n'
        '-D %s\n-A %s -s wrr\n' % (SVC, SVC, SVC, SVC, SVC))),
    # --- listings ---------------------------------------------------------
    case('listing: empty table', [], *LISTINGS),
    case('listing: full table', [restore(FULL)], *(LISTINGS + [
        '-L -n --exact -t 10.0.0.1:80', '-L -n --exact -f 2 -6', '-L -n --exact -u [2001:db8::2]:53',
        '-L -n --exact --thresholds -t 10.0.0.1:80'])),
    case('listing: sort order', [restore(ORDER)], *(LISTINGS + [
        '-L -n --exact -t 10.0.0.1:80', '-L -n --exact -t [2001:db8::1]:80'])),
    case('listing: flags, masks, tunnels', [restore(EDGE)], *(LISTINGS + ['-L -n --exact -f 3 -6'])),
]


def run(argv, stdin=None):
    proc = subprocess.run([IPVSADM] + argv, input=stdin, capture_output=True, text=True, check=False)
    return {'rc': proc.returncode, 'stdout': proc.stdout, 'stderr': proc.stderr}


def step(item):
    if isinstance(item, dict):
        return dict(item)
    return {'argv': item, 'stdin': None}


def capture(item):
    out = {'name': item['name'], 'setup': [], 'probes': []}
    if run(['-C'])['rc'] != 0:
        raise SystemExit('ipvsadm -C failed')
    for entry in item['setup']:
        entry = step(entry)
        result = run(entry['argv'], entry['stdin'])
        if result['rc'] != 0 or result['stderr']:
            raise SystemExit('setup of %r failed: %r' % (item['name'], result))
        out['setup'].append(entry)
    for entry in item['probes']:
        entry = step(entry)
        entry.update(run(entry['argv'], entry['stdin']))
        out['probes'].append(entry)
    out['save_after'] = run(['-S', '-n'])['stdout']
    return out


def main(path):
    version = subprocess.run([IPVSADM, '--version'], capture_output=True, text=True, check=False).stdout
    result = {'ipvsadm': version.strip(), 'kernel': os.uname().release,
              'cases': [capture(item) for item in CASES]}
    run(['-C'])
    with open(path, 'w') as handle:
        json.dump(result, handle, indent=1, sort_keys=True)
        handle.write('\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'ipvsadm_lab.json')
