/* parley-server: the reference support backend for libparley. One process,
 * one lws service thread: the parley.v1 WebSocket endpoint at "/" and the
 * agents' HTTP API under "/api/", both on one port, stored in SQLite. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lws_config.h>
#if !defined(LWS_WITH_MBEDTLS)
#error "parley-server needs libwebsockets built with mbedTLS (scripts/build-lws.sh)"
#endif
#include <libwebsockets.h>

#include "agent_ws.h"
#include "agents.h"
#include "account.h"
#include "api_routes.h"
#include "attach.h"
#include "banner.h"
#include "blobs.h"
#include "console.h"
#include "deliver.h"
#include "evloop.h"
#include "fanout.h"
#include "pwhash.h"
#include "sla.h"
#include "sla_policy.h"
#include "webhook.h"
#include "flow.h"
#include "frame_table.h"
#include "groupcommit.h"
#include "http.h"
#include "kb.h"
#include "pacer.h"
#include "rules.h"
#include "secrets.h"
#include "server.h"
#include "store.h"
#include "survey_def.h"
#include "triage.h"
#include "triggers.h"
#include "util.h"
#include "waitest.h"
#include "ws.h"

#define AGENT_TOKEN_MAX 256
#define SHUTDOWN_GRACE_MS 2000
#define GOAWAY_RECONNECT_MS 1000
/* The goaway's delays spread over this window (--drain-window-ms): the
 * clients of a drained instance arrive at the others over 10 s rather than
 * at once. The protocol's limit on reconnect_ms bounds it. */
#define DRAIN_WINDOW_MS 10000
#define DRAIN_WINDOW_LIMIT_MS 3600000L
/* The shipped example bot flow, knowledge base and surveys (--bot, --kb and
 * --surveys override them) are found beside an installed server, in
 * PARLEY_SERVER_INSTALLED_DATA relative to its executable (../share/parley),
 * else in the source tree it was built from. */
#ifndef PARLEY_SERVER_DATA_DIR
#define PARLEY_SERVER_DATA_DIR "."
#endif
#define DATA_PATH_MAX 4096

/* Clients ping every 20 s by default; a connection silent for much longer
 * than that is pinged, then dropped, so dead peers do not pile up. */
static const lws_retry_bo_t idle_policy = {
    .secs_since_valid_ping = 40,
    .secs_since_valid_hangup = 90,
};

/* The longest --jwt-max-lifetime: a year. */
#define JWT_LIFETIME_LIMIT_S (366L * 24 * 3600)

typedef struct options {
    long port;
    const char *host;
    const char *db_path;
    const char *cert;
    const char *key;
    const char *ca;                                  /* printed in the parley-chat command only */
    secret_src agent_token, jwt_secret, hmac_secret; /* flag, file or environment */
    const char *jwt_audience;
    const char *jwt_issuer;
    long jwt_max_lifetime; /* seconds; 0: no limit */
    int insecure_identities;
    const char *ready_file;
    long max_text;
    const char *surveys;  /* "" for none */
    int surveys_explicit; /* a missing default file is not an error */
    const char *bot;      /* the bot's flow file */
    const char *kb;       /* the knowledge base directory */
    const char *routing;  /* the triage and routing rules, or NULL */
    abuse_cfg abuse;
    const char *data_dir; /* attachments' files; NULL: beside the database */
    long max_attachment;
    const char *attachment_types;
    const char *push_webhook, *push_ca;
    secret_src push_secret;
    int push_preview;
    evloop_kind loop; /* --event-loop */
    int per_write;    /* --group-commit off */
    long drain_window_ms;
    const char *redis; /* --redis: fan-out between instances */
    /* The agent workspace (docs/agent-console.md). */
    const char *add_agent, *role, *display_name;
    int password_stdin;
    const char *sla;
    const char *webhook;
    secret_src webhook_secret;
    const char *console_dir;
    /* The shipped data's paths, the defaults above point into them. */
    char default_surveys[DATA_PATH_MAX + 32], default_bot[DATA_PATH_MAX + 32],
        default_kb[DATA_PATH_MAX + 32];
    char default_console[DATA_PATH_MAX + 32];
} options;

/* The secrets as resolved (secrets.c), owned by main. */
typedef struct secrets {
    char *agent_token, *jwt_secret, *hmac_secret;
} secrets;

