/*
 * parley.h - in-app customer support chat for apps and games.
 *
 * The one public header of libparley. Everything here is the contract:
 * ownership, thread rules and error codes are documented per function.
 *
 * General rules (apply to every function unless its comment says otherwise):
 * - Functions that can fail return an int: PARLEY_OK (0) or a negative
 *   PARLEY_ERR_* code; parley_strerror() describes it.
 * - Strings passed in are UTF-8, NUL-terminated, and copied: the caller may
 *   free them as soon as the call returns.
 * - Strings read from an event are borrowed: valid until parley_event_free().
 * - Identifiers returned by the library are written into a caller-supplied
 *   buffer of at least PARLEY_ID_SIZE bytes; the library allocates nothing
 *   the caller must free except events.
 * - Thread rules: a parley_client may be used from any thread; the calls are
 *   serialised internally. parley_poll() never blocks. parley_service()
 *   must not be called while the client's own I/O thread runs
 *   (parley_start()). No function may be called on a client concurrently with
 *   parley_client_free() on that client.
 * - NULL handles: free/destroy functions accept NULL; other functions return
 *   PARLEY_ERR_INVALID_ARG.
 * - Callbacks: each callback type's comment has a "Thread:" line naming the
 *   thread it runs on.
 * - Constants are enum constants, so that they survive a foreign-function
 *   interface; only PARLEY_VERSION_* are macros, for use in #if. Named enums
 *   are sets of values (the enum's tag may share its name with the function
 *   that returns them, as struct stat does with stat()); functions take and
 *   return them as int, which is what the ABI fixes. docs/abi.md says what
 *   is stable; bindings/api.json describes all of this for generators.
 */
#ifndef PARLEY_H
#define PARLEY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* On Windows a program linking libparley.a defines PARLEY_STATIC (CMake's
 * Parley::parley_static does it); one using parley.dll does not. */
#if defined(_WIN32) && defined(PARLEY_BUILDING)
#define PARLEY_API __declspec(dllexport)
#elif defined(_WIN32) && !defined(PARLEY_STATIC)
#define PARLEY_API __declspec(dllimport)
#elif defined(PARLEY_BUILDING) && defined(__GNUC__)
#define PARLEY_API __attribute__((visibility("default")))
#else
#define PARLEY_API
#endif

#define PARLEY_VERSION_MAJOR 0
#define PARLEY_VERSION_MINOR 1
#define PARLEY_VERSION_PATCH 0
#define PARLEY_VERSION_STRING "0.1.0"

/* Size of a buffer that holds any identifier the library returns: those
 * read from events too, which the server names (1..128 bytes,
 * docs/protocol.md). */
enum { PARLEY_ID_SIZE = 129 };

/* ---- errors ----------------------------------------------------------- */

/* What functions that can fail return. */
enum parley_error_code {
    PARLEY_OK = 0,
    PARLEY_ERR_INVALID_ARG = -1, /* NULL, empty or malformed argument */
    PARLEY_ERR_NOMEM = -2,       /* an allocation failed; nothing changed */
    PARLEY_ERR_STATE = -3,       /* not legal in the client's current state */
    PARLEY_ERR_AGAIN = -4,       /* parley_poll: no event right now */
    PARLEY_ERR_CONFIG = -5,      /* configuration incomplete or invalid */
    PARLEY_ERR_INSECURE = -6,    /* ws:// without parley_config_set_allow_insecure */
    PARLEY_ERR_TOO_LONG = -7,    /* text or value over its documented limit */
    PARLEY_ERR_IO = -8,          /* the data dir could not be read or written */
    PARLEY_ERR_TLS = -9,         /* TLS handshake or certificate verification failed */
    PARLEY_ERR_CONNECT = -10,    /* the server could not be reached */
    PARLEY_ERR_PROTOCOL = -11,   /* the server sent something malformed */
    PARLEY_ERR_AUTH = -12,       /* the server refused the user's identity */
    PARLEY_ERR_NOT_FOUND = -13,  /* unknown conversation, message, option or survey */
    PARLEY_ERR_FULL = -14,       /* the outbox is at its cap */
    PARLEY_ERR_REJECTED = -15,   /* the server rejected an item for good */
    PARLEY_ERR_THREAD = -16,     /* a thread could not be started */
    PARLEY_ERR_CLOSED = -17,     /* the connection closed */
    PARLEY_ERR_OFFLINE = -18,    /* needs a connection; none right now */
    PARLEY_ERR_CONSENT = -19,    /* the host has not allowed context to be sent */
    PARLEY_ERR_RANGE = -20,      /* a value outside a survey question's range or selection count */
    PARLEY_ERR_INCOMPLETE = -21  /* a required survey question is unanswered */
};

/* A static English description of `err`; never NULL (unknown codes give
 * "unknown error"). Any thread. */
PARLEY_API const char *parley_strerror(int err);

/* The library's version string ("0.1.0") and, where the pointers are not
 * NULL, its components. Compare with PARLEY_VERSION_* to check that header
 * and library agree. Any thread. */
PARLEY_API const char *parley_version(int *major, int *minor, int *patch);

/* ---- logging ---------------------------------------------------------- */

/* Levels of parley_log_fn, most severe first. */
enum parley_log_level {
    PARLEY_LOG_ERROR = 0,
    PARLEY_LOG_WARN = 1,
    PARLEY_LOG_INFO = 2,
    PARLEY_LOG_DEBUG = 3
};

/* Log sink. `msg` is borrowed for the duration of the call; `level` is a
 * PARLEY_LOG_* value. It must not call back into the same client.
 * Thread: the thread doing the client's work: the I/O thread after
 * parley_start(), otherwise the thread calling parley_service() or the API
 * function that logs (parley_client_new() included). Calls for one client
 * may come from different threads: the sink must be thread-safe. */
typedef void (*parley_log_fn)(void *user, int level, const char *msg);

/* ---- configuration ---------------------------------------------------- */

typedef struct parley_config parley_config;

/* A new configuration with defaults, or NULL when out of memory. The config
 * itself is allocated with the C library's malloc (it exists before any
 * allocator hook is set). Free with parley_config_free(). Any thread; a
 * config is not itself thread-safe. */
PARLEY_API parley_config *parley_config_new(void);
PARLEY_API void parley_config_free(parley_config *cfg);

/* Server URL, "wss://host[:port][/path]" (or "ws://" for local development,
 * which parley_client_new() refuses unless insecure mode is allowed).
 * Errors: INVALID_ARG (not a ws/wss URL, no host), NOMEM. Required. */
PARLEY_API int parley_config_set_url(parley_config *cfg, const char *url);

/* The host app's id, sent to the server. 1..128 printable ASCII bytes.
 * Errors: INVALID_ARG, NOMEM. Required. */
PARLEY_API int parley_config_set_app_id(parley_config *cfg, const char *app_id);

/* Trust anchors for wss: a PEM file path, or PEM bytes in memory (copied).
 * Setting one clears the other. Without either, the system's anchors are
 * used: the file named by the SSL_CERT_FILE environment variable when it is
 * set (ignored in setuid/setgid processes and ones with file capabilities;
 * when set, nothing else is tried), else the first of these that exists:
 *   /etc/ssl/certs/ca-certificates.crt                (Debian, Ubuntu)
 *   /etc/pki/tls/certs/ca-bundle.crt                  (RHEL, Fedora)
 *   /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem (RHEL, Fedora)
 *   /etc/ssl/ca-bundle.pem                            (openSUSE)
 *   /etc/ssl/cert.pem                                 (Alpine)
 *   /system/etc/security/cacerts                      (Android: a directory)
 * on macOS /etc/ssl/cert.pem, and on Windows the ROOT certificate store
 * (the user's and the machine's) instead of files. Paths are UTF-8, on
 * Windows too. The certificates are read by parley_client_new(), which fails with
 * PARLEY_ERR_TLS when none can be parsed or none of those exists (the log
 * names every path tried). Certificate and hostname verification are
 * always on; there is no switch to turn them off. Use a DNS name in wss://
 * URLs: mbedTLS does not match IP-address subjectAltNames.
 * Errors: INVALID_ARG (NULL/empty), NOMEM. */
PARLEY_API int parley_config_set_ca_file(parley_config *cfg, const char *path);
PARLEY_API int parley_config_set_ca_pem(parley_config *cfg, const char *pem, size_t len);

/* Public-key pinning (optional), on top of certificate verification: the
 * server's certificate must also carry one of the pinned public keys, or
 * the connection is refused (PARLEY_TLS_PIN_MISMATCH) before anything is
 * sent on it: not even the WebSocket upgrade request, let alone hello.
 * `pin` is the base64 SHA-256 of the certificate's DER SubjectPublicKeyInfo
 * (HPKP's pin-sha256: 44 characters; a "sha256/" prefix is accepted). Only
 * the server's own (leaf) certificate is compared, never its CA's. Compute
 * a pin with scripts/parley-pin.sh, or:
 *   openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin -outform der
 *     | openssl dgst -sha256 -binary | openssl base64
 * Give at least two distinct pins, the key in use and a backup key kept
 * offline: parley_client_new() refuses exactly one with PARLEY_ERR_CONFIG,
 * since with one pin, replacing a lost or compromised server key locks out
 * every copy of the app already installed until it is updated. At most 8;
 * adding a pin again changes nothing; ignored for ws:// URLs.
 * Errors: INVALID_ARG (not base64 of 32 bytes), FULL (a ninth pin). */
