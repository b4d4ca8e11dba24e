#!/bin/bash
# The `home` service of docker-compose.yml: the device simulator and the gateway in one container.
# The simulator's serial devices are PTY pairs made by socat, and a PTY lives in the devpts of the
# container that made it: a symlink in a shared volume would point at another container's /dev/pts/N.
# When either program stops, the other is stopped too and the container exits non-zero, so its restart
# policy starts both again. SIGTERM (docker compose stop) stops both cleanly.
set -uo pipefail

homebed-sim run --config /etc/homebed/sim.yaml &
sim=$!

stop() {
  kill -TERM "$sim" ${gateway:+"$gateway"} 2>/dev/null
  wait
  exit 0
}
trap stop TERM INT

# The control API starts last, once the PTYs exist: the gateway then finds its ports at once
# (it would also keep retrying them, but would report the serial links lost meanwhile).
for _ in $(seq 1 60); do
  if node -e "fetch('http://127.0.0.1:7390/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
    break
  fi
  kill -0 "$sim" 2>/dev/null || break
  sleep 0.5
done

homebed-gateway run --config /etc/homebed/gateway.yaml &
gateway=$!

wait -n "$sim" "$gateway"
status=$?
echo "home: a program stopped (exit $status); stopping the other" >&2
kill -TERM "$sim" "$gateway" 2>/dev/null
wait
exit $((status == 0 ? 1 : status))