static void usage(FILE *out)
{
    fputs("usage: parley-server [options]\n"
          "  --port N           TCP port (default 8443; 0 picks a free one)\n"
          "  --host ADDR        IPv4 address to listen on (default 127.0.0.1)\n"
          "  --db PATH          SQLite database file (default parley-server.db)\n"
          "  --store WHERE      the database: a SQLite file's path (as --db) or a\n"
          "                     PostgreSQL URL postgres://user@host:port/db, which\n"
          "                     several servers may share (a password: PGPASSWORD\n"
          "                     or ~/.pgpass rather than the URL)\n"
          "  --cert PEM         TLS certificate chain (with --key; without them the\n"
          "                     server speaks plain ws:// and http://)\n"
          "  --key PEM          TLS private key\n"
          "  --ca PEM           the CA certificate clients trust (checked against\n"
          "                     --cert and shown in the parley-chat command printed\n"
          "                     at startup)\n"
          "  --agent-token TOK  bearer token for the HTTP API (default: random, printed)\n"
          "  --jwt-secret S     identified users must present a JWT signed HS256 with S\n"
          "  --hmac-secret S    identified users may present hex HMAC-SHA256(S, user id)\n"
          "  --agent-token-file, --jwt-secret-file, --hmac-secret-file FILE\n"
          "                     the same secrets read from FILE; without flag or file,\n"
          "                     from $PARLEY_AGENT_TOKEN, $PARLEY_JWT_SECRET,\n"
          "                     $PARLEY_HMAC_SECRET (keeps them out of ps)\n"
          "  --jwt-audience A   a JWT's aud must be (or contain) A\n"
          "  --jwt-issuer I     a JWT's iss must be I\n"
          "  --jwt-max-lifetime S  refuse JWTs valid for more than S seconds\n"
          "                     (exp - iat, and exp - now)\n"
          "  --insecure-identities  without --jwt-secret/--hmac-secret, accept any\n"
          "                     identified user unverified: DEVELOPMENT ONLY\n",
          out);
    fprintf(out,
            "  --ready-file PATH  once listening, atomically write the port there\n"
            "  --max-text N       longest message text in bytes (default %d, max %d)\n"
            "  --surveys FILE     survey definitions and triggers (default: the shipped\n"
            "                     example when present; '' for none)\n"
            "  --bot FILE         the bot's flow (default: the shipped example flow)\n"
            "  --kb DIR           knowledge base: a directory of Markdown articles\n"
            "                     (default: the shipped example articles)\n"
            "  --data-dir DIR     attachments' files, by content hash (default: the\n"
            "                     SQLite database's path + .files, parley-server.files\n"
            "                     with PostgreSQL; '' takes no attachments)\n"
            "  --max-attachment N largest attachment in bytes (default %d, max %lld)\n"
            "  --attachment-types LIST  MIME types taken, comma-separated, type/* for a\n"
            "                     family (default: " FILETYPES_DEFAULT ")\n"
            "  --push-webhook URL POST a JSON body there (http:// or https://) for each\n"
            "                     message to a user with no connection (README \"Push\")\n"
            "  --push-secret-file FILE  sign push bodies (X-Parley-Signature)\n"
            "  --push-ca PEM      trust anchors for an https:// push webhook (default: system)\n"
            "  --push-preview on|off  a redacted preview of the text (default on)\n"
            "  --event-loop poll|libuv  libwebsockets' event loop (default: libuv when\n"
            "                     built with it; poll() scans every connection on\n"
            "                     each wake-up: for comparisons)\n"
            "  --drain-window-ms N  on SIGTERM or SIGINT, the goaway's reconnect delays\n"
            "                     are spread over N ms (default %d; docs/scaling.md)\n"
            "  --redis URL        redis://host:port: publish live frames there and deliver\n"
            "                     the other instances' (several instances on one\n"
            "                     store; docs/scaling.md)\n"
            "  --group-commit on|off  off: every write syncs by itself instead of\n"
            "                     one sync per loop turn (default on; for comparisons)\n"
            "  --routing FILE     triage and routing rules: teams, office hours, scores,\n"
            "                     routes (docs/routing.md; default: none, the bot for all)\n"
            "  --sla FILE         SLA policies per priority (docs/agent-console.md)\n"
            "  --webhook URL      POST SLA breaches there (http:// or https://)\n"
            "  --webhook-secret-file FILE  sign webhook bodies (X-Parley-Signature)\n"
            "  --console DIR      the agent console's files (default: the shipped ones)\n"
            "  --add-agent NAME --role agent|admin [--display-name TEXT] --password-stdin\n"
            "                     add (or reset) an agent account in --db and exit\n"
            "  --help             show this help\n"
            "abuse limits (README \"Limits\"):\n",
            SERVER_MAX_TEXT_DEFAULT, SERVER_MAX_TEXT_LIMIT, ATTACH_MAX_DEFAULT,
            (long long)ATTACH_MAX_LIMIT, DRAIN_WINDOW_MS);
    abuse_usage(out);
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int valid_token(const char *t)
{
    size_t i, n = strlen(t);

    if (n == 0 || n > AGENT_TOKEN_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
            return 0;
    }
    return 1;
}

/* The options that take a string as they are. */
static const struct {
    const char *name;
    size_t offset;
} string_options[] = {
    {"--host", offsetof(options, host)},
    {"--db", offsetof(options, db_path)},
    {"--store", offsetof(options, db_path)},
    {"--cert", offsetof(options, cert)},
    {"--key", offsetof(options, key)},
    {"--ca", offsetof(options, ca)},
    {"--agent-token", offsetof(options, agent_token.value)},
    {"--agent-token-file", offsetof(options, agent_token.file)},
    {"--jwt-secret", offsetof(options, jwt_secret.value)},
    {"--jwt-secret-file", offsetof(options, jwt_secret.file)},
    {"--hmac-secret", offsetof(options, hmac_secret.value)},
    {"--hmac-secret-file", offsetof(options, hmac_secret.file)},
    {"--jwt-audience", offsetof(options, jwt_audience)},
    {"--jwt-issuer", offsetof(options, jwt_issuer)},
    {"--ready-file", offsetof(options, ready_file)},
    {"--bot", offsetof(options, bot)},
    {"--kb", offsetof(options, kb)},
    {"--attachment-types", offsetof(options, attachment_types)},
    {"--push-webhook", offsetof(options, push_webhook)},
    {"--push-secret", offsetof(options, push_secret.value)},
    {"--push-secret-file", offsetof(options, push_secret.file)},
    {"--push-ca", offsetof(options, push_ca)},
    {"--routing", offsetof(options, routing)},
    {"--add-agent", offsetof(options, add_agent)},
    {"--role", offsetof(options, role)},
    {"--display-name", offsetof(options, display_name)},
    {"--sla", offsetof(options, sla)},
    {"--webhook", offsetof(options, webhook)},
    {"--webhook-secret-file", offsetof(options, webhook_secret.file)},
    {"--console", offsetof(options, console_dir)},
    {"--redis", offsetof(options, redis)},
};

/* Handles one "--name value" pair; -1 for an unknown name or a bad value. */
static int set_option(options *o, const char *name, const char *value)
{
    int rc = abuse_option(&o->abuse, name, value);
    size_t i;

    if (rc <= 0)
        return rc;
    if (strcmp(name, "--port") == 0)
        return parse_long(value, 0, 65535, &o->port);
    if (strcmp(name, "--max-text") == 0)
        return parse_long(value, 1, SERVER_MAX_TEXT_LIMIT, &o->max_text);
    if (strcmp(name, "--jwt-max-lifetime") == 0)
        return parse_long(value, 1, JWT_LIFETIME_LIMIT_S, &o->jwt_max_lifetime);
    if (strcmp(name, "--max-attachment") == 0)
        return parse_long(value, 1, ATTACH_MAX_LIMIT, &o->max_attachment);
    if (strcmp(name, "--push-preview") == 0) {
        o->push_preview = strcmp(value, "on") == 0;
        return o->push_preview || strcmp(value, "off") == 0 ? 0 : -1;
    }
    if (strcmp(name, "--data-dir") == 0) {
        o->data_dir = value; /* '' for no attachments */
        return 0;
    }
    if (strcmp(name, "--event-loop") == 0)
        return evloop_parse(value, &o->loop);
    if (strcmp(name, "--drain-window-ms") == 0)
        return parse_long(value, 0, DRAIN_WINDOW_LIMIT_MS, &o->drain_window_ms);
    if (strcmp(name, "--group-commit") == 0) {
        o->per_write = strcmp(value, "off") == 0;
        return o->per_write || strcmp(value, "on") == 0 ? 0 : -1;
    }
    if (strcmp(name, "--surveys") == 0) {
        o->surveys = value;
        o->surveys_explicit = 1;
        return 0;
    }
    for (i = 0; i < sizeof string_options / sizeof string_options[0]; i++) {
        if (strcmp(name, string_options[i].name) == 0) {
            *(const char **)((char *)o + string_options[i].offset) = value;
            /* Only --surveys may be empty ('' for none). */
            return *value ? 0 : -1;
        }
    }
    return -1;
}

/* Fills `dir` with the installed data directory when there is one beside
 * the executable; 0, or -1 for an uninstalled server. */
static int installed_data(char *dir, size_t size)
{
#ifdef PARLEY_SERVER_INSTALLED_DATA
    char exe[DATA_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash;

    if (n <= 0)
        return -1;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if (snprintf(dir, size, "%s/%s", exe, PARLEY_SERVER_INSTALLED_DATA) >= (int)size)
        return -1;
    return access(dir, F_OK);
#else
    (void)dir;
    (void)size;
    return -1;
#endif
}

static void default_data(options *o)
{
    char installed[DATA_PATH_MAX];
    const char *dir =
        installed_data(installed, sizeof installed) == 0 ? installed : PARLEY_SERVER_DATA_DIR;

    snprintf(o->default_surveys, sizeof o->default_surveys, "%s/surveys.json", dir);
    snprintf(o->default_bot, sizeof o->default_bot, "%s/flows/support.json", dir);
    snprintf(o->default_kb, sizeof o->default_kb, "%s/kb", dir);
    snprintf(o->default_console, sizeof o->default_console, "%s/console", dir);
    o->console_dir = o->default_console;
    o->surveys = o->default_surveys;
    o->bot = o->default_bot;
    o->kb = o->default_kb;
}

static void default_options(options *o)
{
    memset(o, 0, sizeof *o);
    default_data(o);
    o->port = 8443;
    o->host = "127.0.0.1";
    o->db_path = "parley-server.db";
    o->max_text = SERVER_MAX_TEXT_DEFAULT;
    o->max_attachment = ATTACH_MAX_DEFAULT;
    o->attachment_types = FILETYPES_DEFAULT;
    o->push_preview = 1;
    abuse_defaults(&o->abuse);
    o->loop = evloop_default();
    o->drain_window_ms = DRAIN_WINDOW_MS;
    o->agent_token = (secret_src){"--agent-token", "PARLEY_AGENT_TOKEN", NULL, NULL};
    o->jwt_secret = (secret_src){"--jwt-secret", "PARLEY_JWT_SECRET", NULL, NULL};
    o->hmac_secret = (secret_src){"--hmac-secret", "PARLEY_HMAC_SECRET", NULL, NULL};
    o->webhook_secret = (secret_src){"--webhook-secret", "PARLEY_WEBHOOK_SECRET", NULL, NULL};
    o->push_secret = (secret_src){"--push-secret", "PARLEY_PUSH_SECRET", NULL, NULL};
}

/* 0 to run, 1 when --help was shown, -1 on a usage error. */
static int parse_args(int argc, char **argv, options *o)
{
    int i;

    default_options(o);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--insecure-identities") == 0) {
            o->insecure_identities = 1;
            continue;
        }
        if (strcmp(argv[i], "--password-stdin") == 0) {
            o->password_stdin = 1;
            continue;
        }
        if (i + 1 >= argc || set_option(o, argv[i], argv[i + 1])) {
            fprintf(stderr, "parley-server: bad or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return -1;
        }
        i++;
    }
    if (!o->cert != !o->key) {
        fprintf(stderr, "parley-server: --cert and --key go together\n");
        return -1;
    }
    if (o->ca && !o->cert) {
        fprintf(stderr, "parley-server: --ca goes with --cert\n");
        return -1;
    }
    return 0;
}

static void free_secrets(secrets *k)
{
    free(k->agent_token);
    free(k->jwt_secret);
    free(k->hmac_secret);
    memset(k, 0, sizeof *k);
}

/* Resolves the secrets and checks that the identity options make sense
 * together. 0, or -1 (reason on stderr). */
static int load_secrets(const options *o, secrets *k)
{
    memset(k, 0, sizeof *k);
    if (secret_resolve(&o->agent_token, &k->agent_token) ||
        secret_resolve(&o->jwt_secret, &k->jwt_secret) ||
        secret_resolve(&o->hmac_secret, &k->hmac_secret))
        return -1;
    if (k->agent_token && !valid_token(k->agent_token)) {
        fprintf(stderr,
                "parley-server: the agent token must be 1 ... %d printable ASCII "
                "characters\n",
                AGENT_TOKEN_MAX);
        return -1;
    }
    if (!k->jwt_secret && (o->jwt_audience || o->jwt_issuer || o->jwt_max_lifetime)) {
        fprintf(stderr, "parley-server: --jwt-audience, --jwt-issuer and --jwt-max-lifetime "
                        "need a JWT secret\n");
        return -1;
    }
    if (o->insecure_identities && (k->jwt_secret || k->hmac_secret)) {
        fprintf(stderr, "parley-server: --insecure-identities contradicts the JWT or HMAC "
                        "secret that is set\n");
        return -1;
    }
    return 0;
}

/* Loud on purpose: a production server started this way hands every account
 * to whoever asks for it. */
static void warn_insecure_identities(void)
{
    fprintf(stderr,
            "parley-server: ******************************************************************\n"
            "parley-server: WARNING: --insecure-identities: identified users are NOT verified.\n"
            "parley-server: Anyone can sign in as any user id and read that user's history.\n"
            "parley-server: Development only; set --jwt-secret or --hmac-secret in production.\n"
            "parley-server: ******************************************************************\n");
}

/* Write-then-rename, so a reader never sees a half-written file. */
static int write_ready_file(const char *path, int port)
{
    char tmp[4096];
    FILE *f;
    int ok;

    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    ok = fprintf(f, "%d\n", port) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* Proactive deliveries waiting for their moment (triggers.c, pacer.c) are
 * looked at on a timer of the service loop. */
#define PACING_TICK_US (250 * 1000)

typedef struct pacing {
    lws_sorted_usec_list_t sul;
    struct lws_context *ctx;
    server *srv;
} pacing;

static void on_pacing(lws_sorted_usec_list_t *sul)
{
    pacing *p = lws_container_of(sul, pacing, sul);

    triggers_tick(p->srv, util_now_ms());
    lws_sul_schedule(p->ctx, 0, &p->sul, on_pacing, PACING_TICK_US);
}

/* The drain (docs/scaling.md): no new connections (the listening socket
 * closes), what the store holds open is committed, and every client is told
 * to go away and when to come back, spread over the window, so that those
 * of a drained instance reach the others gradually. */
static void drain(struct lws_context *ctx, server *srv, long window_ms)
{
    int64_t deadline;

    fprintf(stderr, "parley-server: %s, draining %zu connections over %ld ms\n",
            srv->draining ? "admin call" : "signal", srv->nconns, window_ms);
    srv->draining = 1;
    evloop_stop_accepting(ctx);
    if (srv->commit_now)
        srv->commit_now(srv);
    ws_goaway_all(srv, GOAWAY_RECONNECT_MS, (int)window_ms, "shutdown");
    deadline = util_now_ms() + SHUTDOWN_GRACE_MS;
    while (srv->nconns && util_now_ms() < deadline) {
        if (evloop_service(ctx, 100) < 0)
            return;
    }
}

/* POST /api/admin/drain: the loop ends as on SIGTERM, and serve drains. */
static void request_drain(server *srv)
{
    srv->draining = 1;
    evloop_raise(SIGTERM);
}

static void serve(struct lws_context *ctx, server *srv, long drain_window_ms)
{
    pacing pace;

    memset(&pace, 0, sizeof pace);
    pace.ctx = ctx;
    pace.srv = srv;
    lws_sul_schedule(ctx, 0, &pace.sul, on_pacing, PACING_TICK_US);
    while (!evloop_signal()) {
        if (evloop_service(ctx, -1) < 0)
            break;
    }
    if (evloop_signal())
        drain(ctx, srv, drain_window_ms);
    /* The timer lives on this stack frame. */
    lws_sul_cancel(&pace.sul);
}

/* The HTTP API first: lws makes the first protocol the vhost's default. */
static void init_protocols(struct lws_protocols p[5])
{
    memset(p, 0, 5 * sizeof *p);
    http_protocol(&p[0]);
    ws_protocol(&p[1]);
    agent_ws_protocol(&p[2]);
    p[3] = webhook_protocol();
}

/* The workspace's clocks: SLA warnings and breaches, presence grace. */
typedef struct ticker {
    lws_sorted_usec_list_t sul;
    struct lws_context *ctx;
    server *srv;
} ticker;

static void on_tick(lws_sorted_usec_list_t *sul)
{
    ticker *t = lws_container_of(sul, ticker, sul);
    int64_t now = util_now_ms();

    sla_tick(t->srv, now);
    agents_tick(t->srv, now);
    lws_sul_schedule(t->ctx, 0, &t->sul, on_tick, LWS_US_PER_SEC);
}

static void wake(void *ud)
{
    lws_cancel_service(ud);
}

/* The consoles first, then routing's hook (server.h). */
static void on_presence(void *ud, const char *agent, presence_t old, presence_t now)
{
    server *s = ud;

    console_presence(s, agent);
    if (s->on_presence)
        s->on_presence(s, agent, old, now);
}

static void agent_open(server *s, struct agent_conn *c)
{
    agents_channel_open(s, c);
}

static void agent_close(server *s, struct agent_conn *c)
{
    agents_channel_closed(s, c);
}

static struct lws_vhost *create_vhost(struct lws_context *ctx,
                                      struct lws_context_creation_info *info, const options *o,
                                      const struct lws_protocols *protocols)
{
    info->vhost_name = "parley";
    info->port = (int)o->port;
    /* lws binds every interface when iface is NULL. */
    info->iface = strcmp(o->host, "0.0.0.0") == 0 ? NULL : o->host;
    info->protocols = protocols;
    info->retry_and_idle_policy = &idle_policy;
    info->ssl_cert_filepath = o->cert;
    info->ssl_private_key_filepath = o->key;
    return lws_create_vhost(ctx, info);
}

static int announce(const options *o, int port)
{
    banner_cfg b = {o->host, port, o->cert, o->ca};

    banner_print(stdout, &b);
    if (o->ready_file && write_ready_file(o->ready_file, port)) {
        fprintf(stderr, "parley-server: cannot write %s\n", o->ready_file);
        return -1;
    }
    return 0;
}

static int run(const options *o, server *srv)
{
    struct lws_protocols protocols[5];
    ticker tick;
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    int rc = 1;

    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    init_protocols(protocols);
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    info.user = srv;
    info.server_string = "parley-server";
    evloop_configure(&info, o->loop);
    ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "parley-server: cannot create the lws context\n");
        return 1;
    }
    vh = create_vhost(ctx, &info, o, protocols);
    if (vh && (agents_init(srv, wake, ctx, on_presence, srv) ||
               (srv->webhook && webhook_attach(srv->webhook, ctx, vh, NULL)) ||
               (srv->push && webhook_attach(srv->push, ctx, vh, o->push_ca)))) {
        fprintf(stderr, "parley-server: cannot start the agent workspace\n");
        agents_free(srv);
        lws_context_destroy(ctx);
        return 1;
    }
    memset(&tick, 0, sizeof tick);
    tick.ctx = ctx;
    tick.srv = srv;
    if (vh)
        lws_sul_schedule(ctx, 0, &tick.sul, on_tick, LWS_US_PER_SEC);
    if (!vh)
        fprintf(stderr,
                "parley-server: cannot listen on %s:%ld (address in use or not local, "
                "or unreadable --cert/--key)\n",
                o->host, o->port);
    else if (!o->per_write && groupcommit_start(srv, ctx))
        fprintf(stderr, "parley-server: out of memory\n");
    else if (o->redis && fanout_start(srv, ctx, evloop_uv_loop(ctx), o->redis))
        fprintf(stderr, "parley-server: cannot start the fan-out\n");
    else if (announce(o, lws_get_vhost_listen_port(vh)) == 0) {
        evloop_catch_signals(ctx);
        srv->request_drain = request_drain;
        serve(ctx, srv, o->drain_window_ms);
        rc = 0;
    }
    groupcommit_stop(srv);
    fanout_stop(srv);
    lws_sul_cancel(&tick.sul);
    lws_context_destroy(ctx);
    agents_free(srv);
    return rc;
}

