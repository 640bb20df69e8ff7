/*
 * test_layout.c - the Windows x64 sizes, offsets and numbers that WSK client
 * code compiled against include/wsk/ relies on (WSK-SPEC 1, 2.7, 3, 4.2).
 * Every expected number is written out literally from the spec: a header
 * change that moves a field or a value fails here.
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

#define OFF(type, field) ((size_t)offsetof(type, field))

static void test_base_type_widths(void **state)
{
    (void)state;
    assert_int_equal(sizeof(UCHAR), 1);
    assert_int_equal(sizeof(BOOLEAN), 1);
    assert_int_equal(sizeof(CCHAR), 1);
    assert_int_equal(sizeof(KIRQL), 1);
    assert_int_equal(sizeof(USHORT), 2);
    assert_int_equal(sizeof(CSHORT), 2);
    assert_int_equal(sizeof(ADDRESS_FAMILY), 2);
    assert_int_equal(sizeof(ULONG), 4);
    assert_int_equal(sizeof(LONG), 4);
    assert_int_equal(sizeof(NTSTATUS), 4);
    assert_int_equal(sizeof(ULONGLONG), 8);
    assert_int_equal(sizeof(LONGLONG), 8);
    assert_int_equal(sizeof(SIZE_T), 8);
    assert_int_equal(sizeof(ULONG_PTR), 8);
    assert_int_equal(sizeof(KSPIN_LOCK), 8);
    assert_int_equal(sizeof(PVOID), 8);
    assert_int_equal(sizeof(HANDLE), 8);
    assert_int_equal(sizeof(LARGE_INTEGER), 8);
    assert_int_equal(sizeof(GUID), 16);
    assert_int_equal(sizeof(LIST_ENTRY), 16);
    assert_int_equal(sizeof(UNICODE_STRING), 16);
    assert_int_equal(OFF(UNICODE_STRING, Buffer), 8);
    /* ULONG is unsigned and LONG signed, whatever C long is. */
    assert_true((ULONG)-1 == 0xffffffffu);
    assert_true((LONG)0xffffffffu < 0);
    assert_int_equal(MAX_NATURAL_ALIGNMENT, 8);
    assert_int_equal(TYPE_ALIGNMENT(ULONGLONG), 8);
}

static void test_ntstatus_values(void **state)
{
    (void)state;
    assert_int_equal(STATUS_SUCCESS, 0);
    assert_int_equal(STATUS_WAIT_0, 0);
    assert_int_equal(STATUS_USER_APC, 0xC0);
    assert_int_equal(STATUS_ALERTED, 0x101);
    assert_int_equal(STATUS_TIMEOUT, 0x102);
    assert_int_equal(STATUS_PENDING, 0x103);
    assert_int_equal((ULONG)STATUS_EVENT_PENDING, 0x40000013u);
    assert_int_equal((ULONG)STATUS_BUFFER_OVERFLOW, 0x80000005u);
    assert_int_equal((ULONG)STATUS_UNSUCCESSFUL, 0xC0000001u);
    assert_int_equal((ULONG)STATUS_INVALID_PARAMETER, 0xC000000Du);
    assert_int_equal((ULONG)STATUS_INVALID_DEVICE_REQUEST, 0xC0000010u);
    assert_int_equal((ULONG)STATUS_MORE_PROCESSING_REQUIRED, 0xC0000016u);
    assert_int_equal((ULONG)STATUS_ACCESS_DENIED, 0xC0000022u);
    assert_int_equal((ULONG)STATUS_INSUFFICIENT_RESOURCES, 0xC000009Au);
    assert_int_equal((ULONG)STATUS_DEVICE_NOT_READY, 0xC00000A3u);
    assert_int_equal((ULONG)STATUS_FILE_FORCED_CLOSED, 0xC00000B6u);
    assert_int_equal((ULONG)STATUS_NOT_SUPPORTED, 0xC00000BBu);
    assert_int_equal((ULONG)STATUS_REQUEST_NOT_ACCEPTED, 0xC00000D0u);
    assert_int_equal((ULONG)STATUS_CANCELLED, 0xC0000120u);
    assert_int_equal((ULONG)STATUS_INVALID_DEVICE_STATE, 0xC0000184u);
    assert_int_equal((ULONG)STATUS_INVALID_BUFFER_SIZE, 0xC0000206u);
    assert_int_equal((ULONG)STATUS_DATA_NOT_ACCEPTED, 0xC000021Bu);
    assert_int_equal((ULONG)STATUS_ADDRESS_ALREADY_ASSOCIATED, 0xC0000238u);
    assert_int_equal((ULONG)STATUS_NETWORK_UNREACHABLE, 0xC000023Cu);
    assert_int_equal((ULONG)STATUS_HOST_UNREACHABLE, 0xC000023Du);
    assert_int_equal((ULONG)STATUS_NOINTERFACE, 0xC00002B9u);
    assert_int_equal((ULONG)STATUS_HOST_DOWN, 0xC0000350u);
    assert_int_equal((ULONG)STATUS_PROTOCOL_NOT_SUPPORTED, 0xC000A013u);
    /* NTSTATUS is a signed 32-bit value: error codes are negative. */
    assert_true(STATUS_CANCELLED < 0);
    assert_true(STATUS_BUFFER_OVERFLOW < 0);
    assert_true(STATUS_EVENT_PENDING > 0);
}

