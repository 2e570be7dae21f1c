/**
 * Every constant of the POSIX and nng faces.
 *
 * errno values come from `os.constants.errno`, so they are the platform's real
 * numbers (EBADF is 9 on Linux); compare against these names, never literals.
 * The aio.h enumerations carry glibc's values. The nng error codes are nng's.
 *
 * @packageDocumentation
 */
import { constants as osConstants } from 'node:os';
import { O_DSYNC as FS_O_DSYNC, O_SYNC as FS_O_SYNC } from './engine/dispatch';

/** The platform's errno table, by name (a frozen copy of `os.constants.errno`). */
export const errnoConstants: Readonly<Record<string, number>> = Object.freeze({ ...osConstants.errno });

/** `os.constants.errno`, typed name by name for the exports below. */
const ERRNO = osConstants.errno as Record<string, number> as Record<keyof typeof osConstants.errno, number>;

// errno values, exported one by one as C names them. Each comment is the platform's
// strerror(3) text (glibc on Linux).
/** Argument list too long. */
export const E2BIG: number = ERRNO.E2BIG;
/** Permission denied. */
export const EACCES: number = ERRNO.EACCES;
/** Address already in use. */
export const EADDRINUSE: number = ERRNO.EADDRINUSE;
/** Cannot assign requested address. */
export const EADDRNOTAVAIL: number = ERRNO.EADDRNOTAVAIL;
/** Address family not supported by protocol. */
export const EAFNOSUPPORT: number = ERRNO.EAFNOSUPPORT;
/** Resource temporarily unavailable. On Linux EWOULDBLOCK has the same number. */
export const EAGAIN: number = ERRNO.EAGAIN;
/** Operation already in progress. */
export const EALREADY: number = ERRNO.EALREADY;
/** Bad file descriptor. */
export const EBADF: number = ERRNO.EBADF;
/** Bad message. */
export const EBADMSG: number = ERRNO.EBADMSG;
/** Device or resource busy. */
export const EBUSY: number = ERRNO.EBUSY;
/** Operation canceled. */
export const ECANCELED: number = ERRNO.ECANCELED;
/** No child processes. */
export const ECHILD: number = ERRNO.ECHILD;
/** Software caused connection abort. */
export const ECONNABORTED: number = ERRNO.ECONNABORTED;
/** Connection refused. */
export const ECONNREFUSED: number = ERRNO.ECONNREFUSED;
/** Connection reset by peer. */
export const ECONNRESET: number = ERRNO.ECONNRESET;
/** Resource deadlock avoided. */
export const EDEADLK: number = ERRNO.EDEADLK;
/** Destination address required. */
export const EDESTADDRREQ: number = ERRNO.EDESTADDRREQ;
/** Numerical argument out of domain. */
export const EDOM: number = ERRNO.EDOM;
/** Disk quota exceeded. */
export const EDQUOT: number = ERRNO.EDQUOT;
/** File exists. */
export const EEXIST: number = ERRNO.EEXIST;
/** Bad address. */
export const EFAULT: number = ERRNO.EFAULT;
/** File too large. */
export const EFBIG: number = ERRNO.EFBIG;
/** No route to host. */
export const EHOSTUNREACH: number = ERRNO.EHOSTUNREACH;
/** Identifier removed. */
export const EIDRM: number = ERRNO.EIDRM;
/** Invalid or incomplete multibyte or wide character. */
export const EILSEQ: number = ERRNO.EILSEQ;
/** Operation now in progress. */
export const EINPROGRESS: number = ERRNO.EINPROGRESS;
/** Interrupted system call. */
export const EINTR: number = ERRNO.EINTR;
/** Invalid argument. */
export const EINVAL: number = ERRNO.EINVAL;
/** Input/output error. */
export const EIO: number = ERRNO.EIO;
/** Transport endpoint is already connected. */
export const EISCONN: number = ERRNO.EISCONN;
/** Is a directory. */
export const EISDIR: number = ERRNO.EISDIR;
/** Too many levels of symbolic links. */
export const ELOOP: number = ERRNO.ELOOP;
/** Too many open files. */
export const EMFILE: number = ERRNO.EMFILE;
/** Too many links. */
export const EMLINK: number = ERRNO.EMLINK;
/** Message too long. */
export const EMSGSIZE: number = ERRNO.EMSGSIZE;
/** Multihop attempted. */
export const EMULTIHOP: number = ERRNO.EMULTIHOP;
/** File name too long. */
export const ENAMETOOLONG: number = ERRNO.ENAMETOOLONG;
/** Network is down. */
export const ENETDOWN: number = ERRNO.ENETDOWN;
/** Network dropped connection on reset. */
export const ENETRESET: number = ERRNO.ENETRESET;
/** Network is unreachable. */
export const ENETUNREACH: number = ERRNO.ENETUNREACH;
/** Too many open files in system. */
export const ENFILE: number = ERRNO.ENFILE;
/** No buffer space available. */
export const ENOBUFS: number = ERRNO.ENOBUFS;
/** No data available. */
export const ENODATA: number = ERRNO.ENODATA;
/** No such device. */
export const ENODEV: number = ERRNO.ENODEV;
/** No such file or directory. */
export const ENOENT: number = ERRNO.ENOENT;
/** Exec format error. */
export const ENOEXEC: number = ERRNO.ENOEXEC;
/** No locks available. */
export const ENOLCK: number = ERRNO.ENOLCK;
/** Link has been severed. */
export const ENOLINK: number = ERRNO.ENOLINK;
/** Cannot allocate memory. */
export const ENOMEM: number = ERRNO.ENOMEM;
/** No message of desired type. */
export const ENOMSG: number = ERRNO.ENOMSG;
/** Protocol not available. */
export const ENOPROTOOPT: number = ERRNO.ENOPROTOOPT;
/** No space left on device. */
export const ENOSPC: number = ERRNO.ENOSPC;
/** Out of streams resources. */
export const ENOSR: number = ERRNO.ENOSR;
/** Device not a stream. */
export const ENOSTR: number = ERRNO.ENOSTR;
/** Function not implemented. */
export const ENOSYS: number = ERRNO.ENOSYS;
/** Transport endpoint is not connected. */
export const ENOTCONN: number = ERRNO.ENOTCONN;
/** Not a directory. */
export const ENOTDIR: number = ERRNO.ENOTDIR;
/** Directory not empty. */
export const ENOTEMPTY: number = ERRNO.ENOTEMPTY;
/** Socket operation on non-socket. */
export const ENOTSOCK: number = ERRNO.ENOTSOCK;
/** Operation not supported. On Linux the same number as EOPNOTSUPP. */
export const ENOTSUP: number = ERRNO.ENOTSUP;
/** Inappropriate ioctl for device. */
export const ENOTTY: number = ERRNO.ENOTTY;
/** No such device or address. */
export const ENXIO: number = ERRNO.ENXIO;
/** Operation not supported. On Linux ENOTSUP has the same number. */
export const EOPNOTSUPP: number = ERRNO.EOPNOTSUPP;
/** Value too large for defined data type. */
export const EOVERFLOW: number = ERRNO.EOVERFLOW;
/** Operation not permitted. */
export const EPERM: number = ERRNO.EPERM;
/** Broken pipe. */
export const EPIPE: number = ERRNO.EPIPE;
/** Protocol error. */
export const EPROTO: number = ERRNO.EPROTO;
/** Protocol not supported. */
export const EPROTONOSUPPORT: number = ERRNO.EPROTONOSUPPORT;
/** Protocol wrong type for socket. */
export const EPROTOTYPE: number = ERRNO.EPROTOTYPE;
/** Numerical result out of range. */
export const ERANGE: number = ERRNO.ERANGE;
/** Read-only file system. */
export const EROFS: number = ERRNO.EROFS;
/** Illegal seek. */
export const ESPIPE: number = ERRNO.ESPIPE;
/** No such process. */
export const ESRCH: number = ERRNO.ESRCH;
/** Stale file handle. */
export const ESTALE: number = ERRNO.ESTALE;
/** Timer expired. */
export const ETIME: number = ERRNO.ETIME;
/** Connection timed out. */
export const ETIMEDOUT: number = ERRNO.ETIMEDOUT;
/** Text file busy. */
export const ETXTBSY: number = ERRNO.ETXTBSY;
/** Resource temporarily unavailable. On Linux the same number as EAGAIN. */
export const EWOULDBLOCK: number = ERRNO.EWOULDBLOCK;
/** Invalid cross-device link. */
export const EXDEV: number = ERRNO.EXDEV;