/* 0, or -1 (reason on stderr) when the file is bad: a server that silently
 * ran without its surveys would be worse than one that does not start. */
static int load_surveys(const options *o, server *srv)
{
    char why[256];

    if (!o->surveys[0])
        return 0;
    if (!o->surveys_explicit && access(o->surveys, F_OK) != 0) {
        fprintf(stderr, "parley-server: no surveys (%s not found)\n", o->surveys);
        return 0;
    }
    srv->surveys = survey_def_load(o->surveys, why, sizeof why);
    if (srv->surveys)
        return 0;
    fprintf(stderr, "parley-server: --surveys %s: %s\n", o->surveys, why);
    return -1;
}

/* The knowledge base, then the flow, whose FAQ nodes may name articles.
 * 0, or -1 (reason on stderr): a bot with a broken flow must not start. */
static int load_bot(const options *o, server *srv)
{
    char why[256];

    if (kb_load(o->kb, &srv->kb, why, sizeof why)) {
        fprintf(stderr, "parley-server: --kb %s: %s\n", o->kb, why);
        return -1;
    }
    srv->flow = flow_load(o->bot, srv->kb, why, sizeof why);
    if (!srv->flow) {
        fprintf(stderr, "parley-server: --bot %s: %s\n", o->bot, why);
        return -1;
    }
    return 0;
}

