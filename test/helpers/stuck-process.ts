import { armExitWatchdog } from '../../src/exit-watchdog.js';

// A process that can no longer act on its own, as the gateways seen stuck in
// `process.exit`: its main thread waits on a futex that nothing will wake, so
// no timer, signal handler or exit of its own can run. Only the watchdog can end it.
armExitWatchdog({ afterMs: Number(process.argv[2] ?? 500) });
console.log('watchdog armed');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
