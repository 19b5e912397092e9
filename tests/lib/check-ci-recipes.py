#!/usr/bin/env python3
"""Check the contrib/ci recipes: YAML that parses (python3-yaml, with
duplicate keys refused, which a plain load silently drops), and the shape
each engine needs for a sharded ktstr run and its merge.  No schema of
GitLab's or Kubernetes' ships with Debian, so the structure is checked
here, key by key, as the engines document it.  Usage: check-ci-recipes.py DIR"""
import os
import re
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


def no_dups(loader, node, deep=False):
    seen = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise yaml.YAMLError("duplicate key %r at line %d" % (key, k.start_mark.line + 1))
        seen.add(key)
    return loader.construct_mapping(node, deep)


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, no_dups)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def load(path):
    with open(path) as f:
        return list(yaml.load_all(f, Loader=Loader))


def text(obj):
    return yaml.safe_dump(obj)


def gitlab(doc):
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and not k.startswith(".")
            and k not in ("variables", "default", "workflow")}
    stages = doc.get("stages", [])
    shard = [j for j in jobs.values() if isinstance(j.get("parallel"), int)]
    check(len(shard) == 1, "gitlab: one job with parallel: N")
    if not shard:
        return
    s = shard[0]
    check(2 <= s["parallel"] <= 200, "gitlab: parallel is 2..200")
    check(s.get("variables", {}).get("KTSTR_SHARD") == "auto", "gitlab: KTSTR_SHARD auto")
    script = "\n".join(s.get("script", []))
    check("ktstr-test" in script, "gitlab: the shard job runs ktstr-test")
    check("$CI_NODE_INDEX" in script and "KTSTR_RUNS_ROOT" in script,
          "gitlab: a runs root per shard")
    check(s.get("stage") in stages, "gitlab: shard stage declared")
    check(s.get("artifacts", {}).get("when") == "always", "gitlab: artifacts kept on failure")
    name = [k for k, v in jobs.items() if v is s][0]
    rep = [j for j in jobs.values() if j is not s]
    check(len(rep) == 1, "gitlab: one report job")
    if rep:
        r = rep[0]
        needs = [n["job"] if isinstance(n, dict) else n for n in r.get("needs", [])]
        check(name in needs, "gitlab: the report job needs the shard job")
        check(stages.index(r.get("stage")) > stages.index(s.get("stage")),
              "gitlab: report after the shards")
        rs = "\n".join(r.get("script", []))
        check("ktstr-stats junit" in rs and "--dir" in rs, "gitlab: merged JUnit")
        check(r.get("artifacts", {}).get("reports", {}).get("junit"), "gitlab: JUnit report")
    for k, j in list(jobs.items()) + [(k, v) for k, v in doc.items() if k.startswith(".")]:
        check("script" in j or "extends" in j or k.startswith("."), "gitlab: %s has a script" % k)
        ext = j.get("extends")
        check(ext is None or ext in doc, "gitlab: %s extends a template that exists" % k)


def kubernetes(docs):
    check(len(docs) == 1, "k8s: one document")
    job = docs[0]
    check(job.get("apiVersion") == "batch/v1" and job.get("kind") == "Job", "k8s: a batch/v1 Job")
    check(bool(job.get("metadata", {}).get("name")), "k8s: the Job has a name")
    spec = job.get("spec", {})
    check(spec.get("completionMode") == "Indexed", "k8s: completionMode Indexed")
    n = spec.get("completions")
    check(isinstance(n, int) and n >= 2, "k8s: completions N >= 2")
    pod = spec.get("template", {}).get("spec", {})
    check(pod.get("restartPolicy") in ("Never", "OnFailure"), "k8s: restartPolicy for a Job")
    cs = pod.get("containers", [])
    check(len(cs) == 1, "k8s: one container")
    vols = {v["name"] for v in pod.get("volumes", [])}
    for c in cs:
        check(c.get("name") and c.get("image"), "k8s: container name and image")
        env = {e["name"]: e for e in c.get("env", [])}
        for e in env.values():
            check(("value" in e) != ("valueFrom" in e), "k8s: %s: value or valueFrom" % e["name"])
            check("value" not in e or isinstance(e["value"], str),
                  "k8s: %s: env values are strings" % e["name"])
        check(env.get("KTSTR_SHARD_TOTAL", {}).get("value") == str(n),
              "k8s: KTSTR_SHARD_TOTAL equals completions")
        ref = env.get("KTSTR_RUN_ID", {}).get("valueFrom", {}).get("fieldRef", {})
        check(re.match(r"metadata\.labels\['[^']+'\]$", ref.get("fieldPath", "")),
              "k8s: KTSTR_RUN_ID from a Job label (downward API)")
        cmd = text(c.get("args", [])) + text(c.get("command", []))
        check("--shard auto" in cmd and "JOB_COMPLETION_INDEX" in cmd,
              "k8s: --shard auto, a runs root per index")
        for m in c.get("volumeMounts", []):
            check(m["name"] in vols, "k8s: mount %s has a volume" % m["name"])
        for k in ("cpu", "memory"):
            check(k in c.get("resources", {}).get("requests", {}), "k8s: requests " + k)


def github(doc):
    jobs = doc.get("jobs", {})
    t = jobs.get("test", {})
    m = t.get("strategy", {}).get("matrix", {}).get("shard", [])
    check(m == list(range(1, len(m) + 1)) and len(m) >= 2, "github: matrix shard 1..N")
    env = t.get("env", {})
    check(env.get("KTSTR_SHARD") == "auto", "github: KTSTR_SHARD auto")
    check(env.get("KTSTR_SHARD_INDEX") == "${{ matrix.shard }}", "github: index from matrix")
    check(env.get("KTSTR_SHARD_TOTAL") == len(m), "github: total is the matrix length")
    r = jobs.get("report", {})
    check(r.get("needs") == "test", "github: report needs test")
    steps = text(r.get("steps", []))
    check("ktstr-stats junit" in steps and "--dir" in steps, "github: merged JUnit")
    check("merge-multiple" not in steps, "github: one directory per shard's artifact")
    for name, j in jobs.items():
        check("runs-on" in j and isinstance(j.get("steps"), list), "github: %s runs" % name)


def main():
    d = sys.argv[1]
    try:
        gitlab(load(os.path.join(d, "gitlab-ci.yml"))[0])
        kubernetes(load(os.path.join(d, "kubernetes-job.yaml")))
        github(load(os.path.join(d, "github-actions.yml"))[0])
    except (yaml.YAMLError, OSError, KeyError, TypeError, AttributeError, ValueError) as e:
        failures.append("%s: %s" % (type(e).__name__, e))
    for f in failures:
        print("check-ci-recipes: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
