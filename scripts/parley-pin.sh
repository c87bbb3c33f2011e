#!/usr/bin/env bash
# parley-pin.sh: the public-key pin libparley compares (parley_config_add_pin,
# parley-chat --pin): base64 of the SHA-256 of a DER SubjectPublicKeyInfo,
# HPKP's pin-sha256.
#
#   parley-pin.sh CERT.pem             the key of a certificate (PEM or DER)
#   parley-pin.sh --key KEY.pem        a key, private or public: pin a backup
#                                      key before any certificate carries it
#   parley-pin.sh --connect HOST:PORT  the key a server presents now; check
#                                      it out of band before trusting it
#
# Pin two keys: the one in use and a backup kept offline (libparley refuses
# a single pin). Needs the openssl command-line tool.
set -euo pipefail

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 1
}

spki_of_cert() { openssl x509 -in "$1" -noout -pubkey; }
spki_of_key() {
    openssl pkey -in "$1" -pubout 2>/dev/null || openssl pkey -pubin -in "$1" -pubout
}
spki_of_server() {
    local host=${1%:*}
    openssl s_client -connect "$1" -servername "$host" </dev/null 2>/dev/null | openssl x509 -noout -pubkey
}

command -v openssl >/dev/null 2>&1 || { echo "parley-pin.sh: openssl not found" >&2; exit 1; }
case "${1:-}" in
--key) [ $# -eq 2 ] || usage; pem=$(spki_of_key "$2") ;;
--connect) [ $# -eq 2 ] || usage; pem=$(spki_of_server "$2") ;;
-h | --help | "") usage ;;
-*) usage ;;
*) [ $# -eq 1 ] || usage; pem=$(spki_of_cert "$1") ;;
esac
pin=$(printf '%s\n' "$pem" | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A)
[ ${#pin} -eq 44 ] || { echo "parley-pin.sh: no public key found" >&2; exit 1; }
printf '%s\n' "$pin"
