/**
 * The numbers of the nng_aio face: nng's error codes (`nng_err`), the duration
 * sentinels (`nng_duration`) and the handle's limits.
 *
 * Every value is nng's own, as `include/nng/nng.h` defines it (nng 2.x where the
 * versions differ): compare results against these names, never against literals.
 *
 * @packageDocumentation
 */

/** Success: the operation completed. `nng_strerror(NNG_OK)` is "Hunky dory". nng 2.x names it; 1.x uses a plain 0. */
export const NNG_OK = 0;
/** Interrupted (used inside nng; it should not reach applications). */
export const NNG_EINTR = 1;
/** Out of memory. */
export const NNG_ENOMEM = 2;
/** Invalid argument: a bad slot index, a bad iov, a negative file offset. */
export const NNG_EINVAL = 3;
/** Resource busy. */
export const NNG_EBUSY = 4;
/** Timed out: the operation's timeout or absolute expiry passed before it completed. */
export const NNG_ETIMEDOUT = 5;
/** Connection refused. */
export const NNG_ECONNREFUSED = 6;
/** Object closed; also what a bad file descriptor (EBADF) or a broken pipe (EPIPE) maps to. */
export const NNG_ECLOSED = 7;
/** Try again; also the file operations' answer when the outstanding-request limit is reached. */
export const NNG_EAGAIN = 8;
/** Not supported. */
export const NNG_ENOTSUP = 9;
/** Address in use. */
export const NNG_EADDRINUSE = 10;
/** Incorrect state. */
export const NNG_ESTATE = 11;
/** Entry not found. */
export const NNG_ENOENT = 12;
/** Protocol error. */
export const NNG_EPROTO = 13;
/** Destination unreachable. */
export const NNG_EUNREACHABLE = 14;
/** Address invalid. */
export const NNG_EADDRINVAL = 15;
/** Permission denied (EACCES and EPERM). */
export const NNG_EPERM = 16;
/** Message too large. */
export const NNG_EMSGSIZE = 17;
/** Connection aborted. */
export const NNG_ECONNABORTED = 18;
/** Connection reset. */
export const NNG_ECONNRESET = 19;
/** Operation canceled: what `nng_aio_cancel` passes to the provider. */
export const NNG_ECANCELED = 20;
/** Out of files (EMFILE, ENFILE). */
export const NNG_ENOFILES = 21;
/** Out of space (ENOSPC, EFBIG, EDQUOT). */
export const NNG_ENOSPC = 22;
/** Resource already exists. */
export const NNG_EEXIST = 23;
/** Read only resource. */
export const NNG_EREADONLY = 24;
/** Write only resource. */
export const NNG_EWRITEONLY = 25;
/** Cryptographic error. */
export const NNG_ECRYPTO = 26;
/** Peer could not be authenticated. */
export const NNG_EPEERAUTH = 27;
/** Option requires argument. nng 1.x only (2.x removed it); kept so 1.x code transcribes. */
export const NNG_ENOARG = 28;
/** Ambiguous option. nng 1.x only (2.x removed it); kept so 1.x code transcribes. */
export const NNG_EAMBIGUOUS = 29;
/** Incorrect type. */
export const NNG_EBADTYPE = 30;
/** Connection shutdown. */
export const NNG_ECONNSHUT = 31;
/**
 * Operation stopped: the result of every operation ended or refused by
 * `nng_aio_stop` or `nng_aio_free`. nng 2.x (999 in `nng.h`; its errors.md page
 * wrongly says 1000). A callback that sees it must not resubmit.
 */
export const NNG_ESTOPPED = 999;
/** Internal error detected. */
export const NNG_EINTERNAL = 1000;
/** Flag bit: the low bits are a system errno (`NNG_ESYSERR | errno`). */
export const NNG_ESYSERR = 0x10000000;
/** Flag bit: the low bits are a transport-specific code. */
export const NNG_ETRANERR = 0x20000000;

/** `nng_duration`: no timeout at all. */
export const NNG_DURATION_INFINITE = -1;
/** `nng_duration`: the default of the operation; at the aio layer, no timeout. A new handle starts with it. */
export const NNG_DURATION_DEFAULT = -2;
/** `nng_duration`: poll: an operation that cannot complete at once fails with NNG_ETIMEDOUT. */
export const NNG_DURATION_ZERO = 0;

/** Input and output slots per handle (indexes 0..3). */
export const NNG_AIO_SLOTS = 4;
/** The most iov entries `nng_aio_set_iov` accepts (nng's `NNI_AIO_MAX_IOV`; its docs promise 4). */
export const NNG_AIO_MAX_IOV = 8;
