# Sourced by the bench scripts: starting and stopping the server under test.
# Expects `log` to be defined; `python` may name the interpreter to use
# (default /usr/bin/python3, Debian's). Sets a trap that stops the server
# when the script exits.

server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

free_port() {
  "${python:-/usr/bin/python3}" -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_port PORT: until a connection to 127.0.0.1:PORT succeeds (10 s).
wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  log "server on port $1 did not come up"
  return 1
}

# pin CPUS COMMAND...: COMMAND confined to CPUS, where taskset exists. The
# command replaces the (background) subshell, so $! is its pid, which the
# benches sample.
pin() {
  local cpus=$1
  shift
  if command -v taskset >/dev/null; then
    exec taskset -c "$cpus" "$@"
  fi
  exec "$@"
}
