/*
 * ntdef.h - Windows base types for wskstack (Linux, LP64).
 *
 * Windows is LLP64: ULONG and LONG are 32 bits wide.  Linux x86-64 is LP64,
 * where C `long` is 64 bits, so nothing here is ever built on C `long`
 * (WSK-SPEC section 1).  Every width comes from <stdint.h>.
 *
 * This header is meant to be included together with the usual C library
 * headers (stdio, stdlib, string, pthread, ... with _GNU_SOURCE), so it
 * defines no name that glibc already defines there (u_long, u_short, ...).
 * It is NOT meant to be combined with <sys/socket.h> or <netinet/in.h>.
 *
 * Calling conventions (NTAPI, WSKAPI, CALLBACK) are empty: client code is
 * compiled natively for Linux, never loaded as a PE image.
 */
#ifndef WSS_NTDEF_H
#define WSS_NTDEF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

/* Public entry points of libwskstack; the build uses -fvisibility=hidden. */
#ifndef WSS_EXPORT
#define WSS_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
#define WSS_EXTERN_C_BEGIN extern "C" {
#define WSS_EXTERN_C_END }
#else
#define WSS_EXTERN_C_BEGIN
#define WSS_EXTERN_C_END
#endif

/* ---- calling conventions and declaration decorations (all empty) ---- */
#define NTAPI
#define NTAPI_INLINE
#define WSKAPI
#define WSAAPI
#define CALLBACK
#define WINAPI
#define FASTCALL
#define __stdcall
#define __cdecl
#define __fastcall
#define NTKERNELAPI
#define NTSYSAPI
#define NTHALAPI
#define DECLSPEC_IMPORT
#define DECLSPEC_EXPORT
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#define FORCEINLINE static inline __attribute__((always_inline))
#define CONST const
#define IN
#define OUT
#define OPTIONAL
#define _ANONYMOUS_UNION
#define _ANONYMOUS_STRUCT
#define DUMMYUNIONNAME
#define DUMMYSTRUCTNAME

/* ---- base integer types (Windows widths) ---- */
#define VOID void
typedef void *PVOID, *LPVOID;
typedef const void *PCVOID, *LPCVOID;
typedef void **PPVOID;

typedef char CHAR;                 /* 8 bit, signedness as the platform */
typedef char *PCHAR, *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR;
typedef int8_t CCHAR;
typedef uint8_t UCHAR, *PUCHAR;
typedef uint8_t BYTE, *PBYTE;
typedef uint8_t BOOLEAN, *PBOOLEAN;
typedef int16_t SHORT, *PSHORT;
typedef int16_t CSHORT;
typedef uint16_t USHORT, *PUSHORT;
typedef uint16_t WORD, *PWORD;
typedef int32_t LONG, *PLONG;
typedef uint32_t ULONG, *PULONG;
typedef uint32_t DWORD, *PDWORD, *LPDWORD;
typedef int32_t INT, *PINT;
typedef uint32_t UINT, *PUINT;
typedef int32_t BOOL;
typedef int64_t LONGLONG, *PLONGLONG;
typedef uint64_t ULONGLONG, *PULONGLONG;
typedef int64_t LONG64, *PLONG64;
typedef uint64_t ULONG64, *PULONG64, DWORD64, *PDWORD64;
typedef int32_t LONG32, *PLONG32;
typedef uint32_t ULONG32, *PULONG32;
typedef int64_t INT64;
typedef uint64_t UINT64;
typedef int32_t INT32;
typedef uint32_t UINT32;
typedef int16_t INT16;
typedef uint16_t UINT16;
typedef int8_t INT8;
typedef uint8_t UINT8;
typedef intptr_t LONG_PTR, *PLONG_PTR, INT_PTR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR, UINT_PTR, DWORD_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef intptr_t SSIZE_T, *PSSIZE_T;
typedef PVOID HANDLE, *PHANDLE;
typedef ULONG LOGICAL, *PLOGICAL;

/*
 * WCHAR is the compiler's wchar_t so that L"..." literals work unchanged
 * (RtlInitUnicodeString(&s, L"name")).  It is 32 bits on Linux unless the
 * client compiles with -fshort-wchar; nothing in the WSK datagram path
 * depends on its width (UNICODE_STRING only holds a pointer to it).
 */
typedef wchar_t WCHAR, *PWCHAR, *PWSTR, *LPWSTR;
typedef const wchar_t *PCWSTR, *LPCWSTR;
typedef PWSTR *PPWSTR;

