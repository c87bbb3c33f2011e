#include "attach.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "json.h"
#include "store.h"
#include "util.h"

#define SNIFF_BYTES 16

/* ---- small helpers ---- */

static void sha_hex(const unsigned char *data, size_t len, char out[BLOBS_SHA_HEX])
{
    unsigned char d[32];

    mbedtls_sha256_ret(data, len, d, 0);
    util_hex(d, sizeof d, out);
}

static int sha_valid(const char *s)
{
    size_t i;

    if (!s || strlen(s) != 64)
        return 0;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* 1 when the chunk is the `want` bytes its sender hashed to `sha256`. The
 * length comes first: a chunk that did not decode comes with a length no
 * chunk has (frame_attach.c), and its buffer holds fewer bytes. */
static int chunk_intact(const unsigned char *data, size_t len, int64_t want, const char *sha256)
{
    char sha[BLOBS_SHA_HEX];

    if ((int64_t)len != want || !sha_valid(sha256))
        return 0;
    sha_hex(data, len, sha);
    return strcmp(sha, sha256) == 0;
}

static int64_t chunks_of(int64_t size)
{
    return (size + ATTACH_CHUNK - 1) / ATTACH_CHUNK;
}

static void reply(attach_reply *r, attach_kind kind, int64_t n)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->n = n;
}

static void refuse(attach_reply *r, const char *code, const char *message)
{
    reply(r, ATT_REFUSE, 0);
    r->code = code;
    r->message = message;
}

static void problem(attach_reply *r, const char *code, const char *message)
{
    reply(r, ATT_PROBLEM, 0);
    r->code = code;
    r->message = message;
}

static void done(attach_reply *r, const char *sha)
{
    reply(r, ATT_DONE, 0);
    snprintf(r->sha256, sizeof r->sha256, "%s", sha);
}

/* A copy of an upload's record, out of the store's callback. */
typedef struct upload {
    int found;
    store_upload u;
    char name[256], type[128], sha256[BLOBS_SHA_HEX];
} upload;

static int keep_upload(void *ud, const store_upload *u)
{
    upload *up = ud;

    up->found = 1;
    up->u = *u;
    snprintf(up->name, sizeof up->name, "%s", u->name);
    snprintf(up->type, sizeof up->type, "%s", u->type);
    snprintf(up->sha256, sizeof up->sha256, "%s", u->sha256);
    up->u.name = up->name;
    up->u.type = up->type;
    up->u.sha256 = up->sha256;
    return 0;
}

static int find_upload(server *s, const char *user, const char *cid, upload *up)
{
    memset(up, 0, sizeof *up);
    return store_upload_get(s->store, user, cid, keep_upload, up);
}

/* ---- the whole file ---- */

/* The last chunk is in: the whole file's hash and its type's signature
 * decide. A damaged copy (a torn write before a crash) starts over. */
static void finish(server *s, const upload *up, const char *cid, attach_reply *out)
{
    char sha[BLOBS_SHA_HEX];
    unsigned char head[SNIFF_BYTES];
    int n;

    if (blobs_part_hash(s->blobs, up->u.n, sha)) {
        problem(out, "internal", "cannot read the upload, try again later");
        return;
    }
    if (strcmp(sha, up->sha256) != 0) {
        fprintf(stderr, "parley-server: upload %s of '%s' failed its SHA-256: sent again\n", cid,
                up->name);
        blobs_part_discard(s->blobs, up->u.n);
        reply(out, ATT_OFFSET, 0);
        out->reason = "sha256";
        return;
    }
    n = blobs_part_head(s->blobs, up->u.n, head, sizeof head);
    if (n < 0 || !filetypes_sniff_ok(up->type, head, (size_t)n)) {
        blobs_part_discard(s->blobs, up->u.n);
        refuse(out, "bad_attachment", "the file's contents are not of its declared type");
        return;
    }
    if (blobs_part_commit(s->blobs, up->u.n, sha) ||
        store_upload_finish(s->store, up->u.n, util_now_ms())) {
        problem(out, "internal", "cannot store the upload, try again later");
        return;
    }
    done(out, sha);
}

