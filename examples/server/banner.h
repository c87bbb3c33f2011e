/* What the server prints once it listens, so that a first paste works: the
 * URL a client must use with this certificate, and a parley-chat command
 * ready to run. mbedTLS, like every client of ours, ignores IP addresses in
 * certificates, so a wss:// URL names a host the certificate names (the
 * test certificate of scripts/gen-certs.sh names localhost). */
#ifndef PARLEY_SERVER_BANNER_H
#define PARLEY_SERVER_BANNER_H

#include <stdio.h>

typedef struct banner_cfg {
    const char *host; /* the IPv4 address listened on (--host) */
    int port;
    const char *cert; /* --cert, or NULL: plain ws:// */
    const char *ca;   /* --ca (the CA clients trust), or NULL */
} banner_cfg;

/* Prints "listening on URL" and "try it: COMMAND" (with a line on what to
 * put for --ca when it cannot tell) to `out`; a --ca that does not verify
 * the certificate for that host is warned about on stderr. */
void banner_print(FILE *out, const banner_cfg *b);

#endif
