/* Public API of the user's context (parley.h, "context"). */
#include <string.h>

#include "client.h"
#include "platform/clock.h"

static int set_attr(parley_client *pc, const pl_attr *attr)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_ctx_set_attr(pc->ctx, attr));
}

int parley_set_attribute_str(parley_client *pc, const char *key, const char *value)
{
    if (!value)
        return PARLEY_ERR_INVALID_ARG;
    pl_attr a = {.key = key, .type = PL_ATTR_STR, .str = value};
    return set_attr(pc, &a);
}

int parley_set_attribute_num(parley_client *pc, const char *key, double value)
{
    pl_attr a = {.key = key, .type = PL_ATTR_NUM, .num = value};
    return set_attr(pc, &a);
}

int parley_set_attribute_bool(parley_client *pc, const char *key, int value)
{
    pl_attr a = {.key = key, .type = PL_ATTR_BOOL, .boolean = value != 0};
    return set_attr(pc, &a);
}

int parley_set_attribute_null(parley_client *pc, const char *key)
{
    pl_attr a = {.key = key, .type = PL_ATTR_NULL};
    return set_attr(pc, &a);
}

int parley_set_attribute_json(parley_client *pc, const char *key, const char *json_object)
{
    if (!json_object)
        return PARLEY_ERR_INVALID_ARG;
    pl_attr a = {.key = key, .type = PL_ATTR_JSON, .str = json_object};
    return set_attr(pc, &a);
}

int parley_set_screen(parley_client *pc, const char *screen)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_ctx_set_screen(pc->ctx, screen));
}

int parley_add_breadcrumb(parley_client *pc, const char *text)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_ctx_add_breadcrumb(pc->ctx, text, pl_clock_wall_ms()));
}

int parley_set_device_fact(parley_client *pc, const char *key, const char *value)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_ctx_set_device(pc->ctx, key, value));
}

int parley_track_event(parley_client *pc, const char *name, const char *json_object)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_ctx_track_event(pc->ctx, name, json_object, pl_clock_wall_ms()));
}

int parley_set_consent(parley_client *pc, int allowed)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    pl_ctx_set_consent(pc->ctx, allowed);
    return pl_client_leave(pc, PARLEY_OK);
}