/* The next chunk the server wants: its whole chunks (a torn last one is
 * written again); a copy already whole is finished now. */
static int64_t resume_point(server *s, const upload *up, const char *cid, attach_reply *out)
{
    int64_t have = blobs_part_size(s->blobs, up->u.n);

    if (have < 0) {
        problem(out, "internal", "cannot read the upload, try again later");
        return -1;
    }
    if (have >= up->u.size) {
        finish(s, up, cid, out);
        return -1;
    }
    return have / ATTACH_CHUNK;
}

/* ---- att.begin ---- */

static const char *check_begin(const server *s, const attach_begin_in *in, const char **code)
{
    *code = "bad_frame";
    if (!filetypes_name_valid(in->name))
        return "att.begin needs a file name (1 ... 255 bytes, no '/', '\\' or control characters)";
    if (!filetypes_valid(in->type))
        return "att.begin needs a MIME type";
    if (!sha_valid(in->sha256))
        return "att.begin needs the file's sha256 (64 lowercase hex digits)";
    if (in->size < 1)
        return "att.begin needs a size of at least 1 byte";
    *code = "too_long";
    if (in->size > s->max_attachment)
        return "the file exceeds the server's max_attachment";
    *code = "bad_attachment";
    if (!filetypes_allowed(&s->types, in->type))
        return "the server does not take files of that type";
    return NULL;
}

void attach_begin(server *s, const char *user, const attach_begin_in *in, attach_reply *out)
{
    const char *code, *why = check_begin(s, in, &code);
    upload up;
    int64_t next;

    if (why) {
        refuse(out, code, why);
        return;
    }
    if (find_upload(s, user, in->cid, &up) < 0) {
        problem(out, "internal", "cannot read the upload, try again later");
        return;
    }
    if (!up.found) {
        if (store_upload_create(s->store, user, in->cid, in->name, in->type, in->size, in->sha256,
                                util_now_ms(), &up.u.n))
            problem(out, "internal", "cannot store the upload, try again later");
        else
            reply(out, ATT_OFFSET, 0);
        return;
    }
    if (strcmp(up.name, in->name) || strcmp(up.type, in->type) || up.u.size != in->size ||
        strcmp(up.sha256, in->sha256)) {
        refuse(out, "bad_attachment", "att.begin differs from the earlier one of that cid");
        return;
    }
    if (up.u.done) {
        done(out, up.sha256);
        return;
    }
    if ((next = resume_point(s, &up, in->cid, out)) >= 0)
        reply(out, ATT_OFFSET, next);
}

/* ---- att.chunk ---- */

void attach_chunk(server *s, const char *user, const char *cid, int64_t i,
                  const unsigned char *data, size_t len, const char *sha256, attach_reply *out)
{
    upload up;
    int64_t next, want;

    if (find_upload(s, user, cid, &up) < 0) {
        problem(out, "internal", "cannot read the upload, try again later");
        return;
    }
    if (!up.found) {
        problem(out, "bad_frame", "att.chunk of no upload: send att.begin first");
        return;
    }
    if (up.u.done) {
        done(out, up.sha256);
        return;
    }
    if ((next = resume_point(s, &up, cid, out)) < 0)
        return;
    if (i != next) {
        reply(out, i < next ? ATT_ACK : ATT_IGNORE, next);
        return;
    }
    want =
        up.u.size - i * ATTACH_CHUNK < ATTACH_CHUNK ? up.u.size - i * ATTACH_CHUNK : ATTACH_CHUNK;
    if (!chunk_intact(data, len, want, sha256)) {
        reply(out, ATT_NACK, i);
        out->reason = "sha256";
        return;
    }
    if (blobs_part_write(s->blobs, up.u.n, i * ATTACH_CHUNK, data, len)) {
        problem(out, "internal", "cannot store the chunk, try again later");
        return;
    }
    if (i + 1 == chunks_of(up.u.size))
        finish(s, &up, cid, out);
    else
        reply(out, ATT_ACK, i + 1);
}

