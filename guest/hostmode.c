/* `ktstr-agent --host`: the scenario engine on the machine it runs on,
 * for bare-metal runs (ktstr-vm --host) and exported reproducers
 * (ktstr-export), issue 15.
 *
 * Two processes, the same split as a VM run:
 *   supervisor  what ktstr-vm is for a VM: checks the machine, makes the
 *               run's cgroup directory (hostcg.h), stamps host_ms on the
 *               timeline records, samples the stall monitor (hostmon.h)
 *               every KTSTR_STALL_POLL_MS, prints every record on stdout
 *               and, however the run ends, kills and removes everything;
 *   engine      what the agent is in a VM: runs the scenario request
 *               (scenario.c) from inside the run's "agent" cgroup, talking
 *               to the supervisor over a socket as it would over the
 *               virtio port.
 * The engine sits in its own process group, so a Ctrl-C reaches only the
 * supervisor, which answers it with cgroup.kill on the run directory:
 * engine, scheduler, workers and payloads go at once.  The engine dies
 * with the supervisor (PR_SET_PDEATHSIG), and its children with it
 * (child_reset); what a SIGKILLed supervisor leaves, the next run removes
 * by the directory's marker. */
#include "agent.h"
#include "agent_proto.h"
#include "bundle.h"
#include "diag.h"
#include "duration.h"
#include "engine.h"
#include "fsutil.h"
#include "hostcg.h"
#include "hostmon.h"
#include "jsonl.h"
#include "strvec.h"
#include "topo_record.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCX_DIR "/sys/kernel/sched_ext"
/* The request, as read from a file or a pipe. */
#define REQUEST_MAX (16u << 20)
/* How long the kernel may take to detach a killed scheduler. */
#define DETACH_WAIT_MS 5000


struct host_opts {
	const char *request;	/* file, NULL or "-": stdin */
	const char *expect_topo;
	const char *bundle;
	const char *duration;
	bool topology_only;
};

static void usage(FILE *f)
{
	fputs("usage: ktstr-agent --host [--request FILE] [--expect-topo N,L,C,T]\n"
	      "                   [--bundle DIR] [--duration DUR] [--as NAME]\n"
	      "       ktstr-agent --host --topology\n"
	      "Run one scenario request (as ktstr-vm sends a VM's agent) on this machine,\n"
	      "in cgroups under KTSTR_HOST_CGROUP_PARENT, and print its records as JSON\n"
	      "lines.  Needs root, cgroup v2 and, for a scheduler, sched_ext.\n"
	      "  --request FILE       the request (default: stdin)\n"
	      "  --expect-topo T      refuse unless this machine is topology T\n"
	      "  --bundle DIR         an exported reproducer's files (ktstr-export)\n"
	      "  --duration DUR       run the scenario for DUR instead of its own\n"
	      "  --topology           print this machine's guest_topology record and exit\n"
	      "  --as NAME            prefix diagnostics with NAME, the program the user\n"
	      "                       ran (ktstr-vm --host, an exported script)\n"
	      "Environment: KTSTR_HOST_CGROUP_PARENT, KTSTR_CGROUP_WALK_ROOT,\n"
	      "KTSTR_STALL_POLL_MS (see ktstr-vm(1), HOST MODE).\n", f);
}

static void parse_opts(int argc, char **argv, struct host_opts *o)
{
	static const struct option lo[] = {
		{ "host", no_argument, NULL, 'H' },
		{ "request", required_argument, NULL, 'r' },
		{ "expect-topo", required_argument, NULL, 't' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "topology", no_argument, NULL, 'T' },
		{ "as", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'H': break;
		case 'r': o->request = optarg; break;
		case 't': o->expect_topo = optarg; break;
		case 'b': o->bundle = optarg; break;
		case 'd': o->duration = optarg; break;
		case 'T': o->topology_only = true; break;
		/* The user ran ktstr-vm or a script, not the agent. */
		case 'a': diag_init(optarg); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("ktstr-agent %s\n", KTSTR_VERSION); exit(0);
		default:
			usage(stderr);
			exit(KTSTR_EXIT_USAGE);
		}
	}
	if (optind < argc)
		die(KTSTR_EXIT_USAGE, "unexpected argument '%s'; see --help", argv[optind]);
}