static void test_ntstatus_severity(void **state)
{
    (void)state;
    assert_true(NT_SUCCESS(STATUS_SUCCESS));
    assert_true(NT_SUCCESS(STATUS_PENDING));
    assert_true(NT_SUCCESS(STATUS_TIMEOUT));
    assert_true(NT_SUCCESS(STATUS_EVENT_PENDING));
    assert_false(NT_SUCCESS(STATUS_BUFFER_OVERFLOW));
    assert_false(NT_SUCCESS(STATUS_CANCELLED));
    assert_false(NT_SUCCESS(STATUS_MORE_PROCESSING_REQUIRED));

    assert_true(NT_INFORMATION(STATUS_EVENT_PENDING));
    assert_false(NT_INFORMATION(STATUS_PENDING));
    assert_true(NT_WARNING(STATUS_BUFFER_OVERFLOW));
    assert_false(NT_ERROR(STATUS_BUFFER_OVERFLOW));
    assert_true(NT_ERROR(STATUS_CANCELLED));
    assert_false(NT_WARNING(STATUS_CANCELLED));
    assert_false(NT_ERROR(STATUS_SUCCESS));
}

static void test_wsk_struct_layouts(void **state)
{
    (void)state;
    assert_int_equal(sizeof(WSK_BUF), 24);
    assert_int_equal(OFF(WSK_BUF, Mdl), 0);
    assert_int_equal(OFF(WSK_BUF, Offset), 8);
    assert_int_equal(OFF(WSK_BUF, Length), 16);

    assert_int_equal(sizeof(WSK_BUF_LIST), 32);
    assert_int_equal(OFF(WSK_BUF_LIST, Next), 0);
    assert_int_equal(OFF(WSK_BUF_LIST, Buffer), 8);
    assert_int_equal(sizeof(WSK_DATA_INDICATION), 32);
    assert_int_equal(OFF(WSK_DATA_INDICATION, Next), 0);
    assert_int_equal(OFF(WSK_DATA_INDICATION, Buffer), 8);

    assert_int_equal(sizeof(WSK_DATAGRAM_INDICATION), 56);
    assert_int_equal(OFF(WSK_DATAGRAM_INDICATION, Next), 0);
    assert_int_equal(OFF(WSK_DATAGRAM_INDICATION, Buffer), 8);
    assert_int_equal(OFF(WSK_DATAGRAM_INDICATION, ControlInfo), 32);
    assert_int_equal(OFF(WSK_DATAGRAM_INDICATION, ControlInfoLength), 40);
    assert_int_equal(OFF(WSK_DATAGRAM_INDICATION, RemoteAddress), 48);

    assert_int_equal(sizeof(WSK_CLIENT_DISPATCH), 16);
    assert_int_equal(OFF(WSK_CLIENT_DISPATCH, Version), 0);
    assert_int_equal(OFF(WSK_CLIENT_DISPATCH, Reserved), 2);
    assert_int_equal(OFF(WSK_CLIENT_DISPATCH, WskClientEvent), 8);

    assert_int_equal(sizeof(WSK_PROVIDER_DISPATCH), 56);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, Version), 0);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, Reserved), 2);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, WskSocket), 8);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, WskSocketConnect), 16);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, WskControlClient), 24);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, WskGetAddressInfo), 32);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, WskFreeAddressInfo), 40);
    assert_int_equal(OFF(WSK_PROVIDER_DISPATCH, WskGetNameInfo), 48);

    assert_int_equal(sizeof(WSK_CLIENT_NPI), 16);
    assert_int_equal(sizeof(WSK_PROVIDER_NPI), 16);
    assert_int_equal(OFF(WSK_PROVIDER_NPI, Dispatch), 8);
    assert_int_equal(sizeof(WSK_REGISTRATION), 24);
    assert_int_equal(sizeof(WSK_PROVIDER_CHARACTERISTICS), 4);
    assert_int_equal(sizeof(WSK_SOCKET), 8);

    assert_int_equal(sizeof(WSK_EVENT_CALLBACK_CONTROL), 16);
    assert_int_equal(OFF(WSK_EVENT_CALLBACK_CONTROL, NpiId), 0);
    assert_int_equal(OFF(WSK_EVENT_CALLBACK_CONTROL, EventMask), 8);

    assert_int_equal(sizeof(WSK_TRANSPORT), 28);
    assert_int_equal(_Alignof(WSK_TRANSPORT), 4);
    assert_int_equal(OFF(WSK_TRANSPORT, Version), 0);
    assert_int_equal(OFF(WSK_TRANSPORT, SocketType), 2);
    assert_int_equal(OFF(WSK_TRANSPORT, Protocol), 4);
    assert_int_equal(OFF(WSK_TRANSPORT, AddressFamily), 8);
    assert_int_equal(OFF(WSK_TRANSPORT, ProviderId), 12);

    assert_int_equal(sizeof(WSK_INSPECT_ID), 16);
}

