#!/usr/bin/env bash
# Makes a self-signed TLS certificate for localhost and 127.0.0.1 unless one exists already.
# usage: scripts/make-cert.sh CERT_FILE KEY_FILE
set -euo pipefail
cert=$1
key=$2
if [ -s "$cert" ] && [ -s "$key" ]; then
    exit 0
fi
mkdir -p "$(dirname "$cert")" "$(dirname "$key")"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -keyout "$key" -out "$cert" 2>/dev/null
chmod 600 "$key"
echo "made a self-signed certificate for localhost and 127.0.0.1: $cert"
