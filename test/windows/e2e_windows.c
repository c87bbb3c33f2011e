/* End to end on Windows: this program (built with MinGW-w64, linked with
 * parley.dll, run under wine) talks to the Linux parley-server over TLS on
 * loopback, as a game on Windows would. Public API only.
 *
 *   run 1  threaded (parley_start): a conversation started and a message
 *          acknowledged by the server, with a data dir whose name is not
 *          ASCII (the journal through the wide-character APIs)
 *   run 2  host-driven (parley_service), the same data dir: the same
 *          anonymous user comes back (read from the journal), and the
 *          server lists the conversation of run 1 for it; a file at a
 *          non-ASCII path goes up as an attachment and comes back down
 *          into another non-ASCII path, byte for byte (the host's files
 *          through the wide-character APIs)
 *
 * Usage: e2e_windows URL CA_FILE WORK_DIR; exit 0 when all held. */
#include <parley.h>

#include <stdio.h>
#include <string.h>
#include <windows.h>

#define TIMEOUT_MS 20000

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "e2e_windows:%d: expected %s\n", __LINE__, #cond);                     \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

typedef struct run {
    parley_client *pc;
    int threaded;
    char conv[PARLEY_ID_SIZE];
    char msg[PARLEY_ID_SIZE];
    char req[PARLEY_ID_SIZE];
    const char *want_conv; /* run 2: the conversation the list must hold */
    int started, sent, listed;
    char att_cid[PARLEY_ID_SIZE], hist_req[PARLEY_ID_SIZE], fetch_req[PARLEY_ID_SIZE];
    const char *dest;
    int att_sent, downloaded;
} run;

/* The file's bytes at UTF-8 `path` (through the wide API, as a Windows
 * host would write them). 0 or -1. */
static int wide_io(const char *path, char *buf, DWORD len, int write)
{
    wchar_t w[600];
    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, 600))
        return -1;
    HANDLE h = CreateFileW(w, write ? GENERIC_WRITE : GENERIC_READ, FILE_SHARE_READ, NULL,
                           write ? CREATE_ALWAYS : OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    DWORD n = 0;
    BOOL ok = write ? WriteFile(h, buf, len, &n, NULL) : ReadFile(h, buf, len, &n, NULL);
    CloseHandle(h);
    return ok && n == len ? 0 : -1;
}

/* The history page names the uploaded file: fetch it into r->dest. */
static void fetch_from_history(run *r, const parley_event *ev)
{
    for (int i = 0; i < parley_event_item_count(ev); i++) {
        const char *id = parley_event_attachment_id(parley_event_item(ev, i));
        if (id && !r->fetch_req[0] && !parley_event_from_device(ev))
            EXPECT(parley_fetch_attachment(r->pc, id, r->dest, r->fetch_req, sizeof r->fetch_req) ==
                   PARLEY_OK);
    }
}

static parley_client *client(const char *url, const char *ca, const char *data_dir)
{
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    if (cfg && parley_config_set_url(cfg, url) == PARLEY_OK &&
        parley_config_set_ca_file(cfg, ca) == PARLEY_OK &&
        parley_config_set_app_id(cfg, "e2e-windows") == PARLEY_OK &&
        parley_config_set_data_dir(cfg, data_dir) == PARLEY_OK &&
        parley_client_new(cfg, &pc) == PARLEY_OK) {
        parley_config_free(cfg);
        return pc;
    }
    parley_config_free(cfg);
    return NULL;
}

static void note(run *r, const parley_event *ev)
{
    switch (parley_event_type(ev)) {
    case PARLEY_EV_CONVERSATION:
        if (parley_event_state(ev) == PARLEY_CONV_STARTED)
            r->started = 1;
        break;
    case PARLEY_EV_MESSAGE_STATUS:
        if (parley_event_state(ev) == PARLEY_MSG_SENT &&
            strcmp(parley_event_client_id(ev), r->msg) == 0)
            r->sent = 1;
        if (parley_event_state(ev) == PARLEY_MSG_SENT &&
            strcmp(parley_event_client_id(ev), r->att_cid) == 0) {
            r->att_sent = 1;
            EXPECT(parley_load_history(r->pc, r->conv, NULL, 10, r->hist_req, sizeof r->hist_req) ==
                   PARLEY_OK);
        }
        break;
    case PARLEY_EV_HISTORY: fetch_from_history(r, ev); break;
    case PARLEY_EV_ATTACHMENT:
        if (parley_event_state(ev) == PARLEY_ATT_DOWNLOADED)
            r->downloaded = 1;
        if (parley_event_state(ev) == PARLEY_ATT_FAILED)
            fprintf(stderr, "e2e_windows: attachment failed: %s\n", parley_event_text(ev));
        break;
    case PARLEY_EV_CONVERSATIONS:
        for (int i = 0; i < parley_event_item_count(ev); i++) {
            const char *id = parley_event_conversation_id(parley_event_item(ev, i));
            if (r->want_conv && id && strcmp(id, r->want_conv) == 0)
                r->listed = 1;
        }
        break;
    case PARLEY_EV_ERROR:
        fprintf(stderr, "e2e_windows: error event: %s\n", parley_event_text(ev));
        break;
    default: break;
    }
}