PARLEY_API int parley_config_add_pin(parley_config *cfg, const char *pin);
/* Removes every pin. Errors: INVALID_ARG. */
PARLEY_API int parley_config_clear_pins(parley_config *cfg);

/* Directory for the library's durable state: the stable anonymous id and
 * the journal (file "journal") holding the outbox, the conversation cursors,
 * the session token and the secret the server issued to the anonymous id
 * (what lets parley_identify take the anonymous history along), which is
 * what the delivery promise rests on
 * (docs/protocol.md, "The delivery promise"). Created if missing (mode
 * 0700). One client at a time per directory. Without a data dir everything
 * lives in memory: a restart mints a new anonymous id, loses unsent
 * messages and forgets conversations and cursors. Errors: INVALID_ARG,
 * NOMEM. */
PARLEY_API int parley_config_set_data_dir(parley_config *cfg, const char *dir);

/* What PARLEY_OK from a call that queues an outbox item
 * (parley_conversation_start, parley_conversation_start_about,
 * parley_send_text, parley_postback,
 * parley_track_event, parley_survey_submit, parley_survey_dismiss)
 * promises when there is a data dir (or host storage).
 *
 * PARLEY_DURABILITY_WRITE (the default): the item has been written to the
 * journal file on the caller's thread (a write(2) into the OS, no fsync),
 * so killing or crashing the process right after the call loses nothing.
 * The client's disk thread then syncs everything written so far in one
 * fsync (a group commit; it starts as soon as there is something to sync,
 * and what is written while it runs goes into the next one), and each
 * message or reported item is then announced by a PARLEY_EV_MESSAGE_STATUS
 * event with PARLEY_MSG_STORED (after its PENDING). A power loss or OS
 * crash can lose the items whose STORED has not arrived: those written
 * during the last fsync or two, typically a few milliseconds of the
 * user's input (the time an fsync takes on the device). An item the
 * server acknowledged first (SENT) gets no STORED: the server has it.
 * parley_unsynced_count() says whether anything is still waiting for the
 * disk (e.g. before the app is suspended).
 *
 * PARLEY_DURABILITY_SYNC: the call also fsyncs before it returns (the
 * behaviour of 0.1): nothing the call accepted can be lost, not even
 * by a power loss (as far as the device honours fsync), at the cost of an
 * fsync on the caller's thread for each such call (milliseconds on phone
 * or console flash). STORED follows PENDING at once.
 *
 * In both modes cursor moves, acks and the session token are written
 * without an fsync, and cursors at most every half second: after a crash
 * the host may get the last messages again, never lose one (docs/protocol.md, "The delivery
 * promise"). Without a data dir nothing is durable and no STORED is reported. Errors: INVALID_ARG
 * (NULL cfg, unknown mode). */
enum parley_durability { PARLEY_DURABILITY_WRITE = 1, PARLEY_DURABILITY_SYNC = 2 };
PARLEY_API int parley_config_set_durability(parley_config *cfg, int mode);

/* Most items (conversation starts, messages) the outbox holds before
 * sends fail with PARLEY_ERR_FULL. Default 1000. Errors: INVALID_ARG (0). */
PARLEY_API int parley_config_set_outbox_cap(parley_config *cfg, uint32_t cap);

/* Limits of the queue of events waiting for parley_poll(): at most
 * `max_events` events or `max_bytes` bytes (what the events hold: their
 * strings, structured content and items) before the client stops reading
 * from the server. Defaults PARLEY_DEFAULT_MAX_EVENTS (1000) and
 * PARLEY_DEFAULT_MAX_EVENT_BYTES (1 MiB); 0 keeps a default. Nothing is
 * dropped: once the queue reaches either limit the client takes nothing
 * more from its connection (messages wait at the server, or in the
 * network, and a dropped connection is not replaced) until parley_poll()
 * has brought the queue below half of both limits. The queue may exceed a
 * limit by what one received frame produces (a frame is at most 64 KiB);
 * events the host causes itself (message status of its own sends) are
 * always queued. The frames the client must write in answer to the
 * server's (acknowledgements, history requests) are bound the same way, by
 * a fixed 1 MiB: above it the client reads nothing until the connection
 * has taken them below 512 KiB. Upload chunks are bound by their window
 * instead (8 per upload). Nothing the user sends is dropped by either
 * bound. docs/architecture.md, "Bounded event queue".
 * Errors: INVALID_ARG (NULL cfg). */
enum { PARLEY_DEFAULT_MAX_EVENTS = 1000, PARLEY_DEFAULT_MAX_EVENT_BYTES = 1024 * 1024 };
PARLEY_API int parley_config_set_event_limits(parley_config *cfg, uint32_t max_events,
                                              size_t max_bytes);

/* Encrypts the journal in the data dir (AES-256-GCM) with `key`, exactly
 * PARLEY_ENCRYPTION_KEY_SIZE (32) bytes, copied; NULL (len ignored) turns
 * encryption off. Message text and the session token then never reach the
 * disk in the clear. The host keeps the key (e.g. in the platform
 * keystore): a journal written with another key (or none) makes
 * parley_client_new() fail with PARLEY_ERR_AUTH, and nothing is lost or
 * overwritten. Without a data dir the key is unused. Errors: INVALID_ARG
 * (len not 32). */
enum { PARLEY_ENCRYPTION_KEY_SIZE = 32 };
PARLEY_API int parley_config_set_encryption_key(parley_config *cfg, const unsigned char *key,
                                                size_t len);

/* Host-provided storage, for consoles and hosts with their own save system:
 * the library's durable state (the journal behind the delivery promise and
 * the anonymous id) goes through these functions instead of files in a data
 * dir. Each names a file by a short plain name ("journal", "journal.tmp")
 * and returns PARLEY_OK or a negative PARLEY_ERR_* (PARLEY_ERR_IO for
 * failures). All seven are required.
 * Thread: the thread doing the client's work (the host's for API calls, the
 * I/O thread otherwise) and the client's disk thread (sync, and the
 * compaction's append, sync, rename and remove of "journal.tmp"), one
 * call at a time per client: the library serialises them.
 *   size:     the file's length; PARLEY_ERR_NOT_FOUND when it does not exist.
 *   read:     the whole file, exactly `len` bytes, into `buf`.
 *   append:   add bytes at the end (creating the file); after a failure
 *             part of them may be there: the library cuts it back.
 *   sync:     make everything appended to `name` durable before returning.
 *   truncate: cut the file to `len` bytes.
 *   rename:   atomically replace `to` with `from`, durably.
 *   remove:   delete the file; PARLEY_OK when it does not exist. */
enum { PARLEY_STORAGE_VERSION = 1 };
typedef struct parley_storage {
    uint32_t version; /* PARLEY_STORAGE_VERSION */
    int (*size)(void *user, const char *name, size_t *len);
    int (*read)(void *user, const char *name, void *buf, size_t len);
    int (*append)(void *user, const char *name, const void *data, size_t len);
    int (*sync)(void *user, const char *name);
    int (*truncate)(void *user, const char *name, size_t len);
    int (*rename)(void *user, const char *from, const char *to);
    int (*remove)(void *user, const char *name);
} parley_storage;

/* Uses `ops` (copied) with `user` for all durable state; the data dir, if
 * also set, is then not used. NULL `ops` goes back to the data dir. `user`
 * must stay valid while any client made from this config exists.
 * Errors: INVALID_ARG (unknown version, a function missing). */
PARLEY_API int parley_config_set_storage(parley_config *cfg, const parley_storage *ops, void *user);

/* Log sink and the most verbose level delivered (default: no sink, WARN).
 * `fn` NULL disables logging. Errors: INVALID_ARG (level out of range). */
PARLEY_API int parley_config_set_log(parley_config *cfg, parley_log_fn fn, void *user, int level);

/* Allow ws:// URLs. For development against localhost only: traffic,
 * tokens included, travels in the clear. Default 0. Errors: INVALID_ARG. */
PARLEY_API int parley_config_set_allow_insecure(parley_config *cfg, int allow);

/* Reconnect backoff: the n-th consecutive failure waits a uniformly random
 * time in [0, min(max_ms, initial_ms * 2^n)] (full jitter). Defaults 500 and
 * 30000. A connection closed (or sent a server's goaway, whose delay is
 * added) less than 30 s after it came online counts as a failure; one that
 * lasted resets the count. A refused server certificate
 * (parley_event_tls_failures() not 0) is not a passing failure and waits
 * PARLEY_CERT_RETRY_MS instead (see there). Errors: INVALID_ARG
 * (initial_ms == 0 or initial_ms > max_ms). */
PARLEY_API int parley_config_set_reconnect(parley_config *cfg, uint32_t initial_ms,
                                           uint32_t max_ms);