static int flow_node_exists(void *ud, const char *node)
{
    return flow_has_node(ud, node);
}

/* With --routing, an agent coming or going changes the waits the queued
 * users were told (docs/routing.md, "Wait estimate"). */
static void routing_presence(server *s, const char *agent, presence_t old, presence_t now)
{
    (void)agent;
    if ((old == PRES_ONLINE) != (now == PRES_ONLINE))
        deliver_queue(s);
}

/* The --routing rules (flow nodes they name must exist), the wait
 * estimate's window per team, and the pacing of proactive triggers. 0, or
 * -1 (reason on stderr): routing with broken rules must not start. */
static int load_routing(const options *o, server *srv)
{
    rules_env env = {flow_node_exists, srv->flow, NULL};
    char why[512];

    srv->pacer = pacer_new();
    if (!srv->pacer)
        return -1;
    if (!o->routing)
        return 0;
    srv->routing = rules_load(o->routing, &env, why, sizeof why);
    if (!srv->routing) {
        fprintf(stderr, "parley-server: --routing %s\n", why);
        return -1;
    }
    srv->waits =
        waitest_new(rules_team_count(srv->routing), (size_t)rules_wait_window(srv->routing),
                    rules_default_handle_ms(srv->routing));
    if (!srv->waits || triage_load_waits(srv)) {
        fprintf(stderr, "parley-server: --routing: cannot read the handle times\n");
        return -1;
    }
    srv->on_presence = routing_presence;
    return 0;
}

