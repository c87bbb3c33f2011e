#!/bin/sh
# gen-certs.sh DIR [NAME]
#
# Makes a throw-away certificate authority and a server certificate for
# `localhost` signed by it, for the demo and the integration tests:
#   DIR/NAME-ca.pem, DIR/NAME-ca.key            the CA (trust anchor)
#   DIR/NAME-server.pem, DIR/NAME-server.key    server certificate and key
# NAME defaults to "test". The server certificate carries CN=localhost and
# SAN DNS:localhost only: mbedTLS 2.28 ignores IP SANs, so clients must use
# wss://localhost:PORT. RSA-2048 because every TLS stack accepts it.
# Needs the openssl command-line tool; self-contained config (the system's
# openssl.cnf is not read).
set -eu

dir=${1:?usage: gen-certs.sh DIR [NAME]}
name=${2:-test}
command -v openssl >/dev/null 2>&1 || { echo "gen-certs.sh: openssl not found" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"

cat > "$name-openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

quiet() {
    out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
}

quiet openssl req -config "$name-openssl.cnf" -x509 -newkey rsa:2048 -nodes -days 30 \
    -subj "/CN=Parley $name CA" -extensions ca_ext \
    -keyout "$name-ca.key" -out "$name-ca.pem"
quiet openssl req -config "$name-openssl.cnf" -new -newkey rsa:2048 -nodes \
    -subj "/CN=localhost" -keyout "$name-server.key" -out "$name-server.csr"
quiet openssl x509 -req -in "$name-server.csr" -CA "$name-ca.pem" -CAkey "$name-ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 30 \
    -extfile "$name-openssl.cnf" -extensions server_ext -out "$name-server.pem"
rm -f "$name-server.csr" "$name-openssl.cnf"
chmod 600 "$name-ca.key" "$name-server.key"
