#include "vcpu_threads.h"
#include "diag.h"
#include "strbuf.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vcpu_threads_kind_name(enum vcpu_threads_kind k)
{
	switch (k) {
	case VCPU_THREADS_PER_CPU: return "per_cpu";
	case VCPU_THREADS_SINGLE: return "single";
	default: return "none";
	}
}

/* The vCPU a thread name stands for: N for "CPU N/...", -2 for the
 * single-threaded TCG thread, -1 for anything else. */
static int vcpu_of_name(const char *comm)
{
	unsigned long n;
	char *end;

	if (!strncmp(comm, "ALL CPUs/", 9))
		return -2;
	if (strncmp(comm, "CPU ", 4) || !isdigit((unsigned char)comm[4]))
		return -1;
	n = strtoul(comm + 4, &end, 10);
	if (*end != '/' || n > 1u << 20)
		return -1;
	return (int)n;
}

void vcpu_threads_find(struct vcpu_threads *vt, const char *proc_root, pid_t pid,
		       unsigned ncpus)
{
	struct strbuf path = STRBUF_INIT, comm = STRBUF_INIT;
	struct dirent *de;
	unsigned found = 0;
	DIR *d;

	memset(vt, 0, sizeof(*vt));
	vt->pid = pid;
	vt->ncpus = ncpus;
	vt->tids = xcalloc(ncpus ? ncpus : 1, sizeof(*vt->tids));
	strbuf_addf(&path, "%s/%d/task", proc_root, (int)pid);
	d = opendir(path.buf);
	while (d && (de = readdir(d))) {
		int cpu;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%d/task/%s/comm", proc_root, (int)pid, de->d_name);
		strbuf_reset(&comm);
		if (strbuf_read_file(&comm, path.buf) < 0)
			continue;
		strbuf_trim(&comm);
		cpu = vcpu_of_name(comm.buf);
		if (cpu == -2) {
			vt->kind = VCPU_THREADS_SINGLE;
			vt->tids[0] = (pid_t)atoi(de->d_name);
			break;
		}
		if (cpu >= 0 && (unsigned)cpu < ncpus && !vt->tids[cpu]) {
			vt->tids[cpu] = (pid_t)atoi(de->d_name);
			found++;
		}
	}
	if (d)
		closedir(d);
	if (vt->kind != VCPU_THREADS_SINGLE && ncpus && found == ncpus)
		vt->kind = VCPU_THREADS_PER_CPU;
	strbuf_release(&path);
	strbuf_release(&comm);
}

/* schedstat: time on a CPU, time waiting on a runqueue (both ns), and
 * timeslices. */
static bool thread_ns(const char *proc_root, pid_t pid, pid_t tid,
		      unsigned long long *run, unsigned long long *wait)
{
	char path[128], buf[128];
	unsigned long long w = 0;
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%d/task/%d/schedstat", proc_root, (int)pid,
		 (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%llu %llu", run, &w) == 2;
	fclose(f);
	*wait = w;
	return ok;
}

bool vcpu_threads_read(const struct vcpu_threads *vt, const char *proc_root,
		       unsigned long long *ns, unsigned long long *wait_ns)
{
	unsigned i;

	switch (vt->kind) {
	case VCPU_THREADS_SINGLE:
		if (!thread_ns(proc_root, vt->pid, vt->tids[0], &ns[0], &wait_ns[0]))
			return false;
		for (i = 1; i < vt->ncpus; i++) {
			ns[i] = ns[0];
			wait_ns[i] = wait_ns[0];
		}
		return true;
	case VCPU_THREADS_PER_CPU:
		for (i = 0; i < vt->ncpus; i++)
			if (!thread_ns(proc_root, vt->pid, vt->tids[i], &ns[i], &wait_ns[i]))
				return false;
		return true;
	default:
		return false;
	}
}

void vcpu_threads_release(struct vcpu_threads *vt)
{
	free(vt->tids);
	vt->tids = NULL;
	vt->kind = VCPU_THREADS_NONE;
}
