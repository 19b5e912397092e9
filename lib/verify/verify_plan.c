/* ktstr-verify's plan (verify_plan.h). */
#include "verify_plan.h"
#include "budget.h"
#include "diag.h"
#include "dirs.h"
#include "fsutil.h"
#include "jsonl.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

/* The scheduler names of one build directory: its manifest's, else its
 * executable scx_* files. */
static void build_schedulers(const char *dir, struct strvec *out)
{
	char *mpath = path_join(dir, "manifest.json");
	json_t *m = json_load_file(mpath, 0, NULL), *b;
	struct dirent *de;
	size_t i;
	DIR *d;

	free(mpath);
	if (m) {
		json_array_foreach(json_object_get(m, "binaries"), i, b) {
			const char *kind = json_get_str(b, "kind"), *file = json_get_str(b, "file");
			char *p;

			if (!kind || strcmp(kind, "scheduler") || !file || strchr(file, '/'))
				continue;
			p = path_join(dir, file);
			if (access(p, X_OK) == 0)
				strvec_push_unique(out, file);
			free(p);
		}
		json_decref(m);
		return;
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char *p = path_join(dir, de->d_name);

		if (!strncmp(de->d_name, "scx_", 4) && is_regular_file(p) && access(p, X_OK) == 0)
			strvec_push_unique(out, de->d_name);
		free(p);
	}
	if (d)
		closedir(d);
}

size_t verify_discover_schedulers(const char *const *keys, size_t nkeys, struct strvec *out)
{
	char *root = ktstr_cache_dir("schedulers");
	struct strvec found = STRVEC_INIT;
	struct dirent *de;
	size_t i, n;
	DIR *d;

	for (i = 0; root && i < nkeys; i++) {
		char *dir;

		if (!keys[i] || strchr(keys[i], '/'))
			continue;
		dir = path_join(root, keys[i]);
		build_schedulers(dir, &found);
		free(dir);
	}
	/* No build for these kernels: ktstr-vm falls back to any build. */
	d = !found.n && root ? opendir(root) : NULL;
	while (d && (de = readdir(d))) {
		char *dir;

		if (de->d_name[0] == '.')
			continue;
		dir = path_join(root, de->d_name);
		if (is_directory(dir))
			build_schedulers(dir, &found);
		free(dir);
	}
	if (d)
		closedir(d);
	free(root);
	strvec_sort(&found);
	for (i = 0; i < found.n; i++)
		strvec_push(out, found.v[i]);
	n = found.n;
	strvec_clear(&found);
	return n;
}

static bool label_taken(const struct gauntlet_kernel *k, size_t n, size_t self)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (j != self && !strcmp(k[j].label, k[self].label))
			return true;
	return false;
}

void verify_unclash_kernels(struct gauntlet_kernel *k, size_t n)
{
	bool *clash = xcalloc(n + 1, sizeof(*clash));
	size_t i;

	for (i = 0; i < n; i++)
		clash[i] = label_taken(k, n, i);
	for (i = 0; i < n; i++)
		if (clash[i] && k[i].key) {
			free(k[i].label);
			k[i].label = xstrdup(k[i].key);
		}
	for (i = 1; i < n; i++)
		if (label_taken(k, i + 1, i)) {
			char *l = xasprintf("%s-%zu", k[i].label, i + 1);

			free(k[i].label);
			k[i].label = l;
		}
	free(clash);
}

void verify_split_list(const char *s, struct strvec *out)
{
	const char *p = s;

	while (p && *p) {
		size_t len = strcspn(p, ", \t\n");

		if (len)
			strvec_pushf(out, "%.*s", (int)len, p);
		p += len;
		p += strspn(p, ", \t\n");
	}
}

static void list_presets(struct strbuf *err)
{
	size_t i, np;
	const struct preset *t = preset_table(&np);

	for (i = 0; i < np; i++)
		strbuf_addf(err, "%s%s", i ? ", " : "", t[i].name);
}

int verify_presets(const struct strvec *names, bool kvm, unsigned host_cpus,
		   struct strvec *out, struct strbuf *err)
{
	static const char *const defaults[] = VERIFY_DEFAULT_PRESETS;
	unsigned cap = budget_vcpu_cap(kvm, host_cpus);
	size_t i, n = names->n ? names->n : ARRAY_SIZE(defaults);

	for (i = 0; i < n; i++) {
		const char *name = names->n ? names->v[i] : defaults[i];
		const struct preset *p = preset_find(name);

		if (!p) {
			strbuf_addf(err, "--preset %s: unknown preset; presets: ", name);
			list_presets(err);
			return -1;
		}
		if (topo_cpus(&p->topo) > cap) {
			if (!names->n)
				continue;
			strbuf_addf(err, "--preset %s needs %u vCPUs, more than this host's "
				    "capacity of %u vCPUs (%s); pick a smaller preset", name,
				    topo_cpus(&p->topo), cap, budget_vcpu_rule(kvm));
			return -1;
		}
		strvec_push_unique(out, name);
	}
	if (!out->n) {
		strbuf_addf(err, "no default preset fits this host's capacity of %u vCPUs (%s)",
			    cap, budget_vcpu_rule(kvm));
		return -1;
	}
	return 0;
}

int verify_probe_test(const struct preset *p, unsigned index, unsigned long long duration_ms,
		      struct ktest *t, struct strbuf *err)
{
	/* The index leads the name: the runner starts cases in name order. */
	char *name = xasprintf("p%02u-%s", index, p->name);
	json_t *doc = json_pack("{s:s, s:s, s:I, s:[{s:s, s:i, s:s}]}",
				"name", "verifier_probe",
				"description", "One CPU-bound worker per CPU: every dispatch "
				"path of the scheduler runs while the guest counts BPF "
				"program runs.",
				"duration_ms", (json_int_t)duration_ms,
				"cgroups", "name", "probe", "workers", (int)topo_cpus(&p->topo),
				"work", "spin_wait");
	json_t *root = json_pack("{s:s, s:o, s:s, s:[s], s:b}", "name", name,
				 "scenario", doc, "scheduler", KTEST_SCHED_PLACEHOLDER,
				 "presets", p->name, "bpf_stats", 1);
	char *path = xasprintf("ktstr-verify probe for %s", p->name);
	int rc = ktest_from_json(root, path, "verify", t, err);

	free(path);
	free(name);
	json_decref(root);
	return rc;
}
