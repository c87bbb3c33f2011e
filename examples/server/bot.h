/* The greeting bot. It decides what to say; chat.c stores and delivers it. */
#ifndef PARLEY_SERVER_BOT_H
#define PARLEY_SERVER_BOT_H

#define BOT_NAME "Parley Bot"

/* The bot's answer to a user message, or NULL when it stays quiet. It greets
 * the user on the first message of a conversation and then leaves the
 * conversation to the agents. */
const char *bot_reply(int first_user_message);

#endif
