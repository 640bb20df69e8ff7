/*
 * test_mdl.c - memory descriptor lists: IoAllocateMdl field values for
 * unaligned buffers, MmBuildMdlForNonPagedPool, probe/unlock, chains and
 * MmGetSystemAddressForMdlSafe (WSK-SPEC 4.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ntddk.h>
#include <wsk.h>

static _Alignas(4096) UCHAR pages[4 * 4096];

static void test_allocate_unaligned(void **state)
{
    (void)state;
    /* 100 bytes starting 0x123 into a page: one page. */
    PMDL m = IoAllocateMdl(pages + 0x123, 100, FALSE, FALSE, NULL);
    assert_non_null(m);
    assert_ptr_equal(m->StartVa, pages);
    assert_int_equal(m->ByteOffset, 0x123);
    assert_int_equal(m->ByteCount, 100);
    assert_null(m->Next);
    assert_int_equal(m->Size, sizeof(MDL) + 1 * sizeof(PFN_NUMBER));
    assert_int_equal(m->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL |
                                    MDL_PAGES_LOCKED), 0);
    assert_ptr_equal(MmGetMdlVirtualAddress(m), pages + 0x123);
    assert_int_equal(MmGetMdlByteCount(m), 100);
    assert_int_equal(MmGetMdlByteOffset(m), 0x123);
    IoFreeMdl(m);

    /* 0x1000 bytes starting at 0xff0 of page 1: spans pages 1 and 2. */
    m = IoAllocateMdl(pages + 0x1ff0, 0x1000, FALSE, FALSE, NULL);
    assert_ptr_equal(m->StartVa, pages + 0x1000);
    assert_int_equal(m->ByteOffset, 0xff0);
    assert_int_equal(m->Size, sizeof(MDL) + 2 * sizeof(PFN_NUMBER));
    assert_int_equal(MmSizeOfMdl(pages + 0x1ff0, 0x1000), sizeof(MDL) + 2 * sizeof(PFN_NUMBER));
    IoFreeMdl(m);

    /* Exactly three whole pages. */
    m = IoAllocateMdl(pages, 3 * 4096, FALSE, FALSE, NULL);
    assert_int_equal(m->ByteOffset, 0);
    assert_int_equal(m->Size, sizeof(MDL) + 3 * sizeof(PFN_NUMBER));
    IoFreeMdl(m);
}

static void test_build_for_nonpaged_pool(void **state)
{
    (void)state;
    PUCHAR buf = ExAllocatePoolWithTag(NonPagedPoolNx, 5000, 0x6b737720u);
    assert_non_null(buf);
    PMDL m = IoAllocateMdl(buf + 7, 4000, FALSE, FALSE, NULL);
    MmBuildMdlForNonPagedPool(m);
    assert_int_equal(m->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL, MDL_SOURCE_IS_NONPAGED_POOL);
    assert_ptr_equal(m->MappedSystemVa, buf + 7);
    assert_null(m->Process);
    /* The system address is the buffer itself and no mapping flag is added. */
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(m, NormalPagePriority | MdlMappingNoExecute),
                     buf + 7);
    assert_int_equal(m->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
    IoFreeMdl(m);
    ExFreePoolWithTag(buf, 0x6b737720u);
}

static void test_probe_lock_and_map(void **state)
{
    (void)state;
    PMDL m = IoAllocateMdl(pages + 10, 50, FALSE, FALSE, NULL);
    MmProbeAndLockPages(m, KernelMode, IoWriteAccess);
    assert_int_equal(m->MdlFlags & MDL_PAGES_LOCKED, MDL_PAGES_LOCKED);
    assert_int_equal(m->MdlFlags & MDL_WRITE_OPERATION, MDL_WRITE_OPERATION);
    assert_ptr_equal(m->MappedSystemVa, pages + 10);

    /* Neither MAPPED nor NONPAGED yet: "mapping" sets the flag. */
    PVOID va = MmGetSystemAddressForMdlSafe(m, HighPagePriority);
    assert_ptr_equal(va, pages + 10);
    assert_int_equal(m->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, MDL_MAPPED_TO_SYSTEM_VA);

    MmUnlockPages(m);
    assert_int_equal(m->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA), 0);
    assert_null(m->MappedSystemVa);
    IoFreeMdl(m);
}

