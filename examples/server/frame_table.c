#include "frame_table.h"

#include "frame_attach.h"
#include "frame_chat.h"
#include "frame_context.h"
#include "frame_push.h"
#include "frame_receipts.h"
#include "frame_requests.h"
#include "frame_session.h"
#include "frame_surveys.h"

static const ws_route table[] = {
    {"hello", frame_session_hello},
    {"context", frame_context_context},
    {"event", frame_context_event},
    {"survey.submit", frame_surveys_submit},
    {"survey.dismiss", frame_surveys_dismiss},
    {"proactive.ack", frame_surveys_proactive_ack},
    {"conv.start", frame_chat_conv_start},
    {"msg.send", frame_chat_msg_send},
    {"history.get", frame_chat_history_get},
    {"typing", frame_receipts_typing},
    {"read", frame_receipts_read},
    {"conv.list", frame_requests_conv_list},
    {"history.page", frame_requests_history_page},
    {"kb.search", frame_requests_kb_search},
    {"kb.get", frame_requests_kb_get},
    {"att.begin", frame_attach_begin},
    {"att.chunk", frame_attach_chunk},
    {"att.get", frame_attach_get},
    {"push.register", frame_push_register},
    {"push.unregister", frame_push_unregister},
    {"bye", frame_session_bye},
};

const ws_route *frame_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}
