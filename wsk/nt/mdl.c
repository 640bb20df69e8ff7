/*
 * mdl.c - memory descriptor lists in user space.
 *
 * An MDL describes a virtually contiguous buffer: StartVa (page aligned) +
 * ByteOffset, ByteCount bytes, followed in memory by a PFN array with one
 * entry per page spanned.  In a process every buffer is already "mapped",
 * so the system address of a buffer is its own address; the PFN entries are
 * the virtual page numbers (nothing reads them, they exist so that
 * MDL.Size is what a Windows driver computes).  What this file keeps exact
 * is what clients read: the fields, the flags and MappedSystemVa.
 */
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

SIZE_T MmSizeOfMdl(PVOID Base, SIZE_T Length)
{
    return sizeof(MDL) + sizeof(PFN_NUMBER) * ADDRESS_AND_SIZE_TO_SPAN_PAGES(Base, Length);
}

static void mdl_fill_pfns(PMDL mdl)
{
    PPFN_NUMBER pfn = MmGetMdlPfnArray(mdl);
    ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), mdl->ByteCount);
    ULONG_PTR first = (ULONG_PTR)mdl->StartVa >> PAGE_SHIFT;
    /* Never write past what Size says the array holds. */
    size_t total = (USHORT)mdl->Size;
    ULONG room = total > sizeof(MDL) ? (ULONG)((total - sizeof(MDL)) / sizeof(PFN_NUMBER)) : 0;
    for (ULONG i = 0; i < pages && i < room; i++)
        pfn[i] = first + i;
}

PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
                   BOOLEAN ChargeQuota, PIRP Irp)
{
    (void)ChargeQuota;
    SIZE_T size = MmSizeOfMdl(VirtualAddress, Length);
    /* MDL.Size is 16 bits: like Windows, refuse a buffer whose PFN array
     * would not fit (about 32 MB with 4 KB pages on x64). */
    if (size > MAXUSHORT)
        return NULL;
    PMDL mdl = calloc(1, size);
    if (mdl == NULL)
        return NULL;
    MmInitializeMdl(mdl, VirtualAddress, Length);
    mdl->MdlFlags = MDL_ALLOCATED_FIXED_SIZE;
    mdl->Process = NULL;
    mdl->MappedSystemVa = NULL;
    if (Irp != NULL) {
        if (!SecondaryBuffer || Irp->MdlAddress == NULL) {
            Irp->MdlAddress = mdl;
        } else {
            PMDL last = Irp->MdlAddress;
            while (last->Next != NULL)
                last = last->Next;
            last->Next = mdl;
        }
    }
    return mdl;
}

void IoFreeMdl(PMDL Mdl)
{
    if (Mdl == NULL)
        return;
    if (Mdl->MdlFlags & MDL_PAGES_LOCKED)
        nt_bugcheck("IoFreeMdl", "MDL %p still has locked pages (call MmUnlockPages first)",
                    (void *)Mdl);
    free(Mdl);
}

void MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
    PMDL m = MemoryDescriptorList;
    /* ReactOS asserts the same: a fresh MDL describing a non-empty buffer. */
    if (m->ByteCount == 0)
        nt_bugcheck("MmBuildMdlForNonPagedPool", "MDL %p has ByteCount 0", (void *)m);
    if (m->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL |
                       MDL_PARTIAL))
        nt_bugcheck("MmBuildMdlForNonPagedPool", "MDL %p already built/locked (flags 0x%x)",
                    (void *)m, (unsigned)(USHORT)m->MdlFlags);
    m->Process = NULL;
    m->MappedSystemVa = MmGetMdlVirtualAddress(m);
    mdl_fill_pfns(m);
    m->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
}

void MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                         LOCK_OPERATION Operation)
{
    PMDL m = MemoryDescriptorList;
    (void)AccessMode;
    if (m->MdlFlags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL))
        nt_bugcheck("MmProbeAndLockPages", "MDL %p already locked or built (flags 0x%x)",
                    (void *)m, (unsigned)(USHORT)m->MdlFlags);
    mdl_fill_pfns(m);
    m->Process = NULL;
    m->MappedSystemVa = MmGetMdlVirtualAddress(m);
    m->MdlFlags |= MDL_PAGES_LOCKED;
    if (Operation != IoReadAccess)
        m->MdlFlags |= MDL_WRITE_OPERATION;
}

void MmUnlockPages(PMDL MemoryDescriptorList)
{
    PMDL m = MemoryDescriptorList;
    if (!(m->MdlFlags & MDL_PAGES_LOCKED))
        nt_bugcheck("MmUnlockPages", "MDL %p is not locked", (void *)m);
    m->MdlFlags &= (CSHORT)~(MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA | MDL_WRITE_OPERATION);
    m->MappedSystemVa = NULL;
}

PVOID MmMapLockedPagesSpecifyCache(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                                   MEMORY_CACHING_TYPE CacheType, PVOID RequestedAddress,
                                   ULONG BugCheckOnFailure, ULONG Priority)
{
    PMDL m = MemoryDescriptorList;
    (void)AccessMode;
    (void)CacheType;
    (void)RequestedAddress;
    (void)BugCheckOnFailure;
    (void)Priority;
    m->MappedSystemVa = MmGetMdlVirtualAddress(m);
    m->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
    return m->MappedSystemVa;
}

void MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList)
{
    (void)BaseAddress;
    MemoryDescriptorList->MdlFlags &= (CSHORT)~MDL_MAPPED_TO_SYSTEM_VA;
}

void IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress, ULONG Length)
{
    PCHAR src_va = MmGetMdlVirtualAddress(SourceMdl);
    PCHAR va = VirtualAddress;
    if (va < src_va || va > src_va + SourceMdl->ByteCount)
        nt_bugcheck("IoBuildPartialMdl", "address %p outside source MDL %p", VirtualAddress,
                    (void *)SourceMdl);
    if (Length == 0)
        Length = (ULONG)(src_va + SourceMdl->ByteCount - va);
    if (va + Length > src_va + SourceMdl->ByteCount)
        nt_bugcheck("IoBuildPartialMdl", "range ends past source MDL %p", (void *)SourceMdl);
    /* TargetMdl's Size stays what its allocation set; only the fields move. */
    TargetMdl->StartVa = PAGE_ALIGN(va);
    TargetMdl->ByteOffset = BYTE_OFFSET(va);
    TargetMdl->ByteCount = Length;
    TargetMdl->Process = SourceMdl->Process;
    TargetMdl->MdlFlags = (CSHORT)((TargetMdl->MdlFlags & MDL_ALLOCATED_FIXED_SIZE) | MDL_PARTIAL |
                                   (SourceMdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL));
    if (SourceMdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL)) {
        TargetMdl->MappedSystemVa = va;
        if (SourceMdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)
            TargetMdl->MdlFlags |= MDL_PARENT_MAPPED_SYSTEM_VA | MDL_MAPPED_TO_SYSTEM_VA;
    }
    mdl_fill_pfns(TargetMdl);
}
