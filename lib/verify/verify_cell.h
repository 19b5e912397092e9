/* One ktstr-verify cell (scheduler x kernel x preset) as a record.
 *
 * The runner (lib/runner) boots the VM and collects the guest's records;
 * this turns what it collected into the verifier_cell record of
 * ktstr-records(7):
 *   pass  - the scheduler attached and its BPF programs were read
 *           (bpf_prog records), whatever the probe's fairness verdict;
 *   fail  - it never attached: a verifier rejection or another load
 *           failure; the verifier's log of the first failed program comes
 *           from the scheduler's output, loops collapsed unless raw;
 *   error - the run says nothing about the scheduler (the VM never
 *           reached the agent, the run was stopped, or the guest did not
 *           report what a verdict needs).
 * Nothing here spawns or reads files: the caller passes the text. */
#ifndef KTSTR_VERIFY_CELL_H
#define KTSTR_VERIFY_CELL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The BPF verifier's instruction limit (BPF_COMPLEXITY_LIMIT_INSNS) that
 * verified_insns is measured against. */
#define VERIFY_LIMIT_INSNS 1000000LL

struct verify_cell_in {
	const char *scheduler, *kernel, *kernel_image, *preset, *topology;
	const char *accel;		/* "kvm", "tcg", or NULL when no VM ran */
	long long wall_ms;
	const char *error;		/* an infrastructure error, or NULL */
	bool attached;			/* a scheduler "attached" record came */
	const json_t *sched_fail;	/* its first attach_failed/died record */
	const json_t *progs;		/* bpf_prog records (array) */
	const json_t *stats;		/* bpf_prog_stats records (array) */
	const char *probe_error;	/* a bpf_probe_error's "stage: message" */
	/* The scheduler's whole output (ktstr-vm's output_log), or NULL:
	 * then sched_fail's "output" lines stand in. */
	const char *output;
	size_t output_len;
	bool raw;			/* keep the verifier log verbatim */
};

/* The verifier_cell record (new reference). */
json_t *verify_cell_build(const struct verify_cell_in *in);

/* The programs array of a cell: one object per bpf_prog record, in its
 * order, with the run figures of the bpf_prog_stats record of the same
 * id (nulls without one).  New reference. */
json_t *verify_cell_programs(const json_t *progs, const json_t *stats);

/* "scx_simple__7.3.4__tiny-2llc.json": the cell's file name in a result
 * directory, every byte outside [A-Za-z0-9._+-] made '_'.  Caller frees. */
char *verify_cell_file_name(const char *sched, const char *kernel, const char *preset);

#endif