static void out(json_t *rec)
{
	if (jsonl_emit(stdout, rec) < 0 || fflush(stdout) == EOF)
		die(KTSTR_EXIT_SIGNAL + SIGPIPE, "stdout: %s", strerror(errno));
}

/* One line on stderr, a host_refused record on stdout, exit 2: the
 * machine cannot run this (extra, consumed, adds fields). */
static void refuse(const char *check, json_t *extra, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void refuse(const char *check, json_t *extra, const char *fmt, ...)
{
	json_t *rec = jsonl_record("host_refused");
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_set_str(rec, "check", check);
	json_set_str(rec, "reason", buf);
	if (extra)
		json_object_update(rec, extra);
	json_decref(extra);
	jsonl_emit(stdout, rec);
	fflush(stdout);
	die(KTSTR_EXIT_USAGE, "%s", buf);
}

static json_t *read_request(const char *path)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	bool in = !path || !strcmp(path, "-");
	char *nl;
	json_t *req;

	if (in ? strbuf_read_fd(&sb, 0) < 0 : strbuf_read_file(&sb, path) < 0)
		die(KTSTR_EXIT_USAGE, "cannot read the request from %s: %s",
		    in ? "stdin" : path, strerror(errno));
	if (sb.len > REQUEST_MAX)
		die(KTSTR_EXIT_USAGE, "%s: the request is over %u bytes", in ? "stdin" : path,
		    REQUEST_MAX);
	nl = strchr(sb.buf, '\n');
	req = jsonl_parse(sb.buf, nl ? (size_t)(nl - sb.buf) : sb.len, &err);
	if (!req)
		die(KTSTR_EXIT_USAGE, "%s: not a request: %s", in ? "stdin" : path, err.buf);
	if (!json_get_str(req, "type") || strcmp(json_get_str(req, "type"), "scenario"))
		die(KTSTR_EXIT_USAGE, "%s: host mode runs \"scenario\" requests only, not \"%s\"",
		    in ? "stdin" : path, json_get_str(req, "type") ? json_get_str(req, "type") : "?");
	strbuf_release(&sb);
	strbuf_release(&err);
	return req;
}

/* A scheduler asked for needs sched_ext and nobody else attached. */
static void check_sched_ext(bool want_scheduler)
{
	char *state, *ops;

	if (!want_scheduler)
		return;
	if (!is_directory(SCX_DIR))
		refuse("sched_ext", NULL, "this kernel has no sched_ext (" SCX_DIR " is missing): "
		       "boot one built with CONFIG_SCHED_CLASS_EXT=y");
	state = sysinfo_read_trimmed(SCX_DIR "/state");
	if (state && strcmp(state, "disabled")) {
		ops = sysinfo_read_trimmed(SCX_DIR "/root/ops");
		json_t *x = json_object();

		json_set_str(x, "attached", ops);
		refuse("scheduler_attached", x, "sched_ext scheduler %s is already attached "
		       "(state %s); stop it first, or leave out the scheduler to run under it",
		       ops ? ops : "(unnamed)", state);
	}
	free(state);
}

/* The machine's topology against the one expected: --expect-topo, else
 * the request's own (what ktstr-vm fitted the scenario to). */