typedef UCHAR KIRQL, *PKIRQL;
typedef CCHAR KPROCESSOR_MODE;
typedef LONG KPRIORITY;
typedef ULONG_PTR KAFFINITY;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef ULONG ACCESS_MASK;
typedef ULONG_PTR PFN_NUMBER, *PPFN_NUMBER;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif

#define MAXUCHAR 0xff
#define MAXUSHORT 0xffff
#define MAXULONG 0xffffffffU
#define MAXLONG 0x7fffffff
#define MINLONG (-MAXLONG - 1)
#define MAXLONGLONG INT64_MAX
#define MAXULONG_PTR UINTPTR_MAX
#define MAXSIZE_T SIZE_MAX

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID, *PGUID, *LPGUID;
typedef const GUID *LPCGUID, *PCGUID;
#define IsEqualGUID(a, b) (memcmp((a), (b), sizeof(GUID)) == 0)

typedef struct _UNICODE_STRING {
    USHORT Length;          /* bytes, without terminator */
    USHORT MaximumLength;   /* bytes */
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING;

/* ---- NTSTATUS severity (WSK-SPEC section 1) ---- */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)

/* ---- structure helpers ---- */
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field) \
    (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#define RTL_NUMBER_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ARRAYSIZE(a) RTL_NUMBER_OF(a)
#define TYPE_ALIGNMENT(t) _Alignof(t)
#define MAX_NATURAL_ALIGNMENT sizeof(ULONGLONG)
#define MEMORY_ALLOCATION_ALIGNMENT 16
#define CONTAINING_RECORD(address, type, field) \
    ((type *)((PCHAR)(address) - offsetof(type, field)))
#define ALIGN_DOWN_BY(length, alignment) \
    ((ULONG_PTR)(length) & ~((ULONG_PTR)(alignment) - 1))
#define ALIGN_UP_BY(length, alignment) \
    (ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment) - 1), alignment))
#define ALIGN_DOWN_POINTER_BY(p, a) ((PVOID)ALIGN_DOWN_BY(p, a))
#define ALIGN_UP_POINTER_BY(p, a) ((PVOID)ALIGN_UP_BY(p, a))
#define C_ASSERT(e) _Static_assert(e, #e)
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
#define ARGUMENT_PRESENT(ArgumentPointer) ((CHAR *)((ULONG_PTR)(ArgumentPointer)) != (CHAR *)NULL)
#define PAGED_CODE() ((void)0)
#define PAGED_CODE_LOCKED() ((void)0)
#define INIT_CODE_SEG
#define PAGE_CODE_SEG
#define ANYSIZE_ARRAY 1

/*
 * ASSERT as in a Windows free build, unless DBG is non-zero: then a failed
 * assertion prints the expression and aborts.  The expression is still
 * "used" in the free build so that variables only asserted on do not
 * trigger -Wunused warnings.
 */
