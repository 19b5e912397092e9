/* cgroup v2 operations for the scenario engine, all under cgfs_root().
 *
 * Every cgroup the scenario names lives below /sys/fs/cgroup/ktstr (the
 * mount point is settable for the unit tests' fake tree), so a
 * single cgroup.kill plus a bottom-up rmdir of that tree undoes a run,
 * whatever state it ended in.  Intermediate cgroups ("outer" for
 * "outer/a") get the cpu and cpuset controllers in their subtree_control;
 * leaves do not, since cgroup v2 forbids processes in a cgroup that
 * distributes domain controllers to children. */
#include "engine.h"
#include "diag.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long removal waits for killed tasks to leave a cgroup. */
#define RMDIR_WAIT_MS 3000
#define RMDIR_RETRY_NS 10000000L

static const char *const controllers[] = { "+cpuset", "+cpu" };

/* Where cgroup v2 is mounted, and the scenario root below it. */
static char *cg_mount, *cg_root;
/* Host mode: cpuset may be missing (bound to cgroup v1, not delegated);
 * a scenario that sets one then fails with a line saying so. */
static bool cpuset_optional, cpuset_missing;

void cgfs_cpuset_optional(bool optional)
{
	cpuset_optional = optional;
}

void cgfs_set_mount(const char *dir)
{
	free(cg_mount);
	free(cg_root);
	cg_mount = xstrdup(dir);
	cg_root = xasprintf("%s/" CG_ROOT_NAME, dir);
}

const char *cgfs_root(void)
{
	if (!cg_root)
		cgfs_set_mount(CG_MOUNT);
	return cg_root;
}

static const char *mount_dir(void)
{
	cgfs_root();
	return cg_mount;
}

/* Controllers one write each: the kernel rejects a whole line when one
 * of them is unavailable.  Only cpuset is essential (cpusets are what the
 * checks are about); without cpu the scheduler's cgroup hooks see less. */
static int enable_controllers(const char *dir, struct strbuf *err)
{
	char *path = xasprintf("%s/cgroup.subtree_control", dir);
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(controllers); i++) {
		if (write_control(path, controllers[i]) == 0)
			continue;
		if (i == 0 && cpuset_optional) {
			cpuset_missing = true;
			vlog("%s: %s not enabled: %s", path, controllers[i], strerror(errno));
			continue;
		}
		if (i == 0) {
			strbuf_addf(err, "%s: cannot enable %s: %s", path,
				    controllers[i], strerror(errno));
			ret = -1;
			break;
		}
		vlog("%s: %s not enabled: %s", path, controllers[i], strerror(errno));
	}
	free(path);
	return ret;
}

static void sleep_retry(void)
{
	struct timespec ts = { 0, RMDIR_RETRY_NS };

	nanosleep(&ts, NULL);
}

/* rmdir a cgroup directory and everything below it, children first.
 * Tasks were killed before; rmdir still fails with EBUSY until the last
 * of them has left, so retry for a while. */
static int rmdir_tree(const char *dir, long long deadline)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		char *sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		if (rmdir_tree(sub, deadline) < 0)
			ret = -1;
		free(sub);
	}
	closedir(d);
	while (rmdir(dir) < 0) {
		if (errno == ENOENT)
			break;
		if (errno != EBUSY || monotonic_ms() >= deadline) {
			vlog("rmdir %s: %s", dir, strerror(errno));
			return -1;
		}
		sleep_retry();
	}
	return ret;
}

static void kill_tree(const char *dir)
{
	char *path = xasprintf("%s/cgroup.kill", dir);

	/* ENOENT: a kernel before 5.14; the workers were stopped anyway. */
	if (write_control(path, "1") < 0 && errno != ENOENT)
		vlog("%s: %s", path, strerror(errno));
	free(path);
}

