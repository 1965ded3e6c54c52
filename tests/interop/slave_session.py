#!/usr/bin/env python3
"""Drive `geosync slave file:///DIR --listen` over its stdin/stdout the way a gsyncd master does: one pickle
(protocol 2) per message, requests (rid, method, args...), answers (rid, is_exception, payload).

GlusterFS's own repce module is not installed at this stage, so this speaks the protocol with python3's pickle
directly, and builds Python 2 style frames (byte strings as SHORT_BINSTRING) by hand.

Each scenario prints one JSON object with what it observed; the Pester tests in tests/Host assert on it.
Usage: slave_session.py --geosync PATH --root DIR SCENARIO [--sync-jobs N] [--variant V]
"""

import argparse
import io
import json
import os
import pickle
import pickletools
import struct
import subprocess
import sys
import threading
import time

UUID = '6c1d8bf2-6d1b-4f0e-9e8e-3b1f2a4c5d6e'
XTIME_XATTR = 'trusted.glusterfs.%s.xtime' % UUID
# A slave that hangs must fail the test, not hang it.
DEADLINE_SECONDS = 120


class RecordingReader(io.RawIOBase):
    """Passes reads through and keeps the bytes of the current answer, to inspect the opcodes the slave chose."""

    def __init__(self, stream):
        super().__init__()
        self._stream = stream
        self.recorded = bytearray()

    def readable(self):
        return True

    def read(self, n=-1):
        data = self._stream.read(n)
        self.recorded += data
        return data

    def readline(self, size=-1):
        data = self._stream.readline(size)
        self.recorded += data
        return data