/* ---- attachments in messages ---- */

static char *attachment_json(const char *id, const char *name, const char *type, int64_t size,
                             const char *sha)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL;

    if (o && cJSON_AddStringToObject(o, "id", id) && cJSON_AddStringToObject(o, "name", name) &&
        cJSON_AddStringToObject(o, "type", type) &&
        cJSON_AddNumberToObject(o, "size", (double)size) &&
        cJSON_AddStringToObject(o, "sha256", sha))
        json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return json;
}

int attach_for_message(server *s, const char *user, const char *cid, const char *conv,
                       const char *sha256, char **json, const char **code, const char **why)
{
    char id[STORE_MSG_ID_BUF];
    upload up;
    int rc = store_conv_owned(s->store, user, conv);

    *json = NULL;
    *code = "bad_attachment";
    if (rc <= 0) {
        *code = "unknown_conversation";
        *why = "no such conversation";
        return rc < 0 ? -2 : -1;
    }
    if (find_upload(s, user, cid, &up) < 0)
        return -2;
    if (!up.found || !up.u.done || !sha_valid(sha256) || strcmp(up.sha256, sha256) != 0) {
        *why = "the message names no complete upload of that cid and sha256";
        return -1;
    }
    if (store_attachment_of_upload(s->store, up.u.n, conv, util_now_ms(), id))
        return -2;
    *json = attachment_json(id, up.name, up.type, up.u.size, up.sha256);
    return *json ? 0 : -2;
}

/* ---- finding a file ---- */

static int keep_file(void *ud, const store_attachment *a)
{
    attach_file *f = ud;

    snprintf(f->id, sizeof f->id, "%s", a->id);
    snprintf(f->name, sizeof f->name, "%s", a->name);
    snprintf(f->type, sizeof f->type, "%s", a->type);
    snprintf(f->sha256, sizeof f->sha256, "%s", a->sha256);
    snprintf(f->conv, sizeof f->conv, "%s", a->conv);
    f->size = a->size;
    return 0;
}

int attach_find(server *s, const char *user, const char *id, attach_file *out)
{
    int rc;

    memset(out, 0, sizeof *out);
    if (!s->blobs)
        return 0;
    rc = store_attachment_get(s->store, id, keep_file, out);
    if (rc <= 0)
        return rc;
    if (user && (rc = store_conv_owned(s->store, user, out->conv)) <= 0)
        return rc;
    return blobs_path(s->blobs, out->sha256, out->path, sizeof out->path) ? -1 : 1;
}

/* ---- an agent's file ---- */

int attach_agent_file(server *s, const char *conv, const char *path, int64_t size,
                      const char *sha256, const char *name, const char *type, char **json,
                      const char **why)
{
    char id[STORE_MSG_ID_BUF], owner[STORE_ID_MAX + 1];
    unsigned char head[SNIFF_BYTES];
    int n, rc;

    *json = NULL;
    if (!filetypes_name_valid(name) || !filetypes_allowed(&s->types, type)) {
        *why = !filetypes_name_valid(name) ? "name: 1 ... 255 bytes, no '/', '\\' or control"
                                           : "the server does not take files of that type";
        return -1;
    }
    n = blobs_file_head(path, head, sizeof head);
    if (n < 0 || size < 1 || !filetypes_sniff_ok(type, head, (size_t)n)) {
        *why = size < 1 ? "an empty file" : "the file's contents are not of its declared type";
        return -1;
    }
    rc = store_conv_owner(s->store, conv, owner, sizeof owner);
    if (rc <= 0)
        return rc < 0 ? -2 : -3;
    if (blobs_commit_file(s->blobs, path, sha256) ||
        store_attachment_add(s->store, conv, name, type, size, sha256, util_now_ms(), id))
        return -2;
    *json = attachment_json(id, name, type, size, sha256);
    return *json ? 0 : -2;
}
