#!/usr/bin/env python3
"""A RePCe peer built on the gsyncd Python package GlusterFS installs (repce.py, resource.py), for GeoSync's
interoperability tests (tests/GeoSync.Engine.Tests/Interop).

    gsyncd_peer.py server
        Serves the class Peer on stdin/stdout with repce.RepceServer, the way a 10.x slave serves its resource class.
        Peer is 10.x's own slave class resource.Server (entries, lstat, xtime, set_xtime, ... on the working
        directory) plus probes that return or echo values of every wire type and raise chosen exceptions.

    gsyncd_peer.py client REPORT OUTSIDE
        Connects repce.RepceClient to stdin/stdout, where a slave must answer, runs the 10.x master's own handshake
        (resource.SSH.start_fd_client) and then a script of slave calls, checking every answer. Writes a JSON report
        to REPORT and exits 1 when a check failed. OUTSIDE is a directory outside the slave root that holds a file
        named 'f'; no call may reach into it.

The package is looked up in $GEOSYNC_GSYNCD_PYDIR, else in /usr/lib/x86_64-linux-gnu/glusterfs/python/syncdaemon. Run
with PYTHONDONTWRITEBYTECODE=1 so nothing is written into that directory. stdout carries RePCe frames only: logs and
tracebacks go to stderr.
"""

import errno
import json
import logging
import os
import struct
import sys
import time

DEFAULT_PYDIR = '/usr/lib/x86_64-linux-gnu/glusterfs/python/syncdaemon'
PYDIR = os.environ.get('GEOSYNC_GSYNCD_PYDIR') or DEFAULT_PYDIR
if not os.path.isfile(os.path.join(PYDIR, 'repce.py')):
    sys.exit('gsyncd_peer: there is no repce.py in %s; install GlusterFS (Debian: glusterfs-common) or point '
             'GEOSYNC_GSYNCD_PYDIR at the syncdaemon directory' % PYDIR)

# gsyncd itself runs with this directory first on sys.path (gsyncd.py lives there), so its resource.py shadows the
# standard library's 'resource' module there as well. Importing the modules needs nothing else: no stubs.
sys.path.insert(0, PYDIR)
import repce  # noqa: E402
import resource  # noqa: E402  (gsyncd's resource.py, see above)
import syncdutils  # noqa: E402

logging.basicConfig(stream=sys.stderr, level=logging.INFO, format='gsyncd_peer %(levelname)s %(message)s')

# Values of every wire type as Python 3 produces them; the GeoSync test lists what each must decode to.
SAMPLES = {
    'none': None,
    'true': True,
    'false': False,
    'small': 7,
    'negative': -1,
    'int32_max': 2 ** 31 - 1,
    'int64_min': -2 ** 63,
    'big': 2 ** 100,
    'negative_big': -2 ** 70,
    'float': 1.5,
    'text': 'h\u00e9llo \U0001f600',
    'escaped_name': os.fsdecode(b'name\xff'),
    'bytes': b'\x00\xffraw',
    'empty_bytes': b'',
    'tuple': (1, 'a', None),
    'empty_tuple': (),
    'list': [1, [2, 3]],
    'dict': {'k': {'n': 1}},
    'set': {1, 2, 3},
    'frozenset': frozenset(['a']),
}


class Peer(resource.Server):
    """10.x's slave primitives, plus probes. Served as a class, as gsyncd serves its resource classes."""

    @staticmethod
    def origin():
        """Where the RePCe code that answers came from, so a test can tell it is GlusterFS's own."""
        return {'repce': os.path.abspath(repce.__file__), 'resource': os.path.abspath(resource.__file__),
                'pickle_proto': repce.pickle_proto, 'repce_version': repce.repce_version,
                'python': '%d.%d.%d' % sys.version_info[:3]}

    @staticmethod
    def samples():
        return SAMPLES

    @staticmethod
    def echo(*values):
        return values

    @staticmethod
    def types(*values):
        """How Python decoded each argument."""
        return [type(v).__name__ for v in values]

    @staticmethod
    def fsencode(name):
        """The bytes a name stands for, as os.fsencode sees them (surrogate escapes back to raw bytes)."""
        return os.fsencode(name)

    @staticmethod
    def fail_os():
        raise OSError(errno.ENOENT, os.strerror(errno.ENOENT))

    @staticmethod
    def fail_value():
        raise ValueError('unsafe path')

    @staticmethod
    def fail_gsyncd():
        raise syncdutils.GsyncdError('raised by the peer on purpose')

    @staticmethod
    def sleep(seconds, tag):
        time.sleep(seconds)
        return tag


