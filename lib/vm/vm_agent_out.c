/* The host's side of the agent port, outgoing: a queue written as the
 * socket takes it (vm_run.h). */
#include "vm_run.h"
#include "jsonl.h"

#include <errno.h>
#include <sys/socket.h>

/* Write what the agent's socket takes now: 0 (the rest waits for
 * POLLOUT), -1 with errno when the agent's end is gone. */
int vm_agent_flush(struct vm_run *v)
{
	while (v->to_agent_off < v->to_agent.len) {
		ssize_t n;

		if (v->agent_fd < 0) {
			errno = EPIPE;
			return -1;
		}
		/* No SIGPIPE for a QEMU that has gone: the caller says why. */
		n = send(v->agent_fd, v->to_agent.buf + v->to_agent_off,
			 v->to_agent.len - v->to_agent_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		v->to_agent_off += (size_t)n;
	}
	strbuf_reset(&v->to_agent);
	v->to_agent_off = 0;
	return 0;
}

int vm_agent_send(struct vm_run *v, json_t *rec)
{
	jsonl_encode(&v->to_agent, rec);
	json_decref(rec);
	return vm_agent_flush(v);
}
