/**
 * Validators in Node's grammar (`validateX(value, name, ...bounds)`), used once at
 * each public edge and never again inside the engine. They throw only for what C's
 * type system or memory safety would stop; rules POSIX reports through errno are
 * checked by the faces themselves.
 */
import { invalidArgType, outOfRange } from './errors';

/** Throws ERR_INVALID_ARG_TYPE unless `value` is a number, ERR_OUT_OF_RANGE unless it is an integer in [min, max]. */
export function validateInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

/** Throws ERR_INVALID_ARG_TYPE unless `value` is a non-null object (arrays excluded). */
export function validateObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgType(name, 'of type object', value);
  }
  return value as Record<string, unknown>;
}

/** Throws ERR_INVALID_ARG_TYPE unless `value` is an array. */
export function validateArray(value: unknown, name: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value);
  return value;
}

/** Throws ERR_INVALID_ARG_TYPE unless `value` is a function. */
export function validateFunction(value: unknown, name: string): (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
  return value as (...args: never[]) => unknown;
}

/** True for Buffers, every TypedArray and DataView. */
export function isArrayBufferView(value: unknown): value is ArrayBufferView {
  return ArrayBuffer.isView(value);
}

/** Throws ERR_INVALID_ARG_TYPE unless `value` is an ArrayBufferView (Buffer, TypedArray or DataView). */
export function validateBuffer(value: unknown, name: string): ArrayBufferView {
  if (!ArrayBuffer.isView(value)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
  return value;
}

/**
 * Reads `obj[key]` once, turning a throwing getter or proxy trap into a coded TypeError
 * that names the field `${owner}.${key}` (the name is built only then: this runs for
 * every field of every submission).
 */
export function readField(obj: Record<string, unknown>, key: string, owner: string): unknown {
  try {
    return obj[key];
  } catch (cause) {
    throw unreadableField(owner, key, cause);
  }
}

/** Reads `list[i]` once, as {@link readField} does; the error names `${owner}[${i}]`. */
export function readElement(list: readonly unknown[], i: number, owner: string): unknown {
  try {
    return list[i];
  } catch (cause) {
    throw unreadable(`"${owner}[${i}]" property`, cause);
  }
}

/** `Object.keys(obj)`, turning a throwing proxy trap into a coded TypeError that names the argument. */
export function readKeys(obj: object, name: string): string[] {
  try {
    return Object.keys(obj);
  } catch (cause) {
    throw unreadable(`"${name}" argument`, cause);
  }
}

/**
 * The error {@link readField} throws when `owner.key` cannot be read: for callers on hot
 * paths that read a field with a named property load (`obj.aio_buf`) in their own
 * try/catch, because one shared `obj[key]` with many keys turns into a slow,
 * megamorphic keyed load.
 */
export function unreadableField(owner: string, key: string, cause: unknown): TypeError {
  return unreadable(`"${owner}.${key}" property`, cause);
}

function unreadable(label: string, cause: unknown): TypeError {
  const why = typeof (cause as { message?: unknown } | null)?.message === 'string' ? (cause as { message: string }).message : String(cause);
  return Object.assign(new TypeError(`The ${label} could not be read: ${why}`, { cause }), { code: 'ERR_INVALID_ARG_TYPE' });
}