/** aio_fsync `op`: synchronise as `fsync(2)` would (data and metadata). */
export const O_SYNC: number = FS_O_SYNC;
/** aio_fsync `op`: synchronise as `fdatasync(2)` would (data only). */
export const O_DSYNC: number = FS_O_DSYNC;

/** aio_cancel: the requested operations were canceled. */
export const AIO_CANCELED = 0;
/** aio_cancel: at least one operation was already in the thread pool and could not be canceled. */
export const AIO_NOTCANCELED = 1;
/** aio_cancel: every matching operation had already completed. */
export const AIO_ALLDONE = 2;

/** aio_lio_opcode: read. */
export const LIO_READ = 0;
/** aio_lio_opcode: write. */
export const LIO_WRITE = 1;
/** aio_lio_opcode: no operation; lio_listio skips the entry. */
export const LIO_NOP = 2;

/** lio_listio mode: wait until every operation of the list has completed. */
export const LIO_WAIT = 0;
/** lio_listio mode: return once the list is queued; notify through `sig` when all complete. */
export const LIO_NOWAIT = 1;

/** sigev_notify: emit the signal's event on `process` (no real OS signal is raised). */
export const SIGEV_SIGNAL = 0;
/** sigev_notify: no notification; status is still available through aio_error/aio_return. */
export const SIGEV_NONE = 1;
/** sigev_notify: call `sigev_notify_function(sigev_value)` on the event loop. */
export const SIGEV_THREAD = 2;

/** siginfo `si_code` of a signal generated by the completion of an asynchronous I/O request (Linux). */
export const SI_ASYNCIO = -4;

/** The largest `aio_reqprio`: a request's priority can be lowered by at most this much (glibc's value). */
export const AIO_PRIO_DELTA_MAX = 20;

/** sysconf name: the largest list lio_listio accepts (glibc's number). */
export const _SC_AIO_LISTIO_MAX = 23;
/** sysconf name: the most outstanding requests (glibc's number). */
export const _SC_AIO_MAX = 24;
/** sysconf name: AIO_PRIO_DELTA_MAX (glibc's number). */
export const _SC_AIO_PRIO_DELTA_MAX = 25;
/** sysconf name: the POSIX Asynchronous Input and Output option (glibc's number). */
export const _SC_ASYNCHRONOUS_IO = 12;
/** sysconf name: the POSIX Prioritized Input and Output option (glibc's number). */
export const _SC_PRIORITIZED_IO = 13;
/** The value sysconf reports for the options this package supports. */
export const _POSIX_VERSION = 200809;
