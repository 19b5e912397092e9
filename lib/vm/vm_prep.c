#include "vm_prep.h"
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "jsonl.h"
#include "progress.h"
#include "run.h"

#include "fsutil.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Console logs kept under the state dir. */
#define CONSOLE_LOGS_KEPT 50

/* The document the options describe, before it is parsed. */
static json_t *scenario_doc(const char *scenario, const struct strvec *cgroups,
			    unsigned long long duration_ms, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	json_t *doc;
	size_t i;

	if (scenario) {
		doc = scenario_load(scenario, &e);
		if (!doc) {
			strbuf_addf(err, "--scenario: %s", e.buf);
			strbuf_release(&e);
			return NULL;
		}
	} else {
		doc = json_object();
		json_set_str(doc, "name", "custom");
	}
	for (i = 0; i < cgroups->n; i++)
		if (scenario_add_cgroup_flag(doc, cgroups->v[i], &e)) {
			strbuf_addf(err, "--cgroup '%s': %s", cgroups->v[i], e.buf);
			strbuf_release(&e);
			json_decref(doc);
			return NULL;
		}
	if (duration_ms)
		scenario_doc_set_duration_ms(doc, duration_ms);
	return doc;
}

int vm_scenario_prepare(const char *scenario, const struct strvec *cgroups,
			unsigned long long duration_ms, const struct ktstr_topo *topo,
			json_t **doc, struct scenario *s, struct strbuf *err)
{
	const char *what = scenario ? scenario : "--cgroup";
	struct strbuf e = STRBUF_INIT;
	int fit;

	*doc = scenario_doc(scenario, cgroups, duration_ms, err);
	if (!*doc)
		return -1;
	if (scenario_parse(*doc, s, &e)) {
		strbuf_addf(err, "%s: %s", what, e.buf);
		goto bad;
	}
	fit = scenario_fit(s, topo, &e);
	if (fit < 0) {
		strbuf_addf(err, "%s: %s", what, e.buf);
		scenario_release(s);
		goto bad;
	}
	strbuf_add(err, e.buf, e.len);
	strbuf_release(&e);
	return fit > 0 ? 1 : 0;
bad:
	strbuf_release(&e);
	json_decref(*doc);
	*doc = NULL;
	return -1;
}

int vm_initramfs_prepare(const struct strvec *includes, const char *kconfig,
			 const char *sched_host, const char *sched_guest, bool tools,
			 bool check_only, struct initramfs_result *res, struct strbuf *err)
{
	struct initramfs_opts io = { 0 };
	struct initramfs_file files[2];
	const char *bb_env = env_get("KTSTR_BUSYBOX_PATH");
	char *busybox = bb_env ? xstrdup(bb_env) : find_program("busybox");
	char *agent;
	int rc;

	if (!busybox) {
		strbuf_addstr(err, "busybox not found in PATH; install busybox-static "
			      "(contrib/install-deps) or set KTSTR_BUSYBOX_PATH");
		return -1;
	}
	agent = ktstr_libexec_path("ktstr-agent");
	io.agent = agent;
	io.busybox = busybox;
	io.host_tools = tools;
	io.no_sha256 = true;
	io.check_only = check_only;
	io.includes = strvec_argv((struct strvec *)includes);
	io.n_includes = includes->n;
	/* The guest's libbpf looks for /boot/config-$(uname -r); the agent
	 * links that name to /boot/config at boot. */
	io.files = files;
	if (kconfig) {
		files[io.n_files].src = kconfig;
		files[io.n_files++].dest = INITRAMFS_KCONFIG_PATH;
	}
	if (sched_host) {
		files[io.n_files].src = sched_host;
		files[io.n_files++].dest = sched_guest;
	}
	if (!check_only)
		progress("building initramfs");
	rc = initramfs_build(&io, res, err);
	if (rc == 0 && !check_only)
		initramfs_warn_missing_tools(res);
	free(agent);
	free(busybox);
	return rc;
}

char *vm_console_log_default(void)
{
	char *dir = ktstr_state_dir("console");
	char stamp[32];
	time_t t = time(NULL);
	char *p;

	if (!dir)
		dir = xstrdup("/tmp/ktstr-console");
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&t));
	p = xasprintf("%s/vm-%s-%d.log", dir, stamp, (int)getpid());
	/* One log per run adds up: keep the most recent ones only. */
	prune_old_files(dir, "vm-", CONSOLE_LOGS_KEPT);
	free(dir);
	return p;
}
