// Preloaded (NODE_OPTIONS=--require) by scripts/test-arm64.mjs into every arm64 Node it runs
// under qemu user emulation. Such a process cannot exec its own binary: process.execPath is an
// aarch64 ELF, which the x64 kernel refuses to run (no binfmt_misc handler here), so vitest's
// forked workers, child_process.fork, cluster.fork and every spawn(process.execPath) in the tests
// would fail. Pointing process.execPath at the wrapper script that starts this same Node under
// qemu (itself a program the kernel runs) fixes all of them at once; none of those take another
// executable except fork, and the tests need no change. The variable is set only by that script.
const wrapper = process.env.BSD_SOCKETS_EMULATED_NODE
if (wrapper) process.execPath = wrapper