/* Allocator hooks used for every allocation the library makes itself
 * (cJSON, mbedTLS and libwebsockets keep their own process-wide allocators).
 * All three functions must be given, or all NULL for the C library's.
 * `user` is passed to each call. Errors: INVALID_ARG (partial set).
 * Thread: any thread that calls into the client or frees its events, and
 * the I/O thread, possibly at the same time (parley_event_free() on the
 * host's thread while the I/O thread reads): the hooks must be
 * thread-safe. */
typedef void *(*parley_malloc_fn)(void *user, size_t size);
typedef void *(*parley_realloc_fn)(void *user, void *ptr, size_t size);
typedef void (*parley_free_fn)(void *user, void *ptr);
PARLEY_API int parley_config_set_allocator(parley_config *cfg, parley_malloc_fn m,
                                           parley_realloc_fn r, parley_free_fn f, void *user);

/* Context collection (docs/protocol.md, "context").
 * breadcrumb_cap: how many recent user actions the breadcrumb ring keeps
 * (1..500, default 50). interval_ms: context patches go out at most once
 * per interval however often the host changes the context (1..60000,
 * default 1000); a snapshot still travels with every message.
 * Errors: INVALID_ARG (out of range). */
PARLEY_API int parley_config_set_context_limits(parley_config *cfg, uint32_t breadcrumb_cap,
                                                uint32_t interval_ms);

/* The host's app version, reported in the device facts ("app_version").
 * At most 1024 bytes of UTF-8. Errors: INVALID_ARG, TOO_LONG. */
PARLEY_API int parley_config_set_app_version(parley_config *cfg, const char *version);

/* Whether the user allowed context (attributes, screen, breadcrumbs,
 * tracked events, device facts) to leave the device. Default 0: only the
 * minimum (who the user is, the SDK version and the user's own messages)
 * is sent until the host calls parley_set_consent(pc, 1) or sets 1 here.
 * Errors: INVALID_ARG. */
PARLEY_API int parley_config_set_consent(parley_config *cfg, int allowed);

/* What a string being redacted is (the `field` of the redaction hooks). */
enum parley_redact_field {
    PARLEY_FIELD_MESSAGE = 1,   /* message text */
    PARLEY_FIELD_ATTRIBUTE = 2, /* attribute string, or a string inside a JSON attribute */
    PARLEY_FIELD_SCREEN = 3,
    PARLEY_FIELD_BREADCRUMB = 4,
    PARLEY_FIELD_EVENT = 5, /* a string inside tracked-event metadata */
    PARLEY_FIELD_DEVICE = 6,
    PARLEY_FIELD_SURVEY = 7 /* a free-text survey answer */
};

/* Redaction hook, in-place shape: scrubs a user string before it is stored
 * or sent. `text` is a NUL-terminated copy in a buffer of `size` bytes (its
 * length plus one); the hook may rewrite it in place, keeping it
 * NUL-terminated and valid UTF-8 (it may shorten, never lengthen). It must
 * not call into the client. The built-in redactor runs after it. For
 * managed languages, which should not write into a native buffer,
 * parley_redact_text_fn does the same with a replacement string.
 * Thread: the thread of the API call that carries the string, under the
 * client's lock. */
typedef void (*parley_redact_fn)(void *user, int field, char *text, size_t size);

/* Installs the host's in-place redaction hook (NULL removes it). One hook
 * at a time: this replaces a parley_config_set_text_redactor() hook.
 * Errors: none but INVALID_ARG for a NULL cfg. */
PARLEY_API int parley_config_set_redactor(parley_config *cfg, parley_redact_fn fn, void *user);

/* Redaction hook, replacement shape: `text` (borrowed for the call, const)
 * is the user string and `field` a PARLEY_FIELD_* value; to change the
 * text, the hook calls parley_redaction_replace(r, new_text) (the last call
 * wins); without a call the text stays as it is. Same rules otherwise as
 * parley_redact_fn: it must not call into the client, the built-in
 * redactor runs after it.
 * Thread: the thread of the API call that carries the string, under the
 * client's lock. */
typedef struct parley_redaction parley_redaction;
typedef void (*parley_redact_text_fn)(void *user, int field, const char *text, parley_redaction *r);

/* Installs the host's replacement-shape redaction hook (NULL removes it).
 * One hook at a time: this replaces a parley_config_set_redactor() hook.
 * Errors: none but INVALID_ARG for a NULL cfg. */
PARLEY_API int parley_config_set_text_redactor(parley_config *cfg, parley_redact_text_fn fn,
                                               void *user);

/* From inside a parley_redact_text_fn hook only (`r` is valid until the
 * hook returns): the text becomes `replacement` (copied), which must be
 * valid UTF-8 no longer than the original text (limits were checked on the
 * original). Errors: INVALID_ARG (NULL, not UTF-8), TOO_LONG. */
PARLEY_API int parley_redaction_replace(parley_redaction *r, const char *replacement);

/* The built-in redactor (default on) replaces card-like numbers (13 to 19
 * digits, optionally grouped by single spaces or dashes, Luhn-valid) with
 * "[card]" and e-mail addresses with "[email]" in every user string.
 * 0 turns it off. Errors: INVALID_ARG. */
PARLEY_API int parley_config_set_default_redactor(parley_config *cfg, int enabled);

/* ---- client ------------------------------------------------------------ */

typedef struct parley_client parley_client;

/* Creates a client from `cfg` (copied: the config may be freed right after).
 * Does not connect: call parley_start() or parley_service().
 * Process-wide effects of the networking layer (libwebsockets, linked
 * privately into libparley): SIGPIPE is set to SIG_IGN the first time a
 * client is created. Host names are resolved on a short-lived helper thread
 * per connection attempt (the system's resolver), never on the thread that
 * services the client.
 * With a data dir the journal is opened and replayed (on the calling
 * thread), and the client's disk thread starts: unsent items are
 * resent after the next connection's welcome, in order, and conversations
 * started before are known again (parley_send_text works for them).
 * Errors: INVALID_ARG (NULL), CONFIG (url or app id missing), INSECURE (ws://
 * not allowed), IO (data dir unusable), AUTH (the journal was written with
 * another encryption key, or without one), TLS (no usable CA certificate),
 * NOMEM. */
PARLEY_API int parley_client_new(const parley_config *cfg, parley_client **out);

/* Stops the I/O thread if running, closes the connection and frees the
 * client. Events already polled stay valid until parley_event_free().
 * NULL is a no-op. Must not run concurrently with another call on `pc`. */
PARLEY_API void parley_client_free(parley_client *pc);

/* Starts the client's own I/O thread, which connects and stays connected
 * (reconnecting by itself) until parley_stop(). The recommended mode for a
 * game: the host's thread only calls the API and parley_poll(), which never
 * touch the network or wait for the disk; the TLS handshake, name lookups
 * and reads all happen on the I/O thread, which sleeps in poll() while
 * idle (it wakes for keepalive and the engine's own timers only). The
 * client's threads never preempt the host's when a call wakes them (on
 * Linux and Android they run as SCHED_BATCH: same priority and CPU share,
 * but a woken one waits for a free CPU or its turn).
 * Errors: INVALID_ARG, STATE (already started), THREAD. */
PARLEY_API int parley_start(parley_client *pc);

/* Closes the connection and joins the I/O thread. Queued sends stay in the
 * outbox. Errors: INVALID_ARG, STATE (not started). Must not be called from
 * the log callback. */
PARLEY_API int parley_stop(parley_client *pc);

/* While the client waits to reconnect (after any failure, a refused
 * certificate included), makes the next attempt start at once; otherwise
 * does nothing. For a host that knows the cause may be gone: its user
 * pressed "retry", left a captive portal or fixed the clock. The attempt is
 * made by the I/O thread, or by the next parley_service(). Any thread.
 * Errors: INVALID_ARG. */
PARLEY_API int parley_reconnect_now(parley_client *pc);

/* Host-driven mode (no I/O thread): does the client's pending network work
 * and returns. timeout_ms 0 makes one non-blocking pass (a game calls it
 * once per frame). A positive value waits in poll() on the connection's
 * socket and the client's timers for up to timeout_ms and returns as soon
 * as an event is ready for parley_poll() (one that an API call on another
 * thread queues, or the disk thread's STORED, included); it never naps,
 * and while idle wakes only for keepalive and the engine's timers. The
 * first call starts connecting; the name lookup runs on a helper thread,
 * and the TLS handshake is spread over calls, a step per call once 200 us
 * have passed, so a single call during a connect stays near the cost of
 * one public-key operation (docs/architecture.md, "The TLS handshake in
 * host-driven mode": about 2 ms on a slow 2-core VM; none after connecting).
 * Call it from one thread at a time. Errors: INVALID_ARG (NULL, negative
 * timeout), STATE (the I/O thread is running). */
PARLEY_API int parley_service(parley_client *pc, int timeout_ms);

/* Identifies the user. `user_id` (1..128 printable ASCII bytes) is required;
 * `token` (a JWT or user hash from the host's backend, at most 16384 bytes of
 * UTF-8, may be NULL) proves it. Without a call the client is anonymous with
 * a stable anonymous id. While connected, the client reconnects at once to
 * present the new identity; the same identity again changes nothing. The
 * hello also names the anonymous id with the secret the server issued to it
 * (kept in the journal), so the server moves what the user did anonymously
 * to the identified user; without that secret (no data dir and a restart
 * since the anonymous session) nothing is merged.
 * Errors: INVALID_ARG (bad id or token), NOMEM. */
