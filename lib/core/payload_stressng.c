/* The stress-ng adapter: the "metrics" list of the YAML file stress-ng
 * --metrics --yaml writes, one entry per stressor.  libyaml reads it,
 * so the quoting and layout rules of YAML are libyaml's, not ours. */
#include "payload.h"
#include "payload_int.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

static const char sng_what[] = "the YAML file of stress-ng --metrics --yaml";

/* stress-ng's keys with a name, unit and direction of their own; any
 * other numeric key keeps its name with '-' made '_'. */
static const struct {
	const char *key, *name, *unit;
	enum payload_better better;
} sng_keys[] = {
	{ "bogo-ops", "bogo_ops", "ops", BETTER_HIGHER },
	{ "bogo-ops-per-second-real-time", "bogo_ops_per_sec_real", "ops/s", BETTER_HIGHER },
	{ "bogo-ops-per-second-usr-sys-time", "bogo_ops_per_sec_usr_sys", "ops/s",
	  BETTER_HIGHER },
	{ "wall-clock-time", "wall_clock_s", "s", BETTER_NONE },
	{ "user-time", "user_s", "s", BETTER_NONE },
	{ "system-time", "system_s", "s", BETTER_NONE },
	{ "cpu-usage-per-instance", "cpu_usage_pct", "%", BETTER_NONE },
	{ "max-rss", "max_rss_kib", "KiB", BETTER_NONE },
};

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       !memcmp(n->data.scalar.value, s, n->data.scalar.length);
}

/* The value of key in mapping node map, NULL when absent. */
static yaml_node_t *map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	const yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
		if (scalar_is(yaml_document_get_node(doc, p->key), key))
			return yaml_document_get_node(doc, p->value);
	return NULL;
}

static void sng_metric(const char *stressor, const char *key, double v, struct pmetrics *m)
{
	char name[160];
	size_t i;

	for (i = 0; i < sizeof(sng_keys) / sizeof(sng_keys[0]); i++)
		if (!strcmp(sng_keys[i].key, key)) {
			snprintf(name, sizeof(name), "%s.%s", stressor, sng_keys[i].name);
			pmetrics_set(m, name, v, sng_keys[i].unit, sng_keys[i].better);
			return;
		}
	snprintf(name, sizeof(name), "%s.%s", stressor, key);
	for (char *c = name + strlen(stressor) + 1; *c; c++)
		if (*c == '-')
			*c = '_';
	pmetrics_set(m, name, v, "", BETTER_NONE);
}

/* One entry of "metrics": {stressor: NAME, bogo-ops: N, ...}. */
static void sng_entry(yaml_document_t *doc, const yaml_node_t *e, struct pmetrics *m)
{
	const yaml_node_t *sn = map_get(doc, e, "stressor");
	const yaml_node_pair_t *p;
	char stressor[64], key[96];
	double v;

	if (!sn || sn->type != YAML_SCALAR_NODE)
		return;
	snprintf(stressor, sizeof(stressor), "%.*s", (int)sn->data.scalar.length,
		 (const char *)sn->data.scalar.value);
	for (p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(doc, p->value);

		if (!k || k->type != YAML_SCALAR_NODE || !val || val->type != YAML_SCALAR_NODE ||
		    !payload_number((const char *)val->data.scalar.value, val->data.scalar.length,
				    &v))
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)k->data.scalar.length,
			 (const char *)k->data.scalar.value);
		sng_metric(stressor, key, v, m);
	}
}

static int sng_metrics(yaml_document_t *doc, struct pmetrics *m, struct strbuf *err)
{
	const yaml_node_t *list = map_get(doc, yaml_document_get_root_node(doc), "metrics");
	const yaml_node_item_t *it;
	size_t n0 = m->n;

	if (!list || list->type != YAML_SEQUENCE_NODE) {
		strbuf_addf(err, "no \"metrics\" list; expected %s", sng_what);
		return -1;
	}
	for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		const yaml_node_t *e = yaml_document_get_node(doc, *it);

		if (e && e->type == YAML_MAPPING_NODE)
			sng_entry(doc, e, m);
	}
	if (m->n == n0) {
		strbuf_addf(err, "the \"metrics\" list has no stressor with numbers; expected %s",
			    sng_what);
		return -1;
	}
	return 0;
}

int payload_parse_stress_ng(const char *text, size_t len, struct pmetrics *m,
			    struct strbuf *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;

	if (payload_blank(text, len)) {
		strbuf_addf(err, "the output is empty; expected %s", sng_what);
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		strbuf_addstr(err, "out of memory for the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		strbuf_addf(err, "not YAML (want %s): %s at line %zu, column %zu", sng_what,
			    parser.problem ? parser.problem : "parse error",
			    parser.problem_mark.line + 1, parser.problem_mark.column + 1);
		yaml_parser_delete(&parser);
		return -1;
	}
	rc = sng_metrics(&doc, m, err);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}
