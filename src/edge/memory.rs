//! How much memory the isolate's wasm instance has.

/// The wasm linear memory's size in bytes: it only grows, so it is the peak.
pub fn wasm_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