PARLEY_API int parley_identify(parley_client *pc, const char *user_id, const char *token);

/* The anonymous id this client presents when not identified ("a-<uuid>"),
 * written to `out` (at least PARLEY_ID_SIZE bytes). Stable across restarts
 * when a data dir is set; parley_logout() replaces it. Any thread (it may
 * run alongside parley_logout). Errors: INVALID_ARG (NULL, or `out` too
 * small). */
PARLEY_API int parley_anonymous_id(parley_client *pc, char *out, size_t out_size);

/* Forgets the user: closes the connection, wipes everything of theirs from
 * the local store (outbox, conversations, cursors, session, the anonymous
 * id's merge secret, context, surveys; the journal file is rewritten so
 * none of it remains on disk),
 * mints a new anonymous id and carries on as that anonymous user
 * (reconnecting at once when it was online). Unsent messages are discarded:
 * they are the user's data too. Any thread.
 * Errors: INVALID_ARG, NOMEM, IO (the store could not be rewritten: memory
 * is wiped, the disk may still hold data; retry). */
PARLEY_API int parley_logout(parley_client *pc);

/* Allows (1) or withdraws (0) sending context; see
 * parley_config_set_consent(). Allowing it while online sends the full
 * context at once. Context set while not allowed is kept and sent once
 * allowed; tracked events are refused (PARLEY_ERR_CONSENT) meanwhile.
 * Errors: INVALID_ARG. */
PARLEY_API int parley_set_consent(parley_client *pc, int allowed);

/* User attributes, sent to the server in context patches (debounced) and
 * after every reconnect, and attached to each conversation and message.
 * Keys: 1..64 bytes of printable ASCII; string values: at most 1024 bytes
 * of UTF-8 (redacted); numbers must be finite; JSON values: one object of
 * at most 4096 bytes and 8 levels; at most 100 keys. Setting a key again
 * replaces it; null is a value (there is no delete).
 * Errors: INVALID_ARG (bad key/value, not UTF-8, not finite, not a JSON
 * object), TOO_LONG, FULL (101st key), NOMEM. */
PARLEY_API int parley_set_attribute_str(parley_client *pc, const char *key, const char *value);
PARLEY_API int parley_set_attribute_num(parley_client *pc, const char *key, double value);
PARLEY_API int parley_set_attribute_bool(parley_client *pc, const char *key, int value);
PARLEY_API int parley_set_attribute_null(parley_client *pc, const char *key);
PARLEY_API int parley_set_attribute_json(parley_client *pc, const char *key,
                                         const char *json_object);

/* The screen or level the user is on (1..256 bytes of UTF-8). Cheap enough
 * to call every frame: only the latest value goes out, at most once per
 * context interval. Errors: INVALID_ARG, TOO_LONG, NOMEM. */
PARLEY_API int parley_set_screen(parley_client *pc, const char *screen);

/* Records a user action (1..256 bytes of UTF-8) with the current time in the
 * breadcrumb ring; the oldest falls out when the ring is full.
 * Errors: INVALID_ARG, TOO_LONG, NOMEM. */
PARLEY_API int parley_add_breadcrumb(parley_client *pc, const char *text);

/* Overrides or adds a device fact (key 1..64 printable ASCII, value at most
 * 1024 bytes of UTF-8). Collected automatically: "os", "arch", "locale",
 * "sdk_version", and "app_version" when configured.
 * Errors: INVALID_ARG, TOO_LONG, FULL (more than 32 facts), NOMEM. */
PARLEY_API int parley_set_device_fact(parley_client *pc, const char *key, const char *value);

/* Tracks an event: `name` (1..64 printable ASCII) and optional metadata
 * (`json_object`, NULL or one JSON object of at most 4096 bytes, 8 levels;
 * strings inside are redacted). It rides the durable outbox like a message
 * (journaled before PARLEY_OK as parley_config_set_durability() says,
 * resent until acknowledged) and
 * may trigger proactive messages or surveys on the server.
 * Errors: INVALID_ARG, TOO_LONG (also: the frame would exceed the frame
 * limit, docs/protocol.md "Limits"; nothing was queued), CONSENT (context
 * not allowed), FULL, IO, NOMEM. */
PARLEY_API int parley_track_event(parley_client *pc, const char *name, const char *json_object);

/* Starts a conversation with an optional subject (NULL or at most 256 bytes
 * of UTF-8). Works offline: the id is minted locally and the request is
 * queued. The new conversation's id ("c-<uuid>") is written to `conv_id_out`
 * (at least PARLEY_ID_SIZE bytes; may be NULL). With a data dir, PARLEY_OK
 * means the request is in the journal (parley_config_set_durability() says
 * when it is on stable storage). It carries a context snapshot like
 * parley_send_text().
 * The client follows at most 256 conversations at a time (each is resumed
 * on every connection). A new one, the host's or one the server names,
 * takes the place of the one used longest ago that waits on nothing (no
 * queued message, start or upload). With a data dir that one's place in
 * its messages is kept (for up to 1024 such conversations) and it comes
 * back, nothing delivered twice, when the host uses it or the server
 * writes in it; without one it is forgotten, and should it come back its
 * newest 50 messages are delivered again.
 * Errors: INVALID_ARG, TOO_LONG, FULL (outbox cap, or all 256 conversations
 * wait on something), IO (the journal could not be written: nothing was
 * queued), NOMEM. */
PARLEY_API int parley_conversation_start(parley_client *pc, const char *subject, char *conv_id_out,
                                         size_t out_size);

/* The host's severity hint for a request (parley_conversation_start_about). */
enum parley_severity {
    PARLEY_SEVERITY_NONE = 0, /* nothing said */
    PARLEY_SEVERITY_LOW = 1,
    PARLEY_SEVERITY_MEDIUM = 2,
    PARLEY_SEVERITY_HIGH = 3,
    PARLEY_SEVERITY_CRITICAL = 4
};

/* Starts a conversation like parley_conversation_start() and states what
 * the host knows about the request, for the server's triage and routing
 * and for the agents (docs/routing.md): `category` (NULL, or 1..64 bytes
 * of printable ASCII, e.g. "payments", "bug", "account"), `area` (NULL, or
 * 1..256 bytes of UTF-8: the game or app area, e.g. "shop/gems", "level 7";
 * redacted like the screen, PARLEY_FIELD_SCREEN) and `severity` (a
 * PARLEY_SEVERITY_* value; NONE says nothing). All three NULL/NONE is the
 * same as parley_conversation_start(). They travel in the conv.start frame
 * as "about" (docs/protocol.md), journaled and resent with it; the strings
 * are copied. Any thread.
 * Errors: those of parley_conversation_start(); INVALID_ARG also for an
 * empty or non-printable category, an empty or non-UTF-8 area, a severity
 * outside the enum; TOO_LONG for a category or area over its limit. */
PARLEY_API int parley_conversation_start_about(parley_client *pc, const char *subject,
                                               const char *category, const char *area, int severity,
                                               char *conv_id_out, size_t out_size);

/* Sends `text` (non-empty UTF-8, at most 4096 bytes or the server's lower
 * limit, redacted before anything is stored) in conversation `conv_id`,
 * with a snapshot of the context when allowed. Every frame must fit the
 * frame limit (64 KiB, or the server's lower limits.max_frame, one below
 * 4 KiB being ignored): a snapshot that would not fit is trimmed, keeping
 * the screen, attributes, device facts and the newest breadcrumbs while
 * they fit, and marked
 * "truncated" (the server still gets the whole context through context
 * frames). On PARLEY_OK the message is queued in the
 * outbox, a PARLEY_MSG_PENDING status event follows, and the client id of
 * the message (a UUIDv4) is written to `msg_id_out` (PARLEY_ID_SIZE bytes; may
 * be NULL). It is resent after reconnects until the server acknowledges it.
 * With a data dir, PARLEY_OK means it is in the journal: it survives the
 * process being killed and is resent by the next client on the same data
 * dir (the server deduplicates by client id); it survives a power loss
 * once its PARLEY_MSG_STORED arrives, or at once with
 * PARLEY_DURABILITY_SYNC (parley_config_set_durability()). The call never
 * waits for the disk in the default mode.
 * Errors: INVALID_ARG (NULL, empty, not UTF-8), NOT_FOUND (conversation not
 * known to this client; see parley_conversation_start() for the 256 it
 * follows), TOO_LONG (the text is over its limit, or the frame
 * would exceed the frame limit even without a snapshot: nothing was queued),
 * FULL (outbox cap, default 1000 items; or the conversation must come back
 * and all 256 wait on something), IO (the journal could not be written:
 * nothing was queued), NOMEM.
 * A message queued under a larger frame limit than the server announces
 * after a reconnect goes without its snapshot; one that still does not fit
 * gets PARLEY_MSG_FAILED and a PARLEY_EV_ERROR with PARLEY_ERR_TOO_LONG
 * and leaves the outbox. */