def serve():
    # Exactly how a 10.x slave starts serving: the class, stdin and stdout (text streams; repce reads stdin's buffer
    # and writes stdout's descriptor), sync-jobs (3) workers.
    server = repce.RepceServer(Peer, sys.stdin, sys.stdout, 3)
    server.service_loop()
    return 0


class Report(object):
    def __init__(self):
        self.checks = []
        self.facts = {}

    def add(self, name, ok, detail):
        self.checks.append({'name': name, 'ok': bool(ok), 'detail': detail})
        if not ok:
            logging.error('check %s failed: %s', name, detail)

    def equal(self, name, actual, expected):
        # Types matter too: a tuple must not come back as a list, an int not as a bool.
        ok = actual == expected and type(actual) is type(expected)
        self.add(name, ok, 'got %r, expected %r' % (actual, expected))

    def raises(self, name, exc_type, call, *args, **expect):
        try:
            result = call(*args)
        except exc_type as ex:
            wanted_errno = expect.get('errno')
            wanted_args = expect.get('args')
            ok = ((wanted_errno is None or ex.errno == wanted_errno)
                  and (wanted_args is None or ex.args == wanted_args))
            self.add(name, ok, 'raised %s%r' % (type(ex).__name__, ex.args))
        except Exception as ex:
            self.add(name, False, 'raised %s%r instead of %s' % (type(ex).__name__, ex.args, exc_type.__name__))
        else:
            self.add(name, False, 'returned %r instead of raising %s' % (result, exc_type.__name__))

    def run(self, name, call, *args):
        """A step whose answer is checked later (by a following call or by the test on disk); it must not raise."""
        try:
            return call(*args)
        except Exception as ex:
            self.add(name, False, 'raised %s%r' % (type(ex).__name__, ex.args))
            return None

    @property
    def failed(self):
        return [c['name'] for c in self.checks if not c['ok']]


UUID = '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'
OTHER_UUID = '0a1b2c3d-4e5f-4a6b-8c7d-9e8f7a6b5c4d'


def foreign_mark_bytes(payload):
    """The foreign volume mark a keep-alive payload stands for, packed with 10.x's own format string."""
    return struct.pack(resource.Server.FRGN_FMTSTR, *payload['version'], *bytes.fromhex(payload['uuid'].replace('-', '')),
                       payload['retval'], *payload['volume_mark'], payload['timeout'])


