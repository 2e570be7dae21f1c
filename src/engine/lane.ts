/**
 * A lane is the engine's per-descriptor state while the descriptor has outstanding
 * requests: its classification, and the list of those requests in submission order.
 * A lane exists from the first accepted request on a descriptor until the last one
 * completes; the next burst classifies the descriptor afresh, so a closed and reused
 * descriptor number is never judged by the previous file's facts.
 *
 * The hazard index answers "which outstanding requests could a new one observe"
 * without walking them all (SPEC §4: O(log n) or better with a million waiting). On
 * a seekable descriptor every outstanding read or write is in exactly one of these
 * places, by op (reads apart from writes):
 * - a chunk grid of the positioned requests of at most 256 KiB: at level L (0 to 4),
 *   the requests of at most 16 KiB * 4^L bytes, listed by the 16 KiB * 4^L chunk their
 *   first byte falls in (a Map from chunk number to a list of at most 32). A lookup
 *   reads the chunks from the one before its range's to its range's last: O(1)
 *   expected for I/O of ordinary sizes, whatever the queue's length, and few cache
 *   misses (a tree of a million requests costs ~28 of them);
 * - a tree of the other positioned requests with a non-empty byte range (longer than
 *   256 KiB, or met with a full chunk list): treaps keyed on (first byte, submission
 *   order), each node also holding the furthest end (byte after the last) in its
 *   subtree, so that all the ranges overlapping a given one are found in O(log n + k);
 * - a list of the gated requests (O_APPEND or unknown flags, or the current file
 *   position): they count as overlapping everything;
 * - nowhere, for empty positioned requests (they overlap nothing) and barriers (the
 *   hazard rule skips them; they are ordered through the lane's head); nor reads,
 *   until a write first looks for hazards: only a write looks reads up, so the
 *   outstanding reads are listed then, once (O(n) at that write), and a lane of reads
 *   alone pays nothing for the index.
 * The grid's and the gated lists' links live in the requests themselves (hazardLeft,
 * hazardRight): no allocation per request beyond a grid chunk's record. A request in
 * a tree has a node of its own instead (TreeNode: its range, children and the
 * furthest end in its subtree), allocated when it enters: the tree holds the few
 * long or crowded requests, so the other requests carry no field for it (issue 4's
 * memory target). Its links in the request stay null, which tells a tree member from
 * a grid entry (the chunk's newest, or one with a newer neighbour). Treap priorities
 * are a hash of the submission number, so the shape is that of a random treap
 * whatever the offsets.
 *
 * The grid's cost: a lookup spanning more chunks than a level lists reads every
 * chunk of that level (bounded by the level's size); one chunk reads at most 32
 * entries, the cap sending the rest of a crowded chunk to the tree.
 */
import type { FdFacts } from './fdinfo';
import { OP_READ, OP_WRITE, type Request } from './request';

/** Whether `req`, outstanding on a lane, is in the lane's hazard index, and where. */
const NOT_INDEXED = 0;
const IN_TREE = 1;
const IN_GATED = 2;

function placeOf(lane: Lane, req: Request): number {
  if (!lane.seekable || req.op > OP_WRITE) return NOT_INDEXED;
  if (req.gated) return IN_GATED;
  return req.len > 0 ? IN_TREE : NOT_INDEXED;
}

/** First byte of a positioned request (as the hazard rule has always computed it). */
function startOf(r: Request): number {
  const pos = r.pos;
  return typeof pos === 'number' ? pos : Number(pos);
}

