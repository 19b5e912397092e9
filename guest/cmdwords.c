/* Commands that need no shell.
 *
 * Most --exec commands are one program and its arguments ("true",
 * "cat /sys/kernel/sched_ext/state", "./mytest --fast").  /bin/sh would
 * split such a line at blanks and exec the program in its own place (the
 * last command of "sh -c" replaces the shell), so the agent can do that
 * itself and spare the shell's start-up: under TCG, the first run of
 * busybox ash's code, ~12 ms of a 2.2 s boot (issue 16).  GNU make takes
 * the same shortcut for recipe lines.
 *
 * Only a line the shell could not read any other way qualifies: words of
 * plain characters (no quoting, expansion, globbing, redirection, operator,
 * comment or tilde), no assignment before the program, and a program name
 * that is neither a reserved word nor a builtin whose behaviour a program
 * of that name would not reproduce.  Everything else goes to the shell. */
#include "agent.h"

#include <ctype.h>
#include <string.h>

/* Characters that mean nothing to sh inside a word.  '=' is one too, but
 * not in the program's place, where it makes an assignment. */
static bool plain_char(unsigned char c)
{
	return isalnum(c) || strchr("_-./,:+@=", c);
}

/* Reserved words and the busybox ash builtins that run differently as
 * programs or have none.  echo, printf, test, true, false, kill and pwd
 * are left out: busybox runs the same code either way (kill's %job needs
 * a '%', pwd's logical path is / here as its physical one is). */
static const char *const shell_words[] = {
	"case", "do", "done", "elif", "else", "esac", "fi", "for", "function",
	"if", "in", "select", "then", "time", "until", "while",
	".", ":", "alias", "bg", "break", "cd", "chdir", "command", "continue",
	"eval", "exec", "exit", "export", "fg", "getopts", "hash", "help",
	"history", "jobs", "let", "local", "read", "readonly", "return", "set",
	"shift", "source", "times", "trap", "type", "ulimit", "umask",
	"unalias", "unset", "wait",
	NULL,
};

static bool shell_word(const char *w)
{
	for (size_t i = 0; shell_words[i]; i++)
		if (!strcmp(shell_words[i], w))
			return true;
	return false;
}

bool cmd_plain_words(const char *cmd, struct strvec *out)
{
	const char *p = cmd;

	strvec_clear(out);
	for (;;) {
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		for (start = p; *p && *p != ' ' && *p != '\t'; p++)
			if (!plain_char((unsigned char)*p) || (!out->n && *p == '='))
				goto shell;
		strvec_pushf(out, "%.*s", (int)(p - start), start);
	}
	if (out->n && !shell_word(out->v[0]))
		return true;
shell:
	strvec_clear(out);
	return false;
}
