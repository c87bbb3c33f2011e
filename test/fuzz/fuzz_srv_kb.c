/* libFuzzer target: parley-server's knowledge base loader (kb.c, the --kb
 * directory of Markdown articles) and, when it loads, its FTS5 search (a
 * few fixed queries and the input's first line, as a client's kb.search
 * could send it), lookups and summaries. The input is up to eight article
 * files a0.md..a7.md, separated by lines "%%". Each input's index starts
 * as a copy of an empty one made once (kb_load_like), page for page what
 * creating it would give. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_server.h"
#include "json.h"
#include "kb.h"

#define FILES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_article(void *ud, const kb_article *a)
{
    char summary[256];
    kb_summary(a->body, summary, sizeof summary);
    (*(size_t *)ud) += strlen(a->id) + strlen(a->title) + strlen(summary) +
                       (a->url ? strlen(a->url) : 0) + (a->snippet ? strlen(a->snippet) : 0);
    return 0;
}

/* The first "\n%%\n" of in[size], or NULL: newline to newline, one call
 * per line rather than a comparison at every byte. */
static const char *separator(const char *in, size_t size)
{
    const char *end = in + size;
    for (const char *nl = memchr(in, '\n', size); nl && end - nl >= 4;
         nl = memchr(nl + 1, '\n', (size_t)(end - nl - 1)))
        if (memcmp(nl, "\n%%\n", 4) == 0)
            return nl;
    return NULL;
}

/* Writes the files, then removes those an earlier input left beyond
 * them; the number written, or -1. */
static int write_files(const char *dir, const char *in, size_t size)
{
    char name[64], path[256];
    int n = 0;
    while (n < FILES) {
        const char *sep = separator(in, size);
        size_t len = sep ? (size_t)(sep - in) : size;
        snprintf(name, sizeof name, "kb/a%d.md", n++);
        if (!fz_tmp_file(name, in, len))
            return -1;
        if (!sep)
            break;
        size -= len + 4;
        in = sep + 4;
    }
    for (int i = n; i < FILES; i++) {
        snprintf(path, sizeof path, "%s/a%d.md", dir, i);
        unlink(path);
    }
    return n;
}

/* An index of no article, which each input's starts as a copy of: the
 * same empty index as a fresh one, its tables not created again. */
static kb *empty_model(void)
{
    static kb *empty;
    char why[256];
    const char *dir = empty ? NULL : fz_tmp_dir("kb-empty");
    if (dir && kb_load(dir, &empty, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz: no empty knowledge base: %s\n", why);
        abort();
    }
    return empty;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const kb *model = empty_model();
    const char *dir = fz_tmp_dir("kb");
    char why[256], d[200];
    kb *k = NULL;
    size_t sink = 0;
    if (!dir)
        return 0;
    snprintf(d, sizeof d, "%s", dir);
    if (write_files(d, (const char *)data, size) < 0)
        return 0;
    if (kb_load_like(model, d, &k, why, sizeof why) != 0) {
        if (getenv("PARLEY_FUZZ_TRACE"))
            fprintf(stderr, "kb refused: %s\n", why);
        return 0;
    }
    static const char *const queries[] = {"refund", "account password", "the",
                                          "\"",     "a* OR b",          "NEAR(x y)"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
        kb_search(k, queries[i], KB_MAX_RESULTS, on_article, &sink);
    size_t first = 0;
    while (first < size && first < KB_MAX_QUERY && data[first] != '\n')
        first++;
    char query[KB_MAX_QUERY + 1];
    memcpy(query, data, first);
    query[first] = '\0';
    if (first && strlen(query) == first && pj_utf8_valid(query, first))
        kb_search(k, query, KB_MAX_RESULTS, on_article, &sink);
    kb_get(k, "a0", on_article, &sink);
    kb_get(k, "missing", on_article, &sink);
    (void)kb_count(k);
    kb_free(k);
    return 0;
}
