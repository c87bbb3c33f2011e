#include "bot.h"

#include <stddef.h>

const char *bot_reply(int first_user_message)
{
    if (!first_user_message)
        return NULL;
    return "Hi! Thanks for reaching out \xe2\x80\x94 I'm the Parley bot. "
           "An agent will join shortly.";
}