/** The treap priority of submission number `seq`: a hash of it (fmix32 of MurmurHash3). */
function priorityOf(seq: number): number {
  let h = seq | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A request's node in a hazard tree: its range and treap priority, taken once when
 * it enters, its children, and the furthest end (byte after the last) in its subtree.
 * Only the requests in a tree have one (long requests, or met with a full grid
 * chunk), so the others carry no field for it.
 */
class TreeNode {
  readonly req: Request;
  readonly start: number;
  readonly end: number;
  readonly priority: number;
  left: TreeNode | null = null;
  right: TreeNode | null = null;
  reach: number;

  constructor(req: Request) {
    this.req = req;
    this.start = startOf(req);
    this.end = this.start + req.len;
    this.priority = priorityOf(req.seq);
    this.reach = this.end;
  }
}

/** Whether a request starting at `start` with submission number `seq` sorts before node `n`: by first byte, then submission order. */
function sortsBefore(start: number, seq: number, n: TreeNode): boolean {
  return start < n.start || (start === n.start && seq < n.req.seq);
}

/** Recomputes `n.reach` from `n` and its children. */
function update(n: TreeNode): void {
  let reach = n.end;
  const l = n.left;
  if (l !== null && l.reach > reach) reach = l.reach;
  const r = n.right;
  if (r !== null && r.reach > reach) reach = r.reach;
  n.reach = reach;
}

/** Inserts `x` into the treap rooted at `root`; returns the new root. */
function insert(root: TreeNode | null, x: TreeNode): TreeNode {
  if (root === null) return x;
  if (sortsBefore(x.start, x.req.seq, root)) {
    const l = insert(root.left, x);
    root.left = l;
    if (l.priority > root.priority) {
      // Rotate right: l becomes the subtree's root.
      root.left = l.right;
      l.right = root;
      update(root);
      update(l);
      return l;
    }
  } else {
    const r = insert(root.right, x);
    root.right = r;
    if (r.priority > root.priority) {
      root.right = r.left;
      r.left = root;
      update(root);
      update(r);
      return r;
    }
  }
  update(root);
  return root;
}

/** Joins two treaps, every key of `a` sorting before every key of `b`. */
function join(a: TreeNode | null, b: TreeNode | null): TreeNode | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.priority > b.priority) {
    a.right = join(a.right, b);
    update(a);
    return a;
  }
  b.left = join(a, b.left);
  update(b);
  return b;
}

/** Removes the node of `x` (which is in it) from the treap rooted at `root`; returns the new root. */
function remove(root: TreeNode, x: Request, start: number): TreeNode | null {
  if (root.req === x) return join(root.left, root.right);
  if (sortsBefore(start, x.seq, root)) root.left = remove(root.left as TreeNode, x, start);
  else root.right = remove(root.right as TreeNode, x, start);
  update(root);
  return root;
}

/**
 * The chunk grid (see the notes above). Level `L` holds requests of at most
 * `16 KiB * 4^L` bytes, listed by the chunk of that size their first byte falls in:
 * such a request lies within its chunk and the next, so a lookup reads only the
 * chunks around the range it asks about. Longer requests, and those meeting a full
 * chunk list, go to the tree.
 */
const GRID_LEVELS = 5;
const GRID_MIN_SHIFT = 14;
/** Most requests a chunk lists; the rest of that chunk's requests go to the tree, so a lookup reads at most this many per chunk. */
const GRID_CAP = 32;

/** The requests of one chunk of one level, newest first through hazardLeft (hazardRight: the newer neighbour). */
interface Chunk {
  readonly no: number;
  newest: Request;
  count: number;
}

/** The grid level for a request of `len` (> 0) bytes, or -1 when too long for the grid. */
function levelOf(len: number): number {
  let level = 0;
  let size = 1 << GRID_MIN_SHIFT;
  while (len > size) {
    if (++level === GRID_LEVELS) return -1;
    size *= 4;
  }
  return level;
}

/** Chunk size by level (a table: `2 ** n` with a variable n is a Math.pow call). */
const CHUNK_SIZES: readonly number[] = Array.from({ length: GRID_LEVELS }, (_, level) => 2 ** (GRID_MIN_SHIFT + 2 * level));

/** Chunk size at `level`. */
function chunkSize(level: number): number {
  return CHUNK_SIZES[level] as number;
}

/** Called for each earlier request a new one must wait for. */
export type HazardVisitor = (earlier: Request, req: Request) => void;

export class Lane {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** False for pipes, sockets, terminals and other character devices: positions are ignored and all I/O is ordered. */
  readonly seekable: boolean;
  /** Whether writes land at the end whatever their position (O_APPEND, or flags unknown). Read lazily on the first write. */
  appends: boolean | undefined = undefined;

