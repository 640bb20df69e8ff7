/*
 * nt_internal.h - helpers shared by the NT emulation files (wsk/nt/).
 * Not installed; not part of the public API.
 */
#ifndef WSS_NT_INTERNAL_H
#define WSS_NT_INTERNAL_H

#include <wdm.h>

/*
 * A caller broke an NT contract that Windows answers with a bug check
 * (completing an IRP with STATUS_PENDING, freeing an IRP that still has a
 * cancel routine ...).  Print what happened and abort: continuing would
 * corrupt the IRP's owner.
 */
__attribute__((noreturn, format(printf, 2, 3)))
void nt_bugcheck(const char *what, const char *fmt, ...);

/* Per-thread emulated IRQL (misc.c). */
KIRQL nt_irql_raise(KIRQL new_irql);
void nt_irql_set(KIRQL irql);

/* Raw spin lock primitives without IRQL bookkeeping (misc.c). */
void nt_spin_acquire(PKSPIN_LOCK lock);
void nt_spin_release(PKSPIN_LOCK lock);

#endif /* WSS_NT_INTERNAL_H */
