/* The ways out of the agent: every one of them ends in a power-off,
 * since PID 1 must never exit (the kernel would panic). */
#include "agent.h"
#include "agent_proto.h"
#include "diag.h"
#include "jsonl.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

void agent_poweroff(void)
{
	/* Host mode: the supervisor reads the exit record and cleans up;
	 * the engine just goes. */
	if (agent_hosted)
		_exit(0);
	/* kill(-1) below means every process the caller may signal: in the
	 * VM that is the request's leftovers, anywhere else (a unit test
	 * reaching this by mistake) it would be the whole machine. */
	if (getpid() != 1) {
		diag("power-off requested outside PID 1; exiting instead");
		_exit(KTSTR_EXIT_FAIL);
	}
	vlog("powering off");
	/* Stop whatever the request left behind so the sync below sees
	 * quiet filesystems. */
	kill(-1, SIGKILL);
	sync();
	reboot(RB_POWER_OFF);
	/* Unreachable as PID 1 with CAP_SYS_BOOT; returning would panic. */
	for (;;)
		pause();
}

void agent_host_gone(void)
{
	if (agent_hosted)
		_exit(KTSTR_EXIT_USAGE);
	diag("host disconnected from %s; powering off", KTSTR_AGENT_PORT_NAME);
	agent_poweroff();
}

void agent_fail(struct agent *ag, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag("%s", buf);
	if (ag && ag->port >= 0) {
		json_t *rec = jsonl_record("agent_error");

		json_set_str(rec, "message", buf);
		port_send_final(ag, rec);
	}
	agent_poweroff();
}
