/*
 * test-wakesock.c - the daemon's wake-up socket (wakesock.h): which
 * accounts a datagram wakes (an ordinary account by username and mailbox,
 * a print_folders account by folder, for the user named), the rate limit
 * per account and per user, and a busy account's wake-up held back and
 * sent again.  A real socket in a temporary folder; no daemon.
 */
#include "m2c-config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"
#include "util.h"
#include "wakesock.h"

/* What the callback was asked to wake, "name/user" or "name", ";"-joined. */
static struct buf calls;
static int busy_left;	/* answer "busy" this many more times */

static int
record(void *arg, const char *name, const char *user)
{
	(void)arg;
	buf_appendf(&calls, "%s%s%s%s", calls.len ? ";" : "", name, user ? "/" : "",
	    user ? user : "");
	if (busy_left > 0) {
		busy_left--;
		return 1;
	}
	return 0;
}

static void
send_wake(const char *path, const char *user, const char *mailbox)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	char *d = xasprintf("mail2cups-wake 1\nuser %s\nmailbox %s\nuidvalidity 1\nuids 1\n",
	    user, mailbox);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || sendto(fd, d, strlen(d), 0, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("sendto");
		exit(99);
	}
	close(fd);
	free(d);
}

/* Serve what is waiting; the calls made, as a string (then forgotten). */
static char *
serve(struct wake_sock *ws, const struct conf *cf, long long *due)
{
	char *s;

	*due = wake_sock_serve(ws, 1, cf, record, NULL);
	s = xstrdup(calls.len ? calls.data : "");
	buf_free(&calls);
	return s;
}

int
main(void)
{
	char dir[] = "/tmp/m2c-test-wakesock-XXXXXX", *path, *got, *err = NULL;
	struct conf_account acct[2];
	struct conf cf;
	struct wake_sock *ws = NULL;
	long long due;

	if (mkdtemp(dir) == NULL)
		return 99;
	path = xasprintf("%s/wake.sock", dir);
	memset(acct, 0, sizeof(acct));
	memset(&cf, 0, sizeof(cf));
	acct[0].name = "inbox";
	acct[0].username = "alice";
	acct[0].mailbox = "INBOX";
	acct[1].name = "pf";
	acct[1].print_folders = 1;
	acct[1].mailbox = "Print";
	cf.accounts = acct;
	cf.naccounts = 2;
	cf.wake_interval = 1;
	is_int(wake_sock_open(path, NULL, &ws, &err), 0, "the socket opens");
	if (ws == NULL)
		return tap_done();

	send_wake(path, "alice", "INBOX");
	send_wake(path, "bob", "Print");
	send_wake(path, "alice", "Print");
	send_wake(path, "bob", "Other");
	got = serve(ws, &cf, &due);
	is_str(got, "inbox;pf/bob;pf/alice", "INBOX wakes alice's account; Print wakes the "
	    "print_folders account for each user; Other wakes nobody");
	free(got);
	is_int(due, -1, "... nothing held back");

	/* Within wake_interval: bob's folder waits, carol's goes at once. */
	send_wake(path, "bob", "Print");
	send_wake(path, "carol", "Print");
	got = serve(ws, &cf, &due);
	is_str(got, "pf/carol", "the rate limit is per user: bob again waits, carol goes");
	free(got);
	ok(due > 0 && due <= 1000, "... bob's is due within wake_interval (%lld ms)", due);
	(void)poll(NULL, 0, (int)due + 20);
	got = serve(ws, &cf, &due);
	is_str(got, "pf/bob", "... and is sent once the interval is over");
	free(got);

	/* A busy worker: held back, sent again shortly. */
	busy_left = 1;
	send_wake(path, "dave", "Print");
	got = serve(ws, &cf, &due);
	is_str(got, "pf/dave", "a wake-up for a busy account is tried");
	free(got);
	ok(due > 0 && due <= 100, "... and held back, due again soon (%lld ms)", due);
	(void)poll(NULL, 0, (int)due + 5);
	got = serve(ws, &cf, &due);
	is_str(got, "pf/dave", "... and sent again");
	free(got);

	wake_sock_close(&ws);
	ok(access(path, F_OK) != 0, "closing removes the socket file");
	rmdir(dir);
	free(path);
	free(err);
	return tap_done();
}
