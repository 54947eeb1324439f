#!/usr/bin/env bash
# First-start set-up of the compose deployment: secrets, the services' configs from the templates,
# and the CRM's and the bridge's registrations for Synapse. Safe to run again: what exists is kept.
#
#   ./setup.sh example.com https://inbox.example.com     # then: docker compose up -d
#   ./setup.sh --configs-only example.com https://...    # configs only, no docker (used by CI)
set -euo pipefail
cd "$(dirname "$0")"

configs_only=false
if [ "${1:-}" = "--configs-only" ]; then configs_only=true; shift; fi
if [ $# -ne 2 ]; then
    echo "usage: $0 [--configs-only] SERVER_NAME PUBLIC_URL" >&2
    exit 2
fi
server_name="$1"
public_url="$2"

mkdir -p data/secrets data/synapse data/crm data/mautrix-whatsapp
chmod 700 data/secrets

secret() {  # a secret kept in data/secrets/NAME, made once
    local file="data/secrets/$1"
    if [ ! -s "$file" ]; then
        (umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40 > "$file")
    fi
    cat "$file"
}

render() {  # template -> target, only if the target does not exist yet
    local template="$1" target="$2"
    if [ -e "$target" ]; then
        echo "kept $target"
        return
    fi
    sed -e "s|@SERVER_NAME@|$server_name|g" \
        -e "s|@PUBLIC_URL@|$public_url|g" \
        -e "s|@POSTGRES_PASSWORD@|$(secret postgres_password)|g" \
        -e "s|@PROVISIONING_SECRET@|$(secret provisioning_secret)|g" \
        -e "s|@CRM_AS_TOKEN@|$(secret crm_as_token)|g" \
        -e "s|@CRM_HS_TOKEN@|$(secret crm_hs_token)|g" \
        -e "s|@REGISTRATION_SECRET@|$(secret synapse_registration)|g" \
        -e "s|@MACAROON_SECRET@|$(secret synapse_macaroon)|g" \
        -e "s|@FORM_SECRET@|$(secret synapse_form)|g" \
        "$template" > "$target"
    chmod 600 "$target"
    echo "wrote $target"
}

secret postgres_password > /dev/null
render crm/config.yaml data/crm/config.yaml
render mautrix-whatsapp/config.yaml data/mautrix-whatsapp/config.yaml
render synapse/homeserver.yaml data/synapse/homeserver.yaml

if $configs_only; then
    exit 0
fi

# The registrations Synapse loads, made by each program from its own config (once).
if [ ! -s data/crm/registration.yaml ]; then
    docker compose run --rm --no-deps crm \
        crm-appservice generate-registration -c /data/config.yaml -r /data/registration.yaml
fi
if [ ! -s data/mautrix-whatsapp/registration.yaml ]; then
    docker compose run --rm --no-deps mautrix-whatsapp \
        /usr/bin/mautrix-whatsapp -g -c /data/config.yaml -r /data/registration.yaml
fi
if [ ! -s data/synapse/signing.key ]; then
    docker compose run --rm --no-deps synapse \
        python -m synapse.app.homeserver --generate-keys -c /data/homeserver.yaml
fi
echo "Set up. Start with: docker compose up -d; then add a manager:"
echo "  docker compose exec crm crm-appservice add-manager -c /data/config.yaml --email you@example.com --name You --role admin"