static void test_wsk_dispatch_tables(void **state)
{
    (void)state;
    assert_int_equal(sizeof(WSK_PROVIDER_BASIC_DISPATCH), 16);
    assert_int_equal(sizeof(WSK_PROVIDER_DATAGRAM_DISPATCH), 64);
    assert_int_equal(sizeof(WSK_PROVIDER_LISTEN_DISPATCH), 48);
    assert_int_equal(sizeof(WSK_PROVIDER_CONNECTION_DISPATCH), 104);
    assert_int_equal(sizeof(WSK_PROVIDER_STREAM_DISPATCH), 120);

    /* Basic entries first, in every table, reachable without a member name. */
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskControlSocket), 0);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskCloseSocket), 8);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, Basic), 0);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskBind), 16);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskSendTo), 24);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskReceiveFrom), 32);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskRelease), 40);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskGetLocalAddress), 48);
    assert_int_equal(OFF(WSK_PROVIDER_DATAGRAM_DISPATCH, WskSendMessages), 56);

    assert_int_equal(OFF(WSK_PROVIDER_LISTEN_DISPATCH, WskCloseSocket), 8);
    assert_int_equal(OFF(WSK_PROVIDER_LISTEN_DISPATCH, WskBind), 16);
    assert_int_equal(OFF(WSK_PROVIDER_LISTEN_DISPATCH, WskAccept), 24);
    assert_int_equal(OFF(WSK_PROVIDER_LISTEN_DISPATCH, WskInspectComplete), 32);
    assert_int_equal(OFF(WSK_PROVIDER_LISTEN_DISPATCH, WskGetLocalAddress), 40);

    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskCloseSocket), 8);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskBind), 16);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskConnect), 24);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskGetLocalAddress), 32);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskGetRemoteAddress), 40);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskSend), 48);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskReceive), 56);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskDisconnect), 64);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskRelease), 72);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskConnectEx), 80);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskSendEx), 88);
    assert_int_equal(OFF(WSK_PROVIDER_CONNECTION_DISPATCH, WskReceiveEx), 96);

    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskCloseSocket), 8);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskBind), 16);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskAccept), 24);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskConnect), 32);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskListen), 40);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskSend), 48);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskReceive), 56);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskDisconnect), 64);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskRelease), 72);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskGetLocalAddress), 80);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskGetRemoteAddress), 88);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskConnectEx), 96);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskSendEx), 104);
    assert_int_equal(OFF(WSK_PROVIDER_STREAM_DISPATCH, WskReceiveEx), 112);

    assert_int_equal(sizeof(WSK_CLIENT_DATAGRAM_DISPATCH), 8);
    assert_int_equal(sizeof(WSK_CLIENT_CONNECTION_DISPATCH), 24);
    assert_int_equal(sizeof(WSK_CLIENT_LISTEN_DISPATCH), 24);
    assert_int_equal(sizeof(WSK_CLIENT_STREAM_DISPATCH), 16);
}

/* A function stored through the basic view is seen through every table. */
static NTSTATUS dummy_close(PWSK_SOCKET Socket, PIRP Irp)
{
    (void)Socket;
    (void)Irp;
    return STATUS_NOT_IMPLEMENTED;
}

