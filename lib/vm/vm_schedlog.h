/* The sched_ext scheduler's own output on the host side.
 *
 * The guest agent streams every line the scheduler prints (stdout and
 * stderr) as {"type":"sched_output","line":...} records; ktstr-vm keeps
 * them all in a file beside the console log instead of printing them as
 * records, optionally echoes them live to stderr, and when the scheduler
 * fails shows the head and the tail of it: a verifier rejection puts the
 * program and the failing instruction at the head and the reason at the
 * end, with possibly thousands of lines in between. */
#ifndef KTSTR_VM_SCHEDLOG_H
#define KTSTR_VM_SCHEDLOG_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#define VM_SCHEDLOG_HEAD 20
#define VM_SCHEDLOG_TAIL 20

struct vm_schedlog {
	const char *path;	/* NULL: lines are counted and kept in memory only */
	int fd;			/* open once the scheduler has started, else -1 */
	bool echo;		/* copy each line to stderr as it comes */
	bool write_failed;
	char *head[VM_SCHEDLOG_HEAD];
	char *tail[VM_SCHEDLOG_TAIL];
	size_t lines;		/* lines seen in all */
};

void vm_schedlog_init(struct vm_schedlog *l, const char *path, bool echo);
/* Create (truncate) the file: called when the scheduler starts, so the
 * path in the records always names an existing file.  0, or -1 with the
 * reason in msg (the run goes on without the file). */
int vm_schedlog_open(struct vm_schedlog *l, char *msg, size_t msgsz);
/* Whether the file exists for this run. */
bool vm_schedlog_opened(const struct vm_schedlog *l);
void vm_schedlog_line(struct vm_schedlog *l, const char *line, size_t len);
/* The first and last lines to f, each prefixed with "  | ", with a note of
 * how many lines in between were left out. */
void vm_schedlog_show(const struct vm_schedlog *l, FILE *f);
void vm_schedlog_release(struct vm_schedlog *l);

/* The scheduler log's name for a console log: "x.log" -> "x.sched.log",
 * anything else gets ".sched.log" appended.  Caller frees. */
char *vm_schedlog_path_for(const char *console_log);

#endif
