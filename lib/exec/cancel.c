/*
 * Cancel tokens: a flag plus an eventfd, so that a job blocked in poll()
 * wakes up the moment someone cancels.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/exec.h"
#include "banned.h"

struct guts_cancel {
	atomic_int set;
	int fd;
};

struct guts_cancel *guts_cancel_new(void)
{
	struct guts_cancel *c = guts_xcalloc(1, sizeof(*c));

	atomic_init(&c->set, 0);
	c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->fd < 0)
		abort(); /* out of descriptors at start-up: nothing to do */
	return c;
}

void guts_cancel_free(struct guts_cancel *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

void guts_cancel_trigger(struct guts_cancel *c)
{
	uint64_t one = 1;
	ssize_t n;

	if (atomic_exchange(&c->set, 1))
		return;
	/* Async-signal-safe: an atomic store and a write. */
	do
		n = write(c->fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

int guts_cancel_is_set(const struct guts_cancel *c)
{
	return c && atomic_load(&((struct guts_cancel *)c)->set);
}

int guts_cancel_fd(const struct guts_cancel *c)
{
	return c ? c->fd : -1;
}
