#include "model/item.h"

#include <string.h>

void pl_item_clear(const pl_alloc *a, pl_item *it)
{
    char *strs[] = {it->conv, it->id, it->seq, it->text, it->title, it->url, it->author_name};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        pl_free(a, strs[i]);
    pl_content_free(a, it->content);
    pl_attachment_free(a, it->attachment);
    memset(it, 0, sizeof *it);
}

void pl_answer_clear(const pl_alloc *a, pl_answer *ans)
{
    for (int i = 0; ans->items && i < ans->n_items; i++)
        pl_item_clear(a, &ans->items[i]);
    pl_free(a, ans->items);
    pl_free(a, ans->req);
    pl_free(a, ans->conv);
    pl_item_clear(a, &ans->article);
    memset(ans, 0, sizeof *ans);
}
