#!/bin/sh
# Entry point of docker-compose.yml's `mosquitto` service (eclipse-mosquitto image, started as root;
# mosquitto itself then drops to the mosquitto user). Mosquitto reads passwords only from a file of
# hashes, so this writes /mosquitto/data/passwd at each start:
#   - each relay user of MQTT_RELAY_USERS with MQTT_RELAY_PASSWORD;
#   - the demo gateway HOMEBED_GATEWAY_ID with HOMEBED_GATEWAY_SECRET (its cloud.secret);
#   - `healthcheck` with a random password kept in /mosquitto/data/healthcheck.pw for the health check;
#   - the lines of /mosquitto/data/gateways.passwd, if any: gateways added later, e.g.
#       docker compose exec mosquitto sh -c "touch /mosquitto/data/gateways.passwd && mosquitto_passwd -b /mosquitto/data/gateways.passwd gw-0002 '<secret>'"
#       docker compose restart mosquitto
set -eu
: "${MQTT_RELAY_USERS:?}" "${MQTT_RELAY_PASSWORD:?}" "${HOMEBED_GATEWAY_ID:?}" "${HOMEBED_GATEWAY_SECRET:?}"

data=/mosquitto/data
umask 077
mkdir -p "$data"
new="$data/passwd.new"
rm -f "$new"
touch "$new"
for user in $MQTT_RELAY_USERS; do
  mosquitto_passwd -b "$new" "$user" "$MQTT_RELAY_PASSWORD"
done
mosquitto_passwd -b "$new" "$HOMEBED_GATEWAY_ID" "$HOMEBED_GATEWAY_SECRET"
health=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
printf '%s' "$health" >"$data/healthcheck.pw"
mosquitto_passwd -b "$new" healthcheck "$health"
if [ -f "$data/gateways.passwd" ]; then
  cat "$data/gateways.passwd" >>"$new"
fi
mv "$new" "$data/passwd"
cp /mosquitto/config/acl "$data/acl"
chown -R mosquitto:mosquitto "$data"
chmod 0600 "$data/passwd" "$data/acl"

exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
