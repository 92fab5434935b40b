# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every declared range and choice list at its edges, wherever users give it.

The cases come from the declarations (ipvs_schema, model_schema, and the
modules' own options lists): a new field, bound or choice gets its cases
without an edit here, and one that a module or the data model's check stops
enforcing fails them. What each case expects comes from the declaration and
plain arithmetic (both ends taken, one past each end refused) or plain string
edits (another case, a trailing space, empty, another field's choice), never
from the code under test.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_schema as s
from ansible_collections.lvs.cluster.plugins.module_utils import model_schema as ms
from ansible_collections.lvs.cluster.plugins.modules import ipvs_dest, ipvs_service, ipvs_table
from ansible_collections.lvs.cluster.plugins.plugin_utils import model_check as mc
from ansible_collections.lvs.cluster.tests.unit.conftest import fake_kernel
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, run_module

ROOT = Path(__file__).resolve().parents[2]

VIP, VIP6, RIP, RIP6 = '198.51.100.100', '2001:db8::100', '203.0.113.11', '2001:db8::11'

# ---------------------------------------------------------------- what is declared

# An int option without a Number states its range in its documentation, the
# contract users read ("Virtual port, 0 to 65535"): that text is the declaration.
_RANGE_TEXT = re.compile(r'\b(\d+) to (\d+)\b')


def declared_range(option):
    """(lowest, highest) an int option declares, or None."""
    if option.type != 'int':
        return None
    if option.number:
        return option.number.minimum, option.number.maximum
    found = _RANGE_TEXT.findall(' '.join(option.doc))
    assert len(found) <= 1, 'ambiguous range in the doc of %s: %s' % (option.name, found)
    return (int(found[0][0]), int(found[0][1])) if found else None


# int fields whose range is declared nowhere, and where their limits are tested instead
UNDECLARED = {
    ('real_server', 'port'): 'test_ipvs_validate DEST_EDGES (0 to 65535)',
    ('real_server', 'tun_port'): 'test_ipvs_validate DEST_EDGES (1 to 65535)',
    ('service', 'quorum'): "keepalived's own check (test_keepalived)",
    ('service', 'hysteresis'): "keepalived's own check (test_keepalived)",
}


def items(options, name):
    return s.find(options, name).items


# Where users give values: each module's options (the service's, its real
# servers', the rest) and the data model the roles check with checked_model.
# ipvs_dest names the service's address and port virtual_address and virtual_port.
DEST_KEY_NAMES = {'address': 'virtual_address', 'port': 'virtual_port'}
KEY_NAMES = frozenset(o.name for o in s.SERVICE_KEY)
DEST_NAMES = frozenset(o.name for o in s.DEST_OPTIONS)
POINTS = {
    'ipvs_service': dict(service=[o for o in ipvs_service.OPTIONS if o.name != 'real_servers'],
                         real_server=items(ipvs_service.OPTIONS, 'real_servers'), top=[]),
    'ipvs_table': dict(service=[o for o in items(ipvs_table.OPTIONS, 'services') if o.name != 'real_servers'],
                       real_server=items(items(ipvs_table.OPTIONS, 'services'), 'real_servers'),
                       top=[o for o in ipvs_table.OPTIONS if o.name not in ('services', 'services_json')]),
    'ipvs_dest': dict(service=s.SERVICE_KEY, real_server=s.DEST_OPTIONS,
                      top=[o for o in ipvs_dest.OPTIONS if o.name not in DEST_NAMES | KEY_NAMES
                           and o.name not in DEST_KEY_NAMES.values()]),
    'model': dict(service=[o for o in ms.SERVICE if o.name != 'real_servers'], real_server=ms.REAL_SERVER, top=[]),
}
ALL_CHOICES = [c for point in POINTS.values() for options in point.values() for o in options for c in o.choices or ()]


def near_misses(option):
    """Values a user may mean as a choice but that are none: other case, a trailing space, empty, another field's.

    One of each kind: a check that folds case or strips does so for every choice.
    """
    first = option.choices[0]
    return [v for v in (first.upper(), first + ' ') if v not in option.choices] + \
        ['', next(c for c in ALL_CHOICES if c not in option.choices)]


def cases():
    for point, scopes in POINTS.items():
        for scope, options in scopes.items():
            for o in options:
                edge = declared_range(o)
                if edge:
                    lo, hi = edge
                    for value, ok in ((lo, True), (hi, True), (lo - 1, False), (hi + 1, False)):
                        yield pytest.param(point, scope, o.name, value, ok, id='%s-%s-%s=%r' % (point, scope, o.name, value))
                choices = [(c, True) for c in o.choices] + [(c, False) for c in near_misses(o)] if o.choices else []
                for value, ok in choices:
                    value = [value] if o.type == 'list' else value
                    yield pytest.param(point, scope, o.name, value, ok, id='%s-%s-%s=%r' % (point, scope, o.name, value))


# ---------------------------------------------------------------- a case, given

def placed(scope, name, value):
    """(service, real server, other options) giving value, with what the docs say it needs to be taken."""
    service, rs, top = dict(address=VIP, port=80), dict(address=RIP), {}
    dict(service=service, real_server=rs, top=top)[scope][name] = value
    if scope == 'service':
        _service_needs(service, rs, name, value)
    elif scope == 'real_server' and name == 'l_threshold':  # at most the upper threshold
        rs['u_threshold'] = s.find(s.DEST_OPTIONS, 'u_threshold').number.maximum
    elif scope == 'real_server' and name == 'tun_type':  # tunnel options need tun; GUE needs its port
        rs['forwarding'] = 'tun'
        if value == 'gue':
            rs['tun_port'] = 6080
    return service, rs, top


def _service_needs(service, rs, name, value):
    if name in ('fwmark', 'protocols'):  # a fwmark service has no address or port
        del service['address'], service['port']
        if name == 'protocols':  # the traffic it marks: to its vips, on these ports
            service.update(fwmark=1, vips=[VIP], ports=[80])
    elif name == 'port' and value == 0:  # "only accepted for persistent services"
        service['persistent'] = True
    elif name == 'family' and value == 'ipv6':
        service['address'], rs['address'] = VIP6, RIP6
    elif name == 'scheduler_flags' and value[0].split('-')[0] in s.find(s.SERVICE_OPTIONS, 'scheduler').choices:
        service['scheduler'] = value[0].split('-')[0]  # sh-port fits scheduler sh only


def module_args(point, service, rs, top):
    if point == 'ipvs_service':
        return dict(service, real_servers=[rs], **top)
    if point == 'ipvs_table':
        return dict(top, services=[dict(service, real_servers=[rs])])
    key = dict((DEST_KEY_NAMES.get(k, k), v) for k, v in service.items() if k in KEY_NAMES)
    return dict(key, **dict(rs, **top))


def field_path(point, scope, name):
    """The field as the user wrote it, as an error must name it."""
    if point == 'ipvs_dest':
        return DEST_KEY_NAMES.get(name, name) if scope == 'service' else name
    service = {'ipvs_service': '', 'ipvs_table': 'services[0].', 'model': 'lvs_virtual_services[0].'}[point]
    return {'top': '', 'service': service, 'real_server': service + 'real_servers[0].'}[scope] + name


def submit(point, service, rs, top):
    """(error message or None, the field the failure names or None, the service and real server returned)."""
    if point == 'model':
        try:
            mc.check_model([dict(service, real_servers=[rs])])
        except AnsibleFilterError as exc:
            return str(exc), None, None, None
        return None, None, None, None
    module = dict(ipvs_service=ipvs_service, ipvs_table=ipvs_table, ipvs_dest=ipvs_dest)[point]
    host = FakeHost(netlink=True)
    if point == 'ipvs_dest':  # a real server joins an existing service
        try:
            run_module(ipvs_service, dict((k, v) for k, v in service.items() if k in KEY_NAMES | {'persistent'}), host)
        except AnsibleFail:
            pass  # a value refused here is ipvs_dest's to refuse too, before it reads the host
        host.calls, host.netlink_sends = [], []
    try:
        result = run_module(module, module_args(point, service, rs, top), host, check_mode=True)
    except AnsibleFail as exc:
        failure = exc.args[0]
        assert host.calls == [] and host.netlink_sends == [], failure  # refused before the host is read
        return failure['msg'], failure.get('field'), None, None
    if point == 'ipvs_dest':
        return None, None, None, result['real_server']
    svc = (result['services'] or [None])[0] if point == 'ipvs_table' else result['service']
    rss = (svc or {}).get('real_servers') if point == 'ipvs_table' else result['real_servers']
    return None, None, svc, (rss or [None])[0]


# ---------------------------------------------------------------- the tests

@pytest.fixture(scope='module')
def kernel(tmp_path_factory):
    """conftest's kernel, once for this module's many runs (a directory per case costs more than the case)."""
    with pytest.MonkeyPatch.context() as patch:
        yield fake_kernel(tmp_path_factory.mktemp('kernel'), patch)


@pytest.mark.parametrize('point, scope, name, value, ok', list(cases()))
def test_declared_edges_are_enforced_where_users_give_them(kernel, point, scope, name, value, ok):
    message, field, svc, rs = submit(point, *placed(scope, name, value))
    path = field_path(point, scope, name)
    if ok:
        assert message is None
        # taken as given (not clamped): the returned service or real server shows it, where it returns the field
        returned = dict(service=svc, real_server=rs).get(scope) or {}
        if declared_range(s.find(POINTS[point][scope], name)) and name in returned:
            assert returned[name] == value
    else:
        # "<path>: ..." from the collection's checks, "value of <path> must be ..." from AnsibleModule's
        assert message is not None and re.match(r'(value of )?%s\b' % re.escape(path), message), (path, message)
        assert field in (None, path)  # a failure of the collection's own checks names it in its field key too


def test_every_int_field_declares_its_range_or_says_where_it_is_tested():
    found = set((scope, o.name) for point in POINTS.values() for scope, options in point.items()
                for o in options if o.type == 'int' and declared_range(o) is None)
    # drain_timeout is checked by check_drain (0 or more, no upper end)
    assert found - set(UNDECLARED) == {('service', 'drain_timeout'), ('top', 'drain_timeout')}
    assert set(UNDECLARED) <= found  # an entry outlives its field: drop it


def test_the_generated_cases_cover_the_known_declarations():
    """A guard on the generator itself: the ranges and choices named in the docs are found."""
    got = set((point, scope, name) for point, scope, name, _v, _ok in (c.values for c in cases()))
    for point, scope, name in [('ipvs_service', 'service', 'port'), ('ipvs_service', 'service', 'fwmark'),
                               ('ipvs_service', 'service', 'persistence_timeout'), ('ipvs_dest', 'service', 'port'),
                               ('ipvs_table', 'real_server', 'weight'), ('model', 'real_server', 'l_threshold'),
                               ('model', 'service', 'protocols'), ('ipvs_table', 'top', 'backend'),
                               ('ipvs_dest', 'top', 'state'), ('model', 'real_server', 'tun_type')]:
        assert (point, scope, name) in got


# ---------------------------------------------------------------- the director role's own options

@functools.lru_cache(maxsize=None)
def _role_options(role):
    with open('%s/roles/%s/meta/argument_specs.yml' % (ROOT, role)) as spec:
        return yaml.safe_load(spec)['argument_specs']['main']['options']


@pytest.mark.parametrize('value, ok', [(c, True) for c in s.BACKEND.choices] + [(c, False) for c in near_misses(s.BACKEND)])
def test_the_director_roles_backend_takes_the_modules_choices(value, ok):
    """director_ipvs_backend is generated from ipvs_table's backend; Ansible checks it against the role's spec."""
    validator = ArgumentSpecValidator({'director_ipvs_backend': _role_options('director')['director_ipvs_backend']})
    errors = validator.validate({'director_ipvs_backend': value}).error_messages
    assert errors == [] if ok else errors and 'director_ipvs_backend' in errors[0]
