/**
 * The nng_aio face (SPEC §3): handles with completion callbacks, cancellation,
 * timeouts and byte counts, after nng's nng_aio(5), plus this package's file
 * operations on them.
 *
 * @packageDocumentation
 */
export * from './constants';
export { errnoToNng, nng_strerror } from './errors';
export {
  NngAio,
  type NngAioCallback,
  type NngCancelFn,
  type NngIov,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_begin,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_defer,
  nng_aio_finish,
  nng_aio_free,
  nng_aio_get_input,
  nng_aio_get_msg,
  nng_aio_get_output,
  nng_aio_reap,
  nng_aio_reset,
  nng_aio_result,
  nng_aio_set_expire,
  nng_aio_set_input,
  nng_aio_set_iov,
  nng_aio_set_msg,
  nng_aio_set_output,
  nng_aio_set_timeout,
  nng_aio_start,
  nng_aio_stop,
  nng_aio_wait,
} from './handle';
export { nng_clock, nng_sleep_aio } from './sleep';
export { nng_file_fdatasync, nng_file_fsync, nng_file_read, nng_file_write } from './file';
