/* Early filesystem setup: the initramfs has only files, the kernel
 * mounts nothing for an rdinit, so the agent provides what test commands
 * expect of a normal system. */
#include "agent.h"
#include "diag.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct mnt {
	const char *src, *target, *type;
	unsigned long flags;
	const char *data;
};

#define NSE (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static const struct mnt early_mounts[] = {
	{ "proc", "/proc", "proc", NSE, NULL },
	{ "sysfs", "/sys", "sysfs", NSE, NULL },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
};

/* Order matters: each target lives on a filesystem mounted before it. */
static const struct mnt late_mounts[] = {
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620" },
	{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", NSE, NULL },
	{ "debugfs", "/sys/kernel/debug", "debugfs", NSE, NULL },
	{ "tracefs", "/sys/kernel/tracing", "tracefs", NSE, NULL },
	{ "bpf", "/sys/fs/bpf", "bpf", NSE, "mode=0700" },
};

static const char *const cgroup_controllers[] = {
	"cpu", "cpuset", "memory", "io", "pids",
};

static int do_mount(const struct mnt *m)
{
	/* Mount points under /sys exist only when the kernel has the
	 * feature; mkdir there fails harmlessly and mount reports it. */
	mkdir_p(m->target, 0755);
	if (mount(m->src, m->target, m->type, m->flags, m->data) == 0 || errno == EBUSY)
		return 0;
	return -1;
}

/* The kernel opens /dev/console as fds 0-2 for init, but only if the
 * initramfs has that node.  Fill any gap so that no later open() lands on
 * 0-2 and gets clobbered by a child's dup2(). */
static void std_fds_setup(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		nfd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (nfd < 0)
			nfd = open("/dev/null", O_RDWR);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

void mounts_early(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(early_mounts); i++) {
		const struct mnt *m = &early_mounts[i];

		if (do_mount(m) < 0) {
			std_fds_setup();
			diag("cannot mount %s on %s: %s", m->type, m->target, strerror(errno));
		}
	}
	std_fds_setup();
}

/* All controllers in one write: each write to subtree_control takes the
 * cgroup locks and walks the hierarchy again, 0.6-2.4 ms apiece of the
 * guest's boot under TCG (function_graph; issue 16).  The kernel rejects
 * the whole line if any one controller is missing, so then one write per
 * controller enables what there is. */
static void cgroup_enable(void)
{
	char all[128] = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cgroup_controllers); i++)
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s+%s",
			 i ? " " : "", cgroup_controllers[i]);
	if (write_control("/sys/fs/cgroup/cgroup.subtree_control", all) == 0)
		return;
	for (i = 0; i < ARRAY_SIZE(cgroup_controllers); i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "+%s", cgroup_controllers[i]);
		if (write_control("/sys/fs/cgroup/cgroup.subtree_control", buf) < 0)
			vlog("cgroup controller %s not enabled: %s",
			     cgroup_controllers[i], strerror(errno));
	}
}

/* The /dev/fd family: devtmpfs does not create them and shell scripts
 * (process substitution, "cat /dev/stdin") rely on them. */
static void dev_links(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
			vlog("symlink %s: %s", links[i][1], strerror(errno));
}

/* Expedited RCU grace periods while the agent mounts.  Once init runs,
 * the kernel's grace periods are normal ones again, and a normal one
 * waits for the grace-period kthread's force-quiescent-state scans,
 * jiffies apart: under TCG the cgroup2 mount (which waits one out for
 * cgroup_threadgroup_rwsem) took ~9 ms and enabling the controllers ~5,
 * against ~1.5 and ~3.5 expedited (issue 16).  Expedited grace periods
 * interrupt busy CPUs, which is why the window closes before the request
 * runs: nothing the test measures sees it.  A user who asked for
 * rcupdate.rcu_expedited=1 keeps it: the knob is only touched when it
 * reads 0.  Returns whether it was set, for rcu_fast_end. */
#define RCU_EXPEDITED "/sys/kernel/rcu_expedited"

static bool rcu_fast_begin(void)
{
	char *v = sysinfo_read_trimmed(RCU_EXPEDITED);
	bool set = v && !strcmp(v, "0") && write_control(RCU_EXPEDITED, "1") == 0;

	free(v);
	return set;
}

static void rcu_fast_end(bool set)
{
	if (set && write_control(RCU_EXPEDITED, "0") < 0)
		diag("cannot reset %s to 0: %s; tests run with expedited RCU",
		     RCU_EXPEDITED, strerror(errno));
}

void mounts_setup(void)
{
	bool rcu_fast = rcu_fast_begin();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(late_mounts); i++) {
		const struct mnt *m = &late_mounts[i];

		if (do_mount(m) < 0)
			vlog("%s not mounted on %s: %s", m->type, m->target, strerror(errno));
	}
	cgroup_enable();
	rcu_fast_end(rcu_fast);
	dev_links();
	/* Kernel installs and test scripts look for these. */
	mkdir("/boot", 0755);
	mkdir("/root", 0700);
	if (sethostname("ktstr", 5) < 0)
		vlog("sethostname: %s", strerror(errno));
}
