#!/usr/bin/env bash
# A linker that links (clang++-22 with the same arguments), then says so in
# the file named by $LINGER_PIDFILE with its pid and keeps running: qwen3c,
# interrupted then, must stop it before removing its output.
clang++-22 "$@" || exit
echo $$ > "$LINGER_PIDFILE.tmp" && mv "$LINGER_PIDFILE.tmp" "$LINGER_PIDFILE"
exec sleep 120 >/dev/null 2>&1 </dev/null
