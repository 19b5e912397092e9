/* The host <-> guest agent protocol.
 *
 * Transport: a virtio-serial port named KTSTR_AGENT_PORT_NAME.  The guest
 * sees it as /dev/vportNpM (find it by reading /sys/class/virtio-ports/
 * vport*\/name); the host end is a socketpair QEMU inherits.  Both
 * directions carry JSON lines (lib/core/jsonl.h): one object per line with a
 * string "type".  Keeping the job out of the initramfs lets the host cache
 * one image and send a different command on every boot.
 *
 * Guest -> host, in order:
 *   {"type":"guest_topology","cpus":N,"online":"0-3","nodes":["0-1","2-3"],
 *    "llcs":["0-1","2-3"],"cores":["0","1",...],"smt":["0-1",...]}
 *      read from sysfs; "llcs" lists each distinct cache/index3
 *      shared_cpu_list (index2 when there is no L3), "smt" and "cores" each
 *      distinct core_cpus_list (thread_siblings_list, the same mask, on
 *      kernels before 5.x), "nodes" each node's cpulist.
 *   {"type":"agent_ready","uptime_ms":N,"init_uptime_ms":N,"kernel_release":"...",
 *    "sched_ext_state":"disabled"|null}
 *   ... then, per request, records below.
 * Host -> guest, one request, which the agent reads after agent_ready.  The
 * host queues it as soon as QEMU runs: QEMU takes it from the socket only
 * once the agent has opened its port, so it is waiting there when wanted.
 *   {"type":"exec","cmd":"shell command","env":{"K":"V"},"timeout_ms":N}
 *      run "/bin/sh -c cmd" with stdin /dev/null, cwd /, env added.
 *   {"type":"shell","term":"xterm-256color","colorterm":"truecolor",
 *    "cols":N,"rows":N}
 *      interactive /bin/sh on /dev/hvc0 (the console port wired to the
 *      host terminal), with TERM/COLORTERM set and the window size applied.
 *   {"type":"scenario","scenario":{...},"checks":{...},
 *    "scheduler":{"path","args"}|null,"topo":"N,L,C,T"}
 *      run a scenario (guest/scenario.c, lib/vm/vm_request.h); "checks"
 *      are its thresholds as the host resolved them (the check table's
 *      defaults are applied on the host only), reported back unchanged
 *      in scenario_start.checks.  With "bpf_stats":true the agent turns
 *      on kernel.bpf_stats_enabled before it starts the scheduler and
 *      reports each of the scheduler's BPF programs' run_cnt and
 *      run_time_ns over the workload (bpf_prog_stats records,
 *      guest/bpfprog.c); bpf_prog records come with every scheduler.
 *      "env":{"K":"V"} is set in the agent's environment before anything
 *      starts, so the scheduler and the payloads inherit it.
 *   A request may carry "kernel_symbols":true: the agent then first sends
 *   {"type":"kernel_symbols","symbols":{"runqueues":"0xffff...",...},
 *    "missing":["scx_root"],"kernel_code_phys":"0x1000000"}
 *      addresses from /proc/kallsyms as hex strings (they do not fit a
 *      signed 64-bit JSON integer), the wanted names it did not find, and
 *      the physical start of "Kernel code" from /proc/iomem; the host-side
 *      monitor (lib/vm/monitor.h) needs them to read guest memory.
 * Guest -> host while a request runs:
 *   {"type":"output","stream":"stdout"|"stderr","line":"..."}
 *      one record per line, newline stripped; invalid UTF-8 replaced by
 *      U+FFFD; a last unterminated line is sent at EOF; lines longer than
 *      KTSTR_AGENT_MAX_LINE are split.
 *   {"type":"exit","exit_code":N[,"signal":S][,"timed_out":true]}
 *      exit_code is 128+S when the command was killed by signal S;
 *      timed_out when the request's timeout_ms killed it.
 *   {"type":"agent_error","message":"..."}  a request the agent could not do
 *   {"type":"sched_output","line":"..."}
 *      during a scenario with a scheduler: one line the scheduler printed
 *      (stdout and stderr together), as it comes; ktstr-vm writes them to
 *      a file (lib/vm/vm_schedlog.h) instead of passing them on.
 * Host -> guest, after reading "exit" or "agent_error":
 *   {"type":"ack"}
 *      virtio-serial writes complete when queued, not when QEMU has passed
 *      them on, so the agent waits for this (or a hang-up, at most 10 s)
 *      before it syncs and powers the VM off; otherwise queued records
 *      could be lost with the VM. */
#ifndef KTSTR_AGENT_PROTO_H
#define KTSTR_AGENT_PROTO_H

#define KTSTR_AGENT_PORT_NAME "org.ktstr.agent"
#define KTSTR_AGENT_MAX_LINE 65536
/* Console port for --shell (guest /dev/hvc0). */
#define KTSTR_SHELL_PORT_NAME "org.ktstr.shell"
/* The variable the agent sets to the VM's topology (N,L,C,T), from the
 * kernel command line word of the same name: --env and a test file's
 * "env" may not set it. */
#define KTSTR_TOPO_ENV "KTSTR_TOPO"

#include <stdbool.h>
#include <string.h>

/* The agent's records that mark a scenario's timeline: whoever reads the
 * agent (ktstr-vm for a VM, the host-mode supervisor) stamps them with
 * host_ms, its own clock, so ktstr-stats can line them up with the
 * monitor's samples. */
static inline bool agent_record_on_timeline(const char *type)
{
	return !strcmp(type, "scenario_start") || !strcmp(type, "step") ||
	       !strcmp(type, "stimulus") || !strcmp(type, "scenario_end");
}

#endif
