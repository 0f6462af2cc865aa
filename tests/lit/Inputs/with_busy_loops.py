"""Runs a command while N other processes spin on the CPU, as a busy
machine's compiler or browser would; stops them when the command ends.

  with_busy_loops.py N -- CMD...

Exits with the command's status. The loops are bounded by the command.
"""
import subprocess
import sys

n = int(sys.argv[1])
cmd = sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:]
loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
try:
    rc = subprocess.call(cmd)
finally:
    for p in loops:
        p.kill()
        p.wait()
sys.exit(rc if rc >= 0 else 128 - rc)