class Slave:
    def __init__(self, geosync, root, *extra):
        self.root = root
        self.proc = subprocess.Popen(
            [geosync, 'slave', 'file://' + root, '--listen'] + list(extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._stderr = []
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()
        self._killer = threading.Timer(DEADLINE_SECONDS, self.proc.kill)
        self._killer.daemon = True
        self._killer.start()
        self._reader = RecordingReader(self.proc.stdout)
        self._counter = 0

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line.decode('utf-8', 'replace'))

    def new_rid(self):
        # What gsyncd sends: (pid, thread id, time.time()); a counter stands in for the thread id.
        self._counter += 1
        return (os.getpid(), self._counter, time.time())

    def write(self, frame):
        self.proc.stdin.write(frame)
        self.proc.stdin.flush()

    def send(self, method, *args):
        rid = self.new_rid()
        self.write(pickle.dumps((rid, method) + args, protocol=2))
        return rid

    def receive(self, encoding='ASCII'):
        """One answer as (rid, is_exception, payload, raw frame bytes)."""
        self._reader.recorded = bytearray()
        rid, is_exception, payload = pickle.load(self._reader, encoding=encoding)
        return rid, is_exception, payload, bytes(self._reader.recorded)

    def call(self, method, *args):
        rid = self.send(method, *args)
        answer_rid, is_exception, payload, _ = self.receive()
        if answer_rid != rid:
            raise AssertionError('answer for %r came back for rid %r' % (rid, answer_rid))
        if is_exception:
            raise payload
        return payload

    def finish(self):
        """Close the master's end and collect exit code and log."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        code = self.proc.wait(DEADLINE_SECONDS)
        self._killer.cancel()
        self._stderr_reader.join(10)
        return code, ''.join(self._stderr)


def failure(call):
    """Run a call that should raise; describe the Python exception it raised."""
    try:
        result = call()
    except Exception as e:  # the slave's answer, re-raised as a Python exception
        return {'type': type(e).__name__, 'args': [a if isinstance(a, (int, str)) else repr(a) for a in e.args],
                'errno': getattr(e, 'errno', None)}
    return {'type': None, 'returned': repr(result)}


def scenario_calls(args):
    s = Slave(args.geosync, args.root)
    r = {}
    r['repce_version'] = s.call('__repce_version__')
    r['version'] = s.call('version')
    r['pid'] = s.call('pid')
    r['process_pid'] = s.proc.pid
    r['cwd'] = os.readlink('/proc/%d/cwd' % s.proc.pid)
    r['root'] = os.path.realpath(args.root)
    r['keep_alive'] = [s.call('keep_alive', None), s.call('keep_alive', None)]

    r['mkdir'] = s.call('mkdir', 'tree')
    r['mkdir_nested'] = s.call('mkdir', 'tree/sub')
    r['symlink'] = s.call('symlink', '../elsewhere/target', 'tree/link')
    r['tree_is_dir'] = os.path.isdir(os.path.join(args.root, 'tree/sub'))
    r['link_target'] = os.readlink(os.path.join(args.root, 'tree/link'))
    r['entries_root'] = sorted(s.call('entries', '.'))
    r['entries_tree'] = sorted(s.call('entries', 'tree'))
    r['entries_missing'] = failure(lambda: s.call('entries', 'no-such-dir'))

    r['xtime_unset'] = s.call('xtime', 'tree/sub', UUID)
    r['xtime_missing_path'] = s.call('xtime', 'no-such-dir', UUID)
    r['set_xtime'] = s.call('set_xtime', 'tree/sub', UUID, (1700000000, 123456))
    r['xtime_after_set'] = list(s.call('xtime', 'tree/sub', UUID))
    r['xattr_on_disk'] = os.getxattr(os.path.join(args.root, 'tree/sub'), XTIME_XATTR).hex()

    r['purge'] = s.call('purge', '.', {'tree'})
    r['tree_exists_after_purge'] = os.path.lexists(os.path.join(args.root, 'tree'))
    r['entries_after_purge'] = s.call('entries', '.')

    r['unsafe_absolute'] = failure(lambda: s.call('entries', '/etc'))
    r['unsafe_dotdot'] = failure(lambda: s.call('mkdir', 'a/../../escape'))
    r['underscore_method'] = failure(lambda: s.call('_create', 'x', None))
    r['dunder_method'] = failure(lambda: s.call('__init__'))
    r['unknown_method'] = failure(lambda: s.call('nosuch'))
    r['version_after_errors'] = s.call('version')

    r['exit_code'], r['stderr'] = s.finish()
    return r


def scenario_pipelined(args):
    """Every request is written before any answer is read; answers are matched to requests by rid."""
    for name in ('a', 'b', 'c'):
        os.mkdir(os.path.join(args.root, name))
    s = Slave(args.geosync, args.root)
    expected = {}
    frames = []
    for i in range(10):
        for method, call_args in (('keep_alive', (None,)), ('pid', ()), ('entries', ('.',)), ('xtime', ('a', UUID))):
            rid = s.new_rid()
            frames.append(pickle.dumps((rid, method) + call_args, protocol=2))
            expected[rid] = method
    s.write(b''.join(frames))

    answers = {}
    for _ in expected:
        rid, is_exception, payload, _ = s.receive()
        if is_exception:
            raise AssertionError('%s failed: %r' % (expected.get(rid), payload))
        answers.setdefault(rid, []).append(payload)

    by_method = {}
    for rid, method in expected.items():
        for payload in answers.get(rid, []):
            by_method.setdefault(method, []).append(sorted(payload) if method == 'entries' else payload)
    r = {
        'sent': len(expected),
        'answered_rids': len(answers),
        'answers_per_rid': sorted(set(len(v) for v in answers.values())),
        'unknown_rids': len(set(answers) - set(expected)),
        'keep_alive': sorted(by_method['keep_alive']),
        'pids': sorted(set(by_method['pid'])),
        'process_pid': s.proc.pid,
        'entries': [list(x) for x in sorted(set(tuple(e) for e in by_method['entries']))],
        'xtimes': sorted(set(by_method['xtime'])),
    }
    r['exit_code'], r['stderr'] = s.finish()
    return r


def scenario_concurrency(args):
    """A slow purge and a quick call written together: with several workers the quick answer overtakes the slow one."""
    big = os.path.join(args.root, 'big')
    os.mkdir(big)
    for i in range(args.files):
        os.close(os.open(os.path.join(big, 'f%05d' % i), os.O_CREAT | os.O_WRONLY, 0o644))
    s = Slave(args.geosync, args.root, '--sync-jobs', str(args.sync_jobs))
    slow = s.new_rid()
    quick = s.new_rid()
    s.write(pickle.dumps((slow, 'purge', 'big'), protocol=2) + pickle.dumps((quick, 'version'), protocol=2))
    order = []
    for _ in range(2):
        rid, is_exception, payload, _ = s.receive()
        if is_exception:
            raise AssertionError('call failed: %r' % (payload,))
        order.append('purge' if rid == slow else 'version' if rid == quick else repr(rid))
    r = {'order': order, 'big_exists': os.path.lexists(big)}
    r['exit_code'], r['stderr'] = s.finish()
    return r


def hostile_frame(marker, variant):
    """A pickle that runs `touch MARKER` in any unpickler that resolves GLOBAL names (as the original's did)."""
    call = b'cos\nsystem\n(V' + ('touch ' + marker).encode() + b'\ntR'
    if variant == 'top':
        return b'\x80\x02' + call + b'.'
    # A well-formed request whose argument is the call: ((rid), 'entries', os.system(...)).
    rid = b'(K\x01K\x02G' + struct.pack('>d', time.time()) + b't'
    return b'\x80\x02(' + rid + b'X\x07\x00\x00\x00entries' + call + b't.'


def scenario_hostile(args):
    workdir = os.path.dirname(os.path.abspath(args.root))
    marker = os.path.join(workdir, 'hostile-%s-marker' % args.variant)
    control = os.path.join(workdir, 'hostile-%s-control' % args.variant)
    r = {}
    # Control: the same frame really does run the command in CPython's own unpickler.
    subprocess.run([sys.executable, '-c', 'import pickle, sys; pickle.loads(sys.stdin.buffer.read())'],
                   input=hostile_frame(control, args.variant), check=False, capture_output=True)
    r['control_marker_created'] = os.path.exists(control)

    s = Slave(args.geosync, args.root)
    r['version_before'] = s.call('version')
    try:
        s.write(hostile_frame(marker, args.variant))
    except BrokenPipeError:
        pass
    # The slave must end the connection on its own, without the master closing its end.
    r['exit_code'] = s.proc.wait(30)
    _, r['stderr'] = s.finish()
    time.sleep(0.5)  # a command started by the slave would have had time to run
    r['marker_created'] = os.path.exists(marker)
    return r


def short_binstring(value):
    return b'U' + bytes([len(value)]) + value


def python2_request(method, *args, rid=None):
    """A request as Python 2's cPickle writes it: byte strings as SHORT_BINSTRING."""
    if rid is None:
        rid = b'(K\x07K\x08G' + struct.pack('>d', time.time()) + b't'
    return b'\x80\x02(' + rid + short_binstring(method) + b''.join(short_binstring(a) for a in args) + b't.'


# The rid of the spec's example frame (docs/protocol.md, "RePCe framing and messages"): BININT2 1234, text INT 140000000000, BINFLOAT 1700000000.5.
SPEC_RID = b'M\xd2\x04I140000000000\nG' + struct.pack('>d', 1700000000.5) + b'\x87'


def scenario_python2(args):
    s = Slave(args.geosync, args.root)
    r = {}

    def ask(frame):
        s.write(frame)
        rid, is_exception, payload, raw = s.receive(encoding='bytes')
        return rid, is_exception, payload, sorted(set(op.name for op, _, _ in pickletools.genops(raw)))

    r['version'] = ask(python2_request(b'version'))[2]
    r['mkdir'] = ask(python2_request(b'mkdir', b'py2dir'))[2]
    r['dir_on_disk'] = os.path.isdir(os.path.join(args.root, 'py2dir'))
    _, _, entries, opcodes = ask(python2_request(b'entries', b'.'))
    r['entries'] = [repr(e) for e in entries]
    r['entries_opcodes'] = opcodes

    rid, _, xtime, _ = ask(b'\x80\x02(' + SPEC_RID + short_binstring(b'xtime') + short_binstring(b'.')
                           + short_binstring(b'a1b2') + b't.')
    r['spec_rid'] = [repr(x) for x in rid]
    r['spec_xtime'] = xtime

    _, is_exception, error, opcodes = ask(python2_request(b'entries', b'/etc'))
    r['unsafe'] = {'is_exception': is_exception, 'type': type(error).__name__, 'args': [repr(a) for a in error.args]}
    r['unsafe_opcodes'] = opcodes

    _, is_exception, error, _ = ask(python2_request(b'_create', b'py2dir'))
    r['underscore'] = {'is_exception': is_exception, 'type': type(error).__name__}
    r['exit_code'], r['stderr'] = s.finish()
    return r


SCENARIOS = {
    'calls': scenario_calls,
    'pipelined': scenario_pipelined,
    'concurrency': scenario_concurrency,
    'hostile': scenario_hostile,
    'python2': scenario_python2,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--geosync', required=True, help='path of the geosync executable')
    parser.add_argument('--root', required=True, help='the slave root directory (must exist)')
    parser.add_argument('--sync-jobs', type=int, default=3)
    parser.add_argument('--files', type=int, default=20000, help='files in the directory the concurrency scenario purges')
    parser.add_argument('--variant', choices=('top', 'argument'), default='top')
    parser.add_argument('scenario', choices=sorted(SCENARIOS))
    args = parser.parse_args()
    json.dump(SCENARIOS[args.scenario](args), sys.stdout, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