static void free_routing(server *srv)
{
    rules_free(srv->routing);
    waitest_free(srv->waits);
    pacer_free(srv->pacer);
}

/* Fills the server from the options and secrets; an agent token is
 * generated (and printed) when none was given. 0, or the exit status. */
static int configure(const options *o, const secrets *k, server *srv,
                     char token[AGENT_TOKEN_MAX + 1])
{
    memset(srv, 0, sizeof *srv);
    srv->max_text = (size_t)o->max_text;
    srv->abuse = o->abuse;
    srv->agent_token = k->agent_token;
    srv->auth.jwt_secret = k->jwt_secret;
    srv->auth.hmac_secret = k->hmac_secret;
    srv->auth.jwt_audience = o->jwt_audience;
    srv->auth.jwt_issuer = o->jwt_issuer;
    srv->auth.jwt_max_lifetime_s = o->jwt_max_lifetime;
    srv->auth.insecure = o->insecure_identities;
    srv->console_dir = o->console_dir;
    srv->tls = o->cert != NULL;
    srv->session_of = agents_session_of;
    srv->on_agent_open = agent_open;
    srv->on_agent_close = agent_close;
    srv->on_wake = agents_poll;
    if (!srv->agent_token) {
        if (util_random_token("pat-", 16, token, AGENT_TOKEN_MAX + 1)) {
            fprintf(stderr, "parley-server: no random source for the agent token\n");
            return 1;
        }
        srv->agent_token = token;
        printf("parley-server: agent token: %s\n", token);
    }
    if (o->insecure_identities)
        warn_insecure_identities();
    if (!o->cert)
        fprintf(stderr, "parley-server: warning: no --cert/--key, serving plain ws:// and "
                        "http:// (local development only)\n");
    return 0;
}

