/* The host's LLCs from sysfs (hostllc.h). */
#include "hostllc.h"
#include "diag.h"
#include "strbuf.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* First CPU of a cpulist such as "4-7,12"; -1 when unreadable. */
static int first_cpu_of(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int cpu = -1;

	if (strbuf_read_file(&sb, path) == 0 && sb.len && sb.buf[0] >= '0' && sb.buf[0] <= '9')
		cpu = atoi(sb.buf);
	strbuf_release(&sb);
	return cpu;
}

/* The first CPU sharing cpu's highest-level cache, or -1. */
static int llc_of_cpu(const char *dir, int cpu)
{
	char *cache = xasprintf("%s/cpu%d/cache", dir, cpu);
	DIR *d = opendir(cache);
	struct dirent *de;
	int best_level = -1, llc = -1;

	while (d && (de = readdir(d))) {
		char *lvl_path, *list_path;
		struct strbuf lvl = STRBUF_INIT;
		int level, first;

		if (strncmp(de->d_name, "index", 5))
			continue;
		lvl_path = xasprintf("%s/%s/level", cache, de->d_name);
		list_path = xasprintf("%s/%s/shared_cpu_list", cache, de->d_name);
		if (strbuf_read_file(&lvl, lvl_path) == 0 &&
		    (level = atoi(lvl.buf)) > best_level &&
		    (first = first_cpu_of(list_path)) >= 0) {
			best_level = level;
			llc = first;
		}
		strbuf_release(&lvl);
		free(lvl_path);
		free(list_path);
	}
	if (d)
		closedir(d);
	free(cache);
	return llc;
}

void hostllc_map(const char *sysfs_cpu_dir, const cpu_set_t *usable,
		 int llc_of[CPU_SETSIZE])
{
	int cpu, first = -1;
	bool known = true;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		llc_of[cpu] = -1;
		if (!CPU_ISSET(cpu, usable))
			continue;
		if (first < 0)
			first = cpu;
		llc_of[cpu] = llc_of_cpu(sysfs_cpu_dir, cpu);
		if (llc_of[cpu] < 0)
			known = false;
	}
	/* Partial information is no information: one LLC for all. */
	for (cpu = 0; !known && cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, usable))
			llc_of[cpu] = first;
}
