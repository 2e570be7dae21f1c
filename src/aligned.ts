/**
 * Page-aligned memory for users: {@link allocAligned}, {@link isAligned}, and the
 * settings of the engine's bounce reads ({@link configureBounce}). The memory itself
 * comes from engine/aligned.ts; see its design notes for why alignment matters.
 */
import { BOUNCE_MODES, PAGE_SIZE, WASM_PAGE, bounce, bouncePool, reserve, type BounceMode } from './engine/aligned';
import { invalidArgType, outOfRange } from './errors';

export { isAligned, type BounceMode } from './engine/aligned';

/** Largest {@link allocAligned} request. */
export const MAX_ALIGNED = 2 ** 31;

/** Below this, {@link allocAligned} carves from a shared chunk; at and above it, a buffer gets its own memory. */
const OWN_MEMORY = 1024 * 1024;
/** Bytes of a shared chunk for small aligned buffers. */
const SMALL_CHUNK = 8 * 1024 * 1024;
let small: ArrayBuffer | null = null;
let smallUsed = 0;

/**
 * Allocates a Buffer whose first byte starts a memory page.
 *
 * Reads into such a buffer at file offsets that are multiples of 4096 run at the
 * kernel's full copy speed, and the engine reads into it directly (no bounce copy).
 *
 * @param size - Bytes, an integer from 0 to 2 ** 31.
 * @returns a zero-filled Buffer of `size` bytes; `isAligned(buf)` is true.
 *
 * Errors:
 * - TypeError (ERR_INVALID_ARG_TYPE) when `size` is not a number.
 * - RangeError (ERR_OUT_OF_RANGE) when `size` is not an integer from 0 to 2 ** 31.
 *
 * Notes: the memory comes from a `WebAssembly.Memory`, which the library never grows,
 * so the buffer never detaches. Buffers under 1 MiB share an 8 MiB chunk, as
 * `Buffer.allocUnsafe` shares its pool: `buf.buffer` spans the other buffers of the
 * chunk too, so use `buf` itself, not `buf.buffer`. The memory is returned when every
 * buffer of its chunk has been garbage collected. `buf.buffer` cannot be transferred
 * (WebAssembly memory is not detachable).
 *
 * @example
 * const buf = allocAligned(1 << 20);
 * const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: buf.length });
 * aio_read(cb);
 */
export function allocAligned(size: number): Buffer {
  if (typeof size !== 'number') throw invalidArgType('size', 'of type number', size);
  if (!Number.isInteger(size) || size < 0 || size > MAX_ALIGNED) {
    throw outOfRange('size', `an integer >= 0 && <= ${MAX_ALIGNED}`, size);
  }
  if (size >= OWN_MEMORY) return Buffer.from(reserve(Math.ceil(size / WASM_PAGE) * WASM_PAGE), 0, size);
  const span = Math.max(PAGE_SIZE, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
  if (small === null || smallUsed + span > small.byteLength) {
    small = reserve(SMALL_CHUNK);
    smallUsed = 0;
  }
  const buf = Buffer.from(small, smallUsed, size);
  smallUsed += span;
  return buf;
}

/** The bounce settings, as {@link configureBounce} takes and returns them. */
export interface BounceSettings {
  /**
   * How reads of at least `minBytes` into one buffer that is not from allocAligned are
   * routed: 'adaptive' (the default) times reads straight into the buffer and reads
   * through an aligned slot, per buffer and alignment class, and uses the faster;
   * 'always' bounces them all; 'off' reads straight into the buffer.
   */
  mode: BounceMode;
  /** Reads smaller than this go straight into the buffer, whatever the mode (default 256 KiB); Infinity turns bouncing off. */
  minBytes: number;
  /** Most bytes the bounce pool reserves (in 16 MiB chunks); 0 stops it from growing. */
  poolBytes: number;
}

/**
 * Sets whether, how and from what size reads go through page-aligned bounce buffers
 * (see the notes at the top of src/engine/dispatch.ts), and reports the settings.
 *
 * @param options - `mode`: 'adaptive' (the default), 'always' or 'off'. `minBytes`: an
 * integer >= 1, or Infinity to turn bouncing off (default 256 KiB). `poolBytes`: an
 * integer >= 0, the cap of the bounce pool (default 64 MiB); lowering it frees nothing
 * already reserved, it stops further growth. Omitted fields keep their value.
 * @returns the settings now in force.
 *
 * Errors:
 * - TypeError (ERR_INVALID_ARG_TYPE) when `options` is not an object, `mode` is not a
 *   string, or `minBytes` or `poolBytes` is not a number.
 * - RangeError (ERR_OUT_OF_RANGE) when a field breaks its rule; nothing is changed then.
 *
 * Notes: the settings are process-wide and apply to reads dispatched afterwards.
 * Whether a bounce pays depends on the destination's address modulo 4096, which
 * JavaScript cannot see: a large Buffer malloc maps (16 bytes into a page) is read
 * about 3x faster bounced; one malloc carved from its heap, usually fast already,
 * 30-40 % slower. 'adaptive' therefore measures: per ArrayBuffer and
 * (byteOffset - position) mod 4096 it times 5 reads each way (in phases, so that reads
 * in flight together take one path), keeps the faster (direct unless bounced is 1.5x
 * as fast), and measures again after 64-1024 reads, or at once when the chosen path
 * slows to half its settled rate. Its cost: the probe reads on the slower path (the
 * bench's 1 MiB reads into fast buffers: 0.95-1.0x of 'off'), and a buffer used for
 * one read only gets whichever path the last decision chose.
 * Reads into {@link allocAligned} buffers need no copy whatever the settings: they go
 * straight in (or through a slot when their offset is in the aliasing window).
 *
 * @example
 * configureBounce({ mode: 'always', minBytes: 1 << 20 }); // bounce every read of 1 MiB and more
 * configureBounce({ mode: 'off' }); // never bounce
 */
export function configureBounce(options: Partial<BounceSettings> = {}): BounceSettings {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const { mode, minBytes, poolBytes } = options;
  if (mode !== undefined) {
    if (typeof mode !== 'string') throw invalidArgType('options.mode', 'of type string', mode);
    if (!BOUNCE_MODES.includes(mode)) throw outOfRange('options.mode', `one of ${BOUNCE_MODES.map((m) => `'${m}'`).join(', ')}`, mode);
  }
  if (minBytes !== undefined) {
    if (typeof minBytes !== 'number') throw invalidArgType('options.minBytes', 'of type number', minBytes);
    if (minBytes !== Infinity && (!Number.isSafeInteger(minBytes) || minBytes < 1)) throw outOfRange('options.minBytes', 'an integer >= 1, or Infinity', minBytes);
  }
  if (poolBytes !== undefined) {
    if (typeof poolBytes !== 'number') throw invalidArgType('options.poolBytes', 'of type number', poolBytes);
    if (!Number.isSafeInteger(poolBytes) || poolBytes < 0) throw outOfRange('options.poolBytes', 'an integer >= 0', poolBytes);
  }
  if (mode !== undefined) bounce.mode = mode;
  if (minBytes !== undefined) bounce.minBytes = minBytes;
  if (poolBytes !== undefined) bouncePool.capBytes = poolBytes;
  return { mode: bounce.mode, minBytes: bounce.minBytes, poolBytes: bouncePool.capBytes };
}