/* Attachments' files under the data dir (none with --data-dir ''), and
 * the push notifier (attached to the lws context with the SLA webhook).
 * 0, or -1 (reason on stderr). */
static int open_messaging(const options *o, server *srv)
{
    char why[256] = "", dir[DATA_PATH_MAX], *secret = NULL;

    srv->max_attachment = o->max_attachment;
    srv->push_preview = o->push_preview;
    if (filetypes_parse(o->attachment_types, &srv->types, why, sizeof why)) {
        fprintf(stderr, "parley-server: --attachment-types: %s\n", why);
        return -1;
    }
    /* Files sit beside a SQLite database; with PostgreSQL, in the working
     * directory unless --data-dir says where. */
    if (o->data_dir)
        snprintf(dir, sizeof dir, "%s", o->data_dir);
    else
        snprintf(dir, sizeof dir, "%s.files",
                 store_is_url(o->db_path) ? "parley-server" : o->db_path);
    if (dir[0] && blobs_open(dir, &srv->blobs, why, sizeof why)) {
        fprintf(stderr, "parley-server: --data-dir: %s\n", why);
        return -1;
    }
    if (!o->push_webhook)
        return 0;
    if (secret_resolve(&o->push_secret, &secret))
        return -1;
    srv->push = webhook_new(o->push_webhook, secret, why, sizeof why);
    free(secret);
    if (!srv->push) {
        fprintf(stderr, "parley-server: --push-webhook %s: %s\n", o->push_webhook, why);
        return -1;
    }
    return 0;
}

