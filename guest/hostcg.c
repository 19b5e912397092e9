/* Host mode's run directory: checked variables, a marker that says whose
 * it is, and removal of what a killed run left (hostcg.h). */
#include "hostcg.h"
#include "agent.h"
#include "engine.h"
#include "diag.h"
#include "fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* The variable's value with blanks trimmed; NULL when unset or empty
 * (the KTSTR_* contract).  Caller frees. */
static char *var(const char *name)
{
	const char *v = getenv(name);
	size_t len;

	if (!v)
		return NULL;
	while (isspace((unsigned char)*v))
		v++;
	len = strlen(v);
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	return len ? xstrndup(v, len) : NULL;
}

/* Trailing slashes off, so prefixes compare as paths. */
static void strip_slashes(char *p)
{
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
}

static bool has_dotdot(const char *p)
{
	return !strcmp(p, "..") || strstr(p, "/../") || !strncmp(p, "../", 3) ||
	       (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/.."));
}

/* dir is prefix itself or below it, as paths. */
static bool path_under(const char *dir, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(dir, prefix, n) && (dir[n] == '\0' || dir[n] == '/' ||
					    (n == 1 && prefix[0] == '/'));
}

int hostcg_config(struct hostcg *h, const char **which, struct strbuf *err)
{
	char *parent = var("KTSTR_HOST_CGROUP_PARENT");
	char *walk = var("KTSTR_CGROUP_WALK_ROOT");

	h->parent = parent ? parent : xstrdup(HOSTCG_DEFAULT_PARENT);
	h->walk_root = walk ? walk : xstrdup(HOSTCG_MOUNT);
	strip_slashes(h->parent);
	strip_slashes(h->walk_root);
	*which = "cgroup_parent";
	if (h->parent[0] != '/' || has_dotdot(h->parent) ||
	    !path_under(h->parent, HOSTCG_MOUNT) || !strcmp(h->parent, HOSTCG_MOUNT)) {
		strbuf_addf(err, "KTSTR_HOST_CGROUP_PARENT=%s: must be a directory below "
			    HOSTCG_MOUNT " (not the root itself, no \"..\"); "
			    "unset it for " HOSTCG_DEFAULT_PARENT, h->parent);
		return -1;
	}
	*which = "walk_root";
	if (h->walk_root[0] != '/' || has_dotdot(h->walk_root) ||
	    !path_under(h->walk_root, HOSTCG_MOUNT) || !path_under(h->parent, h->walk_root)) {
		strbuf_addf(err, "KTSTR_CGROUP_WALK_ROOT=%s: must be " HOSTCG_MOUNT
			    " or a directory that KTSTR_HOST_CGROUP_PARENT (%s) is under; "
			    "unset it to start at " HOSTCG_MOUNT, h->walk_root, h->parent);
		return -1;
	}
	return 0;
}

int hostcg_check_v2(const char *dir, struct strbuf *err)
{
	struct statfs sf;

	if (statfs(dir, &sf) < 0) {
		strbuf_addf(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((unsigned long)sf.f_type != CGROUP2_SUPER_MAGIC) {
		strbuf_addf(err, "%s is not on a cgroup v2 filesystem (host mode needs the "
			    "unified hierarchy: boot with systemd.unified_cgroup_hierarchy=1, "
			    "or point KTSTR_HOST_CGROUP_PARENT and KTSTR_CGROUP_WALK_ROOT at a "
			    "cgroup2 mount below " HOSTCG_MOUNT ")", dir);
		return -1;
	}
	return 0;
}

/* Field 22 of /proc/PID/stat: when the process started, in ticks since
 * boot; with the boot id it names one process for good, pid reuse or
 * not.  0 when unknown. */
static unsigned long long start_time(pid_t pid)
{
	struct strbuf sb = STRBUF_INIT;
	char path[64];
	unsigned long long t = 0;
	const char *p;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (strbuf_read_file(&sb, path) < 0) {
		strbuf_release(&sb);
		return 0;
	}
	/* The command name may hold spaces and parentheses: count from
	 * its last ')'. */
	p = strrchr(sb.buf, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	strbuf_release(&sb);
	return t;
}

static char *boot_id(void)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, "/proc/sys/kernel/random/boot_id") < 0)
		strbuf_addstr(&sb, "unknown");
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

char *hostcg_marker(pid_t pid)
{
	char *id = boot_id(), *m;

	m = xasprintf("%d %llu %s", (int)pid, start_time(pid), id);
	free(id);
	return m;
}

bool hostcg_marker_alive(const char *marker)
{
	unsigned long long t;
	char id[64], *now;
	int pid;
	bool alive;

	if (sscanf(marker, "%d %llu %63s", &pid, &t, id) != 3 || pid <= 0)
		return true;	/* not ours to judge: leave it alone */
	now = boot_id();
	alive = !strcmp(now, id) && (kill(pid, 0) == 0 || errno == EPERM) &&
		start_time(pid) == t;
	free(now);
	return alive;
}

unsigned hostcg_clean_stale(const struct hostcg *h)
{
	DIR *d = opendir(h->parent);
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char marker[256], *dir;
		ssize_t len;

		if (de->d_type != DT_DIR || strncmp(de->d_name, HOSTCG_PREFIX, strlen(HOSTCG_PREFIX)))
			continue;
		dir = xasprintf("%s/%s", h->parent, de->d_name);
		len = getxattr(dir, HOSTCG_XATTR, marker, sizeof(marker) - 1);
		if (len > 0) {
			marker[len] = '\0';
			if (!hostcg_marker_alive(marker)) {
				diag("removing %s, left by a run that is gone (%s)", dir, marker);
				cgfs_destroy_dir(dir);
				n++;
			}
		}
		free(dir);
	}
	closedir(d);
	return n;
}

/* Offer cpuset and cpu to dir's children, where dir has them; true when
 * cpuset went through. */
static bool pass_controllers(const char *dir)
{
	static const char *const ctl[] = { "cpuset", "cpu" };
	char *avail_path = xasprintf("%s/cgroup.controllers", dir);
	char *sub = xasprintf("%s/cgroup.subtree_control", dir);
	struct strbuf avail = STRBUF_INIT;
	bool cpuset = false;
	size_t i;

	strbuf_read_file(&avail, avail_path);
	for (i = 0; i < ARRAY_SIZE(ctl); i++) {
		char *word = xasprintf(" %s ", ctl[i]), *line = xasprintf(" %s ", avail.buf);
		char *plus = xasprintf("+%s", ctl[i]);

		for (char *c = line; *c; c++)
			if (*c == '\n')
				*c = ' ';
		if (strstr(line, word)) {
			if (write_control(sub, plus) == 0)
				cpuset |= i == 0;
			else
				vlog("%s: %s: %s", sub, plus, strerror(errno));
		}
		free(word);
		free(line);
		free(plus);
	}
	strbuf_release(&avail);
	free(avail_path);
	free(sub);
	return cpuset;
}

int hostcg_create(struct hostcg *h, struct strbuf *err)
{
	char *marker, *p;
	bool cpuset = true;

	if (mkdir_p(h->parent, 0755) < 0) {
		strbuf_addf(err, "cannot create %s: %s", h->parent, strerror(errno));
		return -1;
	}
	/* Every level from the walk root down to the parent passes the
	 * controllers on; a delegated subtree starts where it is ours. */
	p = xstrdup(h->parent);
	for (size_t off = strlen(h->walk_root);;) {
		char save = p[off];

		p[off] = '\0';
		cpuset &= pass_controllers(p);
		p[off] = save;
		if (!save)
			break;
		off = (size_t)(strchrnul(p + off + 1, '/') - p);
	}
	free(p);
	h->run = xasprintf("%s/" HOSTCG_PREFIX "%d", h->parent, (int)getpid());
	if (is_directory(h->run))
		cgfs_destroy_dir(h->run);
	if (mkdir(h->run, 0755) < 0) {
		strbuf_addf(err, "cannot create %s: %s", h->run, strerror(errno));
		free(h->run);
		h->run = NULL;
		return -1;
	}
	marker = hostcg_marker(getpid());
	if (setxattr(h->run, HOSTCG_XATTR, marker, strlen(marker), 0) < 0) {
		strbuf_addf(err, "cannot mark %s (xattr " HOSTCG_XATTR "): %s; host mode needs "
			    "user xattrs on cgroupfs (Linux 5.7 or later)", h->run, strerror(errno));
		free(marker);
		hostcg_destroy(h);
		return -1;
	}
	free(marker);
	h->cpuset = cpuset && pass_controllers(h->run);
	h->agent = xasprintf("%s/agent", h->run);
	if (mkdir(h->agent, 0755) < 0) {
		strbuf_addf(err, "cannot create %s: %s", h->agent, strerror(errno));
		hostcg_destroy(h);
		return -1;
	}
	return 0;
}

void hostcg_destroy(struct hostcg *h)
{
	if (!h->run)
		return;
	cgfs_destroy_dir(h->run);
	free(h->run);
	free(h->agent);
	h->run = h->agent = NULL;
}

void hostcg_release(struct hostcg *h)
{
	hostcg_destroy(h);
	free(h->parent);
	free(h->walk_root);
	h->parent = h->walk_root = NULL;
}