static void test_map_plain_mdl(void **state)
{
    (void)state;
    UCHAR local[64];
    MDL *m = IoAllocateMdl(local, sizeof local, FALSE, FALSE, NULL);
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(m, LowPagePriority), local);
    assert_ptr_equal(m->MappedSystemVa, local);
    IoFreeMdl(m);
}

static void test_irp_chains(void **state)
{
    (void)state;
    PIRP irp = IoAllocateIrp(1, FALSE);
    PMDL a = IoAllocateMdl(pages, 10, FALSE, FALSE, irp);
    assert_ptr_equal(irp->MdlAddress, a);
    PMDL b = IoAllocateMdl(pages + 100, 20, TRUE, FALSE, irp);
    PMDL c = IoAllocateMdl(pages + 200, 30, TRUE, FALSE, irp);
    assert_ptr_equal(irp->MdlAddress, a);
    assert_ptr_equal(a->Next, b);
    assert_ptr_equal(b->Next, c);
    assert_null(c->Next);

    /* Walk the chain as a provider gathers a WSK_BUF with an offset. */
    WSK_BUF wb = { .Mdl = a, .Offset = 4, .Length = 6 + 20 + 5 };
    SIZE_T left = wb.Length, total = 0;
    ULONG off = wb.Offset;
    for (PMDL m = wb.Mdl; m != NULL && left > 0; m = m->Next) {
        MmBuildMdlForNonPagedPool(m);
        SIZE_T take = MmGetMdlByteCount(m) - off;
        if (take > left)
            take = left;
        total += take;
        left -= take;
        off = 0;
    }
    assert_int_equal(total, 31);
    assert_int_equal(left, 0);

    /* IoFreeMdl frees one MDL only: the chain is freed element by element. */
    PMDL m = irp->MdlAddress;
    while (m != NULL) {
        PMDL next = m->Next;
        IoFreeMdl(m);
        m = next;
    }
    IoFreeIrp(irp);
}

static void test_initialize_in_caller_memory(void **state)
{
    (void)state;
    _Alignas(8) UCHAR storage[sizeof(MDL) + 2 * sizeof(PFN_NUMBER)];
    PMDL m = (PMDL)storage;
    memset(storage, 0xEE, sizeof storage);
    MmInitializeMdl(m, pages + 0xfff, 2);
    assert_null(m->Next);
    assert_int_equal(m->MdlFlags, 0);
    assert_ptr_equal(m->StartVa, pages);
    assert_int_equal(m->ByteOffset, 0xfff);
    assert_int_equal(m->ByteCount, 2);
    assert_int_equal(m->Size, sizeof storage);
    MmBuildMdlForNonPagedPool(m);
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(m, NormalPagePriority), pages + 0xfff);
    assert_int_equal(MmGetMdlPfnArray(m)[1], MmGetMdlPfnArray(m)[0] + 1);
}

static void test_partial_mdl(void **state)
{
    (void)state;
    PMDL src = IoAllocateMdl(pages + 16, 8000, FALSE, FALSE, NULL);
    MmBuildMdlForNonPagedPool(src);
    PMDL part = IoAllocateMdl(pages + 16 + 4090, 100, FALSE, FALSE, NULL);
    IoBuildPartialMdl(src, part, pages + 16 + 4090, 100);
    assert_int_equal(part->MdlFlags & MDL_PARTIAL, MDL_PARTIAL);
    assert_int_equal(part->ByteCount, 100);
    assert_ptr_equal(MmGetMdlVirtualAddress(part), pages + 16 + 4090);
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(part, NormalPagePriority), pages + 16 + 4090);
    IoFreeMdl(part);
    IoFreeMdl(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocate_unaligned),
        cmocka_unit_test(test_build_for_nonpaged_pool),
        cmocka_unit_test(test_probe_lock_and_map),
        cmocka_unit_test(test_map_plain_mdl),
        cmocka_unit_test(test_irp_chains),
        cmocka_unit_test(test_initialize_in_caller_memory),
        cmocka_unit_test(test_partial_mdl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