#if defined(DBG) && DBG
#include <stdio.h>
#include <stdlib.h>
#define ASSERT(e) \
    ((e) ? (void)0 \
         : (fprintf(stderr, "ASSERT failed: %s at %s:%d\n", #e, __FILE__, __LINE__), abort()))
#else
#define ASSERT(e) ((void)sizeof((e) ? 1 : 0))
#endif
#define ASSERTMSG(msg, e) ASSERT(e)
#define NT_ASSERT(e) ASSERT(e)
#define NT_ASSERTMSG(msg, e) ASSERT(e)
#define NT_VERIFY(e) ((e) ? TRUE : FALSE)

/* ---- SAL annotations: all empty ---- */
#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _Inout_z_
#define _In_reads_(x)
#define _In_reads_opt_(x)
#define _In_reads_bytes_(x)
#define _In_reads_bytes_opt_(x)
#define _Out_writes_(x)
#define _Out_writes_opt_(x)
#define _Out_writes_bytes_(x)
#define _Out_writes_bytes_opt_(x)
#define _Out_writes_bytes_to_(x, y)
#define _Out_writes_bytes_to_opt_(x, y)
#define _Out_writes_to_(x, y)
#define _Inout_updates_(x)
#define _Inout_updates_opt_(x)
#define _Inout_updates_bytes_(x)
#define _Inout_updates_bytes_opt_(x)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_opt_result_maybenull_
#define _Outptr_result_bytebuffer_(x)
#define _Out_range_(a, b)
#define _In_range_(a, b)
#define _Deref_out_range_(a, b)
#define _Must_inspect_result_
#define _Check_return_
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_range_(a, b)
#define _Result_nullonfailure_
#define _Post_invalid_
#define _Post_writable_byte_size_(x)
#define _Post_maybenull_
#define _Pre_notnull_
#define _Null_terminated_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Reserved_
#define _Field_size_(x)
#define _Field_size_opt_(x)
#define _Field_size_bytes_(x)
#define _Field_size_bytes_opt_(x)
#define _Field_size_bytes_part_(x, y)
#define _Field_range_(a, b)
#define _Struct_size_bytes_(x)
#define _Analysis_assume_(x)
#define _Analysis_mode_(x)
#define _Use_decl_annotations_
#define _Function_class_(x)
#define _Success_(x)
#define _Return_type_success_(x)
#define _When_(a, b)
#define _At_(a, b)
#define _At_buffer_(a, b, c, d)
#define _On_failure_(x)
#define _Always_(x)
#define _Pre_satisfies_(x)
#define _Post_satisfies_(x)
#define _Requires_lock_held_(x)
#define _Requires_lock_not_held_(x)
#define _Acquires_lock_(x)
#define _Releases_lock_(x)
#define _Acquires_exclusive_lock_(x)
#define _Releases_exclusive_lock_(x)
#define _Acquires_shared_lock_(x)
#define _Releases_shared_lock_(x)
#define _Guarded_by_(x)
#define _Interlocked_
#define _Interlocked_operand_
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _Kernel_requires_resource_held_(x)
#define _Kernel_clear_do_init_(x)
#define _Kernel_IoGetDmaAdapter_
#define _IRQL_requires_(x)
#define _IRQL_requires_max_(x)
#define _IRQL_requires_min_(x)
#define _IRQL_requires_same_
#define _IRQL_raises_(x)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(a, b)
#define _IRQL_restores_global_(a, b)
#define _IRQL_always_function_max_(x)
#define _IRQL_always_function_min_(x)
#define _IRQL_uses_cancel_
#define _IRQL_is_cancel_
#define _Dispatch_type_(x)
#define _Strict_type_match_
#define _Points_to_data_
#define _Literal_
#define _Notliteral_
#define _Printf_format_string_
#define _Post_
#define _Pre_
#define _Deref_post_
#define _Deref_pre_
#define _Notnull_
#define _Maybenull_
#define _Readable_bytes_(x)
#define _Writable_bytes_(x)
#define _Writable_elements_(x)
#define _Valid_
#define _Pre_valid_
#define _Post_valid_
#define _Inexpressible_(x)
#define _Pre_defensive_
#define _Out_writes_bytes_all_(x)
#define _Out_writes_all_(x)
#define __drv_aliasesMem
#define __drv_freesMem(x)
#define __drv_allocatesMem(x)
#define __drv_when(a, b)
#define __drv_maxIRQL(x)
#define __drv_requiresIRQL(x)
#define __drv_dispatchType(x)
#define __drv_sameIRQL
#define __drv_savesIRQL
#define __drv_restoresIRQL
#define __drv_raisesIRQL(x)
#define __drv_functionClass(x)
#define __drv_strictTypeMatch(x)
#define __drv_useCancelIRQL

/* ---- doubly linked list (intrusive, circular, with a sentinel head) ---- */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

static inline void InitializeListHead(PLIST_ENTRY ListHead)
{
    ListHead->Flink = ListHead->Blink = ListHead;
}

static inline BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead)
{
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

/* Returns TRUE if the list is empty after the removal. */
static inline BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY Blink = Entry->Blink;
    PLIST_ENTRY Flink = Entry->Flink;
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return (BOOLEAN)(Flink == Blink);
}

static inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Flink;
    RemoveEntryList(Entry);
    return Entry;
}

static inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Blink;
    RemoveEntryList(Entry);
    return Entry;
}

static inline void InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Blink = ListHead->Blink;
    Entry->Flink = ListHead;
    Entry->Blink = Blink;
    Blink->Flink = Entry;
    ListHead->Blink = Entry;
}

static inline void InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = ListHead->Flink;
    Entry->Flink = Flink;
    Entry->Blink = ListHead;
    Flink->Blink = Entry;
    ListHead->Flink = Entry;
}

static inline void AppendTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListToAppend)
{
    PLIST_ENTRY ListEnd = ListHead->Blink;
    ListHead->Blink->Flink = ListToAppend;
    ListHead->Blink = ListToAppend->Blink;
    ListToAppend->Blink->Flink = ListHead;
    ListToAppend->Blink = ListEnd;
}

static inline PSINGLE_LIST_ENTRY PopEntryList(PSINGLE_LIST_ENTRY ListHead)
{
    PSINGLE_LIST_ENTRY First = ListHead->Next;
    if (First != NULL)
        ListHead->Next = First->Next;
    return First;
}

static inline void PushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY Entry)
{
    Entry->Next = ListHead->Next;
    ListHead->Next = Entry;
}

#endif /* WSS_NTDEF_H */
