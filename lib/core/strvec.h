/* A growable NULL-terminated array of owned strings (argv builder, path
 * lists), after git's strvec.  v[n] is always NULL so it can be passed to
 * execvp directly. */
#ifndef KTSTR_STRVEC_H
#define KTSTR_STRVEC_H

#include <stdbool.h>
#include <stddef.h>

struct strvec {
	char **v;
	size_t n;
	size_t alloc;
};
#define STRVEC_INIT { NULL, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Push s unless an equal string is already present; returns true if added. */
bool strvec_push_unique(struct strvec *sv, const char *s);
bool strvec_contains(const struct strvec *sv, const char *s);
void strvec_sort(struct strvec *sv);
void strvec_clear(struct strvec *sv);
/* Never NULL: an empty vector yields a pointer to a NULL entry. */
const char *const *strvec_argv(struct strvec *sv);

#endif
