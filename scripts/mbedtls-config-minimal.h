/* mbedTLS 2.28 configuration of Parley's minimal profile (`make minimal`):
 * a TLS 1.2 client and nothing else. scripts/build-deps.sh installs it as
 * the mbedtls/config.h of its own build of Debian's mbedtls source, so every
 * consumer (libwebsockets, Parley, the tests) compiles against this one.
 *
 * What the library needs, and why each part is here:
 *   TLS 1.2 client only (no server, no TLS 1.0/1.1, no renegotiation,
 *     no session tickets, no CBC, RC4, 3DES, CAMELLIA, ARIA, static RSA,
 *     DHE or PSK key exchanges);
 *   ECDHE-ECDSA and ECDHE-RSA with AES-GCM and ChaCha20-Poly1305 (what
 *     current servers offer), curves x25519, P-256 and P-384;
 *   X.509 verification of real-world chains: RSA (PKCS#1 v1.5 and PSS) and
 *     ECDSA signatures with SHA-256/384/512; PEM and DER; CA directories
 *     (FS_IO, parley_config_set_ca_file and the system bundle);
 *   the journal's AES-256-GCM, SHA-256 for pins and UUIDs, CTR_DRBG seeded
 *     from the platform's entropy, base64, PEM writing (tls_trust.c).
 *
 * Record buffers: see MBEDTLS_SSL_*_CONTENT_LEN below and the README
 * ("Footprint").
 *
 * The test suite also mints certificates (test/unit/testcert.c: EC keys,
 * X.509 writing, PK writing; a fake WebSocket server's SHA-1); those modules are the last block. Nothing in
 * the library calls them, so they take no space in a linked program
 * (--gc-sections) or in libparley.so; a shipping build may drop them. */
#ifndef MBEDTLS_CONFIG_H
#define MBEDTLS_CONFIG_H

/* ---- system ---- */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_FS_IO
#define MBEDTLS_NET_C /* libwebsockets' wrapper holds an mbedtls_net_context (only mbedtls_net_init is linked) */
#define MBEDTLS_ERROR_STRERROR_DUMMY /* mbedtls_strerror() names no error: Parley reports its own reasons */

/* ---- TLS: a TLS 1.2 client ---- */
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* the transport reads the chain for pins and reasons */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* Records. What the client sends is its own choice, and records of at
 * most 4 KB suit every server: the output buffer is trimmed to that. The
 * input buffer stays at the full 16 KB a server may send in one record:
 * trimming it needs the max_fragment_length extension, which many servers
 * ignore, and mbedTLS 2.28 sizes a client's shrunk buffer by its own
 * request rather than by the server's answer (with
 * MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH) and cannot reassemble a certificate
 * message split over smaller records: it would trade a few KB for
 * handshakes that fail. Neither limits WebSocket frames, which span as
 * many records as they need (the server's max_frame of 64 KB included). */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/* Cipher suites: AEAD only, strongest first. */
#define MBEDTLS_SSL_CIPHERSUITES                                                                   \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,     \
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256

/* ---- X.509 and public keys ---- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM

/* ---- symmetric crypto, hashes, randomness ---- */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* ---- for the test suite's certificates only (see the top) ---- */
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_SHA1_C /* test_transport's fake server computes Sec-WebSocket-Accept */

#include "mbedtls/check_config.h"

#endif /* MBEDTLS_CONFIG_H */
