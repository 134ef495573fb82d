//! Giving memory back after a burst.
//!
//! A holder lives for days and sees bursts: a flood of output queued in its backlog, a
//! snapshot of megabytes, the head of a build log. glibc keeps what they freed: in an
//! arena per thread, above an mmap threshold that it raises at each large free, and in
//! the holes between the history rows that were allocated meanwhile. A holder would
//! stay as large as its largest burst. Elsewhere these are no-ops.

/// Output parsed since the last [`release`] after which the parser releases memory once
/// the output has stopped for [`SETTLE`].
pub const RELEASE_AFTER: usize = 1 << 20;

/// How long output must stop before a burst counts as over.
pub const SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// Entries a queue keeps room for once a burst is over.
pub const QUEUE_KEEP: usize = 64;

/// Allocations of this size or more are mapped on their own (fresh zero pages, resident
/// only once touched) and unmapped when freed.
pub const MMAP_THRESHOLD: usize = 128 << 10;

/// One arena, and a fixed threshold above which buffers are mapped on their own and
/// unmapped when freed. Call before any other thread starts.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's parameters; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as i32);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 10);
    }
}

/// Hands the free pages of the heap, also those between live allocations, back to the
/// system (`malloc_trim`). It walks the heap: call it once a burst is over.
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only reorganises the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
