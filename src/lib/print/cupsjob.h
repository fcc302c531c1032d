/*
 * cupsjob.h - submitting one document as one CUPS job, through libcups.
 *
 * One job per attachment, never several documents in one job (CUPS 2.4
 * joins or drops them).  The document is streamed from its scratch file
 * in the job's one request (Print-Job, in 64 KiB writes).  The job name is the
 * attachment's file name (bytes that are not valid UTF-8 or are control
 * characters become '_'; at most 255 bytes), the requesting user the
 * sender's address (sanitised; never a bare local part), and the nonce is
 * stored with the job in the job attribute "mail2cups-nonce" so that a
 * restart can find it (see cupsjob.c for why that attribute).
 *
 * Errors: CUPS unreachable is M2C_E_UNAVAIL (temporary); a missing queue is
 * M2C_E_NOTFOUND; a queue that is not accepting jobs is M2C_E_TEMP; a
 * document type CUPS cannot print is M2C_E_REFUSED.
 */
#ifndef M2C_CUPSJOB_H
#define M2C_CUPSJOB_H

#include "printopts.h"

/* Use this server (socket path or host:port); NULL: CUPS_SERVER/client.conf. */
void cups_job_set_server(const char *server);
/* Connect and I/O timeouts in ms (defaults 10000, 60000); <= 0 keeps one. */
void cups_job_set_timeouts(int connect_ms, int io_ms);

struct cups_job_req {
	const char *printer;	/* queue name */
	const char *title;	/* job name: the attachment's file name */
	const char *user;	/* requesting user: the sender's address, or a local user */
	const char *nonce;	/* stored with the job; see cups_job_find_by_nonce */
	const char *path;	/* the document */
	const char *format;	/* document-format, e.g. "application/pdf" */
	/*
	 * Job template attributes (NULL: the queue's defaults): copies,
	 * sides, print-color-mode, media, page-ranges, orientation-requested,
	 * print-scaling=fit (and the CUPS option fit-to-page), and
	 * job-hold-until=indefinite when opts->hold.  Only the fields in
	 * opts->set are sent.
	 */
	const struct print_opts *opts;
	int user_mapped;	/* user is a local name from the users table, sent as it is;
				 * otherwise it goes through cups_job_user_for_sender() */
};

/*
 * A session: one connection to cupsd kept for many requests (a pass over a
 * backlog), opened at its first request and again after a failure (a
 * connection cupsd closed while it was kept is noticed before the next
 * request, or at the next Print-Job, which is then sent once more on a
 * new one as long as it had not gone out whole).  The functions
 * below that take one accept NULL: a connection of their own.  Free with
 * cups_session_free (NULL is fine; *cs = NULL).
 */
struct cups_session;
struct cups_session *cups_session_new(void);
void cups_session_free(struct cups_session **cs);

/*
 * Submit r->path as one job; 0 and *job_id, or an error (*job_id 0).  A
 * request cut short leaves no job (cupsd makes none of it); a failure
 * after the whole request went out may leave one, complete, that
 * cups_job_find_by_nonce finds.
 * r->user is passed through cups_job_user_for_sender() here, unless
 * r->user_mapped.
 */
int cups_job_submit(struct cups_session *cs, const struct cups_job_req *r, int *job_id,
    char **errstr);

/*
 * Look for a job (any state, completed ones included) on printer that
 * carries nonce.  0 and *job_id when found, M2C_E_NOTFOUND when not.  A job
 * with the nonce that never received its document (job-k-octets 0: made
 * by an earlier version's Create-Job without its Send-Document) is not found,
 * and is cancelled if still pending, so submitting again is right.  A
 * session asks cupsd once (one Get-Jobs) for all the lookups on a queue,
 * until it submits a job: restarts stay cheap however long the job
 * history is.
 */
int cups_job_find_by_nonce(struct cups_session *cs, const char *printer, const char *nonce,
    int *job_id, char **errstr);

/*
 * The queue exists and accepts jobs: 0, else an error saying what to do.
 * A queue that accepts jobs but is stopped (disabled) is not an error: CUPS
 * holds the jobs until it is started again.  *warning (optional) then
 * receives an allocated "queue X is stopped ... (cupsenable X)".
 */
int cups_job_check_queue(const char *printer, char **warning, char **errstr);
/*
 * The warning for a queue whose printer-error-policy is stop-printer (two
 * %s: the queue's name): one failed job would halt it, and every job
 * behind it would wait.  cups_job_check_queue adds it to *warning.
 */
#define CUPS_JOB_STOP_PRINTER_WARNING "queue %s has the stop-printer error policy: one " \
	"failed job would stop it and every job behind it waits (lpadmin -p %s -o " \
	"printer-error-policy=retry-job)"

/* One queue of the CUPS server, for `mail2cups check`; strings owned. */
struct cups_queue {
	char *name;
	char *device_uri;	/* may be NULL (hidden by the server's policy) */
	char *error_policy;	/* "stop-printer", "retry-job"...; may be NULL */
};
/*
 * Every queue of the server (CUPS-Get-Printers).  *out (allocated; free
 * with cups_job_queues_free) gets *n entries; no queue: NULL and 0.
 */
int cups_job_list_queues(struct cups_queue **out, size_t *n, char **errstr);
void cups_job_queues_free(struct cups_queue **list, size_t n);

/* A job's state, as CUPS says it (IPP job-state). */
enum cups_job_state {
	CUPS_JOB_PENDING = 3, CUPS_JOB_HELD = 4, CUPS_JOB_PROCESSING = 5,
	CUPS_JOB_STOPPED = 6, CUPS_JOB_CANCELED = 7, CUPS_JOB_ABORTED = 8,
	CUPS_JOB_COMPLETED = 9,
};

/*
 * The state of job_id (Get-Job-Attributes): 0 and *state; *reason
 * (optional, allocated or NULL) the job-state-reasons / job-printer-state-
 * message joined, for a reply saying why a job failed.  A job CUPS no
 * longer knows (purged from history) is M2C_E_NOTFOUND.
 */
int cups_job_get_state(int job_id, enum cups_job_state *state, char **reason, char **errstr);

/*
 * The requesting-user-name for a sender: the full address with anything
 * CUPS or a shell could trip on replaced by '_', at most 255 bytes;
 * "unknown-sender" for NULL/empty.  Allocated.
 */
char *cups_job_user_for_sender(const char *addr);

#endif