static void test_wsk_basic_view_aliases(void **state)
{
    (void)state;
    WSK_PROVIDER_DATAGRAM_DISPATCH d;
    memset(&d, 0, sizeof d);
    d.Basic.WskCloseSocket = dummy_close;
    assert_ptr_equal(d.WskCloseSocket, dummy_close);
    const WSK_PROVIDER_BASIC_DISPATCH *b = (const WSK_PROVIDER_BASIC_DISPATCH *)&d;
    assert_ptr_equal(b->WskCloseSocket, dummy_close);
    assert_int_equal(b->WskCloseSocket(NULL, NULL), STATUS_NOT_IMPLEMENTED);
}

static void test_wsk_constants(void **state)
{
    (void)state;
    assert_int_equal(MAKE_WSK_VERSION(1, 0), 0x0100);
    assert_int_equal(MAKE_WSK_VERSION(1, 2), 0x0102);
    assert_int_equal(WSK_MAJOR_VERSION(0x0102), 1);
    assert_int_equal(WSK_MINOR_VERSION(0x0102), 2);
    assert_int_equal(WSK_NO_WAIT, 0);
    assert_int_equal((ULONG)WSK_INFINITE_WAIT, 0xffffffffu);

    assert_int_equal(WSK_FLAG_BASIC_SOCKET, 0);
    assert_int_equal(WSK_FLAG_LISTEN_SOCKET, 1);
    assert_int_equal(WSK_FLAG_CONNECTION_SOCKET, 2);
    assert_int_equal(WSK_FLAG_DATAGRAM_SOCKET, 4);
    assert_int_equal(WSK_FLAG_STREAM_SOCKET, 8);
    assert_int_equal(WSK_FLAG_NODELAY, 2);
    assert_int_equal(WSK_FLAG_WAITALL, 2);
    assert_int_equal(WSK_FLAG_DRAIN, 4);
    assert_int_equal(WSK_FLAG_ABORTIVE, 1);
    assert_int_equal(WSK_FLAG_RELEASE_ASAP, 2);
    assert_int_equal(WSK_FLAG_ENTIRE_MESSAGE, 4);
    assert_int_equal(WSK_FLAG_AT_DISPATCH_LEVEL, 8);

    assert_int_equal(WSK_EVENT_SEND_BACKLOG, 0x10);
    assert_int_equal(WSK_EVENT_RECEIVE, 0x40);
    assert_int_equal(WSK_EVENT_DISCONNECT, 0x80);
    assert_int_equal(WSK_EVENT_RECEIVE_FROM, 0x100);
    assert_int_equal(WSK_EVENT_ACCEPT, 0x200);
    assert_int_equal((ULONG)WSK_EVENT_DISABLE, 0x80000000u);

    assert_int_equal(WSK_TRANSPORT_LIST_QUERY, 2);
    assert_int_equal(WSK_TRANSPORT_LIST_CHANGE, 3);
    assert_int_equal(WSK_CACHE_SD, 4);
    assert_int_equal(WSK_RELEASE_SD, 5);
    assert_int_equal(WSK_TDI_DEVICENAME_MAPPING, 6);
    assert_int_equal(WSK_SET_STATIC_EVENT_CALLBACKS, 7);
    assert_int_equal(WSK_TDI_BEHAVIOR, 8);
    assert_int_equal(SO_WSK_SECURITY, 0x4001);
    assert_int_equal(SO_WSK_EVENT_CALLBACK, 0x4002);

    assert_int_equal(IOC_WSK, 0x0F000000u);
    assert_int_equal(SIO_WSK_SET_REMOTE_ADDRESS, 0x8F000001u);
    assert_int_equal(SIO_WSK_REGISTER_EXTENSION, 0xCF000002u);
    assert_int_equal(SIO_WSK_QUERY_IDEAL_SEND_BACKLOG, 0x4F000003u);
    assert_int_equal(SIO_WSK_QUERY_RECEIVE_BACKLOG, 0x4F000004u);
    assert_int_equal(SIO_WSK_QUERY_INSPECT_ID, 0x4F000005u);
    assert_int_equal(SIO_WSK_SET_SENDTO_ADDRESS, 0x8F000006u);
    assert_int_equal(SIO_WSK_SET_TCP_SILENT_MODE, 0x2F000007u);
    assert_int_equal(SIO_GET_EXTENSION_FUNCTION_POINTER, 0xC8000006u);
    assert_int_equal(SIO_ADDRESS_LIST_QUERY, 0x48000016u);
    assert_int_equal(SIO_UDP_CONNRESET, 0x9800000Cu);
    assert_int_equal(SIO_UDP_NETRESET, 0x9800000Fu);

    assert_int_equal(WskSetOption, 0);
    assert_int_equal(WskGetOption, 1);
    assert_int_equal(WskIoctl, 2);
    assert_int_equal(WskInspectReject, 0);
    assert_int_equal(WskInspectAccept, 1);
    assert_int_equal(WskInspectPend, 2);
}

