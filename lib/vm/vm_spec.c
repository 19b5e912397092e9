/* The QEMU description a vm_config boots from (vm.h): the accelerator
 * resolved, the image, the memory and the kernel command line. */
#include "vm.h"
#include "env.h"
#include "hosttsc.h"
#include "pvh.h"

#include <stdio.h>
#include <string.h>

void vm_qemu_spec(const struct vm_config *c, const char *qemu_path, int console_fd,
		  int agent_fd, struct qemu_spec *s, struct strbuf *cmdline)
{
	memset(s, 0, sizeof(*s));
	s->qemu = qemu_path;
	/* The same kernel without its emulated decompressor (pvh.h). */
	if (!env_get(VM_BOOT_BZIMAGE_ENV))
		s->pvh_kernel = pvh_vmlinux_for(c->kernel);
	s->kernel = s->pvh_kernel ? s->pvh_kernel : c->kernel;
	s->initrd = c->initrd;
	s->topo = c->topo;
	s->accel = vm_accel_resolve_why(c->accel, s->accel_reason, sizeof(s->accel_reason));
	if (c->accel_reason)
		snprintf(s->accel_reason, sizeof(s->accel_reason), "%s", c->accel_reason);
	s->memory_mib = qemu_round_memory(&c->topo, c->memory_mib ? c->memory_mib :
					  qemu_default_memory_mib(&c->topo));
	/* Under KVM the guest reads its TSC rate from kvmclock. */
	qemu_kernel_cmdline(cmdline, &c->topo, c->verbose,
			    s->accel == VM_ACCEL_KVM ? 0 : host_tsc_khz(), c->append);
	s->cmdline = cmdline->buf;
	s->console_fd = console_fd;
	s->agent_fd = agent_fd;
	s->qmp_fd = -1;
	s->shell = c->mode == VM_MODE_SHELL;
	s->firmware = qemu_firmware();
}
