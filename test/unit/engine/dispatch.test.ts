import * as fs from 'node:fs';
import { IOV_MAX, nodeBackend } from '../../../src/engine/dispatch';
import { cleanup, fifo, tmpFile } from '../../helpers/files';

afterAll(cleanup);

function call<T extends unknown[]>(fn: (cb: (err: NodeJS.ErrnoException | null, n: number) => void) => void): Promise<{ err: NodeJS.ErrnoException | null; n: number; sync: boolean }> {
  return new Promise((resolve) => {
    let returned = false;
    fn((err, n) => resolve({ err, n, sync: !returned }));
    returned = true;
  });
}

describe('nodeBackend', () => {
  test('a synchronous throw from fs reaches the callback later, as EBADF for fd -1', async () => {
    const r = await call((cb) => nodeBackend.write(-1, Buffer.from('x'), 1, 0, cb));
    expect(r.sync).toBe(false);
    expect(r.err?.code).toBe('EBADF');
  });

  test('a zero-length read reaches the kernel, so a bad descriptor reports EBADF', async () => {
    const { fd } = tmpFile('abc');
    fs.closeSync(fd);
    const r = await call((cb) => nodeBackend.read(fd, Buffer.alloc(0), 0, 0, cb));
    expect(r.err?.code).toBe('EBADF');
    const { fd: ok } = tmpFile('abc');
    expect((await call((cb) => nodeBackend.read(ok, Buffer.alloc(0), 0, 0, cb))).n).toBe(0);
  });

  test('readv of more than IOV_MAX buffers reads them all', async () => {
    const n = IOV_MAX * 2 + 10;
    const content = Buffer.alloc(n, 0);
    for (let i = 0; i < n; i++) content[i] = i % 251;
    const { fd } = tmpFile(content);
    const bufs = Array.from({ length: n }, () => Buffer.alloc(1));
    const r = await call((cb) => nodeBackend.readv(fd, bufs, 0, cb));
    expect(r.err).toBeNull();
    expect(r.n).toBe(n);
    expect(Buffer.concat(bufs).equals(content)).toBe(true);
  });

  test('readv of more than IOV_MAX buffers stops at end of file with a short count', async () => {
    const { fd } = tmpFile(Buffer.alloc(IOV_MAX + 5, 1));
    const bufs = Array.from({ length: IOV_MAX * 3 }, () => Buffer.alloc(1));
    const r = await call((cb) => nodeBackend.readv(fd, bufs, 0, cb));
    expect(r.n).toBe(IOV_MAX + 5);
  });

  test('read honours a bigint position', async () => {
    const { fd } = tmpFile('0123456789');
    const buf = Buffer.alloc(3);
    const r = await call((cb) => nodeBackend.read(fd, buf, 3, 4n, cb));
    expect(r.n).toBe(3);
    expect(buf.toString()).toBe('456');
  });

  test('fstat classifies files as seekable and FIFOs as not, and throws EBADF for a closed descriptor', () => {
    const { fd } = tmpFile('x');
    const f = fifo();
    expect(nodeBackend.fstat(fd).seekable).toBe(true);
    expect(nodeBackend.fstat(f.fd).seekable).toBe(false);
    const dead = tmpFile('y').fd;
    fs.closeSync(dead);
    expect(() => nodeBackend.fstat(dead)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => nodeBackend.fstat(-1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  test('fdflags reports O_APPEND from /proc/self/fdinfo', () => {
    const a = tmpFile('x', 'a');
    const b = tmpFile('x', 'r+');
    expect((nodeBackend.fdflags(a.fd) ?? 0) & fs.constants.O_APPEND).toBe(fs.constants.O_APPEND);
    expect((nodeBackend.fdflags(b.fd) ?? -1) & fs.constants.O_APPEND).toBe(0);
    expect(nodeBackend.fdflags(987654)).toBeNull();
  });

  test('fsync on a FIFO fails with EINVAL through the callback', async () => {
    const f = fifo();
    const r = await call((cb) => nodeBackend.fsync(f.fd, cb));
    expect(r.err?.code).toBe('EINVAL');
  });
});