PARLEY_API int parley_send_text(parley_client *pc, const char *conv_id, const char *text,
                                char *msg_id_out, size_t out_size);

/* How many of the client's writes to its journal are not yet known to be
 * on stable storage: 0 once everything the client wrote (items, cursors,
 * acks) survives a power loss. With PARLEY_DURABILITY_WRITE the disk
 * thread brings it back to 0 within an fsync or two; a host that must be
 * sure before its process may be frozen or killed (a mobile app going to
 * the background) polls it. Always 0 without a data dir. Any thread;
 * never blocks. Errors: INVALID_ARG. */
PARLEY_API int parley_unsynced_count(parley_client *pc, uint32_t *out);

/* Number of items (conversation starts, messages) waiting in the outbox for
 * the server's acknowledgement, including those loaded from the data dir.
 * An item leaves the outbox in the same step that queues its status event,
 * so once the count is 0 every SENT/FAILED event is ready for parley_poll()
 * (drain it before exiting). Any thread. Errors: INVALID_ARG. */
PARLEY_API int parley_outbox_count(parley_client *pc, uint32_t *out);

/* ---- events -------------------------------------------------------------- */

typedef struct parley_event parley_event;

/* parley_event_type(). The values are part of the ABI: new types get new
 * numbers at the end. */
enum parley_event_type {
    PARLEY_EV_CONNECTION = 1,     /* connection state changed */
    PARLEY_EV_MESSAGE = 2,        /* a message in a conversation */
    PARLEY_EV_MESSAGE_STATUS = 3, /* one of the user's messages changed status */
    PARLEY_EV_CONVERSATION = 4,   /* a conversation changed state */
    PARLEY_EV_ERROR = 5,          /* something went wrong; nothing was lost */
    /* rich conversations (below) */
    PARLEY_EV_TYPING = 6,        /* someone on the support side started/stopped typing */
    PARLEY_EV_READ = 7,          /* the support side read the conversation up to a seq */
    PARLEY_EV_UNREAD = 8,        /* the unread count of a conversation changed */
    PARLEY_EV_CONVERSATIONS = 9, /* answer to parley_list_conversations */
    PARLEY_EV_HISTORY = 10,      /* answer to parley_load_history */
    PARLEY_EV_ARTICLES = 11,     /* answer to parley_search_articles */
    PARLEY_EV_ARTICLE = 12,      /* answer to parley_get_article; also an item of ARTICLES */
    /* surveys and proactive messages (below) */
    PARLEY_EV_SURVEY = 13,    /* a survey to show: parley_event_survey() */
    PARLEY_EV_PROACTIVE = 14, /* a message the support side pushed on its own */
    /* attachments (below) */
    PARLEY_EV_ATTACHMENT = 15 /* an upload or download moved on, ended or failed */
};

enum parley_conn_state { /* parley_event_state() of PARLEY_EV_CONNECTION */
                         PARLEY_CONN_CONNECTING = 1,
                         PARLEY_CONN_ONLINE = 2, /* welcomed by the server */
                         PARLEY_CONN_RECONNECTING =
                             3,                  /* lost; next attempt in parley_event_retry_ms() */
                         PARLEY_CONN_OFFLINE = 4 /* stopped */
};

enum parley_msg_state { /* parley_event_state() of PARLEY_EV_MESSAGE_STATUS */
                        PARLEY_MSG_PENDING = 1, /* in the outbox */
                        PARLEY_MSG_SENT = 2,    /* acknowledged by the server */
                        PARLEY_MSG_FAILED =
                            3, /* rejected for good; reason in parley_event_text() */
                        /* on stable storage in the data dir (survives a power
                         * loss); see parley_config_set_durability() */
                        PARLEY_MSG_STORED = 4
};

enum parley_conv_state { /* parley_event_state() of PARLEY_EV_CONVERSATION */
                         PARLEY_CONV_STARTED = 1, /* the server acknowledged conversation start */
                         PARLEY_CONV_BOT = 2,
                         PARLEY_CONV_AGENT = 3,
                         PARLEY_CONV_QUEUED = 4,
                         PARLEY_CONV_CLOSED = 5,
                         PARLEY_CONV_OPEN = 6
};

enum parley_author_kind { /* parley_event_author_kind() of PARLEY_EV_MESSAGE */
                          PARLEY_AUTHOR_USER = 1,
                          PARLEY_AUTHOR_BOT = 2,
                          PARLEY_AUTHOR_AGENT = 3,
                          PARLEY_AUTHOR_SYSTEM = 4
};

/* Takes the next event off the client's queue: PARLEY_OK and *out set (free
 * it with parley_event_free()), or PARLEY_ERR_AGAIN when there is none.
 * Any thread; meant to be called every frame: when the queue is empty it makes
 * no system call, no allocation and takes no lock. When the queue had
 * reached its limits (parley_config_set_event_limits) and this call brings
 * it below half of them, it wakes the client's servicing to read again.
 * Errors: INVALID_ARG. */
PARLEY_API int parley_poll(parley_client *pc, parley_event **out);

/* Frees an event (may outlive its client). NULL is a no-op. */
PARLEY_API void parley_event_free(parley_event *ev);

/* Accessors. They never fail: a field an event does not carry reads as NULL
 * (strings) or 0 (numbers). Strings are borrowed until parley_event_free(). */
PARLEY_API int parley_event_type(const parley_event *ev);
/* CONNECTION, MESSAGE_STATUS, CONVERSATION: the PARLEY_CONN_*, PARLEY_MSG_* or
 * PARLEY_CONV_* value. */
PARLEY_API int parley_event_state(const parley_event *ev);
/* MESSAGE, MESSAGE_STATUS, CONVERSATION, ERROR (when it concerns one). */
PARLEY_API const char *parley_event_conversation_id(const parley_event *ev);
/* MESSAGE: the server's message id. MESSAGE_STATUS: the server's id once SENT. */
PARLEY_API const char *parley_event_message_id(const parley_event *ev);
/* MESSAGE_STATUS, ERROR: the client id returned by parley_send_text(). */
PARLEY_API const char *parley_event_client_id(const parley_event *ev);
/* MESSAGE, MESSAGE_STATUS once SENT: the per-conversation sequence number as a
 * decimal string (it may exceed 2^53). */
PARLEY_API const char *parley_event_seq(const parley_event *ev);
/* MESSAGE: the text. MESSAGE_STATUS FAILED and ERROR: a human-readable reason.
 * CONNECTION RECONNECTING: why the connection was lost. */
PARLEY_API const char *parley_event_text(const parley_event *ev);
/* MESSAGE: PARLEY_AUTHOR_*. */
PARLEY_API int parley_event_author_kind(const parley_event *ev);
/* MESSAGE: the author's display name (may be NULL). CONVERSATION AGENT: the
 * agent's name. */
PARLEY_API const char *parley_event_author_name(const parley_event *ev);
/* MESSAGE: server timestamp in ms since the Unix epoch (0 when not given). */
PARLEY_API int64_t parley_event_timestamp_ms(const parley_event *ev);
/* CONNECTION RECONNECTING: milliseconds until the next attempt. */
PARLEY_API uint32_t parley_event_retry_ms(const parley_event *ev);
/* ERROR, CONNECTION RECONNECTING: a PARLEY_ERR_* code. */
PARLEY_API int parley_event_error_code(const parley_event *ev);

/* Why the server's certificate was refused: bits of
 * parley_event_tls_failures(), from mbedTLS' verification flags. */
enum parley_tls_failure {
    PARLEY_TLS_HOSTNAME_MISMATCH = 1, /* it is not for the URL's host name */
    PARLEY_TLS_UNTRUSTED =
        2, /* no trusted CA signed it (unknown CA, self-signed, chain incomplete) */
    PARLEY_TLS_EXPIRED = 4,       /* past its validity (or the device's clock is ahead) */
    PARLEY_TLS_NOT_YET_VALID = 8, /* before its validity (or the device's clock is behind) */
    PARLEY_TLS_PIN_MISMATCH = 16, /* valid, but its key is not one of the configured pins */
    PARLEY_TLS_OTHER = 32         /* no certificate, or another check (weak key or hash, usage) */
};

/* How long the client waits after a refused certificate before it tries
 * again (at least; the reconnect maximum when that is longer), with up to
 * as much again of jitter. A refused certificate ends the attempt
 * (PARLEY_EV_CONNECTION RECONNECTING and PARLEY_EV_ERROR, both with
 * PARLEY_ERR_TLS and the reason): retrying at the usual backoff could not
 * help and would hammer the server, but such failures do end without
 * anyone touching the app (a captive portal is left, the device's clock is
 * corrected, the server's certificate is renewed), so the client does try
 * again, rarely. When the host knows better (its user pressed "retry", the
 * network changed), parley_reconnect_now() cuts the wait short. */
enum { PARLEY_CERT_RETRY_MS = 300000 };

/* ERROR and CONNECTION RECONNECTING with PARLEY_ERR_TLS: the PARLEY_TLS_*
 * bits naming every problem found with the server's certificate (the
 * event's text says the same in English, with the certificate's names and
 * dates); 0 when the TLS handshake failed before a certificate was judged
 * (no TLS server there, a protocol error): retried with the usual backoff.
 * 0 for other events. */
