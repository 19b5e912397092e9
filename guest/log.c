/* The agent's console messages: vlog() for the chatter KTSTR_VERBOSE=1
 * asks for, stamped with the guest's uptime so a slow boot under TCG can
 * be read off the console.  Errors go through diag() directly. */
#include "agent.h"
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

bool agent_verbose;
bool agent_hosted;

static double uptime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vlog(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!agent_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag("[%.3f] %s", uptime_s(), buf);
}
