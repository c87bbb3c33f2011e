#include "pwworker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pwhash.h"

typedef struct job {
    int64_t id;
    char *password;
    size_t len;
    char *stored; /* NULL: the dummy check */
    int done, result;
} job;

struct pwworker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    job **jobs; /* submission order; finished ones are taken from anywhere */
    size_t n, cap;
    int64_t next_id;
    int stop;
    pwworker_wake_fn wake;
    void *ud;
};

/* A memset the compiler may not drop as a dead store. */
static void wipe(char *p, size_t n)
{
    volatile char *v = p;

    while (n--)
        *v++ = 0;
}

static void job_free(job *j)
{
    if (!j)
        return;
    if (j->password) {
        wipe(j->password, j->len);
        free(j->password);
    }
    free(j->stored);
    free(j);
}

/* The first job not done yet, or NULL. Under mu. */
static job *next_job(pwworker *w)
{
    size_t i;

    for (i = 0; i < w->n; i++) {
        if (!w->jobs[i]->done)
            return w->jobs[i];
    }
    return NULL;
}

/* Runs one job without the lock: jobs are separate allocations, only this
 * thread changes a job that is not done, and pwworker_take frees only done
 * ones. */
static void run(pwworker *w, job *j)
{
    int result;

    if (j->stored)
        result = pwhash_verify(j->password, j->len, j->stored);
    else
        result = pwhash_verify_dummy(j->password, j->len);
    pthread_mutex_lock(&w->mu);
    j->result = result;
    j->done = 1;
    wipe(j->password, j->len);
    pthread_mutex_unlock(&w->mu);
    w->wake(w->ud);
}

static void *worker_main(void *arg)
{
    pwworker *w = arg;
    job *j;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && !(j = next_job(w)))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        run(w, j);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

pwworker *pwworker_new(size_t max_pending, pwworker_wake_fn wake, void *ud)
{
    pwworker *w = calloc(1, sizeof *w);

    if (!w || max_pending == 0)
        goto fail;
    w->jobs = calloc(max_pending, sizeof *w->jobs);
    w->cap = max_pending;
    w->wake = wake;
    w->ud = ud;
    w->next_id = 1;
    if (!w->jobs || pthread_mutex_init(&w->mu, NULL))
        goto fail;
    if (pthread_cond_init(&w->cv, NULL)) {
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    if (pthread_create(&w->thread, NULL, worker_main, w)) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    return w;
fail:
    if (w)
        free(w->jobs);
    free(w);
    return NULL;
}

void pwworker_free(pwworker *w)
{
    size_t i;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    for (i = 0; i < w->n; i++)
        job_free(w->jobs[i]);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->jobs);
    free(w);
}

int64_t pwworker_submit(pwworker *w, const char *password, size_t len, const char *stored)
{
    job *j = calloc(1, sizeof *j);
    int64_t id = 0;

    if (!j)
        return -1;
    j->len = len;
    j->password = malloc(len ? len : 1);
    j->stored = stored ? strdup(stored) : NULL;
    if (!j->password || (stored && !j->stored)) {
        job_free(j);
        return -1;
    }
    memcpy(j->password, password, len);
    pthread_mutex_lock(&w->mu);
    if (w->n < w->cap) {
        j->id = id = w->next_id++;
        w->jobs[w->n++] = j;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    if (!id)
        job_free(j);
    return id;
}

int pwworker_take(pwworker *w, int64_t *id, int *result)
{
    size_t i;
    int found = 0;

    pthread_mutex_lock(&w->mu);
    for (i = 0; i < w->n && !w->jobs[i]->done; i++)
        ;
    if (i < w->n) {
        *id = w->jobs[i]->id;
        *result = w->jobs[i]->result;
        job_free(w->jobs[i]);
        memmove(&w->jobs[i], &w->jobs[i + 1], (w->n - i - 1) * sizeof *w->jobs);
        w->n--;
        found = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return found;
}