static void check_topology(const json_t *gt, const char *expect, json_t *req)
{
	struct ktstr_topo want, got;
	struct strbuf err = STRBUF_INIT, ws = STRBUF_INIT, gs = STRBUF_INIT;
	struct strvec diff = STRVEC_INIT;
	const char *src = expect ? "--expect-topo" : "the request's topo";
	json_t *x, *arr;

	if (!expect)
		expect = json_get_str(req, "topo");
	if (!expect)
		return;
	if (topo_parse(expect, &want, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s '%s': %s", src, expect, err.buf);
	if (topo_from_record(gt, &got, &err) < 0)
		refuse("topology", NULL, "expected topology %s, but this machine's cannot be "
		       "described as N,L,C,T: %s", expect, err.buf);
	topo_format(&want, &ws);
	topo_format(&got, &gs);
	if (!topo_diff(&want, &got, &diff)) {
		json_set_str(req, "topo", gs.buf);
		goto done;
	}
	x = json_object();
	arr = json_array();
	for (size_t i = 0; i < diff.n; i++)
		json_array_append_new(arr, json_string(diff.v[i]));
	json_set_str(x, "expected", ws.buf);
	json_set_str(x, "found", gs.buf);
	json_object_set_new(x, "differs", arr);
	strbuf_reset(&err);
	for (size_t i = 0; i < diff.n; i++)
		strbuf_addf(&err, "%s%s", i ? "; " : "", diff.v[i]);
	refuse("topology", x, "this machine is %s, not the expected %s: %s", gs.buf, ws.buf,
	       err.buf);
done:
	strvec_clear(&diff);
	strbuf_release(&err);
	strbuf_release(&ws);
	strbuf_release(&gs);
}

static void apply_duration(json_t *req, const char *dur)
{
	json_t *doc = json_object_get(req, "scenario");
	struct strbuf why = STRBUF_INIT;
	unsigned long long ms;

	if (!dur)
		return;
	if (scenario_duration_opt(dur, &ms, &why))
		die(KTSTR_EXIT_USAGE, "%s", why.buf);
	/* The export may have stored its own as duration_ms. */
	if (json_is_object(doc))
		scenario_doc_set_duration_ms(doc, ms);
}

/* ---- the engine ---- */

static void engine_main(int sock, const struct hostcg *h, const json_t *req) __attribute__((noreturn));
static void engine_main(int sock, const struct hostcg *h, const json_t *req)
{
	struct agent ag = { .port = -1, .sigfd = -1, .outq = STRBUF_INIT };
	char *procs = xasprintf("%s/cgroup.procs", h->agent);
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Records go over the socket; stdout is the supervisor's alone. */
	dup2(2, 1);
	setpgid(0, 0);
	/* Orphans of the scheduler or a payload come to us, as they would
	 * to PID 1, so they are reaped and counted the same way. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (write_control(procs, "0") < 0)
		die(KTSTR_EXIT_USAGE, "cannot move into %s: %s", h->agent, strerror(errno));
	free(procs);
	agent_hosted = true;
	cgfs_set_mount(h->run);
	cgfs_cpuset_optional(true);
	ag.sigfd = child_sigfd_setup();
	if (ag.sigfd < 0)
		die(KTSTR_EXIT_USAGE, "signalfd: %s", strerror(errno));
	ag.port = port_use(sock);
	scenario_run(&ag, req);
	_exit(0);
}

/* ---- the supervisor ---- */

struct sup {
	pid_t engine;
	int sock, sigfd;
	bool engine_done, sock_eof;
	int engine_status;
	int stop_sig;		/* a stopping signal came */
	int exit_code;		/* from the exit record; -1: none yet */
	bool acked;
	long long t0;
	struct jsonl_reader rd;
	struct hostmon *mon;
	long long next_sample;
	int poll_ms;
};

static long long since(const struct sup *s)
{
	return monotonic_ms() - s->t0;
}

static void ack(struct sup *s)
{
	if (!s->acked && jsonl_emit_fd(s->sock, jsonl_record("ack")) < 0)
		vlog("ack: %s", strerror(errno));
	s->acked = true;
}

/* A record from the engine (borrowed): stamped, acknowledged when final,
 * passed on. */
static void engine_record(void *ctx, unsigned long lineno, json_t *rec)
{
	struct sup *s = ctx;
	const char *type = json_get_str(rec, "type");

	(void)lineno;
	if (agent_record_on_timeline(type))
		json_set_int(rec, "host_ms", since(s));
	if (!strcmp(type, "exit")) {
		s->exit_code = (int)json_get_int(rec, "exit_code", 1);
		ack(s);
	} else if (!strcmp(type, "agent_error")) {
		s->exit_code = KTSTR_EXIT_USAGE;
		ack(s);
	}
	out(json_incref(rec));
}

static void engine_bad(void *ctx, unsigned long lineno, const char *why)
{
	(void)ctx;
	diag("ignoring line %lu from the engine: %s", lineno, why);
}

static const struct jsonl_ops engine_ops = { .record = engine_record, .bad = engine_bad };

static void read_engine(struct sup *s)
{
	char buf[16384];
	ssize_t n = read(s->sock, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		s->sock_eof = true;
		return;
	}
	jsonl_reader_feed(&s->rd, buf, (size_t)n);
}

static void read_signals(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			if (!s->stop_sig)
				s->stop_sig = (int)si.ssi_signo;
			continue;
		}
		if (!s->engine_done && waitpid(s->engine, &s->engine_status, WNOHANG) == s->engine)
			s->engine_done = true;
	}
}

/* The monitor's best source is debugfs' sched/debug, which many hosts do
 * not mount.  Mount it for this run only: in a mount namespace of our
 * own, private, so the machine's mounts stay as they were. */
static void private_debugfs(void)
{
	if (access("/sys/kernel/debug/sched/debug", R_OK) == 0)
		return;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) < 0)
		vlog("no private debugfs: %s", strerror(errno));
}

