#!/bin/sh
# homebed-healthcheck.service (every 2 minutes by homebed-healthcheck.timer); root, POSIX sh.
# systemd restarts the programs whenever they exit (Restart=always) but cannot see a hung one (they do
# not speak sd_notify, so no WatchdogSec=) and gives up after a crash loop (StartLimitBurst=). Here:
#   - an enabled unit in state `failed` is reset and started again (a crash loop is retried every few
#     minutes instead of never);
#   - a relay active for more than a minute whose GET /healthz does not answer within 10 s is restarted;
#     one answering 503 (`degraded`: its MQTT broker is not connected) is only reported, since a restart
#     would not bring the broker back;
#   - with HOMEBED_GATEWAY_HEALTH_URL set (the gateway's ops server, ops.host:ops.port, /healthz), a
#     gateway active for more than a minute whose /healthz does not answer within 10 s is restarted.
#     Opt-in: with `ops.enabled: false` nothing answers there, and a restart every two minutes would
#     be worse than none.
# Exit status 1 when anything was wrong, so `systemctl status homebed-healthcheck` shows the last problem.
set -u
url="${HOMEBED_CLOUD_HEALTH_URL:-http://127.0.0.1:8080/healthz}"
gateway_url="${HOMEBED_GATEWAY_HEALTH_URL:-}"
problems=0

active_for_s() {
  since=$(systemctl show -p ActiveEnterTimestampMonotonic --value "$1")
  now=$(awk '{ printf "%d", $1 * 1000000 }' /proc/uptime)
  echo $(((now - since) / 1000000))
}

for unit in homebed-gateway.service homebed-cloud.service; do
  systemctl is-enabled --quiet "$unit" 2>/dev/null || continue
  if systemctl is-failed --quiet "$unit"; then
    echo "$unit has failed (see journalctl -u $unit); starting it again"
    systemctl reset-failed "$unit"
    systemctl start --no-block "$unit"
    problems=1
    continue
  fi
  if [ "$unit" = homebed-cloud.service ]; then
    check="$url"
  else
    check="$gateway_url"
  fi
  [ -n "$check" ] || continue
  systemctl is-active --quiet "$unit" || continue
  [ "$(active_for_s "$unit")" -ge 60 ] || continue
  /usr/bin/node -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(10000) }).then(
      (r) => process.exit(r.ok ? 0 : r.status === 503 ? 3 : 2),
      () => process.exit(2),
    );' "$check"
  case $? in
    0) ;;
    3)
      echo "$unit: $check answers 503 (degraded); not restarting"
      problems=1
      ;;
    *)
      echo "$unit: $check does not answer; restarting it"
      systemctl restart --no-block "$unit"
      problems=1
      ;;
  esac
done
exit "$problems"