  /** Oldest outstanding request. */
  head: Request | null = null;
  /** Newest outstanding request. */
  tail: Request | null = null;
  /** Outstanding requests (queued or in flight). */
  count = 0;
  /** Outstanding writes: reads need not look for hazards when there are none. */
  writes = 0;
  /** Outstanding requests in the thread pool. */
  inFlight = 0;
  /** Outstanding barriers (fsync, fdatasync), oldest first (a Set: removal of any is O(1)). */
  readonly barriers = new Set<Request>();
  /** Hazard index (see the notes above): tree roots by op (read 0, write 1). */
  readonly #trees: [TreeNode | null, TreeNode | null] = [null, null];
  /** Hazard index: the chunk grid by op, then level (each created on first use): chunk number to its list. */
  readonly #grid: [Array<Map<number, Chunk> | undefined>, Array<Map<number, Chunk> | undefined>] = [[], []];
  /** Hazard index: newest gated request by op; the lists run through hazardLeft (older) and hazardRight (newer). */
  readonly #gated: [Request | null, Request | null] = [null, null];
  /** Whether reads are in the hazard index: from the first write's lookup on (see #indexReads). */
  #readsIndexed = false;
  /** Index entries examined by {@link forEachHazard} so far (a cost counter for tests and benches). */
  inspected = 0;
  /**
   * Ready positional requests by op (read 0, write 1), indexed by first byte and by
   * the byte after their last, so that dispatch finds adjacent ones in O(1) to merge.
   * Created on first use. When two ready requests start (or end) at the same byte,
   * only the first is indexed: the other simply is not merged.
   */
  byStart: [Map<number, Request>, Map<number, Request>] | null = null;
  byEnd: [Map<number, Request>, Map<number, Request>] | null = null;
  /**
   * Whether ready requests are left out of the merge index: turned on when fewer than
   * MERGE_MIN_HITS of MERGE_WINDOW dispatches merged (random I/O then stops paying four
   * Map operations per request for a merge it rarely gets), off again when a request
   * continues the previous one (either way), and after MERGE_RETRY requests left out
   * (patterns that interleave). See Engine's #indexForMerge.
   */
  mergeOff = false;
  /** Dispatches of mergeable requests in the current window, and how many of them merged. */
  mergeTries = 0;
  mergeHits = 0;
  /** Requests left out of the merge index since it was turned off. */
  mergeSkipped = 0;
  /** Adjacent ready requests submitted in a row while dispatch was held, and the byte after the last (Engine's plug flush, PLUG_FLUSH). */
  heldRun = 0;
  heldRunEnd = -1;
  /** Merged calls of this descriptor in the thread pool (Engine's streams: a further group waits for one of them). */
  streamCalls = 0;
  /**
   * A merged group held back while a merged call of this descriptor is in the thread
   * pool, in file order: it goes out from that call's completion (Engine's streams).
   * Its requests are READY but in neither the ready heap nor the merge index.
   */
  parked: Request[] | null = null;
  /** Byte range of the last positional request offered to the merge index. */
  lastStart = -1;
  lastEnd = -1;
  /** A write gated only because it came alone while the flags were unknown (Engine.submit); null once they are read. */
  provisional: Request | null = null;
  /** Engine epoch at which the descriptor's identity was last confirmed. */
  verifiedEpoch = -1;
  /** Set by aio_close: new requests on this descriptor fail as on a closed one. */
  closing = false;
  /** Set by aio_close while it waits for in-flight requests: called when the lane empties. */
  onDrain: (() => void) | null = null;

  constructor(fd: number, facts: FdFacts) {
    this.fd = fd;
    this.dev = facts.dev;
    this.ino = facts.ino;
    this.seekable = facts.seekable;
  }

  /**
   * Carries over what `prev`, an earlier lane of the same file on this descriptor
   * that emptied, learned about merging (the merge switch, its window and the last
   * range offered), so that a descriptor whose queue drains now and then keeps its
   * verdict. Heuristics only: nothing that decides ordering or correctness.
   */
  learnFrom(prev: Lane): void {
    this.mergeOff = prev.mergeOff;
    this.mergeTries = prev.mergeTries;
    this.mergeHits = prev.mergeHits;
    this.mergeSkipped = prev.mergeSkipped;
    this.lastStart = prev.lastStart;
    this.lastEnd = prev.lastEnd;
  }

  /**
   * Whether the descriptor still names the file this lane was classified for, given
   * a fresh fstat (or the errno it failed with): false once the number was closed,
   * or closed and reused for another file.
   */
  names(facts: FdFacts | number): boolean {
    return typeof facts !== 'number' && facts.dev === this.dev && facts.ino === this.ino;
  }

  /** Appends `req` to the outstanding list. */
  add(req: Request): void {
    req.lane = this;
    req.lanePrev = this.tail;
    req.laneNext = null;
    if (this.tail === null) this.head = req;
    else this.tail.laneNext = req;
    this.tail = req;
    this.count++;
    if (req.op === OP_WRITE) this.writes++;
    else if (req.op === OP_READ && !this.#readsIndexed) return;
    if (req.isBarrier) this.barriers.add(req);
    this.#place(req);
  }

  /**
   * Lists every outstanding read in the hazard index, once, when the first write
   * looks for hazards: until then nothing looks reads up (a read waits only for
   * writes), so a lane of reads alone pays nothing for the index.
   */
  #indexReads(): void {
    this.#readsIndexed = true;
    for (let r = this.head; r !== null; r = r.laneNext) if (r.op === OP_READ) this.#place(r);
  }

