#include "feature/redact.h"

#include <string.h>

#include "util/utf8.h"

/* What a replacement-shape hook writes through: the copy being redacted,
 * which a replacement may fill up to its original length. */
struct parley_redaction {
    char *text;
    size_t size;
};

int parley_redaction_replace(parley_redaction *r, const char *replacement)
{
    if (!r || !replacement)
        return PARLEY_ERR_INVALID_ARG;
    size_t len = strnlen(replacement, r->size);
    if (len >= r->size)
        return PARLEY_ERR_TOO_LONG;
    if (!pl_utf8_valid(replacement, len))
        return PARLEY_ERR_INVALID_ARG;
    memcpy(r->text, replacement, len + 1);
    return PARLEY_OK;
}

int pl_redact_copy(const pl_redact *r, const pl_alloc *a, int field, const char *in, char **out)
{
    size_t size = strlen(in) + 1;
    char *t = pl_malloc(a, size);
    if (!t)
        return PARLEY_ERR_NOMEM;
    memcpy(t, in, size);
    if (r && r->text_fn) {
        parley_redaction red = {t, size};
        r->text_fn(r->user, field, in, &red);
    } else if (r && r->fn) {
        r->fn(r->user, field, t, size);
        if (!memchr(t, '\0', size) || !pl_utf8_valid(t, strlen(t))) {
            pl_free(a, t);
            return PARLEY_ERR_INVALID_ARG;
        }
    }
    if (r && r->builtin)
        pl_redact_builtin(t);
    *out = t;
    return PARLEY_OK;
}
