/* Unit tests for lib/host/dirs.c: cache/state locations and installed paths. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirs.h"
#include "strbuf.h"

static const char *const vars[] = {
	"KTSTR_CACHE_DIR", "XDG_CACHE_HOME", "XDG_STATE_HOME", "HOME",
};
static char *saved[4];

static int save_env(void **state)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		const char *v = getenv(vars[i]);

		saved[i] = v ? strdup(v) : NULL;
	}
	return 0;
}

static int restore_env(void **state)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		if (saved[i])
			setenv(vars[i], saved[i], 1);
		else
			unsetenv(vars[i]);
		free(saved[i]);
		saved[i] = NULL;
	}
	return 0;
}

/* Start each test from a clean slate with only HOME set. */
static int clean_env(void **state)
{
	unsetenv("KTSTR_CACHE_DIR");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/u", 1);
	return 0;
}

static void cache_eq(const char *kind, const char *want)
{
	char *got = ktstr_cache_dir(kind);

	if (!want) {
		if (got)
			fail_msg("ktstr_cache_dir(\"%s\") = \"%s\", want NULL", kind, got);
		return;
	}
	if (!got)
		fail_msg("ktstr_cache_dir(\"%s\") = NULL, want \"%s\"", kind, want);
	if (strcmp(got, want))
		fail_msg("ktstr_cache_dir(\"%s\") = \"%s\", want \"%s\"", kind, got, want);
	free(got);
}

static void state_eq(const char *kind, const char *want)
{
	char *got = ktstr_state_dir(kind);

	if (!want) {
		if (got)
			fail_msg("ktstr_state_dir(\"%s\") = \"%s\", want NULL", kind, got);
		return;
	}
	if (!got)
		fail_msg("ktstr_state_dir(\"%s\") = NULL, want \"%s\"", kind, want);
	if (strcmp(got, want))
		fail_msg("ktstr_state_dir(\"%s\") = \"%s\", want \"%s\"", kind, got, want);
	free(got);
}

static void test_cache_dir_override(void **state)
{
	setenv("KTSTR_CACHE_DIR", "/srv/kcache", 1);
	setenv("XDG_CACHE_HOME", "/xdg", 1);	/* the override wins */
	cache_eq("kernels", "/srv/kcache");
	cache_eq("initramfs", "/srv/kcache/.initramfs");
	cache_eq("debian", "/srv/kcache/.debian");
}

static void test_cache_dir_override_verbatim(void **state)
{
	setenv("KTSTR_CACHE_DIR", "relative/dir", 1);
	cache_eq("kernels", "relative/dir");
	cache_eq("initramfs", "relative/dir/.initramfs");
	/* Surrounding whitespace is ignored, as for every KTSTR_* variable. */
	setenv("KTSTR_CACHE_DIR", "  /srv/k \n", 1);
	cache_eq("kernels", "/srv/k");
	cache_eq("initramfs", "/srv/k/.initramfs");
}

static void test_cache_dir_override_tilde(void **state)
{
	setenv("KTSTR_CACHE_DIR", "~/kc", 1);
	cache_eq("kernels", "/home/u/kc");
	cache_eq("initramfs", "/home/u/kc/.initramfs");
}

static void test_cache_dir_override_empty(void **state)
{
	/* Empty or blank means unset: fall through to XDG / HOME. */
	setenv("KTSTR_CACHE_DIR", "", 1);
	cache_eq("kernels", "/home/u/.cache/ktstr/kernels");
	setenv("KTSTR_CACHE_DIR", "   ", 1);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	cache_eq("kernels", "/xdg/ktstr/kernels");
}

static void test_cache_dir_xdg(void **state)
{
	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	cache_eq("kernels", "/xdg/cache/ktstr/kernels");
	cache_eq("initramfs", "/xdg/cache/ktstr/initramfs");
	setenv("XDG_CACHE_HOME", " /xdg/trimmed ", 1);
	cache_eq("kernels", "/xdg/trimmed/ktstr/kernels");
}

static void test_cache_dir_xdg_ignored(void **state)
{
	/* Relative and empty XDG values are ignored, per the XDG spec. */
	setenv("XDG_CACHE_HOME", "relative", 1);
	cache_eq("kernels", "/home/u/.cache/ktstr/kernels");
	setenv("XDG_CACHE_HOME", "", 1);
	cache_eq("kernels", "/home/u/.cache/ktstr/kernels");
}