  /** Puts `req` (outstanding on this lane) in its place of the hazard index. */
  #place(req: Request): void {
    const place = placeOf(this, req);
    if (place === IN_TREE) {
      if (!this.#gridAdd(req)) this.#trees[req.op as 0 | 1] = insert(this.#trees[req.op as 0 | 1], new TreeNode(req));
    } else if (place === IN_GATED) {
      const newest = this.#gated[req.op as 0 | 1];
      req.hazardLeft = newest;
      req.hazardRight = null;
      if (newest !== null) newest.hazardRight = req;
      this.#gated[req.op as 0 | 1] = req;
    }
  }

  /**
   * Calls `visit(e, req)` for every outstanding request `e` that `req` (a positioned
   * read or write, not yet added) must wait for under SPEC §2's rule: `e`'s byte range
   * overlaps `req`'s and at least one of them is a write; a gated `e` counts as
   * overlapping everything; barriers are not visited. Costs O(log n + k) for k visits,
   * plus the gated requests of the op(s) concerned.
   */
  forEachHazard(req: Request, visit: HazardVisitor): void {
    const isWrite = req.op === OP_WRITE;
    if (isWrite && !this.#readsIndexed) this.#indexReads();
    for (let e = this.#gated[OP_WRITE]; e !== null; e = e.hazardLeft) {
      this.inspected++;
      visit(e, req);
    }
    if (isWrite) {
      for (let e = this.#gated[OP_READ]; e !== null; e = e.hazardLeft) {
        this.inspected++;
        visit(e, req);
      }
    }
    if (req.len === 0) return;
    const start = startOf(req);
    const end = start + req.len;
    this.#overlapping(this.#trees[OP_WRITE], start, end, req, visit);
    this.#gridOverlapping(this.#grid[OP_WRITE], start, end, req, visit);
    if (isWrite) {
      this.#overlapping(this.#trees[OP_READ], start, end, req, visit);
      this.#gridOverlapping(this.#grid[OP_READ], start, end, req, visit);
    }
  }

  /** Lists `req` (positioned, non-empty) in the grid; false when it belongs in the tree instead. */
  #gridAdd(req: Request): boolean {
    const level = levelOf(req.len);
    if (level < 0) return false;
    const levels = this.#grid[req.op as 0 | 1];
    const map = (levels[level] ??= new Map());
    const no = Math.floor(startOf(req) / chunkSize(level));
    const chunk = map.get(no);
    req.hazardRight = null;
    if (chunk === undefined) {
      req.hazardLeft = null;
      map.set(no, { no, newest: req, count: 1 });
      return true;
    }
    if (chunk.count >= GRID_CAP) return false;
    req.hazardLeft = chunk.newest;
    chunk.newest.hazardRight = req;
    chunk.newest = req;
    chunk.count++;
    return true;
  }

