/* Anonymous user ids: exactly "a-" followed by a lowercase UUID
 * ("a-0f8fad5b-d9cb-469f-a165-70867728950e"), as libparley mints them. An
 * identified id may never have this form (identity.h), so an id names one
 * user of one kind. */
#ifndef PARLEY_SERVER_ANONID_H
#define PARLEY_SERVER_ANONID_H

/* Each x a lowercase hex digit. */
#define ANONID_SHAPE "a-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
#define ANONID_BUF sizeof ANONID_SHAPE

/* 1 when `id` has the anonymous form. */
int anonid_valid(const char *id);
/* A fresh anonymous id (a version 4 UUID). 0, or -1 when the system's
 * random source fails. */
int anonid_new(char out[ANONID_BUF]);

#endif
