/**
 * posix-aio: POSIX asynchronous I/O for Node, on libuv's thread pool, with no
 * native code.
 *
 * @packageDocumentation
 */
export * from './constants';
export { AioError, errno, lastError, strerror } from './errors';
export { AioControlBlock, allocControlBlocks, type Aiocb, type AiocbFields, type ControlBlockOptions, type SigEvent } from './aiocb';
export { allocAligned, configureBounce, isAligned, type BounceMode, type BounceSettings } from './aligned';
export { configurePolling, MAX_POLL_WINDOW_MICROS, type PollSettings } from './polling';
export { SIGRTMAX, SIGRTMIN, type SigInfo } from './sigevent';
export { aio_read } from './posix/aio_read';
export { aio_write } from './posix/aio_write';
export { aio_fsync } from './posix/aio_fsync';
export { aio_error } from './posix/aio_error';
export { aio_return } from './posix/aio_return';
export { aio_suspend, type Timespec } from './posix/aio_suspend';
export { aio_cancel } from './posix/aio_cancel';
export { lio_listio } from './posix/lio_listio';
export { aio_init, sysconf, type AioInit } from './posix/aio_init';
export { aio_close } from './posix/aio_close';
export * from './nng';
export * as promises from './promises';
export { AioFileHandle } from './promises';
export { counters, type EngineCounters } from './engine/queue';
export type { TraceContext } from './engine/trace';
