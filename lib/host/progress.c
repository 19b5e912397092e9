#include "progress.h"
#include "diag.h"
#include "env.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int enabled = -1;
static bool shown;

bool progress_enabled(void)
{
	if (enabled < 0)
		enabled = isatty(STDERR_FILENO) && !env_get("KTSTR_NO_PROGRESS");
	return enabled;
}

void progress(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!progress_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r\033[K%s: %s", ktstr_prog, buf);
	fflush(stderr);
	shown = true;
}

void progress_clear(void)
{
	if (!shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	shown = false;
}