PARLEY_API uint32_t parley_event_tls_failures(const parley_event *ev);

/* ---- rich conversations ---------------------------------------------------
 * Bots and agents offer choices as structured content; the user answers
 * with postbacks. Typing indicators, read marks, unread counts and requests
 * (conversation list, older history, help articles). docs/protocol.md,
 * "Postbacks", "typing", "read", "Requests", "Structured content".
 * Their events, PARLEY_EV_TYPING to PARLEY_EV_ARTICLE, are in
 * enum parley_event_type above. */

enum parley_typing_state { /* parley_event_state() of PARLEY_EV_TYPING */
                           PARLEY_TYPING_ON = 1,
                           PARLEY_TYPING_OFF = 2
};

enum parley_block_kind { /* parley_block_kind() */
                         PARLEY_BLOCK_QUICK_REPLIES =
                             1, /* chips; the set is used up once one is chosen */
                         PARLEY_BLOCK_BUTTONS = 2,
                         PARLEY_BLOCK_CARD = 3,    /* title, text, image, buttons */
                         PARLEY_BLOCK_CAROUSEL = 4 /* cards */
};

enum parley_option_action {                             /* parley_option_action() */
                            PARLEY_ACTION_POSTBACK = 1, /* answer with parley_postback() */
                            PARLEY_ACTION_URL = 2       /* open parley_option_url() */
};

typedef struct parley_block parley_block;
typedef struct parley_option parley_option;

/* Structured content of a PARLEY_EV_MESSAGE event (and of the MESSAGE items
 * of PARLEY_EV_HISTORY). Blocks and options are borrowed from the event
 * until parley_event_free(). An index out of range, a NULL argument or an
 * event without blocks gives 0 or NULL, never a crash. Blocks the server
 * sent that break the rules of docs/protocol.md (unknown kind, too many
 * options, missing label...) are left out; the message is still delivered
 * with it (queued just before it) comes one PARLEY_EV_ERROR
 * (PARLEY_ERR_PROTOCOL, with the conversation and message ids) saying
 * which block and why. Any thread. */
PARLEY_API int parley_event_block_count(const parley_event *ev);
PARLEY_API const parley_block *parley_event_block(const parley_event *ev, int i);
/* The kept blocks as one JSON array text (for language bindings), or NULL
 * when the message has none. */
PARLEY_API const char *parley_event_raw_json(const parley_event *ev);
/* PARLEY_BLOCK_*. */
PARLEY_API int parley_block_kind(const parley_block *b);
/* CARD (and carousel cards): title, text, image URL; NULL when absent. */
PARLEY_API const char *parley_block_title(const parley_block *b);
PARLEY_API const char *parley_block_text(const parley_block *b);
PARLEY_API const char *parley_block_image_url(const parley_block *b);
/* QUICK_REPLIES: the options; BUTTONS and CARD: the buttons. */
PARLEY_API int parley_block_option_count(const parley_block *b);
PARLEY_API const parley_option *parley_block_option(const parley_block *b, int j);
/* CAROUSEL: the cards (blocks of kind CARD). */
PARLEY_API int parley_block_card_count(const parley_block *b);
PARLEY_API const parley_block *parley_block_card(const parley_block *b, int j);
/* An option's id (what parley_postback() names), label, payload (may be
 * NULL), URL (URL buttons only) and PARLEY_ACTION_*. */
PARLEY_API const char *parley_option_id(const parley_option *o);
PARLEY_API const char *parley_option_label(const parley_option *o);
PARLEY_API const char *parley_option_payload(const parley_option *o);
PARLEY_API const char *parley_option_url(const parley_option *o);
PARLEY_API int parley_option_action(const parley_option *o);

/* Answers option `option_id` of message `message_id` (the server's id, from
 * parley_event_message_id()) in `conv_id`: sent as a user message whose
 * text is the option's label (redacted like any message), naming the
 * option, through the outbox like parley_send_text() (PENDING, then SENT or
 * FAILED status events for the client id written to msg_id_out, which may
 * be NULL). The client remembers the options of the last 8 messages per
 * conversation (64 in all) that arrived as PARLEY_EV_MESSAGE (not those of
 * parley_load_history()), in the data dir too, so a postback works after
 * a restart. Errors: INVALID_ARG (NULL or malformed argument, or a URL
 * button), NOT_FOUND (message not remembered, or no such option on it),
 * STATE (a quick-reply set already answered), TOO_LONG (as for
 * parley_send_text()), FULL, IO, NOMEM. */
PARLEY_API int parley_postback(parley_client *pc, const char *conv_id, const char *message_id,
                               const char *option_id, char *msg_id_out, size_t out_size);

/* The user is typing (on = 1) or stopped (on = 0) in `conv_id`. Cheap
 * enough to call on every keystroke: at most one "typing" goes out per
 * conversation every 3 seconds, and "stopped" goes out at once when
 * "typing" was sent. Not durable: while offline nothing is sent and
 * PARLEY_OK is returned. Errors: INVALID_ARG, NOT_FOUND (conversation not
 * known), FULL, IO (as parley_send_text()), NOMEM. */
PARLEY_API int parley_set_typing(parley_client *pc, const char *conv_id, int on);

/* The user has read `conv_id` up to `seq` (a seq string from an event).
 * Remembered (in the data dir too) and sent now when online and again after
 * every reconnect; a lower mark than one already set changes nothing.
 * Errors: INVALID_ARG (bad seq), NOT_FOUND (conversation not known), FULL
 * (as parley_send_text()), IO, NOMEM. */
PARLEY_API int parley_mark_read(parley_client *pc, const char *conv_id, const char *seq);

/* The number of messages the user has not read, from the server's latest
 * counts (PARLEY_EV_UNREAD): in `conv_id`, or with NULL the total over all
 * conversations. A conversation without a count yet reads 0, as does one
 * not the user's whose count gave way to those of 512 others.
 * Errors: INVALID_ARG. */
PARLEY_API int parley_unread_count(parley_client *pc, const char *conv_id, uint32_t *out);

/* Requests. Each returns at once with the request's id ("r-<n>") in req_out
 * (at least PARLEY_ID_SIZE bytes; may be NULL); the answer arrives as an
 * event carrying that id (parley_event_request_id()), or as
 * PARLEY_EV_ERROR with the id as parley_event_client_id() when the server
 * refuses it (unknown conversation or article: PARLEY_ERR_NOT_FOUND, else
 * PARLEY_ERR_REJECTED; a malformed answer: PARLEY_ERR_PROTOCOL). Made
 * offline, a request waits for the connection; one whose connection drops
 * before the answer is sent again. Not kept across restarts.
 * Errors: INVALID_ARG, TOO_LONG (query), FULL (16 requests waiting for
 * answers), NOMEM. */
/* PARLEY_EV_CONVERSATIONS: the user's conversations, newest first. */
PARLEY_API int parley_list_conversations(parley_client *pc, char *req_out, size_t out_size);
/* PARLEY_EV_HISTORY: messages of `conv_id` before `before_seq` (NULL: the
 * newest), at most `limit` (0: 20; 1..100). Does not move cursors or
 * deliver PARLEY_EV_MESSAGE events: it is for showing older messages. */
PARLEY_API int parley_load_history(parley_client *pc, const char *conv_id, const char *before_seq,
                                   int limit, char *req_out, size_t out_size);
/* PARLEY_EV_ARTICLES: help articles matching `query` (1..256 bytes of
 * UTF-8), best first. */
PARLEY_API int parley_search_articles(parley_client *pc, const char *query, char *req_out,
                                      size_t out_size);
/* PARLEY_EV_ARTICLE: one article by id (printable ASCII, 1..128 bytes). */
PARLEY_API int parley_get_article(parley_client *pc, const char *article_id, char *req_out,
                                  size_t out_size);

/* Accessors of this section's events; 0 / NULL on events without them.
 * TYPING: state PARLEY_TYPING_*, conversation id, author kind and name; the
 * client reports OFF by itself 6 s after the last ON.
 * READ: conversation id and seq. UNREAD: conversation id and count.
 * CONVERSATION from conv.update with state QUEUED: the queue position
 * (-1 when the server gave none) and the estimated wait in seconds (0 when
 * none given). */
PARLEY_API int parley_event_queue_position(const parley_event *ev);
PARLEY_API uint32_t parley_event_wait_s(const parley_event *ev);
/* UNREAD: the count. CONVERSATION items of CONVERSATIONS: unread messages. */
PARLEY_API uint32_t parley_event_count(const parley_event *ev);
/* CONVERSATIONS, HISTORY, ARTICLES, ARTICLE: the id of the request answered. */
PARLEY_API const char *parley_event_request_id(const parley_event *ev);
/* HISTORY: 1 when older messages exist. */
PARLEY_API int parley_event_more(const parley_event *ev);
/* The items of CONVERSATIONS (CONVERSATION events: conversation id, state,
 * title = subject, count = unread, text = last text, timestamp = updated,
 * seq = last seq), HISTORY (MESSAGE events with their blocks; conversation
 * id on the answer) and ARTICLES (ARTICLE events: message id = article id,
 * title, text = snippet, URL). ARTICLE carries its article on itself (text
 * = body). Items are borrowed from the answer until parley_event_free() of
 * the answer; never free an item. Out of range: NULL. */
