/* The kernel_symbols record: where the kernel keeps what the host-side
 * monitor reads (lib/vm/monitor.h).
 *
 * The host maps guest RAM but cannot see kernel symbols: /proc/kallsyms
 * (root sees real addresses, so KASLR is no obstacle) and the physical
 * start of "Kernel code" in /proc/iomem are what it needs to find its way.
 * Reading kallsyms costs about a second of guest CPU under TCG, so the host
 * asks for this only when it has no cached copy for the kernel image, and
 * the agent sends it before the request starts, outside any measurement. */
#include "agent.h"
#include "jsonl.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Symbols the monitor uses; lib/vm/monitor.c says what for. */
static const char *const wanted[] = {
	"_text", "runqueues", "__per_cpu_offset", "page_offset_base", "init_top_pgt",
	"phys_base", "jiffies", "linux_banner", "scx_root", "scx_enable_state_var",
	NULL,
};

static int wanted_index(const char *name)
{
	int i;

	for (i = 0; wanted[i]; i++)
		if (!strcmp(wanted[i], name))
			return i;
	return -1;
}

/* "ffffffff81000000 T _text" lines; module symbols carry a "[mod]" suffix
 * and never match a wanted name. */
static void read_kallsyms(const char *path, json_t *syms)
{
	char line[512], name[256], type;
	unsigned long long addr;
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int i;

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		i = wanted_index(name);
		/* The first definition wins (a name can repeat as a local). */
		if (i < 0 || json_object_get(syms, name) || !addr)
			continue;
		json_object_set_new(syms, name, json_sprintf("0x%llx", addr));
	}
	fclose(f);
}

/* Physical start of the "Kernel code" resource, or 0. */
static unsigned long long kernel_code_phys(const char *path)
{
	char line[256];
	unsigned long long start = 0, end;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, ": Kernel code") &&
		    sscanf(line, " %llx-%llx", &start, &end) == 2)
			break;
	fclose(f);
	return start;
}

json_t *ksyms_record_at(const char *kallsyms, const char *iomem)
{
	json_t *rec = jsonl_record("kernel_symbols");
	json_t *syms = json_object(), *missing = json_array();
	unsigned long long code;
	int i;

	read_kallsyms(kallsyms, syms);
	for (i = 0; wanted[i]; i++)
		if (!json_object_get(syms, wanted[i]))
			json_array_append_new(missing, json_string(wanted[i]));
	json_object_set_new(rec, "symbols", syms);
	json_object_set_new(rec, "missing", missing);
	code = kernel_code_phys(iomem);
	if (code)
		json_object_set_new(rec, "kernel_code_phys", json_sprintf("0x%llx", code));
	return rec;
}

json_t *ksyms_record(void)
{
	return ksyms_record_at("/proc/kallsyms", "/proc/iomem");
}
