"""Runs a command under limits the tests need, and reports how it ended.

  run_limited.py [--fsize BYTES] [--interrupt-after SECONDS] [--print-peak-rss] -- CMD...

--fsize sets RLIMIT_FSIZE (a disk that is full after BYTES per file);
--interrupt-after sends SIGINT (as Ctrl-C does) after SECONDS, and the exit
status is 0 only if the command was still running and died of it;
--print-peak-rss prints the command's peak resident set in KiB on stdout.
Otherwise exits with the command's status.
"""
import argparse
import resource
import signal
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("--fsize", type=int)
p.add_argument("--interrupt-after", type=float)
p.add_argument("--print-peak-rss", action="store_true")
p.add_argument("cmd", nargs=argparse.REMAINDER)
a = p.parse_args()
cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd


def limits():
    if a.fsize is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (a.fsize, a.fsize))


proc = subprocess.Popen(cmd, preexec_fn=limits)
if a.interrupt_after is not None:
    try:
        proc.wait(timeout=a.interrupt_after)
        print("run_limited: the command ended before the interrupt", file=sys.stderr)
        sys.exit(1)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait()
        sys.exit(0 if rc == -signal.SIGINT else 1)
rc = proc.wait()
if a.print_peak_rss:
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc if rc >= 0 else 128 - rc)