PARLEY_API int parley_event_item_count(const parley_event *ev);
PARLEY_API const parley_event *parley_event_item(const parley_event *ev, int i);
PARLEY_API const char *parley_event_title(const parley_event *ev);
PARLEY_API const char *parley_event_url(const parley_event *ev);

/* ---- surveys and proactive messages --------------------------------------
 * docs/protocol.md, "survey", "survey.submit", "proactive". The library
 * validates each survey as a whole (a survey breaking a rule is dropped and
 * reported as PARLEY_EV_ERROR / PARLEY_ERR_PROTOCOL naming the survey and
 * the rule), keeps it with the user's partial answers in the data dir until
 * it is submitted or dismissed (at most 32 pending surveys; more are not
 * kept until some are answered: the server sends them again), and reports
 * each one once. After a restart every survey still pending is reported
 * again once. Their events, PARLEY_EV_SURVEY and PARLEY_EV_PROACTIVE, are
 * in enum parley_event_type above. */

/* parley_event_raw_json() (declared with rich content above) of a
 * PARLEY_EV_SURVEY is the survey model as JSON text (the wire's "survey"
 * object), for language bindings. */

enum parley_question_kind {                      /* parley_question_kind() */
                            PARLEY_Q_RATING = 1, /* a number in [min, max] */
                            PARLEY_Q_NPS = 2,    /* a number in [0, 10] */
                            PARLEY_Q_SINGLE = 3, /* one option */
                            PARLEY_Q_MULTI = 4,  /* min..max distinct options */
                            PARLEY_Q_TEXT = 5    /* free text of at most max_length bytes */
};

/* Size of a buffer that holds any survey or question id (1..128 bytes). */
enum { PARLEY_SURVEY_ID_SIZE = 129 };

typedef struct parley_survey parley_survey;
typedef struct parley_question parley_question;

/* PARLEY_EV_SURVEY: the survey, borrowed until parley_event_free() (it
 * stays valid after its client is freed). NULL for other events. The
 * event's parley_event_conversation_id() is the survey's conversation. */
PARLEY_API const parley_survey *parley_event_survey(const parley_event *ev);

/* Survey accessors never fail: NULL reads as NULL / 0. Strings are borrowed
 * with the survey. id: this delivery's id (what answers name); name: the
 * definition's name (may be NULL); intro and conversation id may be NULL. */
PARLEY_API const char *parley_survey_id(const parley_survey *s);
PARLEY_API const char *parley_survey_name(const parley_survey *s);
PARLEY_API const char *parley_survey_title(const parley_survey *s);
PARLEY_API const char *parley_survey_intro(const parley_survey *s);
PARLEY_API const char *parley_survey_conversation_id(const parley_survey *s);
/* 1 when the server pushed it on its own (held while proactive content is
 * muted, like proactive messages). */
PARLEY_API int parley_survey_is_proactive(const parley_survey *s);
/* 1..50 questions, in display order; parley_survey_question() is NULL out
 * of range. */
PARLEY_API int parley_survey_question_count(const parley_survey *s);
PARLEY_API const parley_question *parley_survey_question(const parley_survey *s, int i);

/* Question accessors; same rules. */
PARLEY_API const char *parley_question_id(const parley_question *q);
PARLEY_API const char *parley_question_text(const parley_question *q);
PARLEY_API int parley_question_kind(const parley_question *q);
PARLEY_API int parley_question_required(const parley_question *q);
/* RATING: the scale (0 <= min < max <= 10). NPS: 0 and 10. MULTI: how many
 * options may be selected. Others: 0. */
PARLEY_API int parley_question_min(const parley_question *q);
PARLEY_API int parley_question_max(const parley_question *q);
/* RATING, NPS: labels of the scale's ends (may be NULL). */
PARLEY_API const char *parley_question_min_label(const parley_question *q);
PARLEY_API const char *parley_question_max_label(const parley_question *q);
/* TEXT: the longest answer in bytes (1..4096). Others: 0. */
PARLEY_API int parley_question_max_length(const parley_question *q);
/* SINGLE, MULTI: 1..20 options (others 0); id and label of option j. */
PARLEY_API int parley_question_option_count(const parley_question *q);
PARLEY_API const char *parley_question_option_id(const parley_question *q, int j);
PARLEY_API const char *parley_question_option_label(const parley_question *q, int j);
/* A conditional question is shown (and may be answered) only when the
 * earlier question named here is shown and was answered with one of the
 * values (numbers as decimal strings for RATING/NPS, option ids for
 * choices; for MULTI any selected option matches). NULL: unconditional. */
PARLEY_API const char *parley_question_show_if_question(const parley_question *q);
PARLEY_API int parley_question_show_if_value_count(const parley_question *q);
PARLEY_API const char *parley_question_show_if_value(const parley_question *q, int j);

/* A response being filled in for one pending survey. It holds its client:
 * free it with parley_survey_response_free() before parley_client_free().
 * Calls on a response take the client's lock (any thread). The answers live
 * in the client, not in the handle: every answer call saves them to the
 * data dir (not synced to disk: a crash may lose the last answers, never
 * the survey), a new response for the same survey (also after a restart)
 * resumes them, and two responses for one survey share them. */
typedef struct parley_survey_response parley_survey_response;

/* Errors: INVALID_ARG, NOT_FOUND (no such pending survey on this client),
 * STATE (already submitted or dismissed), NOMEM. */
PARLEY_API int parley_survey_response_new(parley_client *pc, const char *survey_id,
                                          parley_survey_response **out);
PARLEY_API void parley_survey_response_free(parley_survey_response *resp);

/* Answering. Common errors: INVALID_ARG (NULL, or the call does not fit the
 * question's kind), NOT_FOUND (unknown question, or the survey is gone),
 * STATE (the question is hidden by its condition, or the survey was
 * submitted or dismissed), NOMEM. A new answer replaces the old one.
 * number: RATING and NPS; RANGE outside the scale. */
PARLEY_API int parley_survey_answer_number(parley_survey_response *resp, const char *question_id,
                                           int value);
/* SINGLE: NOT_FOUND for an unknown option. */
PARLEY_API int parley_survey_answer_choice(parley_survey_response *resp, const char *question_id,
                                           const char *option_id);
/* MULTI: `n` distinct option ids. NOT_FOUND for an unknown option,
 * INVALID_ARG for a repeated one, RANGE when n is outside min..max. */
PARLEY_API int parley_survey_answer_choices(parley_survey_response *resp, const char *question_id,
                                            const char *const *option_ids, size_t n);
/* TEXT: non-empty UTF-8 of at most max_length bytes (TOO_LONG), redacted
 * (PARLEY_FIELD_SURVEY) before it is stored. */
PARLEY_API int parley_survey_answer_text(parley_survey_response *resp, const char *question_id,
                                         const char *text);
/* Forgets a question's answer (OK when there was none). */
PARLEY_API int parley_survey_clear_answer(parley_survey_response *resp, const char *question_id);
/* 1 when the question is shown given the answers so far, 0 when its
 * condition hides it, or a negative error (INVALID_ARG, NOT_FOUND). */
PARLEY_API int parley_survey_question_visible(parley_survey_response *resp,
                                              const char *question_id);

/* Submits the answers of the shown questions (answers to questions hidden
 * by a condition are dropped) through the durable outbox, like a message:
 * journaled before PARLEY_OK (parley_config_set_durability()), resent
 * until the server
 * acknowledges it, counted once. Its client id goes to cid_out
 * (PARLEY_ID_SIZE bytes, may be NULL) and it is reported with
 * PARLEY_EV_MESSAGE_STATUS PENDING, SENT or FAILED under that id.
 * Errors: INCOMPLETE (a required shown question is unanswered: its id goes
 * to missing_qid_out, PARLEY_SURVEY_ID_SIZE bytes, may be NULL),
 * INVALID_ARG (NULL, a buffer too small), NOT_FOUND, STATE (already
 * submitted or dismissed), TOO_LONG (the answers do not fit one frame,
 * docs/protocol.md "Limits": nothing was queued, the survey stays pending
 * with its answers), FULL, IO, NOMEM. */
PARLEY_API int parley_survey_submit(parley_survey_response *resp, char *missing_qid_out,
                                    size_t out_size, char *cid_out, size_t cid_size);

/* Declines a pending survey: survey.dismiss through the outbox, reported
 * like a submission. Errors: INVALID_ARG, NOT_FOUND, STATE, FULL, IO,
 * NOMEM. */
PARLEY_API int parley_survey_dismiss(parley_client *pc, const char *survey_id, char *cid_out,
                                     size_t cid_size);

/* PARLEY_EV_PROACTIVE: parley_event_message_id() is the item's id;
 * parley_event_text(), author kind and name, timestamp, blocks
 * (parley_event_block_count() ...) and parley_event_raw_json() as for a
 * message (bad blocks are left out and reported the same way); no
 * conversation. Each item is acknowledged to the server once handed to the
 * host.
 *
 * Mutes proactive content (proactive messages and proactive surveys) for
 * duration_ms; 0 unmutes now. While muted, such items are held (at most 32;
 * further ones are dropped unacknowledged, and the server sends them again
 * later) and when the mute ends they are queued as events, in order, and
 * acknowledged. Muting again replaces the deadline. Not kept across
 * restarts. Errors: INVALID_ARG. */
