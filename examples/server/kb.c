#include "kb.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "util.h"

/* Front lines and a little slack on top of the longest body. */
#define KB_MAX_FILE (KB_MAX_BODY + 4096)
#define KB_MAX_URL 2048
#define KB_MAX_KEYWORDS 1024
#define KB_MAX_TERMS 16
/* Room the kb.article frame needs besides the article: "t" and a "req" id. */
#define KB_FRAME_SLACK 256

struct kb {
    store_kb *index;
    size_t count;
};

typedef struct article_src {
    char id[KB_MAX_ID + 1];
    const char *title, *keywords, *url;
    char *body; /* malloc'd */
} article_src;

static int failf(char *why, size_t cap, const char *name, const char *msg)
{
    snprintf(why, cap, "%s: %s", name, msg);
    return -1;
}

static int valid_id(const char *stem, size_t len)
{
    size_t i;

    if (len == 0 || len > KB_MAX_ID)
        return 0;
    for (i = 0; i < len; i++) {
        char ch = stem[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
    }
    return 1;
}

/* The whole file, NUL-terminated, with CR of CRLF line ends dropped; NULL with
 * the reason. */
static char *read_text(const char *path, const char **why)
{
    size_t n = 0, i, o = 0;
    int too_large;
    char *buf = util_read_file(path, KB_MAX_FILE, &n, &too_large);

    if (!buf) {
        *why = too_large ? "file too large" : "cannot read the file";
        return NULL;
    }
    if (memchr(buf, '\0', n) || !pj_utf8_valid(buf, n)) {
        *why = "not UTF-8 text";
        free(buf);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (!(buf[i] == '\r' && i + 1 < n && buf[i + 1] == '\n'))
            buf[o++] = buf[i];
    }
    buf[o] = '\0';
    return buf;
}

static char *trim(char *s)
{
    size_t len;

    while (*s == ' ' || *s == '\t')
        s++;
    len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
        s[--len] = '\0';
    return s;
}

/* Cuts the line at *p off the text and advances *p past it. */
static char *next_line(char **p)
{
    char *line = *p, *nl = strchr(line, '\n');

    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else
        *p = line + strlen(line);
    return line;
}

static const char *check_url(const char *url)
{
    size_t i;

    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return "url: must be an http or https URL";
    if (strlen(url) > KB_MAX_URL)
        return "url: longer than 2048 bytes";
    for (i = 0; url[i]; i++) {
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return "url: must not contain spaces";
    }
    return NULL;
}

/* "url:" and "keywords:" lines right below the title. */
static const char *front_lines(char **p, article_src *a)
{
    char *line;

    for (;;) {
        if (strncmp(*p, "url:", 4) != 0 && strncmp(*p, "keywords:", 9) != 0)
            return NULL;
        line = next_line(p);
        if (line[0] == 'u') {
            a->url = trim(line + 4);
            if (check_url(a->url))
                return check_url(a->url);
        } else {
            a->keywords = trim(line + 9);
            if (strlen(a->keywords) > KB_MAX_KEYWORDS)
                return "keywords: longer than 1024 bytes";
        }
    }
}

/* Splits `text` into title, front lines and body ("# Title", a blank line,
 * then the rest). NULL, or why the file is not an article. */
static const char *parse_article(char *text, article_src *a)
{
    char *p = text, *line = next_line(&p), *rest;
    const char *why;
    size_t need;

    if (strncmp(line, "# ", 2) != 0)
        return "the first line must be the title: \"# Title\"";
    a->title = trim(line + 2);
    if (!a->title[0] || strlen(a->title) > KB_MAX_TITLE)
        return "the title must be 1 to 256 bytes";
    why = front_lines(&p, a);
    if (why)
        return why;
    while (*p == '\n')
        p++;
    rest = trim(p);
    need = strlen(a->title) + strlen(rest) + 5;
    if (need > KB_MAX_BODY + 1)
        return "the article is longer than 16384 bytes";
    a->body = malloc(need);
    if (!a->body)
        return "out of memory";
    snprintf(a->body, need, "# %s%s%s", a->title, rest[0] ? "\n\n" : "", rest);
    return NULL;
}

/* The kb.article answer must fit in one frame once JSON escapes it. */
static const char *check_frame(const article_src *a)
{
    cJSON *o = cJSON_CreateObject();
    char *json;
    size_t len;

    if (!o || !cJSON_AddStringToObject(o, "id", a->id) ||
        !cJSON_AddStringToObject(o, "title", a->title) ||
        !cJSON_AddStringToObject(o, "body", a->body) ||
        (a->url && !cJSON_AddStringToObject(o, "url", a->url))) {
        cJSON_Delete(o);
        return "out of memory";
    }
    json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json)
        return "out of memory";
    len = strlen(json);
    cJSON_free(json);
    return len + KB_FRAME_SLACK > PJ_MAX_FRAME ? "the article does not fit in one frame" : NULL;
}