static void test_winsock_numbers(void **state)
{
    (void)state;
    assert_int_equal(AF_UNSPEC, 0);
    assert_int_equal(AF_INET, 2);
    assert_int_equal(AF_INET6, 23);
    assert_int_equal(SOCK_STREAM, 1);
    assert_int_equal(SOCK_DGRAM, 2);
    assert_int_equal(SOCK_RAW, 3);
    assert_int_equal(IPPROTO_IP, 0);
    assert_int_equal(IPPROTO_ICMP, 1);
    assert_int_equal(IPPROTO_TCP, 6);
    assert_int_equal(IPPROTO_UDP, 17);
    assert_int_equal(IPPROTO_IPV6, 41);
    assert_int_equal(IPPROTO_ICMPV6, 58);
    assert_int_equal(IPPROTO_RAW, 255);

    assert_int_equal(SOL_SOCKET, 0xffff);
    assert_int_equal(SO_REUSEADDR, 4);
    assert_int_equal(SO_BROADCAST, 0x20);
    assert_int_equal(SO_SNDBUF, 0x1001);
    assert_int_equal(SO_RCVBUF, 0x1002);
    assert_int_equal((ULONG)SO_EXCLUSIVEADDRUSE, 0xFFFFFFFBu);
    assert_int_equal(SO_MAX_MSG_SIZE, 0x2003);
    assert_int_equal(SO_PORT_SCALABILITY, 0x3006);

    assert_int_equal(IP_OPTIONS, 1);
    assert_int_equal(IP_TTL, 4);
    assert_int_equal(IP_DONTFRAGMENT, 14);
    assert_int_equal(IP_PKTINFO, 19);
    assert_int_equal(IP_HOPLIMIT, 21);
    assert_int_equal(IP_UNICAST_IF, 31);
    assert_int_equal(IP_RECVTOS, 40);
    assert_int_equal(IP_ECN, 50);
    assert_int_equal(IP_MTU_DISCOVER, 71);
    assert_int_equal(IP_RECVERR, 75);
    assert_int_equal(IPV6_UNICAST_HOPS, 4);
    assert_int_equal(IPV6_DONTFRAG, 14);
    assert_int_equal(IPV6_PKTINFO, 19);
    assert_int_equal(IPV6_V6ONLY, 27);
    assert_int_equal(IPV6_RTHDR, 32);
    assert_int_equal(IPV6_RECVTCLASS, 40);
    assert_int_equal(IPV6_MTU, 72);
    assert_int_equal(IPV6_RECVERR, 75);
    assert_int_equal(UDP_NOCHECKSUM, 1);
    assert_int_equal(UDP_SEND_MSG_SIZE, 2);
    assert_int_equal(UDP_RECV_MAX_COALESCED_SIZE, 3);
    assert_int_equal(UDP_CHECKSUM_COVERAGE, 20);

    assert_int_equal(MSG_OOB, 1);
    assert_int_equal(MSG_PEEK, 2);
    assert_int_equal(MSG_DONTROUTE, 4);
    assert_int_equal(MSG_WAITALL, 8);
    assert_int_equal(MSG_TRUNC, 0x100);
    assert_int_equal(MSG_CTRUNC, 0x200);
    assert_int_equal(MSG_BCAST, 0x400);
    assert_int_equal(MSG_MCAST, 0x800);
    assert_int_equal(MSG_PARTIAL, 0x8000);

    assert_int_equal(INADDR_ANY, 0);
    assert_int_equal(INADDR_LOOPBACK, 0x7f000001);
    assert_int_equal(INADDR_BROADCAST, 0xffffffffu);
}