static void monitor_begin(struct sup *s)
{
	struct strbuf err = STRBUF_INIT;

	s->poll_ms = hostmon_poll_ms(getenv("KTSTR_STALL_POLL_MS"));
	s->mon = hostmon_open("", s->poll_ms, &err);
	if (!s->mon) {
		json_t *rec = jsonl_record("monitor_unavailable");

		json_set_str(rec, "reason", err.buf);
		json_set_int(rec, "t_ms", since(s));
		out(rec);
	} else {
		out(hostmon_start_record(s->mon, since(s)));
		s->next_sample = monotonic_ms();
	}
	strbuf_release(&err);
}

static void monitor_tick(struct sup *s)
{
	json_t *rec;

	if (!s->mon || monotonic_ms() < s->next_sample)
		return;
	rec = hostmon_sample(s->mon, since(s));
	if (rec)
		out(rec);
	s->next_sample += s->poll_ms;
	if (s->next_sample < monotonic_ms())
		s->next_sample = monotonic_ms() + s->poll_ms;
}

static void monitor_end(struct sup *s)
{
	if (!s->mon)
		return;
	out(hostmon_end_record(s->mon, since(s)));
	hostmon_close(s->mon);
	s->mon = NULL;
}

static void supervise(struct sup *s)
{
	while (!(s->engine_done && s->sock_eof) && !s->stop_sig) {
		struct pollfd pfd[2] = {
			{ .fd = s->sock_eof ? -1 : s->sock, .events = POLLIN },
			{ .fd = s->sigfd, .events = POLLIN },
		};
		long long wait = s->mon ? s->next_sample - monotonic_ms() : -1;

		if (s->mon && wait < 0)
			wait = 0;
		if (poll(pfd, 2, (int)wait) < 0 && errno != EINTR)
			die(KTSTR_EXIT_USAGE, "poll: %s", strerror(errno));
		if (pfd[1].revents)
			read_signals(s);
		if (pfd[0].revents)
			read_engine(s);
		monitor_tick(s);
	}
}

/* The scheduler the run started is gone once its process is: wait for
 * the kernel to say so.  False when it is still attached. */
static bool scheduler_detached(void)
{
	long long deadline = monotonic_ms() + DETACH_WAIT_MS;

	for (;;) {
		char *state = sysinfo_read_trimmed(SCX_DIR "/state");
		bool off = !state || !strcmp(state, "disabled");

		free(state);
		if (off)
			return true;
		if (monotonic_ms() >= deadline)
			return false;
		usleep(20000);
	}
}

static int stop_signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void emit_hello(const json_t *gt, bool scheduler)
{
	json_t *rec = sysinfo_ready(-1);
	char *ops = sysinfo_read_trimmed(SCX_DIR "/root/ops");

	json_set_str(rec, "mode", "host");
	/* No scheduler asked for: the run is under whatever is attached. */
	if (!scheduler && ops && *ops)
		json_set_str(rec, "attached_scheduler", ops);
	free(ops);
	out(json_deep_copy(gt));
	out(rec);
}