/* --sla and --webhook. 0, or -1 (reason on stderr): a server that ran
 * without the clocks it was asked for would breach silently. */
static int load_workspace(const options *o, server *srv, sla_policy *policy)
{
    char why[256], *secret = NULL;

    if (o->sla) {
        if (sla_policy_load(o->sla, policy, why, sizeof why)) {
            fprintf(stderr, "parley-server: --sla %s: %s\n", o->sla, why);
            return -1;
        }
        srv->sla = policy;
    }
    if (!o->webhook)
        return 0;
    if (secret_resolve(&o->webhook_secret, &secret))
        return -1;
    srv->webhook = webhook_new(o->webhook, secret, why, sizeof why);
    free(secret);
    if (!srv->webhook) {
        fprintf(stderr, "parley-server: --webhook %s: %s\n", o->webhook, why);
        return -1;
    }
    return 0;
}

static void close_messaging(server *srv)
{
    webhook_free(srv->push);
    blobs_close(srv->blobs);
}

/* --add-agent: the password from standard input, never from a flag. */
static int add_agent(const options *o)
{
    char password[PWHASH_MAX_PASSWORD + 2];
    const char *why;
    int rc;

    if (!o->password_stdin || !o->role) {
        fprintf(stderr, "parley-server: --add-agent needs --role and --password-stdin\n");
        return 2;
    }
    if (account_read_password(stdin, password, sizeof password, &why)) {
        fprintf(stderr, "parley-server: --add-agent: %s\n", why);
        return 2;
    }
    rc = agents_add_cli(o->db_path, o->add_agent, o->role, o->display_name, password);
    memset(password, 0, sizeof password);
    return rc;
}

