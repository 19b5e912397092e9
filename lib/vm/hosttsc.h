/* The host's TSC rate, told to a TCG guest as tsc_early_khz=.
 *
 * Under TCG (without -icount) the guest's TSC is the host's: QEMU reads it
 * with rdtsc.  The guest kernel still times it against the emulated PIT,
 * each read a slow emulated I/O exit, and in half the boots measured here
 * that quick calibration failed and the kernel fell back to its slow one,
 * 150-350 ms later to the guest's clock, at random (issue 16).  Given the
 * TSC rate, the kernel still tries the quick calibration (for cpu_khz) but
 * never needs the slow fallback.  It then keeps the rate: its refined
 * calibration against the HPET a second later discards any result more
 * than 1% away, so the rate must be right (hosttsc.c measures twice). */
#ifndef KTSTR_HOSTTSC_H
#define KTSTR_HOSTTSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_TSC_ENV "KTSTR_TSC_KHZ"

/* The rate to give a TCG guest in kHz, or 0 for none (let it calibrate):
 * KTSTR_TSC_KHZ when set (0 turns it off), else the host's measured rate
 * when its TSC is invariant (constant_tsc and nonstop_tsc) on an x86_64
 * host.  The measurement (20 ms) is kept per host boot in the cache
 * (ktstr_cache_dir("host")), so only the first VM after a reboot pays. */
unsigned long host_tsc_khz(void);

/* 0 when KTSTR_TSC_KHZ is unset, empty or a rate ktstr can use; else -1
 * and one line in msg naming the variable, what is wrong and the fix. */
int host_tsc_env_check(char *msg, size_t size);

/* 1 and a line in msg when KTSTR_TSC_KHZ is more than 1% off the rate
 * ktstr measures on this host (the guest kernel would keep the wrong rate
 * and its clock run fast or slow); 0 when it is unset, 0, or agrees, or
 * there is nothing to compare it with. */
int host_tsc_env_warning(char *msg, size_t size);

/* khz from two (tsc, ns) samples; 0 when they do not make a rate.  For
 * the tests. */
unsigned long host_tsc_rate_khz(uint64_t tsc0, uint64_t ns0, uint64_t tsc1, uint64_t ns1);

/* Whether a /proc/cpuinfo text promises an invariant TSC. For the tests. */
bool host_tsc_invariant(const char *cpuinfo);

#endif
