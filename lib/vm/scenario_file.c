/* Scenario documents from files, canned names and --cgroup style flags. */
#include "scenario.h"
#include "diag.h"
#include "dirs.h"
#include "duration.h"
#include "env.h"
#include "fsutil.h"
#include "jsonl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

char *scenario_dir(void)
{
	const char *over = env_get("KTSTR_SHARE_DIR");

	if (over)
		return xasprintf("%s/scenarios", over);
	return ktstr_share_path("scenarios");
}

int scenario_list_canned(struct strvec *names, struct strbuf *err)
{
	char *dir = scenario_dir();
	struct strvec found = STRVEC_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t i;

	if (!d) {
		strbuf_addf(err, "%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] != '.' && len > 5 && !strcmp(de->d_name + len - 5, ".json"))
			strvec_pushf(&found, "%.*s", (int)(len - 5), de->d_name);
	}
	closedir(d);
	free(dir);
	strvec_sort(&found);
	for (i = 0; i < found.n; i++)
		strvec_push(names, found.v[i]);
	strvec_clear(&found);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void unknown_scenario(const char *name, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t i;

	strbuf_addf(err, "unknown scenario '%s'; ", name);
	if (scenario_list_canned(&names, &why)) {
		strbuf_addf(err, "no canned scenarios could be listed (%s)", why.buf);
	} else if (!names.n) {
		char *dir = scenario_dir();

		strbuf_addf(err, "there are no canned scenarios in %s", dir);
		free(dir);
	} else {
		strbuf_addstr(err, "canned scenarios: ");
		for (i = 0; i < names.n; i++)
			strbuf_addf(err, "%s%s", i ? ", " : "", names.v[i]);
	}
	strvec_clear(&names);
	strbuf_release(&why);
}

json_t *scenario_load(const char *arg, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	json_error_t jerr;
	json_t *doc = NULL;
	char *path;

	if (!arg || !*arg) {
		strbuf_addstr(err, "no scenario given; name a canned scenario or a .json file");
		return NULL;
	}
	if (strchr(arg, '/') || ends_with(arg, ".json")) {
		path = xstrdup(arg);
	} else {
		char *dir = scenario_dir();

		path = xasprintf("%s/%s.json", dir, arg);
		free(dir);
		if (strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789_-.") != strlen(arg) || !is_regular_file(path)) {
			unknown_scenario(arg, err);
			free(path);
			return NULL;
		}
	}
	if (strbuf_read_file(&text, path)) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	doc = json_loadb(text.buf, text.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		strbuf_addf(err, "%s: invalid JSON at line %d column %d: %s", path,
			    jerr.line, jerr.column, jerr.text);
out:
	strbuf_release(&text);
	free(path);
	return doc;
}

/* ---- --cgroup flags --------------------------------------------------- */

static const char *const flag_keys[] = {
	"workers", "work", "cpuset", "nice", "policy", "rt_priority", "pinned", "background",
	"payload", "copies", "metrics", "args", NULL
};
/* Keys of the payload the cgroup runs (a payload def of "payloads"), not
 * of the cgroup itself; "args" is cut off before the items are split. */
static const char *const payload_flag_keys[] = { "payload", "copies", "metrics", NULL };

static bool list_contains(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

/* Optional sign, digits, nothing else. */
static int flag_int(const char *s, long long *out)
{
	const char *p = s;
	char *end;

	if (*p == '-' || *p == '+')
		p++;
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 12)
		return -1;
	*out = strtoll(s, &end, 10);
	return 0;
}

/* Plain decimal fraction ("0.25", "1", ".5"). */
static int flag_frac(const char *s, double *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789.") != strlen(s) || strcspn(s, "0123456789") == strlen(s))
		return -1;
	*out = strtod(s, &end);
	return *end ? -1 : 0;
}

/* A duration for a work parameter (duration.h): validated here so the
 * error names the flag's part, kept as text for the scenario parser. */
static int flag_duration(const char *s)
{
	unsigned long long us;

	return duration_parse_us(s, &us);
}

/* Fail with "PART: message"; the caller names the whole flag. */
static int __attribute__((format(printf, 4, 5)))
flag_err(struct strbuf *err, const char *spec, const char *part, const char *fmt, ...)
{
	va_list ap;

	(void)spec;
	strbuf_addf(err, "%s: ", part);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return -1;
}

struct work_params {
	enum work_type type;
	const char *names[2];
	bool duration;		/* params are durations, else whole numbers */
};

static const struct work_params work_params[] = {
	{ WORK_BURSTY, { "burst", "sleep" }, true },
	{ WORK_MIXED, { "sleep", NULL }, true },
	{ WORK_IO_SYNC, { "bytes", NULL }, false },
	{ WORK_PIPE_IO, { "bytes", NULL }, false },
	{ WORK_CACHE_PRESSURE, { "kib", NULL }, false },
	{ WORK_PAGE_FAULT_CHURN, { "kib", NULL }, false },
	{ WORK_FUTEX_FAN_OUT, { "fan", NULL }, false },
};

/* work=type[:p1[:p2]] */
static json_t *flag_work(const char *spec, const char *part, const char *val,
			 struct strbuf *err)
{
	const struct work_params *wp = NULL;
	char *copy = xstrdup(val), *p = copy, *tok[4];
	size_t i, n = 0, max;
	json_t *w = NULL;
	enum work_type t;

	for (;;) {
		char *c = strchr(p, ':');

		if (n < ARRAY_SIZE(tok))
			tok[n] = p;
		n++;
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	if (work_type_parse(tok[0], &t)) {
		struct strbuf l = STRBUF_INIT;

		for (i = 0; i < WORK__COUNT; i++)
			strbuf_addf(&l, "%s%s", i ? ", " : "", work_type_name((enum work_type)i));
		flag_err(err, spec, part, "unknown work type '%s'; expected one of %s",
			 tok[0], l.buf);
		strbuf_release(&l);
		goto out;
	}
	if (t == WORK_SEQUENCE) {
		flag_err(err, spec, part, "sequence needs a list of phases; write it in a "
			 "scenario file");
		goto out;
	}
	if (n == 1) {
		w = json_string(tok[0]);
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(work_params); i++)
		if (work_params[i].type == t)
			wp = &work_params[i];
	if (!wp) {
		flag_err(err, spec, part, "%s takes no parameters", tok[0]);
		goto out;
	}
	max = wp->names[1] ? 2 : 1;
	if (n - 1 > max) {
		flag_err(err, spec, part, "%s takes at most %zu parameter%s (%s%s%s)", tok[0],
			 max, max == 1 ? "" : "s", wp->names[0], wp->names[1] ? ":" : "",
			 wp->names[1] ? wp->names[1] : "");
		goto out;
	}
	w = json_object();
	json_object_set_new(w, "type", json_string(tok[0]));
	for (i = 1; i < n; i++) {
		const char *name = wp->names[i - 1];

		if (wp->duration) {
			if (flag_duration(tok[i])) {
				flag_err(err, spec, part, "%s '%s' is not a duration; expected a "
					 "number with a unit (us, ms, s, m or h; none means "
					 "seconds), e.g. 50ms",
					 name, tok[i]);
				goto bad;
			}
			json_object_set_new(w, name, json_string(tok[i]));
		} else {
			long long v;

			if (flag_int(tok[i], &v)) {
				flag_err(err, spec, part, "%s '%s' is not a whole number", name, tok[i]);
				goto bad;
			}
			json_object_set_new(w, name, json_integer(v));
		}
	}
	goto out;
bad:
	json_decref(w);
	w = NULL;
out:
	free(copy);
	return w;
}

/* The forms of cpuset=KIND:ARG; each fills o from arg, -1 on bad syntax. */

/* llc:I, node:I */
static int cpuset_index(const char *kind, const char *arg, json_t *o)
{
	long long a;

	if (flag_int(arg, &a) || a < 0)
		return -1;
	json_object_set_new(o, kind, json_integer(a));
	return 0;
}

/* cpus:0-1;4 (';' because ',' separates the flag's items) */
static int cpuset_cpus(const char *kind, const char *arg, json_t *o)
{
	char *list = xstrdup(arg), *p;

	if (!*arg) {
		free(list);
		return -1;
	}
	for (p = list; *p; p++)
		if (*p == ';')
			*p = ',';
	json_object_set_new(o, kind, json_string(list));
	free(list);
	return 0;
}

/* disjoint:I/N, overlap:I/N:FRAC */
static int cpuset_slice(const char *kind, const char *arg, json_t *o)
{
	bool ov = !strcmp(kind, "overlap");
	char *copy = xstrdup(arg), *slash = strchr(copy, '/'), *c2;
	long long a = 0, b = 0;
	double f = 0;
	json_t *s;
	int bad;

	c2 = slash ? strchr(slash + 1, ':') : NULL;
	if (c2)
		*c2++ = '\0';
	if (slash)
		*slash++ = '\0';
	bad = !slash || flag_int(copy, &a) || flag_int(slash, &b) || a < 0 || b < 0 ||
	      (ov ? !c2 || flag_frac(c2, &f) : c2 != NULL);
	free(copy);
	if (bad)
		return -1;
	s = json_object();
	json_object_set_new(s, "index", json_integer(a));
	json_object_set_new(s, "of", json_integer(b));
	if (ov)
		json_object_set_new(s, "frac", json_real(f));
	json_object_set_new(o, kind, s);
	return 0;
}

/* range:START-END, fractions of all CPUs */
static int cpuset_range(const char *kind, const char *arg, json_t *o)
{
	char *copy = xstrdup(arg), *dash = strchr(copy, '-');
	double f, g;
	json_t *r;

	if (dash)
		*dash++ = '\0';
	if (!dash || flag_frac(copy, &f) || flag_frac(dash, &g)) {
		free(copy);
		return -1;
	}
	free(copy);
	r = json_array();
	json_array_append_new(r, json_real(f));
	json_array_append_new(r, json_real(g));
	json_object_set_new(o, kind, r);
	return 0;
}

static const struct {
	const char *kind;
	int (*parse)(const char *kind, const char *arg, json_t *o);
} cpuset_forms[] = {
	{ "llc", cpuset_index },
	{ "node", cpuset_index },
	{ "cpus", cpuset_cpus },
	{ "disjoint", cpuset_slice },
	{ "overlap", cpuset_slice },
	{ "range", cpuset_range },
};

/* cpuset=llc:i | node:i | cpus:0-1;4 | disjoint:i/n | overlap:i/n:f |
 * range:a-b | none */
static json_t *flag_cpuset(const char *spec, const char *part, const char *val,
			   struct strbuf *err, bool *bad)
{
	const char *colon = strchr(val, ':');
	size_t klen = colon ? (size_t)(colon - val) : strlen(val), i;

	*bad = false;
	if (!strcmp(val, "none"))
		return json_null();
	for (i = 0; colon && i < ARRAY_SIZE(cpuset_forms); i++) {
		const char *kind = cpuset_forms[i].kind;
		json_t *o;

		if (strlen(kind) != klen || strncmp(val, kind, klen))
			continue;
		o = json_object();
		if (!cpuset_forms[i].parse(kind, colon + 1, o))
			return o;
		json_decref(o);
		break;
	}
	*bad = true;
	flag_err(err, spec, part, "expected llc:I, node:I, cpus:LIST (';' between items, "
		 "e.g. cpus:0-1;4), disjoint:I/N, overlap:I/N:FRAC, range:START-END "
		 "(fractions, e.g. range:0-0.5) or none");
	return NULL;
}

static int flag_bool(const char *val, bool *out)
{
	if (!val || !strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "no")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* A payload key: payload=PROGRAM, copies=N, metrics=FORM into pl (the
 * payload def, "payload" as its "program"). */
static int flag_payload_item(json_t *pl, const char *spec, const char *part, const char *key,
			     const char *val, struct strbuf *err)
{
	long long n;

	if (!strcmp(key, "copies")) {
		if (flag_int(val, &n))
			return flag_err(err, spec, part, "'%s' is not a whole number", val);
		json_object_set_new(pl, key, json_integer(n));
	} else {
		json_object_set_new(pl, !strcmp(key, "payload") ? "program" : key,
				    json_string(val));
	}
	return 0;
}

static int flag_unknown_key(struct strbuf *err, const char *spec, const char *part,
			    const char *key)
{
	struct strbuf l = STRBUF_INIT;
	size_t i;

	for (i = 0; flag_keys[i]; i++)
		strbuf_addf(&l, "%s%s", i ? ", " : "", flag_keys[i]);
	flag_err(err, spec, part, "unknown key '%s'; expected one of %s", key, l.buf);
	strbuf_release(&l);
	return -1;
}

/* One key=value item of the cgroup (cg) or of its payload (pl). */
static int flag_item(json_t *cg, json_t *pl, const char *spec, const char *part,
		     const char *key, const char *val, struct strbuf *err)
{
	long long n;
	bool b;

	if (!*key)
		return flag_err(err, spec, part, "missing key before '='");
	if (!list_contains(flag_keys, key))
		return flag_unknown_key(err, spec, part, key);
	if (!strcmp(key, "args"))
		return flag_err(err, spec, part, "expected args=ARG ..., the last key (it takes "
				"the rest of the spec)");
	if (json_object_get(cg, key) ||
	    json_object_get(pl, !strcmp(key, "payload") ? "program" : key))
		return flag_err(err, spec, part, "%s is given more than once", key);
	if (!strcmp(key, "pinned") || !strcmp(key, "background")) {
		if (flag_bool(val, &b))
			return flag_err(err, spec, part, "expected %s, %s=true or %s=false",
					key, key, key);
		json_object_set_new(cg, key, json_boolean(b));
		return 0;
	}
	if (!val || !*val)
		return flag_err(err, spec, part, "%s needs a value (%s=...)", key, key);
	if (list_contains(payload_flag_keys, key))
		return flag_payload_item(pl, spec, part, key, val, err);
	if (!strcmp(key, "workers") || !strcmp(key, "nice") || !strcmp(key, "rt_priority")) {
		if (flag_int(val, &n))
			return flag_err(err, spec, part, "'%s' is not a whole number", val);
		json_object_set_new(cg, key, json_integer(n));
	} else if (!strcmp(key, "policy")) {
		json_object_set_new(cg, key, json_string(val));
	} else if (!strcmp(key, "work")) {
		json_t *w = flag_work(spec, part, val, err);

		if (!w)
			return -1;
		json_object_set_new(cg, key, w);
	} else {
		json_t *c = flag_cpuset(spec, part, val, err, &b);

		if (b)
			return -1;
		json_object_set_new(cg, key, c);
	}
	return 0;
}

/* args=... is the last key and takes the rest of the spec, commas
 * included (a payload's arguments often have them): cut it off items
 * and split it on blanks into pl's "args".  "args=" alone is no
 * arguments at all, not the adapter's defaults. */
static void flag_cut_args(char *items, json_t *pl)
{
	char *at = !strncmp(items, "args=", 5) ? items : strstr(items, ",args=");
	char *tok, *save = NULL;
	json_t *arr;

	if (!at)
		return;
	if (*at == ',')
		*at++ = '\0';
	arr = json_array();
	for (tok = strtok_r(at + 5, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		json_array_append_new(arr, json_string(tok));
	json_object_set_new(pl, "args", arr);
	*at = '\0';
}

static int flag_items(json_t *cg, json_t *pl, const char *spec, char *items,
		      struct strbuf *err)
{
	char *item, *next;

	if (!*items) {
		strbuf_addstr(err, "nothing after ':'; expected key=value items such as "
			      "workers=2, or drop the ':'");
		return -1;
	}
	flag_cut_args(items, pl);
	for (item = *items || !json_object_size(pl) ? items : NULL; item; item = next) {
		char *eq;
		char part[64];

		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		eq = strchr(item, '=');
		snprintf(part, sizeof(part), "%s", item);
		if (eq)
			*eq = '\0';
		if (!part[0]) {
			strbuf_addstr(err, "empty item (two commas in a row or a trailing "
				      "comma)");
			return -1;
		}
		if (flag_item(cg, pl, spec, part, item, eq ? eq + 1 : NULL, err))
			return -1;
	}
	return 0;
}

/* Characters outside [A-Za-z0-9_-] as '_', at most 64 of them. */
static void payload_name_sanitize(char *name)
{
	char *p;

	if (strlen(name) > 64)
		name[64] = '\0';
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			*p = '_';
}

/* The name a payload def goes by: its "name", else its program's
 * basename with characters outside [A-Za-z0-9_-] as '_' (the scenario
 * parser's default, ktstr-scenario(5)). */
static char *payload_flag_name(const json_t *def)
{
	const char *name = json_get_str(def, "name");
	const char *prog = json_get_str(def, "program");
	const char *base;
	char *out;

	if (name)
		return xstrdup(name);
	if (!prog)
		return NULL;
	base = strrchr(prog, '/');
	out = xstrndup(base ? base + 1 : prog, 64);
	payload_name_sanitize(out);
	return out;
}

/* Whether a payload of doc (top level or a start_payload op) goes by name. */
static bool payload_name_taken(const json_t *doc, const char *name)
{
	const json_t *pls = json_object_get(doc, "payloads");
	const json_t *step, *op, *def;
	size_t i, j;
	bool taken = false;

	for (i = 0; !taken && i < json_array_size(pls); i++) {
		char *n = payload_flag_name(json_array_get(pls, i));

		taken = n && !strcmp(n, name);
		free(n);
	}
	json_array_foreach(json_object_get(doc, "steps"), i, step)
		json_array_foreach(json_object_get(step, "ops"), j, op) {
			char *n;

			def = json_object_get(op, "payload");
			if (!json_is_object(def) || taken)
				continue;
			n = payload_flag_name(def);
			taken = n && !strcmp(n, name);
			free(n);
		}
	return taken;
}

/* payload= makes pl a payload def running in cgroup name: a cgroup made
 * for it runs no workers unless workers= says; a second payload of the
 * same program is named after its cgroup too ("cyclictest_cg_1"). */
static int flag_payload_finish(json_t *doc, json_t *cg, json_t *pl, const char *name,
			       struct strbuf *err)
{
	const char *keys[] = { "copies", "metrics", "args" };
	char *pname, *p;
	size_t i;

	if (!json_object_get(pl, "program")) {
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (json_object_get(pl, keys[i])) {
				strbuf_addf(err, "%s= needs payload=PROGRAM, the program the "
					    "cgroup runs", keys[i]);
				return -1;
			}
		return 0;
	}
	json_object_set_new(pl, "cgroup", json_string(name));
	if (!json_object_get(cg, "workers"))
		json_object_set_new(cg, "workers", json_integer(0));
	pname = payload_flag_name(pl);
	if (payload_name_taken(doc, pname)) {
		p = xasprintf("%s_%s", pname, name);
		free(pname);
		pname = p;
		payload_name_sanitize(pname);
		json_set_str(pl, "name", pname);
	}
	free(pname);
	return 0;
}

/* Validate the cgroup (and its payload) alone, with the scenario parser's
 * own rules; the message without the JSON path's head, as the flag's
 * keys name the fields. */
static int flag_probe(json_t *cg, json_t *pl, struct strbuf *err)
{
	static const struct { const char *from, *to; } heads[] = {
		{ "$.cgroups[0].", "" },
		{ "$.payloads[0].program", "payload" },
		{ "$.payloads[0].", "" },
	};
	struct strbuf perr = STRBUF_INIT;
	json_t *probe = json_object();
	struct scenario s;
	const char *msg;
	size_t i;
	int rc = 0;

	json_object_set_new(probe, "cgroups", json_pack("[O]", cg));
	if (json_object_size(pl))
		json_object_set_new(probe, "payloads", json_pack("[O]", pl));
	if (scenario_parse(probe, &s, &perr)) {
		msg = perr.buf;
		for (i = 0; i < ARRAY_SIZE(heads); i++)
			if (!strncmp(msg, heads[i].from, strlen(heads[i].from))) {
				strbuf_addstr(err, heads[i].to);
				msg += strlen(heads[i].from);
				break;
			}
		strbuf_addstr(err, msg);
		rc = -1;
	} else {
		scenario_release(&s);
	}
	json_decref(probe);
	strbuf_release(&perr);
	return rc;
}

/* arr (doc's key, created when absent) gains v. */
static void doc_append(json_t *doc, const char *key, json_t *v)
{
	json_t *arr = json_object_get(doc, key);

	if (!arr) {
		arr = json_array();
		json_object_set_new(doc, key, arr);
	}
	json_array_append(arr, v);
}

static bool cgroup_defined(const json_t *arr, const char *name)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const char *other = json_get_str(json_array_get(arr, i), "name");

		if (other && !strcmp(other, name))
			return true;
	}
	return false;
}

int scenario_add_cgroup_flag(json_t *doc, const char *spec, struct strbuf *err)
{
	json_t *cg = NULL, *pl = NULL;
	const char *colon;
	char *name, *items = NULL;
	int rc = -1;

	if (!json_is_object(doc)) {
		strbuf_addstr(err, "internal error: the scenario document is not an object");
		return -1;
	}
	if (json_object_get(doc, "cgroups") && !json_is_array(json_object_get(doc, "cgroups"))) {
		strbuf_addstr(err, "the scenario's \"cgroups\" is not an array");
		return -1;
	}
	if (json_object_get(doc, "payloads") && !json_is_array(json_object_get(doc, "payloads"))) {
		strbuf_addstr(err, "the scenario's \"payloads\" is not an array");
		return -1;
	}
	if (!spec || !*spec) {
		strbuf_addstr(err, "empty cgroup spec; expected NAME[:key=value,...], "
			      "e.g. cg_0:workers=2,work=bursty");
		return -1;
	}
	colon = strchr(spec, ':');
	name = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (!*name || strchr(name, '=') || strchr(name, ',')) {
		strbuf_addstr(err, "expected NAME[:key=value,...] with the cgroup name "
			      "first, e.g. cg_0:workers=2,work=bursty");
		goto out;
	}
	cg = json_object();
	pl = json_object();
	json_object_set_new(cg, "name", json_string(name));
	if (colon) {
		items = xstrdup(colon + 1);
		if (flag_items(cg, pl, spec, items, err))
			goto out;
	}
	if (flag_payload_finish(doc, cg, pl, name, err) || flag_probe(cg, pl, err))
		goto out;
	if (cgroup_defined(json_object_get(doc, "cgroups"), name)) {
		strbuf_addf(err, "a cgroup named '%s' is already defined", name);
		goto out;
	}
	doc_append(doc, "cgroups", cg);
	if (json_object_size(pl))
		doc_append(doc, "payloads", pl);
	rc = 0;
out:
	json_decref(cg);
	json_decref(pl);
	free(items);
	free(name);
	return rc;
}
