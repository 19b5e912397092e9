/* The guest's console as QEMU passes it on: the console log, the
 * --verbose echo, the last lines for failure reports and the panic line. */
#include "vm_run.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void remember_console_line(struct vm_run *v, const char *line, size_t len)
{
	const char *p;

	free(v->tail[v->tail_pos]);
	v->tail[v->tail_pos] = xstrndup(line, len);
	v->tail_pos = (v->tail_pos + 1) % CONSOLE_TAIL;
	p = memmem(line, len, "Kernel panic - not syncing", 26);
	if (p && !v->panic_line[0])
		snprintf(v->panic_line, sizeof(v->panic_line), "%.*s",
			 (int)(len - (size_t)(p - line)), p);
}

void vm_console_feed(struct vm_run *v, const char *buf, size_t n)
{
	const char *line;
	size_t len;

	v->log_written = true;
	if (v->log_fd >= 0 && write(v->log_fd, buf, n) < 0) {
		diag("cannot write the console log: %s", strerror(errno));
		close(v->log_fd);
		v->log_fd = -1;
	}
	/* Echo is best effort: a closed stderr must not stop the VM. */
	if (v->c->verbose)
		(void)!write(STDERR_FILENO, buf, n);
	line_reader_feed(&v->con_lr, buf, n);
	while ((line = line_reader_next(&v->con_lr, &len, NULL))) {
		if (len && line[len - 1] == '\r')
			len--;
		remember_console_line(v, line, len);
	}
}

void vm_console_tail_show(const struct vm_run *v)
{
	unsigned i, shown = 0;

	for (i = 0; i < CONSOLE_TAIL; i++) {
		const char *l = v->tail[(v->tail_pos + i) % CONSOLE_TAIL];

		if (!l)
			continue;
		if (!shown++)
			diag("last kernel console lines (%s):", v->c->console_log);
		fprintf(stderr, "  | %s\n", l);
	}
}

json_t *vm_console_tail_json(const struct vm_run *v)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < CONSOLE_TAIL; i++) {
		const char *l = v->tail[(v->tail_pos + i) % CONSOLE_TAIL];

		/* A console line can hold anything: repaired to UTF-8. */
		if (l)
			json_array_append_new(a, json_string_bytes(l, strlen(l)));
	}
	return a;
}
