#!/bin/sh
# The `provision` service of docker-compose.yml: runs once before the relays start. Any homebed-cloud
# command migrates the shared PostgreSQL first (under an advisory lock), so the relays find it ready; then
# this adds, when missing, the demo organisation, bed, gateway and the first admin login. Running it again
# changes nothing that exists (a password changed in .env later is not applied: change it in the console).
set -eu
: "${HOMEBED_ORG_ID:?}" "${HOMEBED_ORG_NAME:?}" "${HOMEBED_BED_ID:?}" "${HOMEBED_GATEWAY_ID:?}"
: "${HOMEBED_GATEWAY_SECRET:?}" "${HOMEBED_ADMIN_PASSWORD:?}"

cloud() {
  homebed-cloud "$@" --config /etc/homebed/cloud.yaml
}

# listed ID COMMAND...: ID is the first column of a line the listing prints.
listed() {
  id=$1
  shift
  cloud "$@" | cut -f1 | grep -qxF -- "$id"
}

# Fails (and so stops the deployment) when the store is unreachable.
cloud org list >/dev/null

if listed "$HOMEBED_ORG_ID" org list; then
  echo "organisation $HOMEBED_ORG_ID exists"
else
  cloud org add "$HOMEBED_ORG_NAME" --id "$HOMEBED_ORG_ID"
fi

if listed "$HOMEBED_BED_ID" bed list; then
  echo "bed $HOMEBED_BED_ID exists"
else
  cloud bed add "$HOMEBED_BED_ID" --org "$HOMEBED_ORG_ID" \
    --resident "${HOMEBED_RESIDENT:-示范住户}" --address "${HOMEBED_ADDRESS:-示范地址}"
fi

# With mqtt.external the broker checks the gateway's secret (deploy/mosquitto/entrypoint.sh); the relay
# still wants the gateway provisioned to show its heartbeats and status. `gateway add` prints the secret:
# not into the log.
if listed "$HOMEBED_GATEWAY_ID" gateway list; then
  echo "gateway $HOMEBED_GATEWAY_ID exists"
else
  cloud gateway add "$HOMEBED_GATEWAY_ID" --secret "$HOMEBED_GATEWAY_SECRET" --bed "$HOMEBED_BED_ID" >/dev/null
  echo "gateway $HOMEBED_GATEWAY_ID provisioned on bed $HOMEBED_BED_ID"
fi

if listed admin user list; then
  echo "user admin exists"
else
  cloud user add admin --role admin --name 管理员 --password "$HOMEBED_ADMIN_PASSWORD"
fi
