/* TEMPORARY: weak stand-ins until lib/scenario.c lands (removed then). */
#include "scenario.h"
#include <stdlib.h>

__attribute__((weak)) int scenario_parse(const json_t *doc, struct scenario *s, struct strbuf *err)
{ (void)doc; (void)s; strbuf_addstr(err, "scenarios are not built yet"); return -1; }
__attribute__((weak)) void scenario_release(struct scenario *s) { (void)s; }
__attribute__((weak)) int scenario_fit(const struct scenario *s, const struct ktstr_topo *t, struct strbuf *why)
{ (void)s; (void)t; (void)why; return 0; }
__attribute__((weak)) json_t *scenario_load(const char *n, struct strbuf *err)
{ (void)n; strbuf_addstr(err, "scenarios are not built yet"); return NULL; }
__attribute__((weak)) int scenario_add_cgroup_flag(json_t *doc, const char *spec, struct strbuf *err)
{ (void)doc; (void)spec; strbuf_addstr(err, "scenarios are not built yet"); return -1; }