static void test_sockaddr_layouts(void **state)
{
    (void)state;
    assert_int_equal(sizeof(IN_ADDR), 4);
    assert_int_equal(sizeof(IN6_ADDR), 16);
    assert_int_equal(sizeof(SOCKADDR), 16);
    assert_int_equal(_Alignof(SOCKADDR), 2);
    assert_int_equal(OFF(SOCKADDR, sa_data), 2);

    assert_int_equal(sizeof(SOCKADDR_IN), 16);
    assert_int_equal(_Alignof(SOCKADDR_IN), 4);
    assert_int_equal(OFF(SOCKADDR_IN, sin_port), 2);
    assert_int_equal(OFF(SOCKADDR_IN, sin_addr), 4);
    assert_int_equal(OFF(SOCKADDR_IN, sin_zero), 8);

    assert_int_equal(sizeof(SOCKADDR_IN6), 28);
    assert_int_equal(_Alignof(SOCKADDR_IN6), 4);
    assert_int_equal(OFF(SOCKADDR_IN6, sin6_port), 2);
    assert_int_equal(OFF(SOCKADDR_IN6, sin6_flowinfo), 4);
    assert_int_equal(OFF(SOCKADDR_IN6, sin6_addr), 8);
    assert_int_equal(OFF(SOCKADDR_IN6, sin6_scope_id), 24);
    assert_int_equal(OFF(SOCKADDR_IN6, sin6_scope_struct), 24);

    assert_int_equal(sizeof(SOCKADDR_STORAGE), 128);
    assert_int_equal(_Alignof(SOCKADDR_STORAGE), 8);
    assert_int_equal(OFF(SOCKADDR_STORAGE, __ss_align), 8);
    assert_int_equal(sizeof(SOCKADDR_INET), 28);
    assert_int_equal(sizeof(SCOPE_ID), 4);
    assert_int_equal(sizeof(IN_PKTINFO), 8);
    assert_int_equal(OFF(IN_PKTINFO, ipi_ifindex), 4);
    assert_int_equal(sizeof(IN6_PKTINFO), 20);
    assert_int_equal(OFF(IN6_PKTINFO, ipi6_ifindex), 16);
    assert_int_equal(sizeof(WSABUF), 16);
    assert_int_equal(OFF(WSABUF, buf), 8);

    /* The IN_ADDR union views overlay the same 4 bytes. */
    IN_ADDR a;
    a.s_addr = RtlUlongByteSwap(0xC0000201u); /* 192.0.2.1 in network order */
    assert_int_equal(a.S_un.S_un_b.s_b1, 192);
    assert_int_equal(a.S_un.S_un_b.s_b4, 1);

    /* SCOPE_ID: Zone is the low 28 bits, Level the top 4. */
    SCOPE_ID s;
    s.Value = 0;
    s.Zone = 5;
    s.Level = ScopeLevelLink;
    assert_int_equal(s.Value, 0x20000005u);
}

static void test_cmsg_layout_and_macros(void **state)
{
    (void)state;
    assert_int_equal(sizeof(CMSGHDR), 16);
    assert_int_equal(OFF(CMSGHDR, cmsg_len), 0);
    assert_int_equal(sizeof(((CMSGHDR *)0)->cmsg_len), 8);
    assert_int_equal(OFF(CMSGHDR, cmsg_level), 8);
    assert_int_equal(OFF(CMSGHDR, cmsg_type), 12);

    assert_int_equal(WSA_CMSG_LEN(sizeof(IN_PKTINFO)), 24);
    assert_int_equal(WSA_CMSG_SPACE(sizeof(IN_PKTINFO)), 24);
    assert_int_equal(WSA_CMSG_LEN(sizeof(IN6_PKTINFO)), 36);
    assert_int_equal(WSA_CMSG_SPACE(sizeof(IN6_PKTINFO)), 40);
    assert_int_equal(WSA_CMSG_LEN(sizeof(INT)), 20);
    assert_int_equal(WSA_CMSG_SPACE(sizeof(INT)), 24);
    assert_int_equal(WSA_CMSG_LEN(0), 16);
    assert_int_equal(WSA_CMSG_SPACE(0), 16);
    assert_int_equal(CMSG_SPACE(20), 40);
    assert_int_equal(CMSG_LEN(20), 36);
    assert_int_equal(CMSGHDR_ALIGN(36), 40);
    assert_int_equal(CMSGDATA_ALIGN(17), 24);

    /* Walk: IN6_PKTINFO object, then a zero-payload one (WireGuard's). */
    _Alignas(8) UCHAR buf[64];
    memset(buf, 0xAA, sizeof buf);
    WSAMSG msg;
    memset(&msg, 0, sizeof msg);
    msg.Control.buf = (CHAR *)buf;
    msg.Control.len = (ULONG)(WSA_CMSG_SPACE(sizeof(IN6_PKTINFO)) + WSA_CMSG_SPACE(0));
    assert_int_equal(msg.Control.len, 56);

    PCMSGHDR c = WSA_CMSG_FIRSTHDR(&msg);
    assert_ptr_equal(c, buf);
    c->cmsg_len = WSA_CMSG_LEN(sizeof(IN6_PKTINFO));
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    assert_ptr_equal(WSA_CMSG_DATA(c), buf + 16);

    PCMSGHDR c2 = WSA_CMSG_NXTHDR(&msg, c);
    assert_ptr_equal(c2, buf + 40);
    c2->cmsg_len = WSA_CMSG_LEN(0);
    c2->cmsg_level = IPPROTO_IPV6;
    c2->cmsg_type = IPV6_RTHDR;
    assert_null(WSA_CMSG_NXTHDR(&msg, c2));
    assert_ptr_equal(WSA_CMSG_NXTHDR(&msg, NULL), buf);

    /* A corrupt cmsg_len ends the walk instead of looping or overrunning. */
    c->cmsg_len = 0;
    assert_null(WSA_CMSG_NXTHDR(&msg, c));
    c->cmsg_len = (SIZE_T)-1;
    assert_null(WSA_CMSG_NXTHDR(&msg, c));
    c->cmsg_len = msg.Control.len + 1;
    assert_null(WSA_CMSG_NXTHDR(&msg, c));

    msg.Control.len = 15; /* shorter than one header */
    assert_null(WSA_CMSG_FIRSTHDR(&msg));
}

