#include "vm_schedlog.h"
#include "diag.h"
#include "fsutil.h"
#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vm_schedlog_init(struct vm_schedlog *l, const char *path, bool echo)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	l->fd = -1;
	l->echo = echo;
}

int vm_schedlog_open(struct vm_schedlog *l, char *msg, size_t msgsz)
{
	if (!l->path || l->fd >= 0 || l->write_failed)
		return 0;
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (l->fd < 0) {
		snprintf(msg, msgsz, "cannot write the scheduler's output to %s: %s",
			 l->path, strerror(errno));
		l->write_failed = true;
		return -1;
	}
	return 0;
}

bool vm_schedlog_opened(const struct vm_schedlog *l)
{
	return l->fd >= 0;
}

void vm_schedlog_line(struct vm_schedlog *l, const char *line, size_t len)
{
	size_t slot;

	if (l->fd >= 0 && (write_all(l->fd, line, len) < 0 || write_all(l->fd, "\n", 1) < 0)) {
		diag("cannot write the scheduler's output to %s: %s", l->path, strerror(errno));
		close(l->fd);
		l->fd = -1;
		l->write_failed = true;
	}
	/* Best effort, as the console echo: a closed stderr must not stop the VM. */
	if (l->echo) {
		progress_clear();
		(void)!write(STDERR_FILENO, line, len);
		(void)!write(STDERR_FILENO, "\n", 1);
	}
	if (l->lines < VM_SCHEDLOG_HEAD) {
		l->head[l->lines++] = xstrndup(line, len);
		return;
	}
	slot = (l->lines - VM_SCHEDLOG_HEAD) % VM_SCHEDLOG_TAIL;
	free(l->tail[slot]);
	l->tail[slot] = xstrndup(line, len);
	l->lines++;
}

void vm_schedlog_show(const struct vm_schedlog *l, FILE *f)
{
	size_t i, rest = l->lines > VM_SCHEDLOG_HEAD ? l->lines - VM_SCHEDLOG_HEAD : 0;
	size_t shown = rest < VM_SCHEDLOG_TAIL ? rest : VM_SCHEDLOG_TAIL;
	size_t first = l->lines - shown;	/* line number of the first tail line */

	for (i = 0; i < l->lines && i < VM_SCHEDLOG_HEAD; i++)
		fprintf(f, "  | %s\n", l->head[i]);
	if (rest > shown)
		fprintf(f, "  | ... %zu lines left out ...\n", rest - shown);
	for (i = 0; i < shown; i++)
		fprintf(f, "  | %s\n",
			l->tail[(first + i - VM_SCHEDLOG_HEAD) % VM_SCHEDLOG_TAIL]);
	fflush(f);
}

void vm_schedlog_release(struct vm_schedlog *l)
{
	size_t i;

	if (l->fd >= 0)
		close(l->fd);
	for (i = 0; i < VM_SCHEDLOG_HEAD; i++)
		free(l->head[i]);
	for (i = 0; i < VM_SCHEDLOG_TAIL; i++)
		free(l->tail[i]);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

char *vm_schedlog_path_for(const char *console_log)
{
	size_t n = strlen(console_log);

	if (n > 4 && !strcmp(console_log + n - 4, ".log"))
		return xasprintf("%.*s.sched.log", (int)(n - 4), console_log);
	return xasprintf("%s.sched.log", console_log);
}
