/*
 * cupsjob.h - submitting one document as one CUPS job, through libcups.
 *
 * One job per attachment, never several documents in one job (CUPS 2.4
 * joins or drops them).  The document is streamed from its scratch file
 * (cupsCreateJob, cupsStartDocument, cupsWriteRequestData,
 * cupsFinishDocument).  The job name is the attachment's file name, the
 * requesting user the sender's address (sanitised; never a bare local
 * part), and a nonce is stored with the job so that a restart can find it.
 *
 * Errors: CUPS unreachable is M2C_E_UNAVAIL (temporary); a missing queue is
 * M2C_E_NOTFOUND; a queue that is not accepting jobs is M2C_E_TEMP.
 */
#ifndef M2C_CUPSJOB_H
#define M2C_CUPSJOB_H

/* Use this server (socket path or host:port); NULL: CUPS_SERVER/client.conf. */
void cups_job_set_server(const char *server);

struct cups_job_req {
	const char *printer;	/* queue name */
	const char *title;	/* job name: the attachment's file name */
	const char *user;	/* requesting user: the sender's address */
	const char *nonce;	/* stored with the job; see cups_job_find_by_nonce */
	const char *path;	/* the document */
	const char *format;	/* document-format, e.g. "application/pdf" */
};

int cups_job_submit(const struct cups_job_req *r, int *job_id, char **errstr);

/*
 * Look for a job (any state, completed ones included) on printer that
 * carries nonce.  0 and *job_id when found, M2C_E_NOTFOUND when not.
 */
int cups_job_find_by_nonce(const char *printer, const char *nonce, int *job_id,
    char **errstr);

/* The queue exists and accepts jobs: 0, else an error saying what to do. */
int cups_job_check_queue(const char *printer, char **errstr);

/*
 * The requesting-user-name for a sender: the full address with anything
 * CUPS or a shell could trip on replaced by '_', at most 255 bytes;
 * "unknown-sender" for NULL/empty.  Allocated.
 */
char *cups_job_user_for_sender(const char *addr);

#endif
