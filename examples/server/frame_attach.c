#include "frame_attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "attach.h"
#include "json.h"
#include "wire.h"

#define B64_CHUNK 16384 /* base64 of ATTACH_CHUNK bytes */
#define GET_MAX 32      /* chunks per att.get */

/* An integral number member in lo..hi: 0, or -1. */
static int get_int(const cJSON *f, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, key);

    if (!cJSON_IsNumber(v) || v->valuedouble < (double)lo || v->valuedouble > (double)hi ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

static void send_reply(ws_conn *c, const char *cid, const attach_reply *r)
{
    switch (r->kind) {
    case ATT_OFFSET: ws_conn_send(c, wire_att_offset(cid, r->n, r->reason)); break;
    case ATT_ACK: ws_conn_send(c, wire_att_ack(cid, r->n)); break;
    case ATT_NACK: ws_conn_send(c, wire_att_nack(cid, r->n, r->reason)); break;
    case ATT_DONE: ws_conn_send(c, wire_att_done(cid, r->sha256)); break;
    case ATT_IGNORE: break;
    case ATT_REFUSE: ws_conn_error(c, r->code, r->message, cid); break;
    case ATT_PROBLEM: ws_conn_error(c, r->code, r->message, NULL); break;
    }
}

/* A server without a data dir takes no attachments: refused for good. */
static int available(ws_conn *c, const char *cid)
{
    if (ws_conn_server(c)->blobs)
        return 1;
    ws_conn_error(c, "bad_attachment", "this server takes no attachments", cid);
    return 0;
}

void frame_attach_begin(ws_conn *c, const cJSON *f)
{
    attach_begin_in in;
    attach_reply r;

    in.cid = pj_string(f, "cid");
    in.name = pj_string(f, "name");
    in.type = pj_string(f, "type");
    in.sha256 = pj_string(f, "sha256");
    if (!pj_is_ident(in.cid) || get_int(f, "size", 1, PJ_SEQ_MAX, &in.size)) {
        ws_conn_error(c, "bad_frame", "att.begin needs cid, name, type, size and sha256", in.cid);
        return;
    }
    if (!available(c, in.cid))
        return;
    attach_begin(ws_conn_server(c), ws_conn_user(c), &in, &r);
    send_reply(c, in.cid, &r);
}

void frame_attach_chunk(ws_conn *c, const cJSON *f)
{
    const char *cid = pj_string(f, "cid"), *data = pj_string(f, "data");
    unsigned char *bytes;
    size_t n = 0;
    int64_t i;
    attach_reply r;

    if (!pj_is_ident(cid) || get_int(f, "i", 0, PJ_SEQ_MAX, &i) || !data ||
        strlen(data) > B64_CHUNK) {
        ws_conn_error(c, "bad_frame", "att.chunk needs cid, i, data (base64) and sha256", NULL);
        return;
    }
    if (!available(c, cid))
        return;
    bytes = malloc(ATTACH_CHUNK);
    if (!bytes) {
        ws_conn_send(c, NULL);
        return;
    }
    /* Data that is not base64 of a chunk is a damaged chunk: sent again.
     * ATTACH_CHUNK + 1 is a length no chunk has; attach_chunk refuses it
     * before reading a byte. */
    if (mbedtls_base64_decode(bytes, ATTACH_CHUNK, &n, (const unsigned char *)data, strlen(data)))
        n = ATTACH_CHUNK + 1;
    attach_chunk(ws_conn_server(c), ws_conn_user(c), cid, i, bytes, n, pj_string(f, "sha256"), &r);
    free(bytes);
    send_reply(c, cid, &r);
}

/* ---- att.get ---- */

/* One chunk of the file as att.data; 0, or -1 when the file cannot be
 * read (the download is refused). */
static int send_chunk(ws_conn *c, FILE *in, const attach_file *a, const char *req, int64_t i,
                      unsigned char *buf, char *b64)
{
    static const char hex[] = "0123456789abcdef";
    int64_t off = i * ATTACH_CHUNK;
    size_t want = a->size - off < ATTACH_CHUNK ? (size_t)(a->size - off) : ATTACH_CHUNK, out = 0;
    unsigned char d[32];
    char sha[BLOBS_SHA_HEX];
    wire_chunk wc = {req, a->id, i, a->size, a->sha256, b64, sha};
    int k;

    if (fseek(in, (long)off, SEEK_SET) || fread(buf, 1, want, in) != want ||
        mbedtls_base64_encode((unsigned char *)b64, B64_CHUNK + 1, &out, buf, want))
        return -1;
    b64[out] = '\0';
    mbedtls_sha256_ret(buf, want, d, 0);
    for (k = 0; k < 32; k++) {
        sha[2 * k] = hex[d[k] >> 4];
        sha[2 * k + 1] = hex[d[k] & 15];
    }
    sha[64] = '\0';
    ws_conn_send(c, wire_att_data(&wc));
    return 0;
}

static void send_chunks(ws_conn *c, const attach_file *a, const char *req, int64_t from,
                        int64_t count)
{
    int64_t last = (a->size + ATTACH_CHUNK - 1) / ATTACH_CHUNK, i;
    unsigned char *buf = malloc(ATTACH_CHUNK);
    char *b64 = malloc(B64_CHUNK + 1);
    FILE *in = fopen(a->path, "rb");
    int rc = buf && b64 && in ? 0 : -1;

    for (i = from; rc == 0 && i < from + count && i < last; i++)
        rc = send_chunk(c, in, a, req, i, buf, b64);
    if (rc)
        ws_conn_send(c, wire_req_error("internal", "cannot read the file", req, 0));
    if (in)
        fclose(in);
    free(buf);
    free(b64);
}

void frame_attach_get(ws_conn *c, const cJSON *f)
{
    const char *req = pj_string(f, "req"), *id = pj_string(f, "id");
    int64_t from, count;
    attach_file a;
    int rc;

    if (!pj_is_ident(req) || !pj_is_ident(id) || get_int(f, "from", 0, PJ_SEQ_MAX, &from) ||
        get_int(f, "count", 1, GET_MAX, &count)) {
        ws_conn_send(c,
                     wire_req_error("bad_frame", "att.get needs req, id, from and count 1 ... 32",
                                    pj_is_ident(req) ? req : NULL, 0));
        return;
    }
    rc = attach_find(ws_conn_server(c), ws_conn_user(c), id, &a);
    if (rc <= 0) {
        ws_conn_send(c, wire_req_error(rc < 0 ? "internal" : "not_found",
                                       rc < 0 ? "cannot read the attachment" : "no such attachment",
                                       req, 0));
        return;
    }
    send_chunks(c, &a, req, from, count);
}