static int start(const options *o, const secrets *k)
{
    char token[AGENT_TOKEN_MAX + 1];
    sla_policy policy;
    server srv;
    int rc = configure(o, k, &srv, token);

    if (rc)
        return rc;
    if (load_surveys(o, &srv))
        return 2;
    if (open_messaging(o, &srv) || load_workspace(o, &srv, &policy)) {
        close_messaging(&srv);
        cJSON_Delete(srv.surveys);
        return 2;
    }
    if (store_open(o->db_path, 1, &srv.store)) {
        close_messaging(&srv);
        cJSON_Delete(srv.surveys);
        webhook_free(srv.webhook);
        return 1;
    }
    srv.frames = frame_table(&srv.nframes);
    srv.routes = api_routes(&srv.nroutes);
    srv.file_routes = api_file_routes(&srv.nfile_routes);
    rc = load_bot(o, &srv) || load_routing(o, &srv) ? 2 : run(o, &srv);
    free_routing(&srv);
    close_messaging(&srv);
    flow_free(srv.flow);
    kb_free(srv.kb);
    store_close(srv.store);
    cJSON_Delete(srv.surveys);
    webhook_free(srv.webhook);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    secrets k;
    int rc;

    /* Everything the server writes (the database, its -wal and -shm, the
     * ready file) holds users' data or is nobody else's business. */
    umask(077);
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (o.add_agent)
        return add_agent(&o);
    rc = load_secrets(&o, &k) ? 2 : start(&o, &k);
    free_secrets(&k);
    return rc;
}