/* Everything that makes this machine unfit, each a refusal (exit 2). */
static void check_machine(struct hostcg *h, const json_t *gt, const char *expect, json_t *req,
			  bool want_sched)
{
	struct strbuf err = STRBUF_INIT;
	const char *which;

	if (geteuid() != 0)
		refuse("root", NULL, "host mode needs root (it creates cgroups%s); run it as root",
		       want_sched ? " and attaches a scheduler" : "");
	if (hostcg_config(h, &which, &err) < 0)
		refuse(which, NULL, "%s", err.buf);
	if (hostcg_check_v2(h->walk_root, &err) < 0)
		refuse("cgroup2", NULL, "%s", err.buf);
	check_sched_ext(want_sched);
	check_topology(gt, expect, req);
	strbuf_release(&err);
}

int host_main(int argc, char **argv)
{
	struct host_opts o = { 0 };
	struct hostcg h = { 0 };
	struct sup s = { .exit_code = -1, .sock = -1 };
	struct strbuf err = STRBUF_INIT;
	json_t *req, *gt, *rec;
	bool want_sched;
	int sv[2], code;

	diag_init("ktstr-agent");
	signal(SIGPIPE, SIG_IGN);
	parse_opts(argc, argv, &o);
	/* An exported reproducer's programs and libraries (ktstr-export). */
	if (o.bundle) {
		const char *path = getenv("PATH");
		char *p = xasprintf("%s/include-files:%s", o.bundle,
				    path && *path ? path : "/usr/local/bin:/usr/bin:/bin");

		bundle_set_dir(o.bundle);
		setenv("PATH", p, 1);
		free(p);
	}
	gt = sysinfo_topology();
	if (o.topology_only) {
		out(gt);
		exit(0);
	}
	req = read_request(o.request);
	apply_duration(req, o.duration);
	want_sched = json_is_object(json_object_get(req, "scheduler"));
	check_machine(&h, gt, o.expect_topo, req, want_sched);

	s.t0 = monotonic_ms();
	emit_hello(gt, want_sched);
	json_decref(gt);
	hostcg_clean_stale(&h);
	private_debugfs();
	if (hostcg_create(&h, &err) < 0)
		refuse("cgroup_setup", NULL, "%s", err.buf);
	s.sigfd = stop_signals_fd();
	/* The supervisor's own parent (ktstr-vm, a shell) dying is a stop. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (s.sigfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		hostcg_destroy(&h);
		die(KTSTR_EXIT_USAGE, "cannot set up the engine: %s", strerror(errno));
	}
	fflush(stdout);
	s.engine = fork();
	if (s.engine < 0) {
		hostcg_destroy(&h);
		die(KTSTR_EXIT_USAGE, "fork: %s", strerror(errno));
	}
	if (s.engine == 0) {
		close(sv[0]);
		close(s.sigfd);
		engine_main(sv[1], &h, req);
	}
	close(sv[1]);
	s.sock = sv[0];
	jsonl_reader_init(&s.rd, REQUEST_MAX, &engine_ops, &s);
	monitor_begin(&s);
	supervise(&s);

	/* However it ended: nothing the run started survives this. */
	hostcg_destroy(&h);
	if (!s.engine_done)
		waitpid(s.engine, &s.engine_status, 0);
	monitor_end(&s);
	rec = jsonl_record("host_cleanup");
	json_set_bool(rec, "cgroups_removed", true);
	if (want_sched)
		json_set_bool(rec, "scheduler_detached", scheduler_detached());
	if (s.stop_sig)
		json_set_int(rec, "signal", s.stop_sig);
	out(rec);
	if (s.stop_sig) {
		diag("stopped by signal %d; the run's cgroups, workers and scheduler are gone",
		     s.stop_sig);
		code = KTSTR_EXIT_SIGNAL + s.stop_sig;
	} else if (s.exit_code < 0) {
		rec = jsonl_record("agent_error");
		json_set_str(rec, "message", WIFSIGNALED(s.engine_status) ?
			     strsignal(WTERMSIG(s.engine_status)) : "the engine ended without an exit record");
		out(rec);
		code = KTSTR_EXIT_USAGE;
	} else {
		code = s.exit_code;
	}
	jsonl_reader_release(&s.rd);
	hostcg_release(&h);
	json_decref(req);
	strbuf_release(&err);
	exit(code);
}
