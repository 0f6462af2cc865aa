"""Runs a command under limits the tests need, and reports how it ended.

  run_limited.py [--fsize BYTES] [--interrupt-at PHASE | --interrupt-when-exists PATH]
                 [--print-peak-rss] -- CMD...

--fsize sets RLIMIT_FSIZE (a disk that is full after BYTES per file).
--interrupt-at runs qwen3c with QWEN3C_TEST_PAUSE_AT=PHASE (see
frontend/PhaseHook.h) and sends SIGINT, as Ctrl-C does, once qwen3c says on
stderr that it is paused there; --interrupt-when-exists sends it once PATH
exists. Either way the interrupt lands at a named point whatever the
machine's speed, and the exit status is 0 only if the command was still
running and died of it.
--print-peak-rss prints the command's peak resident set in KiB on stdout.
Otherwise exits with the command's status.
"""
import argparse
import os
import resource
import signal
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--fsize", type=int)
p.add_argument("--interrupt-at")
p.add_argument("--interrupt-when-exists")
p.add_argument("--print-peak-rss", action="store_true")
p.add_argument("cmd", nargs=argparse.REMAINDER)
a = p.parse_args()
cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
# A safety net against a hang, far above any build the tests run.
LIMIT_SECONDS = 900


def limits():
    if a.fsize is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (a.fsize, a.fsize))


def interrupted(proc):
    proc.send_signal(signal.SIGINT)
    if proc.stderr:
        sys.stderr.write(proc.stderr.read())
    rc = proc.wait(timeout=LIMIT_SECONDS)
    sys.exit(0 if rc == -signal.SIGINT else 1)


if a.interrupt_at:
    env = dict(os.environ, QWEN3C_TEST_PAUSE_AT=a.interrupt_at)
    proc = subprocess.Popen(cmd, preexec_fn=limits, env=env, stderr=subprocess.PIPE, text=True)
    want = "qwen3c: paused at %s\n" % a.interrupt_at
    for line in proc.stderr:
        if line == want:
            interrupted(proc)
        sys.stderr.write(line)
    proc.wait()
    print("run_limited: the command ended before reaching phase %s" % a.interrupt_at, file=sys.stderr)
    sys.exit(1)

proc = subprocess.Popen(cmd, preexec_fn=limits)
if a.interrupt_when_exists:
    deadline = time.monotonic() + LIMIT_SECONDS
    while not os.path.exists(a.interrupt_when_exists):
        if proc.poll() is not None:
            print("run_limited: the command ended before %s appeared" % a.interrupt_when_exists, file=sys.stderr)
            sys.exit(1)
        if time.monotonic() > deadline:
            proc.kill()
            print("run_limited: %s never appeared" % a.interrupt_when_exists, file=sys.stderr)
            sys.exit(1)
        time.sleep(0.01)  # polling for the file, not a guess at the build's speed
    interrupted(proc)
rc = proc.wait()
if a.print_peak_rss:
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc if rc >= 0 else 128 - rc)