static void test_nt_object_layouts(void **state)
{
    (void)state;
    /* MDL, WSK-SPEC 4.2 */
    assert_int_equal(sizeof(MDL), 48);
    assert_int_equal(OFF(MDL, Next), 0);
    assert_int_equal(OFF(MDL, Size), 8);
    assert_int_equal(OFF(MDL, MdlFlags), 10);
    assert_int_equal(OFF(MDL, Process), 16);
    assert_int_equal(OFF(MDL, MappedSystemVa), 24);
    assert_int_equal(OFF(MDL, StartVa), 32);
    assert_int_equal(OFF(MDL, ByteCount), 40);
    assert_int_equal(OFF(MDL, ByteOffset), 44);
    assert_int_equal(MDL_MAPPED_TO_SYSTEM_VA, 0x1);
    assert_int_equal(MDL_PAGES_LOCKED, 0x2);
    assert_int_equal(MDL_SOURCE_IS_NONPAGED_POOL, 0x4);
    assert_int_equal(MDL_PARTIAL, 0x10);
    assert_int_equal(MDL_NETWORK_HEADER, 0x1000);

    /* IO_STATUS_BLOCK and IRP, WSK-SPEC 4.1 (Windows x64 layout) */
    assert_int_equal(sizeof(IO_STATUS_BLOCK), 16);
    assert_int_equal(OFF(IO_STATUS_BLOCK, Information), 8);
    assert_int_equal(sizeof(IO_STACK_LOCATION), 72);
    assert_int_equal(OFF(IO_STACK_LOCATION, Control), 3);
    assert_int_equal(OFF(IO_STACK_LOCATION, Parameters), 8);
    assert_int_equal(OFF(IO_STACK_LOCATION, DeviceObject), 40);
    assert_int_equal(OFF(IO_STACK_LOCATION, FileObject), 48);
    assert_int_equal(OFF(IO_STACK_LOCATION, CompletionRoutine), 56);
    assert_int_equal(OFF(IO_STACK_LOCATION, Context), 64);

    assert_int_equal(sizeof(IRP), 208);
    assert_int_equal(OFF(IRP, Type), 0);
    assert_int_equal(OFF(IRP, Size), 2);
    assert_int_equal(OFF(IRP, MdlAddress), 8);
    assert_int_equal(OFF(IRP, Flags), 16);
    assert_int_equal(OFF(IRP, AssociatedIrp), 24);
    assert_int_equal(OFF(IRP, ThreadListEntry), 32);
    assert_int_equal(OFF(IRP, IoStatus), 48);
    assert_int_equal(OFF(IRP, RequestorMode), 64);
    assert_int_equal(OFF(IRP, PendingReturned), 65);
    assert_int_equal(OFF(IRP, StackCount), 66);
    assert_int_equal(OFF(IRP, CurrentLocation), 67);
    assert_int_equal(OFF(IRP, Cancel), 68);
    assert_int_equal(OFF(IRP, CancelIrql), 69);
    assert_int_equal(OFF(IRP, ApcEnvironment), 70);
    assert_int_equal(OFF(IRP, AllocationFlags), 71);
    assert_int_equal(OFF(IRP, UserIosb), 72);
    assert_int_equal(OFF(IRP, UserEvent), 80);
    assert_int_equal(OFF(IRP, Overlay), 88);
    assert_int_equal(OFF(IRP, CancelRoutine), 104);
    assert_int_equal(OFF(IRP, UserBuffer), 112);
    assert_int_equal(OFF(IRP, Tail), 120);
    assert_int_equal(OFF(IRP, Tail.Overlay.DriverContext), 120);
    assert_int_equal(OFF(IRP, Tail.Overlay.Thread), 152);
    assert_int_equal(OFF(IRP, Tail.Overlay.ListEntry), 168);
    assert_int_equal(OFF(IRP, Tail.Overlay.CurrentStackLocation), 184);
    assert_int_equal(OFF(IRP, Tail.Overlay.OriginalFileObject), 192);
    assert_int_equal(IoSizeOfIrp(1), 208 + 72);
    assert_int_equal(IoSizeOfIrp(3), 208 + 3 * 72);

    assert_int_equal(SL_PENDING_RETURNED, 0x01);
    assert_int_equal(SL_ERROR_RETURNED, 0x02);
    assert_int_equal(SL_INVOKE_ON_CANCEL, 0x20);
    assert_int_equal(SL_INVOKE_ON_SUCCESS, 0x40);
    assert_int_equal(SL_INVOKE_ON_ERROR, 0x80);
    assert_int_equal(IO_NO_INCREMENT, 0);

    /* KEVENT keeps the 24-byte DISPATCHER_HEADER of x64. */
    assert_int_equal(sizeof(KEVENT), 24);
    assert_int_equal(OFF(KEVENT, Header.SignalState), 4);
    assert_int_equal(NotificationEvent, 0);
    assert_int_equal(SynchronizationEvent, 1);
    assert_int_equal(PASSIVE_LEVEL, 0);
    assert_int_equal(APC_LEVEL, 1);
    assert_int_equal(DISPATCH_LEVEL, 2);
    assert_int_equal(PAGE_SIZE, 4096);
}