/* Drives the client until done(r) or the timeout; 1 when done. */
static int pump(run *r, int (*done)(const run *))
{
    ULONGLONG end = GetTickCount64() + TIMEOUT_MS;
    while (!done(r) && GetTickCount64() < end) {
        if (r->threaded)
            Sleep(5);
        else
            parley_service(r->pc, 10);
        parley_event *ev;
        while (parley_poll(r->pc, &ev) == PARLEY_OK) {
            note(r, ev);
            parley_event_free(ev);
        }
    }
    return done(r);
}

static int is_sent(const run *r)
{
    return r->started && r->sent;
}

static int is_listed(const run *r)
{
    return r->listed;
}

static int is_downloaded(const run *r)
{
    return r->downloaded;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: e2e_windows URL CA_FILE WORK_DIR\n");
        return 2;
    }
    /* "日本-données": the journal's directory. */
    char data_dir[600];
    snprintf(data_dir, sizeof data_dir, "%s/%s", argv[3], u8"\u65e5\u672c-donn\u00e9es");

    run r1 = {.threaded = 1};
    r1.pc = client(argv[1], argv[2], data_dir);
    EXPECT(r1.pc != NULL);
    if (!r1.pc)
        return 1;
    char anon1[PARLEY_ID_SIZE] = "", anon2[PARLEY_ID_SIZE] = "";
    EXPECT(parley_anonymous_id(r1.pc, anon1, sizeof anon1) == PARLEY_OK);
    EXPECT(parley_start(r1.pc) == PARLEY_OK);
    EXPECT(parley_conversation_start(r1.pc, "Windows", r1.conv, sizeof r1.conv) == PARLEY_OK);
    EXPECT(parley_send_text(r1.pc, r1.conv, "Hello from Windows", r1.msg, sizeof r1.msg) ==
           PARLEY_OK);
    EXPECT(pump(&r1, is_sent));
    parley_client_free(r1.pc);

    run r2 = {.threaded = 0, .want_conv = r1.conv};
    r2.pc = client(argv[1], argv[2], data_dir);
    EXPECT(r2.pc != NULL);
    if (!r2.pc)
        return 1;
    EXPECT(parley_anonymous_id(r2.pc, anon2, sizeof anon2) == PARLEY_OK);
    EXPECT(anon1[0] != '\0' && strcmp(anon1, anon2) == 0);
    EXPECT(parley_list_conversations(r2.pc, r2.req, sizeof r2.req) == PARLEY_OK);
    EXPECT(pump(&r2, is_listed));

    char src[700], dest[700], body[3000], back[3000];
    snprintf(src, sizeof src, "%s/%s", data_dir, u8"journal d\u00e9j\u00e0 vu.log");
    snprintf(dest, sizeof dest, "%s/%s", data_dir, u8"\u8fd4\u4fe1.log");
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 23);
    EXPECT(wide_io(src, body, sizeof body, 1) == 0);
    memcpy(r2.conv, r1.conv, sizeof r2.conv);
    r2.dest = dest;
    EXPECT(parley_send_attachment(r2.pc, r2.conv, src, NULL, "text/plain", NULL, r2.att_cid,
                                  sizeof r2.att_cid) == PARLEY_OK);
    EXPECT(pump(&r2, is_downloaded));
    EXPECT(wide_io(dest, back, sizeof back, 0) == 0 && memcmp(body, back, sizeof body) == 0);
    parley_client_free(r2.pc);

    printf("e2e_windows: %s (anonymous user %s, conversation %s)\n", failures ? "FAILED" : "ok",
           anon1, r1.conv);
    return failures ? 1 : 0;
}