static void test_cache_dir_home(void **state)
{
	cache_eq("kernels", "/home/u/.cache/ktstr/kernels");
	cache_eq("initramfs", "/home/u/.cache/ktstr/initramfs");
	setenv("HOME", "/root", 1);
	cache_eq("kernels", "/root/.cache/ktstr/kernels");
}

static void test_cache_dir_nothing(void **state)
{
	unsetenv("HOME");
	cache_eq("kernels", NULL);
	setenv("HOME", "", 1);
	cache_eq("kernels", NULL);
	setenv("XDG_CACHE_HOME", "relative", 1);
	cache_eq("kernels", NULL);
	/* XDG alone is enough. */
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	cache_eq("kernels", "/xdg/ktstr/kernels");
	/* So is the override (when it does not need HOME). */
	unsetenv("XDG_CACHE_HOME");
	setenv("KTSTR_CACHE_DIR", "/k", 1);
	cache_eq("kernels", "/k");
	cache_eq("x", "/k/.x");
}

static void test_state_dir(void **state)
{
	state_eq("runs", "/home/u/.local/state/ktstr/runs");
	setenv("XDG_STATE_HOME", "/st", 1);
	state_eq("runs", "/st/ktstr/runs");
	setenv("XDG_STATE_HOME", "rel", 1);
	state_eq("runs", "/home/u/.local/state/ktstr/runs");
	/* KTSTR_CACHE_DIR does not move state. */
	setenv("KTSTR_CACHE_DIR", "/k", 1);
	state_eq("runs", "/home/u/.local/state/ktstr/runs");
	unsetenv("HOME");
	unsetenv("XDG_STATE_HOME");
	state_eq("runs", NULL);
}

static void test_installed_paths(void **state)
{
	char exe[PATH_MAX], want[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash, *p;

	assert_true(n > 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	assert_non_null(slash);
	*slash = '\0';

	p = ktstr_exe_dir();
	assert_non_null(p);
	assert_string_equal(p, exe);
	free(p);
	p = ktstr_libexec_path("ktstr-agent");
	snprintf(want, sizeof(want), "%s/../libexec/ktstr/ktstr-agent", exe);
	assert_string_equal(p, want);
	free(p);
	p = ktstr_share_path("scripts/x.sh");
	snprintf(want, sizeof(want), "%s/../share/ktstr/scripts/x.sh", exe);
	assert_string_equal(p, want);
	free(p);
}

/* A cache root that is a regular file (or under one) is an error naming
 * where it came from; a missing one is fine (created on first store). */
static void test_cache_dir_check(void **state)
{
	char dir[] = "/tmp/ktstr-test-dirs.XXXXXX", file[PATH_MAX], sub[PATH_MAX + 8];
	struct strbuf err = STRBUF_INIT;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(sub, sizeof(sub), "%s/kernels", file);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);

	assert_int_equal(ktstr_cache_dir_check(dir, &err), 0);
	assert_int_equal(err.len, 0);
	snprintf(sub, sizeof(sub), "%s/none", dir);
	assert_int_equal(ktstr_cache_dir_check(sub, &err), 0);

	setenv("KTSTR_CACHE_DIR", file, 1);
	assert_int_equal(ktstr_cache_dir_check(file, &err), -1);
	assert_non_null(strstr(err.buf, "KTSTR_CACHE_DIR="));
	assert_non_null(strstr(err.buf, file));
	assert_non_null(strstr(err.buf, "ot a directory"));

	strbuf_reset(&err);
	unsetenv("KTSTR_CACHE_DIR");
	snprintf(sub, sizeof(sub), "%s/kernels", file);
	assert_int_equal(ktstr_cache_dir_check(sub, &err), -1);
	assert_null(strstr(err.buf, "KTSTR_CACHE_DIR="));
	assert_non_null(strstr(err.buf, sub));

	strbuf_release(&err);
	unlink(file);
	rmdir(dir);
}

#define T(fn) cmocka_unit_test_setup(fn, clean_env)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cache_dir_override),
		T(test_cache_dir_override_verbatim),
		T(test_cache_dir_override_tilde),
		T(test_cache_dir_override_empty),
		T(test_cache_dir_xdg),
		T(test_cache_dir_xdg_ignored),
		T(test_cache_dir_home),
		T(test_cache_dir_nothing),
		T(test_state_dir),
		T(test_installed_paths),
		T(test_cache_dir_check),
	};

	return cmocka_run_group_tests(tests, save_env, restore_env);
}