static int insert(kb *k, const article_src *a, char *why, size_t cap)
{
    store_article art;

    memset(&art, 0, sizeof art);
    art.id = a->id;
    art.title = a->title;
    art.keywords = a->keywords;
    art.body = a->body;
    art.url = a->url;
    return store_kb_add(k->index, &art, why, cap);
}

static int load_file(kb *k, const char *dir, const char *name, char *why, size_t cap)
{
    char path[4096];
    char index_why[256];
    const char *msg;
    article_src a;
    char *text;
    int rc;

    memset(&a, 0, sizeof a);
    if (!valid_id(name, strlen(name) - 3))
        return failf(why, cap, name,
                     "the file name (the article id) must be 1 to 64 of "
                     "A-Z a-z 0-9 - _, then .md");
    memcpy(a.id, name, strlen(name) - 3);
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return failf(why, cap, name, "path too long");
    text = read_text(path, &msg);
    if (!text)
        return failf(why, cap, name, msg);
    msg = parse_article(text, &a);
    if (!msg)
        msg = check_frame(&a);
    if (!msg && insert(k, &a, index_why, sizeof index_why))
        msg = index_why;
    rc = msg ? failf(why, cap, name, msg) : 0;
    free(a.body);
    free(text);
    return rc;
}

static int is_article_file(const char *dir, const char *name)
{
    size_t len = strlen(name);
    char path[4096];
    struct stat st;

    if (name[0] == '.' || len < 4 || strcmp(name + len - 3, ".md") != 0)
        return 0;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return 1; /* load_file reports it */
    return stat(path, &st) != 0 || S_ISREG(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The article file names of `dir`, sorted (so load errors are stable). */
static char **list_dir(const char *dir, size_t *n, char *why, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, **grown;
    size_t len = 0;

    if (!d) {
        snprintf(why, cap, "%s: cannot open the directory", dir);
        return NULL;
    }
    while ((e = readdir(d)) != NULL) {
        if (!is_article_file(dir, e->d_name))
            continue;
        grown = len < KB_MAX_ARTICLES ? realloc(names, (len + 1) * sizeof *names) : NULL;
        if (!grown || !(grown[len] = strdup(e->d_name))) {
            snprintf(why, cap, "%s: %s", dir,
                     len < KB_MAX_ARTICLES ? "out of memory" : "more than 10000 articles");
            names = grown ? grown : names;
            while (len)
                free(names[--len]);
            free(names);
            closedir(d);
            return NULL;
        }
        names = grown;
        len++;
    }
    closedir(d);
    if (len)
        qsort(names, len, sizeof *names, cmp_names);
    *n = len;
    return names ? names : calloc(1, sizeof *names);
}

int kb_load(const char *dir, kb **out, char *why, size_t cap)
{
    return kb_load_like(NULL, dir, out, why, cap);
}

int kb_load_like(const kb *model, const char *dir, kb **out, char *why, size_t cap)
{
    kb *k = calloc(1, sizeof *k);
    char **names = NULL;
    size_t n = 0, i;
    int rc = -1;

    *out = NULL;
    if (!k || (model && model->count)) {
        snprintf(why, cap, k ? "the model holds articles" : "out of memory");
        free(k);
        return -1;
    }
    if (store_kb_open(model ? model->index : NULL, &k->index, why, cap)) {
        kb_free(k);
        return -1;
    }
    names = list_dir(dir, &n, why, cap);
    if (names) {
        for (rc = 0, i = 0; i < n && rc == 0; i++)
            rc = load_file(k, dir, names[i], why, cap);
        for (i = 0; i < n; i++)
            free(names[i]);
        free(names);
    }
    if (rc) {
        kb_free(k);
        return -1;
    }
    k->count = n;
    *out = k;
    return 0;
}

void kb_free(kb *k)
{
    if (!k)
        return;
    store_kb_close(k->index);
    free(k);
}

size_t kb_count(const kb *k)
{
    return k ? k->count : 0;
}

/* ---- search ---- */

static int is_word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch >= 0x80;
}

/* Words that say nothing about which article is meant. */
static int is_stop_word(const char *w, size_t len)
{
    static const char *const stop[] = {
        "a",     "about", "am",     "an",   "and",   "any",    "are",   "as",    "at",     "be",
        "been",  "but",   "by",     "can",  "could", "did",    "didn",  "do",    "does",   "doesn",
        "don",   "for",   "from",   "get",  "got",   "had",    "has",   "have",  "he",     "hello",
        "help",  "her",   "hey",    "hi",   "his",   "how",    "i",     "if",    "im",     "in",
        "is",    "isn",   "it",     "its",  "just",  "ll",     "me",    "my",    "need",   "no",
        "not",   "of",    "on",     "or",   "our",   "please", "re",    "she",   "should", "so",
        "some",  "thank", "thanks", "that", "the",   "them",   "there", "these", "they",   "this",
        "those", "to",    "ve",     "want", "was",   "we",     "were",  "what",  "when",   "where",
        "which", "who",   "why",    "will", "with",  "won",    "would", "you",   "your"};
    size_t i;

    for (i = 0; i < sizeof stop / sizeof stop[0]; i++) {
        if (strlen(stop[i]) == len && strncasecmp(stop[i], w, len) == 0)
            return 1;
    }
    return 0;
}

/* What the index's query of the words may hold (store_kb quotes each word
 * and joins them with OR): a word that would not fit is left out. */
#define MATCH_BUDGET (KB_MAX_TERMS * (KB_MAX_QUERY + 8) + 1)

/* The query's meaningful words (at most KB_MAX_TERMS, common words
 * ignored), lowercased (ASCII), each NUL-terminated in `buf`; their number.
 * Only word bytes are kept. */
static size_t query_words(const char *query, char buf[MATCH_BUDGET], const char **words)
{
    const unsigned char *p = (const unsigned char *)query;
    size_t used = 0, match = 0, len, i, n = 0;

    while (*p && n < KB_MAX_TERMS) {
        while (*p && !is_word_byte(*p))
            p++;
        for (len = 0; p[len] && is_word_byte(p[len]); len++)
            ;
        if (len > 1 && !is_stop_word((const char *)p, len) && match + len + 8 < MATCH_BUDGET) {
            match += len + (n ? 6 : 2);
            words[n++] = buf + used;
            for (i = 0; i < len; i++)
                buf[used++] = (char)(p[i] < 0x80 ? (p[i] | 0x20) : p[i]);
            buf[used++] = '\0';
        }
        p += len;
    }
    return n;
}

int kb_search(kb *k, const char *query, int limit, kb_cb cb, void *ud)
{
    char buf[MATCH_BUDGET];
    const char *words[KB_MAX_TERMS];
    size_t n = query_words(query, buf, words);

    return store_kb_search(k->index, words, n, limit, cb, ud);
}

int kb_get(kb *k, const char *id, kb_cb cb, void *ud)
{
    return store_kb_get(k->index, id, cb, ud);
}

/* ---- summaries ---- */

/* The start of the last whole UTF-8 sequence at or before s + n. */
static size_t utf8_floor(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

void kb_summary(const char *body, char *out, size_t cap)
{
    const char *p = body, *end;
    size_t len;

    out[0] = '\0';
    if (cap < 4)
        return;
    /* Skip headings and blank lines: the summary is the first paragraph. */
    while (*p == '#' || *p == '\n') {
        p += *p == '\n' ? 1 : strcspn(p, "\n");
    }
    end = strstr(p, "\n\n");
    len = end ? (size_t)(end - p) : strlen(p);
    if (len < cap) {
        memcpy(out, p, len);
        out[len] = '\0';
        return;
    }
    len = utf8_floor(p, cap - 4);
    memcpy(out, p, len);
    memcpy(out + len, "...", 4);
}