int cgfs_setup_root(struct strbuf *err)
{
	const char *mnt = mount_dir(), *root = cgfs_root();
	char *ctl = xasprintf("%s/cgroup.subtree_control", mnt);
	bool v2 = is_directory(mnt) && access(ctl, F_OK) == 0;

	free(ctl);
	cpuset_missing = false;	/* found out again for this root */
	if (!v2) {
		strbuf_addf(err, "cgroup v2 is not mounted on %s", mnt);
		return -1;
	}
	if (is_directory(root))
		cgfs_teardown();
	if (enable_controllers(mnt, err) < 0)
		return -1;
	if (mkdir(root, 0755) < 0) {
		strbuf_addf(err, "mkdir %s: %s", root, strerror(errno));
		return -1;
	}
	return enable_controllers(root, err);
}

int cgfs_create(const char *name, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	const char *p = name;
	int ret = 0;

	strbuf_addstr(&path, cgfs_root());
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		strbuf_addch(&path, '/');
		strbuf_add(&path, p, len);
		if (mkdir(path.buf, 0755) < 0 && errno != EEXIST) {
			strbuf_addf(err, "mkdir %s: %s", path.buf, strerror(errno));
			ret = -1;
			break;
		}
		if (!slash)
			break;
		/* An intermediate cgroup: pass the controllers on. */
		if (enable_controllers(path.buf, err) < 0) {
			ret = -1;
			break;
		}
		p = slash + 1;
	}
	strbuf_release(&path);
	return ret;
}

static int cg_write(const char *name, const char *file, const char *val,
		    struct strbuf *err)
{
	char *path = xasprintf("%s/%s/%s", cgfs_root(), name, file);
	int ret = write_control(path, val);

	if (ret < 0)
		strbuf_addf(err, "write \"%s\" to %s: %s", val, path, strerror(errno));
	free(path);
	return ret;
}

bool cgfs_cpuset_missing(struct strbuf *err)
{
	if (cpuset_missing)
		strbuf_addf(err, "the cpuset controller is not available under %s (in host mode "
			    "it must be enabled from KTSTR_CGROUP_WALK_ROOT down, and not bound to "
			    "cgroup v1); this scenario sets cpusets", cgfs_root());
	return cpuset_missing;
}

int cgfs_set_cpuset(const char *name, const char *cpus, const char *mems,
		    struct strbuf *err)
{
	if (cgfs_cpuset_missing(err))
		return -1;
	/* An empty write never reaches the kernel's handler; a newline is
	 * the empty list. */
	if (cg_write(name, "cpuset.cpus", *cpus ? cpus : "\n", err) < 0)
		return -1;
	if (mems && cg_write(name, "cpuset.mems", *mems ? mems : "\n", err) < 0)
		return -1;
	return 0;
}

int cgfs_effective(const char *name, struct strbuf *out)
{
	/* Without the cpuset controller every cgroup may use every online
	 * CPU, which is what its effective set would say. */
	char *path = cpuset_missing ? xstrdup("/sys/devices/system/cpu/online")
				    : xasprintf("%s/%s/cpuset.cpus.effective", cgfs_root(), name);
	int ret = strbuf_read_file(out, path);

	free(path);
	strbuf_trim(out);
	return ret;
}

int cgfs_attach(const char *name, pid_t pid, struct strbuf *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cg_write(name, "cgroup.procs", buf, err);
}

void cgfs_kill(const char *name)
{
	char *dir = xasprintf("%s/%s", cgfs_root(), name);

	kill_tree(dir);
	free(dir);
}

int cgfs_remove(const char *name, struct strbuf *err)
{
	char *dir = xasprintf("%s/%s", cgfs_root(), name);
	int ret;

	kill_tree(dir);
	ret = rmdir_tree(dir, monotonic_ms() + RMDIR_WAIT_MS);
	if (ret < 0)
		strbuf_addf(err, "cannot remove %s: %s", dir, strerror(errno));
	free(dir);
	return ret;
}

void cgfs_destroy_dir(const char *dir)
{
	kill_tree(dir);
	if (rmdir_tree(dir, monotonic_ms() + RMDIR_WAIT_MS) < 0)
		diag("could not remove %s completely", dir);
}

void cgfs_teardown(void)
{
	const char *root = cgfs_root();

	if (!is_directory(root))
		return;
	kill_tree(root);
	if (rmdir_tree(root, monotonic_ms() + RMDIR_WAIT_MS) < 0)
		diag("could not remove %s completely", root);
}
