#!/usr/bin/env bash
# First-start set-up of the compose deployment: secrets, the services' configs from the templates,
# the CRM's and the bridge's registrations, Synapse's copies of them and its signing key, and each
# service's files given to the user that service runs as. Safe to run again: what exists is kept.
# Run it as root (it hands files to the services' users):
#
#   sudo ./setup.sh example.com https://inbox.example.com     # then: docker compose up -d
#   sudo ./setup.sh --configs-only example.com https://...    # configs and ownership, no containers
set -euo pipefail
cd "$(dirname "$0")"

# The users the images run as: Synapse's start.py drops to 991:991 (gosu), the bridge's
# docker-run.sh to 1337:1337 (su-exec) after a `chown -R` of its /data, and the CRM's Dockerfile
# makes `crm` with 29340. Each service reads only its own directory, so nothing is shared by group:
# Synapse gets copies of the two registrations it loads.
SYNAPSE_UID=991
BRIDGE_UID=1337
CRM_UID=29340

configs_only=false
if [ "${1:-}" = "--configs-only" ]; then configs_only=true; shift; fi
if [ $# -ne 2 ]; then
    echo "usage: $0 [--configs-only] SERVER_NAME PUBLIC_URL" >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "$0: run as root (sudo): each service's files are given to the user it runs as" >&2
    exit 1
fi
server_name="$1"
public_url="$2"

mkdir -p data/secrets data/synapse/appservices data/crm data/mautrix-whatsapp
chmod 700 data/secrets

secret() {  # a secret kept in data/secrets/NAME (root's only), made once
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
    (umask 077 && sed -e "s|@SERVER_NAME@|$server_name|g" \
        -e "s|@PUBLIC_URL@|$public_url|g" \
        -e "s|@POSTGRES_PASSWORD@|$(secret postgres_password)|g" \
        -e "s|@PROVISIONING_SECRET@|$(secret provisioning_secret)|g" \
        -e "s|@CRM_AS_TOKEN@|$(secret crm_as_token)|g" \
        -e "s|@CRM_HS_TOKEN@|$(secret crm_hs_token)|g" \
        -e "s|@REGISTRATION_SECRET@|$(secret synapse_registration)|g" \
        -e "s|@MACAROON_SECRET@|$(secret synapse_macaroon)|g" \
        -e "s|@FORM_SECRET@|$(secret synapse_form)|g" \
        "$template" > "$target")
    echo "wrote $target"
}

own() {  # own UID DIR: DIR and all in it belong to UID:UID, and nobody else may read any of it
    chown -R "$1:$1" "$2"
    chmod -R go-rwx "$2"
}

in_container() {  # in_container SERVICE COMMAND...: a one-off container of that service
    # SETUP_RUNNER stands in for `docker compose run` where there is no Docker engine (the
    # deployment's tests run these same steps with it).
    if [ -n "${SETUP_RUNNER:-}" ]; then
        "$SETUP_RUNNER" "$@"
    else
        docker compose run --rm --no-deps "$@"
    fi
}

secret postgres_password > /dev/null
render crm/config.yaml data/crm/config.yaml
render mautrix-whatsapp/config.yaml data/mautrix-whatsapp/config.yaml
render synapse/homeserver.yaml data/synapse/homeserver.yaml
own "$SYNAPSE_UID" data/synapse
own "$BRIDGE_UID" data/mautrix-whatsapp
own "$CRM_UID" data/crm

if $configs_only; then
    exit 0
fi

# The registrations, made by each program from its own config (once). The CRM's keeps the tokens
# its config was given: the bridge's double puppeting uses the same as_token.
if [ ! -s data/crm/registration.yaml ]; then
    in_container crm crm-appservice generate-registration --keep-tokens \
        -c /data/config.yaml -r /data/registration.yaml
fi
if [ ! -s data/mautrix-whatsapp/registration.yaml ]; then
    # The bridge writes new tokens into its config and the registration (as root here; its
    # docker-run.sh gives /data to 1337 on every start, and so does own below).
    in_container mautrix-whatsapp /usr/bin/mautrix-whatsapp -g \
        -c /data/config.yaml -r /data/registration.yaml
fi
install -m 600 -o "$SYNAPSE_UID" -g "$SYNAPSE_UID" data/crm/registration.yaml \
    data/synapse/appservices/crm.yaml
install -m 600 -o "$SYNAPSE_UID" -g "$SYNAPSE_UID" data/mautrix-whatsapp/registration.yaml \
    data/synapse/appservices/whatsapp.yaml
own "$BRIDGE_UID" data/mautrix-whatsapp
own "$CRM_UID" data/crm

# Synapse's signing key, made by Synapse itself: `run` is the image's mode that passes its
# arguments to Synapse (any other first word is "Unknown execution mode"), as 991.
if [ ! -s data/synapse/signing.key ]; then
    in_container synapse run -m synapse.app.homeserver --generate-keys -c /data/homeserver.yaml
fi
own "$SYNAPSE_UID" data/synapse

echo "Set up. Start with: docker compose up -d; then add a manager:"
echo "  docker compose exec crm crm-appservice add-manager -c /data/config.yaml --email you@example.com --name You --role admin"
