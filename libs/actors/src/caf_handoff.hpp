#pragma once

// What crosses CAF's mailboxes, as ThreadSanitizer sees it.
//
// Debian's libcaf_core.so is not built with TSan: the atomics that order a
// message's sending before its handling are invisible to it. Reports with
// a CAF frame are suppressed (tests/sanitizers/tsan.supp), but data made on
// one I/O thread, carried to the broadcaster by a message and handed on
// from there to another I/O thread is written and read in frames of our
// own only: a publication's frame, written by the publisher's session and
// read by a subscriber's on another thread when it compresses the frame or
// copies it for TLS, was reported as a race.
//
// So a thread releases one token before it sends such data into CAF (a
// session's requests, the broadcaster's deliveries through a connection
// actor), and an actor acquires it before it hands what it got to a
// session: the order CAF's mailbox gives, stated where TSan can see it.
// Nothing in other builds.

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#endif

namespace herald::actors {

#if defined(__SANITIZE_THREAD__)
inline char caf_handoff_token;

// Before a message to an actor leaves this thread.
inline void release_to_caf() noexcept {
  __tsan_release(&caf_handoff_token);
}
// On an actor's thread, before what its messages carried goes elsewhere.
inline void acquire_from_caf() noexcept {
  __tsan_acquire(&caf_handoff_token);
}
#else
inline void release_to_caf() noexcept {}
inline void acquire_from_caf() noexcept {}
#endif

}  // namespace herald::actors