def drive(report, outside):
    # The 10.x master's own connection code: RepceClient on the slave's pipes, the version handshake (raising
    # GsyncdError on a major mismatch), then pid() for the /proc/<pid>/cwd slave URL.
    ssh = resource.SSH('geosync-interop', 'svol')
    ssh.start_fd_client(sys.stdin.buffer, sys.stdout.buffer)
    slave = ssh.server
    report.facts['secondaryurl'] = ssh.secondaryurl
    report.facts['repce'] = os.path.abspath(repce.__file__)
    report.equal('version_dict', slave.__version__(), {'proto': 1.0, 'object': 1.0})

    report.equal('keep_alive_none_1', slave.keep_alive(None), 1)
    report.equal('keep_alive_none_2', slave.keep_alive(None), 2)
    payload = {'version': (1, 0), 'uuid': UUID, 'retval': 0, 'volume_mark': (1700000000, 250000),
               'timeout': int(time.time()) + 3600}
    report.equal('keep_alive_payload', slave.keep_alive(payload), 3)
    report.facts['foreign_mark_hex'] = foreign_mark_bytes(payload).hex()
    report.equal('foreign_volume_infos', slave.foreign_volume_infos(), [payload])

    report.equal('mkdir', slave.mkdir('d'), None)
    report.equal('mkdir_nested', slave.mkdir('d/sub'), None)
    report.equal('mkdir_non_ascii', slave.mkdir('caf\u00e9'), None)
    report.equal('symlink', slave.symlink('target/x', 'link'), None)
    report.equal('symlink_escaped_name', slave.symlink(os.fsdecode(b't\xfe'), os.fsdecode(b'x\xff')), None)
    report.equal('entries_sub', slave.entries('d'), ['sub'])

    report.equal('set_xtime_root', slave.set_xtime('.', UUID, (1700000000, 123456)), None)
    report.equal('set_xtime', slave.set_xtime('d', UUID, (1700000001, 5)), None)
    report.equal('xtime', slave.xtime('d', UUID), (1700000001, 5))
    report.equal('xtime_root', slave.xtime('.', UUID), (1700000000, 123456))
    report.equal('xtime_missing_xattr', slave.xtime('d', OTHER_UUID), errno.ENODATA)
    report.equal('xtime_missing_path', slave.xtime('nosuch', UUID), errno.ENOENT)
    report.equal('xtime_vec', slave.xtime_vec('d', UUID, OTHER_UUID), {UUID: (1700000001, 5), OTHER_UUID: None})

    # mkdir over something else replaces it, as 3.3's _create did.
    report.run('symlink_in_the_way', slave.symlink, 't', 'replace')
    report.equal('mkdir_replaces_symlink', slave.mkdir('replace'), None)
    report.equal('entries_replaced', slave.entries('replace'), [])

    for path in ('tree', 'tree/a', 'tree/a/b'):
        report.run('mkdir ' + path, slave.mkdir, path)
    report.run('symlink tree/a/l', slave.symlink, 'x', 'tree/a/l')
    report.equal('purge_tree', slave.purge('tree'), None)
    for path in ('box', 'box/k1', 'box/k2', 'box/k3'):
        report.run('mkdir ' + path, slave.mkdir, path)
    report.equal('purge_set', slave.purge('box', {'k1', 'k2'}), None)
    report.equal('entries_after_purge_set', slave.entries('box'), ['k3'])
    # GeoSync: an empty container purges nothing (a 10.x slave would empty the directory).
    report.equal('purge_empty_set', slave.purge('box', set()), None)
    report.equal('entries_after_purge_empty_set', slave.entries('box'), ['k3'])
    report.equal('purge_missing', slave.purge('nosuch'), None)

    report.equal('entries_root', sorted(slave.entries('.')),
                 sorted(['d', 'caf\u00e9', 'link', os.fsdecode(b'x\xff'), 'replace', 'box']))

    report.raises('entries_absolute', ValueError, slave.entries, '/etc', args=('unsafe path',))
    report.raises('entries_dotdot', ValueError, slave.entries, '../x', args=('unsafe path',))
    report.raises('entries_missing', FileNotFoundError, slave.entries, 'nosuch', errno=errno.ENOENT)
    report.raises('entries_symlink', NotADirectoryError, slave.entries, 'link', errno=errno.ENOTDIR)
    report.raises('set_xtime_missing', FileNotFoundError, slave.set_xtime, 'nosuch', UUID, (1, 2), errno=errno.ENOENT)

    # A symlink to a directory outside the root may be created (its target is content), never passed through.
    report.equal('symlink_outside', slave.symlink(outside, 'escape'), None)
    report.raises('mkdir_through_symlink', ValueError, slave.mkdir, 'escape/planted', args=('unsafe path',))
    report.raises('purge_through_symlink', ValueError, slave.purge, 'escape/f', args=('unsafe path',))
    report.raises('set_xtime_through_symlink', ValueError, slave.set_xtime, 'escape/f', UUID, (1, 2),
                  args=('unsafe path',))
    report.raises('entries_through_symlink', ValueError, slave.entries, 'escape/.', args=('unsafe path',))

    report.raises('unknown_method', AttributeError, slave.nosuch)
    report.raises('internal_method', AttributeError, slave._create, 'x', None)
    report.raises('ten_x_entry_ops', AttributeError, slave.entry_ops, [])

    # The connection survived every error above.
    report.equal('keep_alive_after_errors', slave.keep_alive(None), 4)


def client(report_path, outside):
    report = Report()
    try:
        drive(report, outside)
    except Exception as ex:
        logging.exception('the call script stopped')
        report.add('script_completed', False, 'stopped by %s%r' % (type(ex).__name__, ex.args))
    else:
        report.add('script_completed', True, 'every call answered')
    with open(report_path, 'w', encoding='utf-8') as out:
        json.dump({'checks': report.checks, 'facts': report.facts}, out, indent=1)
    failed = report.failed
    if failed:
        logging.error('%d checks failed: %s', len(failed), ', '.join(failed))
    return 1 if failed else 0


def main(argv):
    if argv[1:2] == ['server'] and len(argv) == 2:
        return serve()
    if argv[1:2] == ['client'] and len(argv) == 4:
        return client(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
