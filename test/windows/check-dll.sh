#!/usr/bin/env bash
# What a Windows host gets: parley.dll exports parley_* and nothing else
# (libwebsockets, mbedTLS and cJSON are inside it, hidden), needs no DLL
# but Windows' own (no libgcc, winpthread or MinGW runtime to ship beside
# it), and libparley.a defines no global but parley_*.
# Usage: check-dll.sh OBJDUMP NM parley.dll libparley.a
set -euo pipefail
objdump=$1 nm=$2 dll=$3 archive=$4
exports=$("$objdump" -p "$dll" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk 'NR > 1 && NF { print $NF }')
[ -n "$exports" ] || { echo "parley.dll exports nothing"; exit 1; }
foreign=$(printf '%s\n' "$exports" | grep -v '^parley_' || true)
[ -z "$foreign" ] || { echo "parley.dll exports more than parley_*:"; printf '%s\n' "$foreign" | head -20; exit 1; }
system='^(advapi32|bcrypt|crypt32|iphlpapi|kernel32|msvcrt|psapi|userenv|ws2_32)\.dll$'
other=$("$objdump" -p "$dll" | awk '/DLL Name:/ { print tolower($3) }' | grep -Ev "$system" || true)
[ -z "$other" ] || { echo "parley.dll needs DLLs beyond Windows' own:"; printf '%s\n' "$other"; exit 1; }
globals=$("$nm" -g --defined-only "$archive" | awk 'NF == 3 && $3 !~ /^parley_/ { print $3 }')
[ -z "$globals" ] || { echo "libparley.a defines non-parley_ globals:"; printf '%s\n' "$globals" | head -20; exit 1; }
echo "parley.dll: $(printf '%s\n' "$exports" | wc -l) exports, all parley_*; libparley.a: parley_* only"
