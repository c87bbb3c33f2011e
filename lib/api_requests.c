/* Public API of requests (parley.h, "rich conversations"): the
 * conversation list, history pages, article search and articles. Their
 * answers arrive as events (session/event.c has the accessors). */
#include <string.h>

#include "client.h"
#include "util/utf8.h"

static int request(parley_client *pc, pl_req_kind kind, const pl_req_args *args, char *req_out,
                   size_t out_size)
{
    if (!pc || (req_out && out_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char id[PARLEY_ID_SIZE];
    pl_client_enter(pc);
    int rc = pl_client_leave(pc, pl_requests_send(pc->requests, kind, args, id));
    if (rc == PARLEY_OK && req_out)
        memcpy(req_out, id, strlen(id) + 1);
    return rc;
}

int parley_list_conversations(parley_client *pc, char *req_out, size_t out_size)
{
    pl_req_args args = {0};
    return request(pc, PL_REQ_CONV_LIST, &args, req_out, out_size);
}

/* With a local history the device answers first, under the same request
 * id, before the server's page (which follows when online). */
int parley_load_history(parley_client *pc, const char *conv_id, const char *before_seq, int limit,
                        char *req_out, size_t out_size)
{
    pl_req_args args = {.conv = conv_id, .limit = (uint32_t)(limit > 0 ? limit : 0)};
    if (!pc || !pl_id_valid(conv_id, PL_MAX_ID) || limit < 0 || limit > PL_MAX_PAGE ||
        (before_seq && !pl_proto_parse_seq(before_seq, &args.before)) ||
        (req_out && out_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char id[PARLEY_ID_SIZE];
    pl_client_enter(pc);
    int rc = pl_requests_send(pc->requests, PL_REQ_HISTORY, &args, id);
    if (rc == PARLEY_OK)
        rc = pl_history_answer(pc->history, conv_id, args.before, args.limit, id);
    rc = pl_client_leave(pc, rc);
    if (rc == PARLEY_OK && req_out)
        memcpy(req_out, id, strlen(id) + 1);
    return rc;
}

int parley_search_articles(parley_client *pc, const char *query, char *req_out, size_t out_size)
{
    size_t n = query ? strnlen(query, PL_MAX_QUERY + 1) : 0;
    if (!n || n > PL_MAX_QUERY || !pl_utf8_valid(query, n))
        return n > PL_MAX_QUERY ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_INVALID_ARG;
    pl_req_args args = {.query = query};
    return request(pc, PL_REQ_SEARCH, &args, req_out, out_size);
}

int parley_get_article(parley_client *pc, const char *article_id, char *req_out, size_t out_size)
{
    if (!pl_id_valid(article_id, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    pl_req_args args = {.id = article_id};
    return request(pc, PL_REQ_ARTICLE, &args, req_out, out_size);
}
