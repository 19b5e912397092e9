/* Which shard of a CI fleet this runner is: --shard auto (or
 * KTSTR_SHARD=auto) reads the index and total the CI engine provides.
 *
 * Sources, first found wins (an empty variable is unset):
 *   KTSTR_SHARD_INDEX + KTSTR_SHARD_TOTAL   explicit inputs, 1-based as
 *       --shard K/N (a GitHub Actions matrix: shard: [1, 2, 3])
 *   CI_NODE_INDEX + CI_NODE_TOTAL            GitLab "parallel:", 1-based
 *   JOB_COMPLETION_INDEX + KTSTR_SHARD_TOTAL Kubernetes indexed Job,
 *       0-based; Kubernetes has no total variable, so it must be given
 *   SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT  Slurm job array; the
 *       index counts from SLURM_ARRAY_TASK_MIN (0 when unset) in steps of
 *       SLURM_ARRAY_TASK_STEP (1 when unset)
 * A KTSTR_SHARD_TOTAL beside another engine's total must agree with it.
 *
 * The shards of one fleet share a run id, so ktstr-stats can merge their
 * runs roots into one run: KTSTR_RUN_ID when set, else one the engine
 * gives every shard alike (GitHub GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT,
 * GitLab CI_PIPELINE_ID, Slurm SLURM_ARRAY_JOB_ID). */
#ifndef KTSTR_SHARD_ENV_H
#define KTSTR_SHARD_ENV_H

#include <stdbool.h>
#include "strbuf.h"

/* How variables are read (env_get in the programs; a table in tests):
 * the trimmed value or NULL when unset or empty. */
typedef const char *(*shard_getenv_fn)(const char *name);

struct shard_choice {
	unsigned k, n;		/* shard k of n, 1-based */
	const char *source;	/* static text naming where k and n came from:
				 * "--shard", "KTSTR_SHARD", "GitLab
				 * CI_NODE_INDEX/CI_NODE_TOTAL", ... */
};

/* The shard from the CI engine's variables (the list above).  0, or -1
 * with one line in err naming the variables and the fix. */
int shard_env_detect(shard_getenv_fn get, struct shard_choice *out, struct strbuf *err);

/* spec as given by --shard (from "--shard") or KTSTR_SHARD (from
 * "KTSTR_SHARD"): "auto" detects, "K/N" is taken as is.  0 or -1 (err). */
int shard_resolve(const char *spec, const char *from, shard_getenv_fn get,
		  struct shard_choice *out, struct strbuf *err);

/* The run id the shards share: KTSTR_RUN_ID (checked: 1 to 64 of
 * [A-Za-z0-9._-], not starting with '.' or '-'), else, when engine is
 * true (the shard came from the engine or the run is sharded), the
 * engine's as above.  *id is NULL when there is none (the caller makes
 * a fresh one); caller frees.  0, or -1 for a bad KTSTR_RUN_ID (err). */
int shard_run_id(shard_getenv_fn get, bool engine, char **id, const char **source,
		 struct strbuf *err);

#endif
