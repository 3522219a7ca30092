/* jemalloc reads this symbol when it initialises, before main (MALLOC_CONF in
 * the environment still overrides it). Freed pages are kept for reuse and never
 * handed back to the kernel: a training step frees and re-allocates the same
 * activation sizes every step, and on VMs whose first-touch page faults are
 * slow (~16 us per 4 KiB page here) returning them made every element-wise op
 * on a fresh buffer 30-90x slower. The cost: the process keeps its peak
 * footprint. Compiled only into executables (cmake/jemalloc.cmake), never into
 * libllmsrec. */
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
