"""A host's state, as lines in a fixed order (run on the host, standard library only).

What the lifecycle verifier compares after each version and each reboot:
the IPVS rules with their thresholds, addresses, routes, dummy and tunnel
links, the ARP/rp_filter/forwarding/IPVS sysctls, the nftables ruleset, and
the files where the collection could leave something (sysctl.d,
modules-load.d, units, its state folders, the ipvsadm rules and defaults),
with the settings they hold, and the loaded kernel modules. Nothing here knows what the collection writes:
it reads the host.
"""
import glob
import json
import os
import subprocess


def run(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return ''


def ipvs():
    lines = ['ipvs ' + line for line in run('ipvsadm', '-S', '-n').splitlines()]
    service = None
    for line in run('ipvsadm', '-L', '-n', '--thresholds').splitlines():
        words = line.split()
        if words[:1] in (['TCP'], ['UDP'], ['SCTP'], ['FWM']):
            service = ' '.join(words[:2])
        elif words[:1] == ['->'] and words[1] != 'RemoteAddress:Port' and words[2:4] != ['0', '0']:
            lines.append('threshold %s %s -x %s -y %s' % (service, words[1], words[2], words[3]))
    return lines


def network():
    lines = []
    for link in json.loads(run('ip', '-j', '-d', 'addr', 'show') or '[]'):
        kind = link.get('linkinfo', {}).get('info_kind')
        if kind in ('dummy', 'ipip'):
            lines.append('link %s %s %s' % (link['ifname'], kind, 'up' if 'UP' in link['flags'] else 'down'))
        for addr in link.get('addr_info', []):
            if addr.get('scope') != 'link':
                lines.append('addr %s %s/%s' % (link['ifname'], addr['local'], addr['prefixlen']))
    lines += ['route ' + r.strip() for r in run('ip', 'route', 'show', 'table', 'main').splitlines()]
    lines += ['route ' + r.strip() for r in run('ip', '-6', 'route', 'show', 'table', 'main').splitlines()
              if not r.startswith(('fe80', 'multicast'))]
    return lines


def sysctls():
    keys = ['net/ipv4/ip_forward'] + glob.glob('/proc/sys/net/ipv4/vs/*')
    for conf in sorted(glob.glob('/proc/sys/net/ipv4/conf/*')):
        keys += [conf + '/' + name for name in ('arp_ignore', 'arp_announce', 'rp_filter')]
    lines = []
    for key in keys:
        path = key if key.startswith('/') else '/proc/sys/' + key
        if os.path.isfile(path):
            with open(path) as f:
                lines.append('sysctl %s %s' % (path[len('/proc/sys/'):].replace('/', '.'), f.read().strip()))
    return lines


def settings(path):
    """A file's settings: its lines but comments and blank ones."""
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith('#')]


FILES = ['/etc/sysctl.d/*', '/etc/modules-load.d/*', '/etc/systemd/system/*.service',
         '/etc/systemd/system/multi-user.target.wants/*', '/etc/lvs-cluster', '/etc/lvs-cluster/*',
         '/var/lib/lvs-cluster', '/var/lib/lvs-cluster/*', '/etc/ipvsadm.rules', '/etc/keepalived/*']
# Where the settings count, not only that the file is there.
CONTENT = ['/etc/sysctl.d/*lvs*', '/etc/modules-load.d/*lvs*', '/etc/ipvsadm.rules']


def files():
    lines = []
    for pattern in FILES:
        lines += ['file ' + p for p in glob.glob(pattern) if os.path.lexists(p)]
    for pattern in CONTENT:
        for path in glob.glob(pattern):
            lines += ['setting %s %s' % (path, s) for s in settings(path)]
    if os.path.isfile('/etc/default/ipvsadm'):
        lines += ['setting /etc/default/ipvsadm ' + s for s in settings('/etc/default/ipvsadm') if s.startswith('AUTO=')]
    lines += ['nft ' + line.strip() for line in run('nft', 'list', 'ruleset').splitlines() if line.strip()]
    return lines


def modules():
    """The loaded kernel modules (what lsmod lists)."""
    with open('/proc/modules') as f:
        return ['module ' + line.split()[0] for line in f]


if __name__ == '__main__':
    print('\n'.join(sorted(set(ipvs() + network() + sysctls() + files() + modules()))))