PARLEY_API int parley_mute_proactive(parley_client *pc, uint32_t duration_ms);

/* ---- attachments -----------------------------------------------------------
 * Files in conversations: docs/protocol.md, "Attachments". An attachment is
 * a message (its caption is the text) whose file is uploaded in chunks over
 * the connection, resumed after a reconnect where the server's copy ends,
 * each chunk and the whole file checked with SHA-256. The message is held
 * in the outbox until its upload is complete and then sent like any other;
 * the items queued behind it do not wait for it. */

/* parley_event_state() of PARLEY_EV_ATTACHMENT. Uploads name their
 * message's client id (parley_event_client_id()), downloads their request
 * id (parley_event_request_id()) and the attachment id
 * (parley_event_message_id()). */
enum parley_attachment_state {
    PARLEY_ATT_PROGRESS = 1,   /* bytes moved: parley_event_bytes_done() of _total() */
    PARLEY_ATT_UPLOADED = 2,   /* the server has the whole file; the message goes out now */
    PARLEY_ATT_DATA = 3,       /* a download into memory: one chunk, in order */
    PARLEY_ATT_DOWNLOADED = 4, /* the whole file is there and its SHA-256 matched */
    PARLEY_ATT_FAILED = 5      /* given up: parley_event_error_code() and _text() say why */
};

/* The most bytes one PARLEY_ATT_DATA event carries (the wire's chunk). */
enum { PARLEY_ATTACHMENT_CHUNK_SIZE = 12288 };

/* Sends the file at `path` in `conv_id` as an attachment named `name`
 * (1..255 bytes of UTF-8, no '/', '\' or control characters; NULL: the
 * last part of the path) of MIME type `mime_type` (e.g. "image/png"; NULL:
 * "application/octet-stream"), with `caption` as the message's text (NULL
 * or "" for none; redacted and limited like parley_send_text()). The file
 * is read once now to hash it (the caller waits for that: ~10 ms per
 * 5 MB), and again in chunks while it uploads: it must stay there, unchanged,
 * until PARLEY_ATT_UPLOADED. Durable like a message: with a data dir, OK
 * means the message and the file's path are in the journal (synced), and
 * the upload continues after a restart. Events: PARLEY_MSG_PENDING now,
 * PARLEY_EV_ATTACHMENT PROGRESS and UPLOADED while it uploads, then
 * PARLEY_MSG_SENT (or FAILED) under the client id written to msg_id_out
 * (PARLEY_ID_SIZE bytes; may be NULL). A file that is gone or changed when
 * it is read later fails its message (PARLEY_EV_ERROR with PARLEY_ERR_IO,
 * PARLEY_MSG_FAILED, PARLEY_ATT_FAILED); so does a server whose frame
 * limit cannot hold a chunk (PARLEY_ERR_TOO_LONG), or that keeps refusing
 * its chunks (PARLEY_ERR_REJECTED).
 * Errors: INVALID_ARG (NULL, bad name, type or caption, an empty file),
 * NOT_FOUND (conversation not known, or no such file), TOO_LONG (the file
 * is over the server's max_attachment, 25 MiB before any server said; or
 * the caption is too long), IO (the file cannot be read, or the journal
 * not written), FULL, NOMEM. Any thread (the hashing runs under the
 * client's lock). */
PARLEY_API int parley_send_attachment(parley_client *pc, const char *conv_id, const char *path,
                                      const char *name, const char *mime_type, const char *caption,
                                      char *msg_id_out, size_t out_size);

/* The same with the file's bytes from the host (copied: `data` may be
 * freed on return). With a data dir or host storage the copy is written
 * there (file "att-<client id>", synced; removed once the message is sent
 * or failed), so the upload survives a restart too; without, it lives in
 * memory. `name` is required. Errors as parley_send_attachment(), without
 * NOT_FOUND for the file. */
PARLEY_API int parley_send_attachment_bytes(parley_client *pc, const char *conv_id,
                                            const unsigned char *data, size_t len, const char *name,
                                            const char *mime_type, const char *caption,
                                            char *msg_id_out, size_t out_size);

/* Downloads the attachment `attachment_id` (parley_event_attachment_id()
 * of a message). With `dest_path` the file is written to dest_path.part
 * and renamed to dest_path once its SHA-256 matches; a .part left by an
 * earlier call (or run) is continued, not started over (one that already
 * holds the whole file is checked and renamed; one longer than the file
 * is started over). With NULL the
 * bytes come as PARLEY_ATT_DATA events, in order (copy each out with
 * parley_event_attachment_chunk()). Either way PROGRESS events follow, and
 * DOWNLOADED or FAILED ends it, all with the request id written to req_out
 * (PARLEY_ID_SIZE bytes; may be NULL). Made offline it starts at the next
 * connection; one cut by a lost connection continues after the next
 * welcome. Not kept across restarts (call again: a file download resumes
 * from its .part). At most 8 at once.
 * Errors: INVALID_ARG (bad id or path), FULL (8 downloads running),
 * NOMEM. The server's refusal (not the user's, or unknown) is FAILED with
 * PARLEY_ERR_NOT_FOUND; a disk that cannot take the file, FAILED with
 * PARLEY_ERR_IO. Any thread. */
PARLEY_API int parley_fetch_attachment(parley_client *pc, const char *attachment_id,
                                       const char *dest_path, char *req_out, size_t out_size);

/* The attachment a PARLEY_EV_MESSAGE (or a HISTORY item) carries, or the
 * file of a PARLEY_EV_ATTACHMENT upload: its server id (NULL for an upload
 * in progress), file name, MIME type, SHA-256 (64 hex digits) and size in
 * bytes. NULL / 0 when there is none. */
PARLEY_API const char *parley_event_attachment_id(const parley_event *ev);
PARLEY_API const char *parley_event_attachment_name(const parley_event *ev);
PARLEY_API const char *parley_event_attachment_type(const parley_event *ev);
PARLEY_API const char *parley_event_attachment_sha256(const parley_event *ev);
PARLEY_API int64_t parley_event_attachment_size(const parley_event *ev);
/* PARLEY_EV_ATTACHMENT: bytes moved so far (DATA: up to the end of its
 * chunk) and the file's size (0 until a download knows it). */
PARLEY_API int64_t parley_event_bytes_done(const parley_event *ev);
PARLEY_API int64_t parley_event_bytes_total(const parley_event *ev);
/* PARLEY_ATT_DATA: copies the chunk into `buf` (at least
 * PARLEY_ATTACHMENT_CHUNK_SIZE bytes, or the chunk's length) and returns
 * its length (0 for other events). Its first byte is at offset
 * parley_event_bytes_done() minus that length.
 * Errors: INVALID_ARG (NULL, buf too small). */
PARLEY_API int parley_event_attachment_chunk(const parley_event *ev, char *buf, size_t size);

/* ---- push notifications ------------------------------------------------------
 * docs/protocol.md, "Push notifications". */

/* The device's push token: `platform` "apns", "fcm" or a name of the
 * host's (1..32 printable ASCII), `token` as the platform gave it
 * (1..4096 printable ASCII). Journaled, sent to the server now when online
 * and after every reconnect, so a reply to a user whose app is closed
 * reaches the device. A new token replaces the old one (which the server
 * is told to forget); NULL for both removes it. parley_logout() removes
 * it too. Errors: INVALID_ARG, IO, NOMEM. Any thread. */
PARLEY_API int parley_set_push_token(parley_client *pc, const char *platform, const char *token);

/* Hands a received push payload (JSON text: the server's webhook body, or
 * any object holding it under "parley") to the client: the conversation
 * it names becomes known (as by parley_list_conversations) and, when the
 * client is waiting to reconnect, it connects now, so the message is
 * there when the user opens the app. Errors: INVALID_ARG (not a JSON
 * object), NOT_FOUND (not a Parley push: no "conv"), FULL (too many
 * conversations), NOMEM. Any thread. */
PARLEY_API int parley_handle_push(parley_client *pc, const char *payload);

/* ---- local history -----------------------------------------------------------
 * docs/protocol.md, "Local history". */

/* Keeps the newest `per_conversation` messages of every conversation in
 * the journal (encrypted with it when a key is set): those delivered as
 * PARLEY_EV_MESSAGE, the user's own once SENT, and those of the history
 * pages that answer parley_load_history() for a conversation the client
 * knows (a page the server sends unasked is not kept).
 * parley_load_history() then answers from the device first, at once and
 * offline too. 0 (the default) keeps none; at most 1000. Without a data
 * dir or host storage it lives in memory.
 * Errors: INVALID_ARG (over 1000). */
PARLEY_API int parley_config_set_local_history(parley_config *cfg, uint32_t per_conversation);

/* HISTORY: 1 when the answer came from the local history (the server's
 * page, with the same request id, follows when online); 0 otherwise. */
PARLEY_API int parley_event_from_device(const parley_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* PARLEY_H */