  /**
   * Takes `req` out of the grid; false when it is not listed there (it is in the tree).
   * A listed request is its chunk's newest or has a newer neighbour; a request in the
   * tree is neither (its links are its tree node's).
   */
  #gridRemove(req: Request, start: number): boolean {
    const level = levelOf(req.len);
    if (level < 0) return false;
    const map = this.#grid[req.op as 0 | 1][level];
    const no = Math.floor(start / chunkSize(level));
    const chunk = map?.get(no);
    if (chunk === undefined || (req.hazardRight === null && chunk.newest !== req)) return false;
    const older = req.hazardLeft;
    const newer = req.hazardRight;
    if (older !== null) older.hazardRight = newer;
    if (newer !== null) newer.hazardLeft = older;
    else chunk.newest = older as Request;
    req.hazardLeft = req.hazardRight = null;
    if (--chunk.count === 0) (map as Map<number, Chunk>).delete(no);
    return true;
  }

  /**
   * Visits the requests of one op's grid whose ranges overlap [start, end): at each
   * level, the chunks from the one before `start`'s to `end`'s, or, when the range
   * spans more chunks than the level has, every listed chunk in that span.
   */
  #gridOverlapping(levels: Array<Map<number, Chunk> | undefined>, start: number, end: number, req: Request, visit: HazardVisitor): void {
    for (let level = 0; level < levels.length; level++) {
      const map = levels[level];
      if (map === undefined || map.size === 0) continue;
      const size = chunkSize(level);
      const first = Math.floor(start / size) - 1;
      const last = Math.floor((end - 1) / size);
      if (last - first < map.size) {
        for (let no = first; no <= last; no++) {
          const chunk = map.get(no);
          if (chunk !== undefined) this.#chunkOverlapping(chunk, start, end, req, visit);
        }
      } else {
        for (const chunk of map.values()) if (chunk.no >= first && chunk.no <= last) this.#chunkOverlapping(chunk, start, end, req, visit);
      }
    }
  }

  #chunkOverlapping(chunk: Chunk, start: number, end: number, req: Request, visit: HazardVisitor): void {
    for (let e: Request | null = chunk.newest; e !== null; e = e.hazardLeft) {
      this.inspected++;
      const s = startOf(e);
      if (s < end && s + e.len > start) visit(e, req);
    }
  }

  /** Visits the requests of the subtree at `node` whose ranges overlap [start, end). */
  #overlapping(node: TreeNode | null, start: number, end: number, req: Request, visit: HazardVisitor): void {
    while (node !== null) {
      this.inspected++;
      if (node.reach <= start) return; // nothing here reaches the range
      const l = node.left;
      if (l !== null) this.#overlapping(l, start, end, req, visit);
      if (node.start >= end) return; // this one and everything to its right start after the range
      if (node.end > start) visit(node.req, req);
      node = node.right;
    }
  }

  /** Lists a ready mergeable request in the merge index. */
  index(req: Request): void {
    const start = req.pos as number;
    const op = req.op as 0 | 1;
    const byStart = (this.byStart ??= [new Map(), new Map()])[op];
    const byEnd = (this.byEnd ??= [new Map(), new Map()])[op];
    if (byStart.has(start) || byEnd.has(start + req.len)) return;
    byStart.set(start, req);
    byEnd.set(start + req.len, req);
    req.indexed = true;
  }

  /** Ready requests of `op` in the merge index. */
  indexedCount(op: number): number {
    return this.byStart === null ? 0 : this.byStart[op as 0 | 1].size;
  }

  /** Takes `req` out of the merge index (it is being dispatched or canceled). */
  unindex(req: Request): void {
    req.indexed = false;
    const start = req.pos as number;
    const op = req.op as 0 | 1;
    (this.byStart as [Map<number, Request>, Map<number, Request>])[op].delete(start);
    (this.byEnd as [Map<number, Request>, Map<number, Request>])[op].delete(start + req.len);
  }

  /** The indexed ready request of `op` that starts at `at`, if any. */
  startingAt(op: number, at: number): Request | undefined {
    return this.byStart?.[op as 0 | 1].get(at);
  }

  /** The indexed ready request of `op` that ends just before `at`, if any. */
  endingAt(op: number, at: number): Request | undefined {
    return this.byEnd?.[op as 0 | 1].get(at);
  }

  /** Removes `req` from the outstanding list. */
  remove(req: Request): void {
    const { lanePrev: prev, laneNext: next } = req;
    if (prev === null) this.head = next;
    else prev.laneNext = next;
    if (next === null) this.tail = prev;
    else next.lanePrev = prev;
    req.lanePrev = req.laneNext = null;
    req.lane = null;
    this.count--;
    if (req.op === OP_WRITE) this.writes--;
    else if (req.op === OP_READ && !this.#readsIndexed) return;
    if (req.isBarrier) this.barriers.delete(req);
    const place = placeOf(this, req);
    if (place === IN_TREE) {
      const start = startOf(req);
      if (!this.#gridRemove(req, start)) this.#trees[req.op as 0 | 1] = remove(this.#trees[req.op as 0 | 1] as TreeNode, req, start);
    } else if (place === IN_GATED) {
      this.#unlinkGated(req);
    }
  }

  /**
   * Turns a gated positioned request of this lane into an ordinary one (the write
   * gated while its descriptor's flags were unknown, once they say "not O_APPEND"): it
   * leaves the gated list for its place by range. Only before any later request has
   * looked it up.
   */
  ungate(req: Request): void {
    this.#unlinkGated(req);
    req.gated = false;
    this.#place(req);
  }

  #unlinkGated(req: Request): void {
    const older = req.hazardLeft;
    const newer = req.hazardRight;
    if (older !== null) older.hazardRight = newer;
    if (newer !== null) newer.hazardLeft = older;
    else this.#gated[req.op as 0 | 1] = older;
    req.hazardLeft = req.hazardRight = null;
  }
}
