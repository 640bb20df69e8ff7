/* SPDX-License-Identifier: MIT */
/*
 * The Microsoft WDK sample "Sending Data over a Datagram Socket"
 * (MicrosoftDocs/windows-driver-docs,
 * windows-driver-docs-pr/network/sending-data-over-a-datagram-socket.md,
 * copy in /work/shared/seeds/sending-data-over-a-datagram-socket.md) must
 * compile and run unchanged against wskstack.  The code between the
 * BEGIN/END markers is copied verbatim; the only edits are its two "..."
 * placeholder lines (not C), each replaced by one call that records what
 * the comment above it describes (the byte count / the error).
 */
#include <ntddk.h>
#include <wsk.h>

#include "wsk_test.h"

/* What the sample's completion routine reports. */
static atomic_int sample_calls;
static atomic_int sample_errors;
static ULONG sample_bytes;
static PWSK_BUF sample_buffer;
static NTSTATUS sample_error;

static void sample_record_sent(PWSK_BUF buf, ULONG bytes)
{
    sample_buffer = buf;
    sample_bytes = bytes;
    atomic_fetch_add(&sample_calls, 1);
}

static void sample_record_error(NTSTATUS status)
{
    sample_error = status;
    atomic_fetch_add(&sample_errors, 1);
    atomic_fetch_add(&sample_calls, 1);
}

/* ======================= BEGIN verbatim Microsoft sample ======================= */
// Prototype for the send datagram IoCompletion routine
NTSTATUS
  SendDatagramComplete(
    PDEVICE_OBJECT DeviceObject,
    PIRP Irp,
    PVOID Context
    );

// Function to send a datagram
NTSTATUS
  SendDatagram(
    PWSK_SOCKET Socket,
    PWSK_BUF DatagramBuffer,
    PSOCKADDR RemoteAddress
    )
{
  PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch;
  PIRP Irp;
  NTSTATUS Status;

  // Get pointer to the provider dispatch structure
  Dispatch =
    (PWSK_PROVIDER_DATAGRAM_DISPATCH)(Socket->Dispatch);

  // Allocate an IRP
  Irp =
    IoAllocateIrp(
      1,
      FALSE
      );

  // Check result
  if (!Irp)
  {
    // Return error
    return STATUS_INSUFFICIENT_RESOURCES;
  }

  // Set the completion routine for the IRP
  IoSetCompletionRoutine(
    Irp,
    SendDatagramComplete,
    DatagramBuffer,  // Use the datagram buffer for the context
    TRUE,
    TRUE,
    TRUE
    );

  // Initiate the send operation on the socket
  Status =
    Dispatch->WskSendTo(
      Socket,
      DatagramBuffer,
      0,  // No flags
      RemoteAddress,
      0,
      NULL,  // No associated control info
      Irp
      );

  // Return the status of the call to WskSendTo()
  return Status;
}

// Send datagram IoCompletion routine
NTSTATUS
  SendDatagramComplete(
    PDEVICE_OBJECT DeviceObject,
    PIRP Irp,
    PVOID Context
    )
{
  UNREFERENCED_PARAMETER(DeviceObject);

  PWSK_BUF DatagramBuffer;
  ULONG ByteCount;

  // Check the result of the send operation
  if (Irp->IoStatus.Status == STATUS_SUCCESS)
  {
    // Get the pointer to the datagram buffer
    DatagramBuffer = (PWSK_BUF)Context;

    // Get the number of bytes sent
    ByteCount = (ULONG)(Irp->IoStatus.Information);

    // Re-use or free the datagram buffer
    sample_record_sent(DatagramBuffer, ByteCount); /* wskstack test: replaces the sample's "..." */
  }

  // Error status
  else
  {
    // Handle error
    sample_record_error(Irp->IoStatus.Status); /* wskstack test: replaces the sample's "..." */
  }

  // Free the IRP
  IoFreeIrp(Irp);

  // Always return STATUS_MORE_PROCESSING_REQUIRED to
  // terminate the completion processing of the IRP.
  return STATUS_MORE_PROCESSING_REQUIRED;
}
/* ======================== END verbatim Microsoft sample ======================== */

static struct wt T;

static bool sample_done(void *ctx)
{
    return atomic_load(&sample_calls) > 0;
}

static void test_seed_send_datagram(void **state)
{
    wt_setup(&T);
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5600), STATUS_SUCCESS);

    static char payload[] = "Winsock Kernel sample datagram";
    PMDL mdl = wt_mdl(payload, (ULONG)strlen(payload));
    WSK_BUF DatagramBuffer = {mdl, 0, strlen(payload)};
    SOCKADDR_IN remote;
    wt_sin(&remote, WT_PEER_IP, 7600);

    NTSTATUS status = SendDatagram(s, &DatagramBuffer, (PSOCKADDR)&remote);
    assert_true(status == STATUS_PENDING || status == STATUS_SUCCESS);
    assert_true(wt_until(sample_done, NULL, 3000));
    wt_sleep_ms(20);
    assert_int_equal(atomic_load(&sample_calls), 1);
    assert_int_equal(atomic_load(&sample_errors), 0);
    assert_int_equal(sample_bytes, strlen(payload));
    assert_ptr_equal(sample_buffer, &DatagramBuffer);

    /* the exact datagram on the wire */
    uint8_t got[200], want[200];
    long n = wt_pop(&T, got, sizeof(got), 1000);
    size_t plen = strlen(payload);
    assert_int_equal(n, (long)(14 + 20 + 8 + plen));
    uint16_t id = (uint16_t)((got[18] << 8) | got[19]);
    size_t wn = wt_udp_frame(want, wt_peer_mac, wt_our_mac, WT_OUR_IP1, WT_PEER_IP, 5600, 7600,
                             payload, plen, id, 64);
    assert_int_equal(wn, (size_t)n);
    assert_memory_equal(got, want, wn);

    /* the error branch: no route to 198.51.100.1 */
    wt_sin(&remote, 0xC6336401u, 7600);
    atomic_store(&sample_calls, 0);
    status = SendDatagram(s, &DatagramBuffer, (PSOCKADDR)&remote);
    assert_int_equal(status, STATUS_NETWORK_UNREACHABLE);
    assert_int_equal(atomic_load(&sample_calls), 1); /* ran before the return */
    assert_int_equal(atomic_load(&sample_errors), 1);
    assert_int_equal(sample_error, STATUS_NETWORK_UNREACHABLE);

    IoFreeMdl(mdl);
    wt_close(s);
    wt_teardown(&T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_send_datagram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
