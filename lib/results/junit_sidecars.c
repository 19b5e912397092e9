/* JUnit testcases rebuilt from sidecars (junit_sidecars.h). */
#include "junit_sidecars.h"
#include "diag.h"

#include <stdlib.h>
#include <string.h>

static const char *keep(struct junit_sidecars *j, char *s)
{
	strvec_push(&j->text, s);
	free(s);
	return j->text.v[j->text.n - 1];
}

static enum junit_status status_of(const char *result)
{
	if (!strcmp(result, "pass"))
		return JUNIT_PASS;
	if (!strcmp(result, "fail"))
		return JUNIT_FAIL;
	if (!strcmp(result, "skip"))
		return JUNIT_SKIP;
	return JUNIT_ERROR;
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The first failed check: its message and name, from the verdict. */
static void first_failure(struct junit_sidecars *j, const struct sidecar *s,
			  struct junit_case *jc)
{
	json_t *fails = json_object_get(json_object_get(s->doc, "verdict"), "failures");
	json_t *f = json_array_get(fails, 0);
	const char *msg = str_of(f, "message"), *check = str_of(f, "check");

	if (msg)
		jc->message = keep(j, xstrdup(msg));
	if (check)
		jc->type = keep(j, xstrdup(check));
}

static void add_case(struct junit_sidecars *j, const struct sidecar *s, bool repeated)
{
	struct junit_case *jc;
	size_t sl = strlen(s->suite);
	const char *name = s->case_name;
	json_int_t repeat = json_integer_value(json_object_get(s->doc, "repeat"));
	const char *reason = str_of(s->doc, "reason");

	if (sl && !strncmp(name, s->suite, sl) && (name[sl] == ' ' || name[sl] == '/'))
		name += sl + 1;
	j->v = xrealloc(j->v, (j->n + 1) * sizeof(*j->v));
	jc = &j->v[j->n++];
	memset(jc, 0, sizeof(*jc));
	jc->suite = *s->suite ? s->suite : NULL;
	jc->name = keep(j, repeated ? xasprintf("%s #%lld", name, (long long)repeat)
				    : xstrdup(name));
	jc->status = status_of(s->result);
	jc->secs = (double)json_integer_value(json_object_get(s->doc, "wall_ms")) / 1000;
	if (jc->status == JUNIT_FAIL)
		first_failure(j, s, jc);
	/* As ktstr-test --junit: an error the verdict did not give (the VM,
	 * the host or the infrastructure failed the run) is "infrastructure". */
	if (jc->status == JUNIT_ERROR) {
		const char *vr = str_of(json_object_get(s->doc, "verdict"), "result");

		jc->type = vr && strcmp(vr, "error") ? "infrastructure" : "error";
	}
	if (!jc->message && (reason || jc->status == JUNIT_FAIL))
		jc->message = keep(j, xstrdup(reason ? reason : "check failed"));
}

void junit_from_sidecars(const struct sidecar_set *set, const struct compare_filter *f,
			 struct junit_sidecars *out)
{
	bool repeated = false;
	const char *ts = "";
	size_t i;

	memset(out, 0, sizeof(*out));
	/* ktstr-test names a case "#R" when it ran every case several times. */
	for (i = 0; i < set->n; i++)
		repeated = repeated ||
			   json_integer_value(json_object_get(set->v[i].doc, "repeat")) > 1;
	for (i = 0; i < set->n; i++) {
		if (!compare_filter_match(f, &set->v[i]))
			continue;
		add_case(out, &set->v[i], repeated);
		if (strcmp(set->v[i].timestamp, ts) > 0)
			ts = set->v[i].timestamp;
	}
	out->timestamp = xstrdup(ts);
}

void junit_sidecars_release(struct junit_sidecars *j)
{
	free(j->v);
	free(j->timestamp);
	strvec_clear(&j->text);
	memset(j, 0, sizeof(*j));
}