static void test_rtl_helpers(void **state)
{
    (void)state;
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, L"wsk");
    assert_int_equal(u.Length, 3 * sizeof(WCHAR));
    assert_int_equal(u.MaximumLength, 4 * sizeof(WCHAR));
    RtlInitUnicodeString(&u, NULL);
    assert_int_equal(u.Length, 0);
    assert_null(u.Buffer);

    UCHAR a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 2, 9, 4 };
    assert_int_equal(RtlCompareMemory(a, b, 4), 2);
    assert_int_equal(RtlCompareMemory(a, a, 4), 4);
    assert_false(RtlEqualMemory(a, b, 4));
    RtlFillMemory(b, 4, 7);
    assert_int_equal(b[3], 7);
    RtlZeroMemory(b, 4);
    assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
    assert_int_equal(RtlUshortByteSwap(0x1234), 0x3412);

    RTL_OSVERSIONINFOEXW v;
    memset(&v, 0xff, sizeof v);
    v.dwOSVersionInfoSize = sizeof v;
    assert_int_equal(RtlGetVersion((PRTL_OSVERSIONINFOW)&v), STATUS_SUCCESS);
    assert_int_equal(v.dwMajorVersion, 10);
    assert_int_equal(v.dwMinorVersion, 0);
    assert_int_equal(v.dwBuildNumber, 19041);
    assert_int_equal(v.dwPlatformId, VER_PLATFORM_WIN32_NT);
    assert_int_equal(v.wProductType, VER_NT_WORKSTATION);
    v.dwOSVersionInfoSize = 7;
    assert_int_equal(RtlGetVersion((PRTL_OSVERSIONINFOW)&v), STATUS_INVALID_PARAMETER);

    PULONG z = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 0x74736554u /* 'tseT' */);
    assert_non_null(z);
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    ExFreePoolWithTag(z, 0x74736554u /* 'tseT' */);

    LIST_ENTRY head, e1, e2;
    InitializeListHead(&head);
    assert_true(IsListEmpty(&head));
    InsertTailList(&head, &e1);
    InsertHeadList(&head, &e2);
    assert_ptr_equal(head.Flink, &e2);
    assert_ptr_equal(RemoveHeadList(&head), &e2);
    assert_true(RemoveEntryList(&e1));
    assert_true(IsListEmpty(&head));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_type_widths),
        cmocka_unit_test(test_ntstatus_values),
        cmocka_unit_test(test_ntstatus_severity),
        cmocka_unit_test(test_wsk_struct_layouts),
        cmocka_unit_test(test_wsk_dispatch_tables),
        cmocka_unit_test(test_wsk_basic_view_aliases),
        cmocka_unit_test(test_wsk_constants),
        cmocka_unit_test(test_winsock_numbers),
        cmocka_unit_test(test_sockaddr_layouts),
        cmocka_unit_test(test_cmsg_layout_and_macros),
        cmocka_unit_test(test_nt_object_layouts),
        cmocka_unit_test(test_rtl_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
