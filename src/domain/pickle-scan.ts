/**
 * Static safety scanner for pickle and joblib model artifacts.
 *
 * It never unpickles. It walks the opcode stream the way CPython's pure-Python
 * `pickle._Unpickler` (the class joblib's `NumpyUnpickler` extends) would, keeping a
 * small symbolic model of the stack and memo, and records every global the stream
 * would import. The model is only as precise as safety needs:
 *
 * - strings are kept so STACK_GLOBAL (module and name from the stack, often fetched
 *   from the memo) resolves to a name; if it cannot be resolved, the scan fails;
 * - framing (protocol 4+) is modelled like `pickle._Unframer`: a FRAME loads its bytes
 *   into a buffer that opcodes are read from, while joblib reads raw array bytes from
 *   the file handle, i.e. after the frame;
 * - joblib writes each numpy array's bytes inline, right after the BUILD that sets the
 *   state of a `joblib.numpy_pickle.NumpyArrayWrapper`. The scanner tracks wrapper
 *   instances and their state (shape, dtype, alignment) and skips exactly the bytes
 *   `NumpyArrayWrapper.read_array` would read. Object-dtype arrays are written as a
 *   nested pickle, which is scanned too. Whenever the size cannot be known exactly
 *   (an unknown dtype, an object that might be a wrapper but was not built the way
 *   joblib builds one, ...) the scan fails instead of guessing.
 *
 * Anything unexpected (unknown opcode, truncation, persistent ids, extension codes,
 * trailing bytes after the final STOP) sets `error`, which callers must treat as unsafe.
 */

export interface PickleScanResult {
  /** every distinct "module.qualname" the stream would import, in first-seen order */
  globals: string[];
  /** globals not matched by the allow-list */
  disallowed: string[];
  /** set when the stream cannot be parsed safely (unknown opcode, truncated, etc.); treat as unsafe */
  error?: string;
  protocol: number | null;
}

/**
 * Never allowed, whatever the allow-list says (prefix match on the full name).
 * Parts of sklearn run subprocesses, download or write files; joblib names other than
 * the wrapper could be aliases or subclasses of it that the array skipping would miss.
 */
const HARD_DENY_PREFIXES: readonly string[] = [
  'sklearn.utils._testing',
  'sklearn.utils._show_versions',
  'sklearn.datasets',
  'sklearn.conftest',
  'sklearn.externals',
  'joblib',
];
const WRAPPER_NAME = 'joblib.numpy_pickle.NumpyArrayWrapper';

function hardDenied(full: string): boolean {
  if (full === WRAPPER_NAME) return false;
  for (const p of HARD_DENY_PREFIXES) {
    if (full === p || full.startsWith(p + '.')) return true;
  }
  const parts = full.split('.');
  // dunder attributes (__globals__, __builtins__, __class__, ...) and test modules
  return parts.some(
    (s) => (s.length > 4 && s.startsWith('__') && s.endsWith('__')) || s === 'tests' || s === 'conftest',
  );
}

/** Exact names only: a prefix would let a dotted qualname walk out of it (`sklearn.base` + `os.system`). */
function allowed(module: string, name: string, allow: ReadonlySet<string>): boolean {
  const full = `${module}.${name}`;
  return !hardDenied(full) && allow.has(full);
}

/** true when the scan found no error and nothing disallowed */
export function isPickleSafe(r: PickleScanResult): boolean {
  return r.error === undefined && r.disallowed.length === 0;
}

// ---------------------------------------------------------------------------------------
// symbolic values

interface DtypeVal {
  k: 'dtype';
  base: string | null;
  /** last BUILD state, or undefined when never built; null when a state could not be modelled */
  state: Val[] | null | undefined;
}
interface WrapperVal {
  k: 'wrapper';
  attrs: Map<string, Val>;
}
type Val =
  | { k: 'str'; v: string | null }
  | { k: 'bytes' }
  | { k: 'int'; v: number | null }
  | { k: 'bool'; v: boolean }
  | { k: 'float' }
  | { k: 'none' }
  | { k: 'tuple'; items: Val[]; taint: boolean }
  | { k: 'list' }
  | { k: 'set' }
  | { k: 'dict'; entries: Map<string, Val>; opaqueKeys: boolean }
  | { k: 'global'; name: string; wrapperClass: boolean }
  | DtypeVal
  | WrapperVal
  /** any other object; maybe: it could be a NumpyArrayWrapper we cannot model */
  | { k: 'obj'; maybe: boolean };

const NONE: Val = { k: 'none' };
const SMALL_INTS: Val[] = Array.from({ length: 256 }, (_, v): Val => ({ k: 'int', v }));
const TRUE: Val = { k: 'bool', v: true };
const FALSE: Val = { k: 'bool', v: false };
function int(v: number | null): Val {
  return v !== null && v >= 0 && v < 256 && Number.isInteger(v) ? (SMALL_INTS[v] as Val) : { k: 'int', v };
}
const FLOAT: Val = { k: 'float' };
const BYTES: Val = { k: 'bytes' };
const CLEAN_OBJ: Val = { k: 'obj', maybe: false };
const MAYBE_OBJ: Val = { k: 'obj', maybe: true };

/** could this value be (or, for tuples, contain) a NumpyArrayWrapper or its class? */
function tainted(v: Val): boolean {
  switch (v.k) {
    case 'global':
      return v.wrapperClass;
    case 'wrapper':
      return true;
    case 'obj':
      return v.maybe;
    case 'tuple':
      return v.taint;
    default:
      return false;
  }
}

class ScanError extends Error {}
function fail(msg: string): never {
  throw new ScanError(msg);
}

// protocol < 3 name fixes applied by Unpickler.find_class (_compat_pickle), limited to
// the modules Python 3 itself writes; other Python 2 names stay unmapped (and unallowed).
const COMPAT_NAMES: Record<string, [string, string]> = {
  '__builtin__.xrange': ['builtins', 'range'],
  '__builtin__.reduce': ['functools', 'reduce'],
  '__builtin__.intern': ['sys', 'intern'],
  '__builtin__.unichr': ['builtins', 'chr'],
  '__builtin__.unicode': ['builtins', 'str'],
  '__builtin__.long': ['builtins', 'int'],
  '__builtin__.basestring': ['builtins', 'str'],
};
const COMPAT_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DECODED_STRING = 4096;

function latin1(data: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(data[i] as number);
  return s;
}

function isAscii(data: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((data[i] as number) >= 0x80) return false;
  return true;
}

/** the file handle both the unpickler and joblib's array reader consume */
interface FileCursor {
  readonly data: Uint8Array;
  pos: number;
}

interface Shared {
  file: FileCursor;
  globals: string[];
  seen: Set<string>;
  protocol: number | null;
}

const DECIMAL = /^[+-]?\d+$/;

function parseIntText(s: string): number | null {
  if (!DECIMAL.test(s)) fail(`bad integer literal ${JSON.stringify(s.slice(0, 40))}`);
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** little-endian two's complement integer (LONG1/LONG4) */
function decodeLong(data: Uint8Array, start: number, n: number): number | null {
  if (n === 0) return 0;
  if (n > 7) return null;
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (data[start + i] as number);
  if (((data[start + n - 1] as number) & 0x80) !== 0) v -= 2 ** (8 * n);
  return v;
}

const NUMERIC_ITEMSIZE: Record<string, number> = {
  b1: 1,
  i1: 1,
  u1: 1,
  i2: 2,
  u2: 2,
  i4: 4,
  u4: 4,
  i8: 8,
  u8: 8,
  f2: 2,
  f4: 4,
  f8: 8,
  c8: 8,
  c16: 16,
};
const BYTE_ORDERS = new Set(['<', '>', '|', '=']);

function intOf(v: Val | undefined): number | null {
  if (v?.k === 'int') return v.v;
  return null;
}

/**
 * itemsize and hasobject of a modelled dtype, or a failure. Only canonical states as
 * numpy itself pickles them are accepted, so the size is certain.
 */
function dtypeInfo(d: Val | undefined): { itemsize: number; hasobject: boolean } {
  if (d?.k !== 'dtype' || d.base === null || d.state === null) fail('array wrapper dtype cannot be modelled');
  const base = d.base;
  const st = d.state;
  const str = (i: number): string | null => {
    const v = st?.[i];
    return v?.k === 'str' ? v.v : null;
  };
  const isNone = (i: number): boolean => st?.[i]?.k === 'none';
  const common = (version: number, len: number): boolean =>
    st !== undefined &&
    st.length === len &&
    intOf(st[0]) === version &&
    BYTE_ORDERS.has(str(1) ?? '') &&
    isNone(2) &&
    isNone(3) &&
    isNone(4);
  const tail = (elsize: number, align: number, flags: number): boolean =>
    st !== undefined && intOf(st[5]) === elsize && intOf(st[6]) === align && intOf(st[7]) === flags;

  const numeric = NUMERIC_ITEMSIZE[base];
  if (numeric !== undefined) {
    if (st === undefined || (common(3, 8) && tail(-1, -1, 0))) return { itemsize: numeric, hasobject: false };
  } else if (base === 'M8' || base === 'm8') {
    if (st === undefined || (common(4, 9) && tail(-1, -1, 0) && st[8]?.k === 'tuple')) {
      return { itemsize: 8, hasobject: false };
    }
  } else if (base === 'O8') {
    if (st === undefined || (common(3, 8) && tail(-1, -1, 63))) return { itemsize: 8, hasobject: true };
  } else if (/^V[1-9]\d{0,8}$/.test(base)) {
    // structured (e.g. sklearn tree nodes) or raw void: numpy takes the itemsize from the
    // state and hasobject from the flags it stores, so require both to be unambiguous
    const itemsize = Number(base.slice(1));
    const names = st?.[3];
    const fields = st?.[4];
    const flags = intOf(st?.[7]);
    if (
      st !== undefined &&
      st.length === 8 &&
      intOf(st[0]) === 3 &&
      str(1) === '|' &&
      isNone(2) &&
      ((names?.k === 'tuple' && fields?.k === 'dict') || (names?.k === 'none' && fields?.k === 'none')) &&
      intOf(st[5]) === itemsize &&
      intOf(st[6]) !== null &&
      flags !== null &&
      flags >= 0 &&
      (flags & 1) === 0
    ) {
      return { itemsize, hasobject: false };
    }
  } else {
    const m = /^([US])([1-9]\d{0,8})$/.exec(base);
    if (m) {
      const unicode = m[1] === 'U';
      const itemsize = Number(m[2]) * (unicode ? 4 : 1);
      if (st === undefined || (common(3, 8) && tail(itemsize, unicode ? 4 : 1, unicode ? 8 : 0))) {
        return { itemsize, hasobject: false };
      }
    }
  }
  return fail(`unsupported dtype in array wrapper: ${base}`);
}

// ---------------------------------------------------------------------------------------
// the machine

class Machine {
  private stack: Val[] = [];
  private marks: number[] = [];
  /** memo; dense in practice (MEMOIZE), a sparse array otherwise */
  private memo: Val[] = [];
  private memoSize = 0;
  private proto = 0;
  /** a frame loaded by FRAME: opcodes are read from [framePos, frameEnd) */
  private frame: { pos: number; end: number } | null = null;
  /** a wrapper-ish value was stored somewhere we do not track */
  escaped = false;
  private readonly data: Uint8Array;

  constructor(
    private readonly shared: Shared,
    private readonly allow: ReadonlySet<string>,
    private readonly disallowed: string[],
    /** NumpyUnpickler (reads inline arrays after BUILD) vs the plain nested Unpickler */
    private readonly joblibArrays: boolean,
    /** the proto find_class sees (the nested unpickler borrows the outer find_class) */
    private readonly findClassProto: (() => number) | null,
  ) {
    this.data = shared.file.data;
  }

  // ---- reading, like pickle._Unframer ----

  /** returns the start offset of n bytes read through the framer */
  private read(n: number): number {
    const file = this.shared.file;
    if (this.frame) {
      const f = this.frame;
      if (f.pos >= f.end && n !== 0) {
        this.frame = null;
      } else {
        if (f.end - f.pos < n) fail('pickle exhausted before end of frame');
        const at = f.pos;
        f.pos += n;
        return at;
      }
    }
    if (file.data.length - file.pos < n) fail('truncated pickle');
    const at = file.pos;
    file.pos += n;
    return at;
  }

  /** a line without its trailing newline: [start, end) */
  private readline(): [number, number] {
    const data = this.data;
    const file = this.shared.file;
    if (this.frame) {
      const f = this.frame;
      if (f.pos >= f.end) {
        this.frame = null;
      } else {
        const nl = data.indexOf(0x0a, f.pos);
        if (nl < 0 || nl >= f.end) fail('pickle exhausted before end of frame');
        const start = f.pos;
        f.pos = nl + 1;
        return [start, nl];
      }
    }
    const nl = data.indexOf(0x0a, file.pos);
    if (nl < 0) fail('truncated pickle (missing newline)');
    const start = file.pos;
    file.pos = nl + 1;
    return [start, nl];
  }

  private u8(): number {
    return this.data[this.read(1)] as number;
  }
  private u16(): number {
    const at = this.read(2);
    return (this.data[at] as number) | ((this.data[at + 1] as number) << 8);
  }
  private u32(): number {
    const at = this.read(4);
    const d = this.data;
    return (
      ((d[at] as number) | ((d[at + 1] as number) << 8) | ((d[at + 2] as number) << 16)) +
      (d[at + 3] as number) * 0x1000000
    );
  }
  private u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    if (hi > 0x1fffff) fail('length too large');
    return hi * 0x100000000 + lo;
  }

  private lineText(): string {
    const [s, e] = this.readline();
    return latin1(this.data, s, e);
  }

  private utf8String(n: number): Val {
    const at = this.read(n);
    if (n > MAX_DECODED_STRING) return { k: 'str', v: null };
    if (n <= 64 && isAscii(this.data, at, at + n)) return { k: 'str', v: latin1(this.data, at, at + n) };
    try {
      return { k: 'str', v: utf8.decode(this.data.subarray(at, at + n)) };
    } catch {
      return { k: 'str', v: null };
    }
  }

  /** STRING/BINSTRING/SHORT_BINSTRING decode to str with the default ASCII encoding */
  private asciiString(at: number, n: number): Val {
    if (n > MAX_DECODED_STRING || !isAscii(this.data, at, at + n)) return { k: 'str', v: null };
    return { k: 'str', v: latin1(this.data, at, at + n) };
  }

  // ---- stack ----

  private floor(): number {
    return this.marks.length ? (this.marks[this.marks.length - 1] as number) : 0;
  }
  private push(v: Val): void {
    this.stack.push(v);
  }
  private pop(): Val {
    if (this.stack.length <= this.floor()) fail('stack underflow');
    return this.stack.pop() as Val;
  }
  private top(): Val {
    if (this.stack.length <= this.floor()) fail('stack underflow');
    return this.stack[this.stack.length - 1] as Val;
  }
  private setTop(v: Val): void {
    this.top();
    this.stack[this.stack.length - 1] = v;
  }
  private popMark(): Val[] {
    const m = this.marks.pop();
    if (m === undefined) fail('MARK not found');
    return this.stack.splice(m);
  }

  private store(v: Val): void {
    // a wrapper (or its class) stored into a mutable container can come back anywhere
    if (tainted(v)) this.escaped = true;
  }

  private tuple(items: Val[]): Val {
    return { k: 'tuple', items, taint: items.some(tainted) };
  }

  private memoPut(i: number): void {
    if (this.memo[i] === undefined) this.memoSize++;
    this.memo[i] = this.top();
  }
  private memoGet(i: number): void {
    const v = this.memo[i];
    if (v === undefined) fail(`memo value ${i} not found`);
    this.push(v);
  }

  // ---- globals ----

  private global(module: string, name: string): Val {
    const proto = this.findClassProto ? this.findClassProto() : this.proto;
    if (proto < 3) {
      const mapped = COMPAT_NAMES[`${module}.${name}`];
      if (mapped) [module, name] = mapped;
      else module = COMPAT_MODULES[module] ?? module;
    }
    if (module === '' || name === '') fail('empty global name');
    const full = `${module}.${name}`;
    const s = this.shared;
    if (!s.seen.has(full)) {
      s.seen.add(full);
      s.globals.push(full);
      if (!allowed(module, name, this.allow)) this.disallowed.push(full);
    }
    return { k: 'global', name: full, wrapperClass: full === WRAPPER_NAME };
  }

  // ---- object creation ----

  /** result of calling `fn(*args)` (REDUCE, OBJ/INST with arguments) */
  private call(fn: Val, args: Val[]): Val {
    if (fn.k === 'global') {
      if (fn.wrapperClass) return this.wrapperInit(args);
      if (fn.name === 'numpy.dtype' && !args.some(tainted)) {
        const a0 = args[0];
        return { k: 'dtype', base: a0?.k === 'str' && args.length === 3 ? a0.v : null, state: undefined };
      }
      if (fn.name === 'copyreg._reconstructor') {
        const [cls, base, state] = args;
        if (
          args.length === 3 &&
          cls?.k === 'global' &&
          cls.wrapperClass &&
          base?.k === 'global' &&
          base.name === 'builtins.object' &&
          state?.k === 'none'
        ) {
          return { k: 'wrapper', attrs: new Map() };
        }
      }
    }
    if (this.escaped || tainted(fn) || args.some(tainted)) return MAYBE_OBJ;
    return CLEAN_OBJ;
  }

  /** NumpyArrayWrapper.__init__(subclass, shape, order, dtype, allow_mmap=False, numpy_array_alignment_bytes=16) */
  private wrapperInit(args: Val[]): Val {
    if (args.length < 4 || args.length > 6) fail('NumpyArrayWrapper called with unexpected arguments');
    const names = ['subclass', 'shape', 'order', 'dtype', 'allow_mmap', 'numpy_array_alignment_bytes'];
    const attrs = new Map<string, Val>();
    attrs.set('allow_mmap', { k: 'bool', v: false });
    attrs.set('numpy_array_alignment_bytes', { k: 'int', v: 16 });
    args.forEach((a, i) => {
      if (tainted(a)) this.escaped = true;
      attrs.set(names[i] as string, a);
    });
    return { k: 'wrapper', attrs };
  }

  /** cls.__new__(cls, ...) for NEWOBJ / NEWOBJ_EX / argument-less OBJ and INST */
  private newObj(cls: Val, args: Val[]): Val {
    if (cls.k === 'global' && cls.wrapperClass) {
      // object.__new__ ignores the arguments: the wrapper starts without attributes
      return { k: 'wrapper', attrs: new Map() };
    }
    if (this.escaped || tainted(cls) || args.some(tainted)) return MAYBE_OBJ;
    return CLEAN_OBJ;
  }

  private instantiate(cls: Val, args: Val[]): Val {
    // pickle._Unpickler._instantiate: klass(*args) when there are args, else klass.__new__(klass)
    return args.length > 0 ? this.call(cls, args) : this.newObj(cls, []);
  }

  // ---- BUILD ----

  private build(): void {
    const state = this.pop();
    const inst = this.top();
    if (tainted(state)) this.escaped = true;
    switch (inst.k) {
      case 'wrapper':
        this.buildWrapper(inst, state);
        if (this.joblibArrays) this.setTop(this.readArray(inst));
        return;
      case 'dtype':
        inst.state = state.k === 'tuple' && inst.state !== null ? state.items : null;
        return;
      case 'global':
        // BUILD on a class could set attributes on it (even on the wrapper class)
        return fail('BUILD on a class');
      case 'obj':
        // after an escape, a BUILD could even assign __class__ to the wrapper class
        if (inst.maybe || this.escaped) fail('BUILD on an object that may be an array wrapper');
        return;
      default:
        // containers and scalars have no __setstate__ or __dict__: the real load would fail
        if (this.escaped) fail('BUILD after an array wrapper escaped');
        return;
    }
  }

  private buildWrapper(w: WrapperVal, state: Val): void {
    let dict: Val = state;
    let slots: Val | null = null;
    if (state.k === 'tuple' && state.items.length === 2) {
      dict = state.items[0] as Val;
      slots = state.items[1] as Val;
    }
    for (const part of slots ? [dict, slots] : [dict]) {
      if (part.k === 'none') continue;
      if (part.k !== 'dict' || part.opaqueKeys) fail('array wrapper state cannot be modelled');
      for (const [key, v] of part.entries) w.attrs.set(key, v);
    }
  }

  /** NumpyArrayWrapper.read_array: consume the inline array bytes, return the array */
  private readArray(w: WrapperVal): Val {
    const shape = w.attrs.get('shape');
    if (shape?.k !== 'tuple') fail('array wrapper shape cannot be modelled');
    let count = 1;
    for (const dim of shape.items) {
      const n = intOf(dim);
      if (n === null || n < 0) fail('array wrapper shape cannot be modelled');
      count *= n;
      if (!Number.isSafeInteger(count)) fail('array too large');
    }
    const { itemsize, hasobject } = dtypeInfo(w.attrs.get('dtype'));
    const file = this.shared.file;
    if (hasobject) {
      // joblib pickles object arrays with a nested pickle.Unpickler on the same file handle,
      // sharing the outer find_class (and so the outer protocol for name fixes)
      const inner = new Machine(
        this.shared,
        this.allow,
        this.disallowed,
        false,
        () => this.findClassProto?.() ?? this.proto,
      );
      const result = inner.run();
      if (inner.escaped) this.escaped = true;
      return inner.escaped || tainted(result) ? MAYBE_OBJ : CLEAN_OBJ;
    }
    const align = w.attrs.get('numpy_array_alignment_bytes');
    if (align !== undefined && align.k !== 'none') {
      if (file.pos >= file.data.length) fail('truncated array padding');
      const padding = file.data[file.pos] as number;
      file.pos += 1 + padding;
    }
    const size = count * itemsize;
    if (!Number.isSafeInteger(size) || file.pos + size > file.data.length) fail('truncated array data');
    file.pos += size;
    return CLEAN_OBJ;
  }

  // ---- the opcode loop ----

  /** runs to STOP and returns the value STOP pops */
  run(): Val {
    const d = this.data;
    for (;;) {
      const op = this.u8();
      switch (op) {
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x2e: // STOP
          return this.pop();
        case 0x30: // POP
          if (this.stack.length > this.floor()) this.stack.pop();
          else this.popMark();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;
        case 0x46: // FLOAT
          this.readline();
          this.push(FLOAT);
          break;
        case 0x49: {
          // INT
          const t = this.lineText();
          if (t === '00') this.push(FALSE);
          else if (t === '01') this.push(TRUE);
          else this.push(int(parseIntText(t)));
          break;
        }
        case 0x4a: {
          // BININT
          const at = this.read(4);
          this.push({
            k: 'int',
            v:
              (d[at] as number) |
              ((d[at + 1] as number) << 8) |
              ((d[at + 2] as number) << 16) |
              ((d[at + 3] as number) << 24),
          });
          break;
        }
        case 0x4b: // BININT1
          this.push(SMALL_INTS[this.u8()] as Val);
          break;
        case 0x4c: {
          // LONG
          let t = this.lineText();
          if (t.endsWith('L')) t = t.slice(0, -1);
          this.push(int(parseIntText(t)));
          break;
        }
        case 0x4d: // BININT2
          this.push(int(this.u16()));
          break;
        case 0x4e: // NONE
          this.push(NONE);
          break;
        case 0x50: // PERSID
        case 0x51: // BINPERSID
          return fail('persistent id opcodes load arbitrary objects');
        case 0x52: {
          // REDUCE
          const args = this.pop();
          const fn = this.top();
          if (args.k !== 'tuple') {
            if (tainted(args)) this.escaped = true;
            this.setTop(this.escaped || tainted(fn) ? MAYBE_OBJ : CLEAN_OBJ);
          } else {
            this.setTop(this.call(fn, args.items));
          }
          break;
        }
        case 0x53: {
          // STRING
          const [s, e] = this.readline();
          const q = d[s];
          if (e - s < 2 || (q !== 0x22 && q !== 0x27) || d[e - 1] !== q)
            fail('STRING argument must be quoted');
          // escapes are not decoded: a string with a backslash is kept as unknown
          this.push(
            d.subarray(s + 1, e - 1).includes(0x5c)
              ? { k: 'str', v: null }
              : this.asciiString(s + 1, e - 1 - (s + 1)),
          );
          break;
        }
        case 0x54: {
          // BINSTRING
          const n = this.u32();
          if (n > 0x7fffffff) fail('negative BINSTRING length');
          this.push(this.asciiString(this.read(n), n));
          break;
        }
        case 0x55: {
          // SHORT_BINSTRING
          const n = this.u8();
          this.push(this.asciiString(this.read(n), n));
          break;
        }
        case 0x56: {
          // UNICODE (raw-unicode-escape): only backslash-free text is decoded
          const [s, e] = this.readline();
          this.push(
            d.subarray(s, e).includes(0x5c) || e - s > MAX_DECODED_STRING
              ? { k: 'str', v: null }
              : { k: 'str', v: latin1(d, s, e) },
          );
          break;
        }
        case 0x58: // BINUNICODE
          this.push(this.utf8String(this.u32()));
          break;
        case 0x8d: // BINUNICODE8
          this.push(this.utf8String(this.u64()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.push(this.utf8String(this.u8()));
          break;
        case 0x61: {
          // APPEND
          const v = this.pop();
          this.top();
          this.store(v);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          this.top();
          items.forEach((v) => this.store(v));
          break;
        }
        case 0x62: // BUILD
          this.build();
          break;
        case 0x63: {
          // GLOBAL
          const [ms, me] = this.readline();
          const [ns, ne] = this.readline();
          let module: string;
          let name: string;
          try {
            module = utf8.decode(d.subarray(ms, me));
            name = utf8.decode(d.subarray(ns, ne));
          } catch {
            fail('GLOBAL name is not UTF-8');
          }
          this.push(this.global(module, name));
          break;
        }
        case 0x69: {
          // INST
          const [ms, me] = this.readline();
          const [ns, ne] = this.readline();
          if (!isAscii(d, ms, me) || !isAscii(d, ns, ne)) fail('INST name is not ASCII');
          const cls = this.global(latin1(d, ms, me), latin1(d, ns, ne));
          this.push(this.instantiate(cls, this.popMark()));
          break;
        }
        case 0x6f: {
          // OBJ
          const items = this.popMark();
          const cls = items.shift();
          if (cls === undefined) fail('OBJ without a class');
          this.push(this.instantiate(cls, items));
          break;
        }
        case 0x64: {
          // DICT
          const items = this.popMark();
          if (items.length % 2 !== 0) fail('odd number of items for DICT');
          const dict: Val = { k: 'dict', entries: new Map(), opaqueKeys: false };
          this.setItems(dict, items);
          this.push(dict);
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.push({ k: 'dict', entries: new Map(), opaqueKeys: false });
          break;
        case 0x73: {
          // SETITEM
          const v = this.pop();
          const key = this.pop();
          this.setItems(this.top(), [key, v]);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          if (items.length % 2 !== 0) fail('odd number of items for SETITEMS');
          this.setItems(this.top(), items);
          break;
        }
        case 0x67: // GET
          this.memoGet(this.nonNegativeLineInt('GET'));
          break;
        case 0x68: // BINGET
          this.memoGet(this.u8());
          break;
        case 0x6a: // LONG_BINGET
          this.memoGet(this.u32());
          break;
        case 0x70: // PUT
          this.memoPut(this.nonNegativeLineInt('PUT'));
          break;
        case 0x71: // BINPUT
          this.memoPut(this.u8());
          break;
        case 0x72: // LONG_BINPUT
          this.memoPut(this.u32());
          break;
        case 0x94: // MEMOIZE
          this.memoPut(this.memoSize);
          break;
        case 0x6c: // LIST
          this.popMark().forEach((v) => this.store(v));
          this.push({ k: 'list' });
          break;
        case 0x5d: // EMPTY_LIST
          this.push({ k: 'list' });
          break;
        case 0x74: // TUPLE
          this.push(this.tuple(this.popMark()));
          break;
        case 0x29: // EMPTY_TUPLE
          this.push(this.tuple([]));
          break;
        case 0x85: // TUPLE1
          this.push(this.tuple([this.pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          const a = this.pop();
          this.push(this.tuple([a, b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(this.tuple([a, b, c]));
          break;
        }
        case 0x47: // BINFLOAT
          this.read(8);
          this.push(FLOAT);
          break;
        case 0x80: {
          // PROTO
          const p = this.u8();
          if (p > 5) fail(`unsupported pickle protocol ${p}`);
          this.proto = p;
          if (this.shared.protocol === null) this.shared.protocol = p;
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = this.pop();
          const cls = this.pop();
          this.push(this.newObj(cls, args.k === 'tuple' ? args.items : [args]));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          this.push(this.newObj(cls, [args, kwargs]));
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: // EXT4
          return fail('extension registry opcodes are not supported');
        case 0x88: // NEWTRUE
          this.push(TRUE);
          break;
        case 0x89: // NEWFALSE
          this.push(FALSE);
          break;
        case 0x8a: {
          // LONG1
          const n = this.u8();
          this.push(int(decodeLong(d, this.read(n), n)));
          break;
        }
        case 0x8b: {
          // LONG4
          const n = this.u32();
          if (n > 0x7fffffff) fail('negative LONG4 length');
          this.push(int(decodeLong(d, this.read(n), n)));
          break;
        }
        case 0x42: // BINBYTES
          this.read(this.u32());
          this.push(BYTES);
          break;
        case 0x43: // SHORT_BINBYTES
          this.read(this.u8());
          this.push(BYTES);
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.read(this.u64());
          this.push(BYTES);
          break;
        case 0x8f: // EMPTY_SET
          this.push({ k: 'set' });
          break;
        case 0x90: // ADDITEMS
          this.popMark().forEach((v) => this.store(v));
          this.top();
          break;
        case 0x91: // FROZENSET
          this.popMark().forEach((v) => this.store(v));
          this.push({ k: 'set' });
          break;
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (module.k !== 'str' || name.k !== 'str' || module.v === null || name.v === null) {
            fail('STACK_GLOBAL arguments cannot be resolved to strings');
          }
          this.push(this.global(module.v, name.v));
          break;
        }
        case 0x95: {
          // FRAME
          const size = this.u64();
          if (this.frame && this.frame.pos < this.frame.end)
            fail('beginning of a new frame before end of current frame');
          const file = this.shared.file;
          if (file.data.length - file.pos < size) fail('truncated frame');
          this.frame = { pos: file.pos, end: file.pos + size };
          file.pos += size;
          break;
        }
        case 0x97: // NEXT_BUFFER (out-of-band data; joblib gives no buffers)
          this.push(BYTES);
          break;
        case 0x98: // READONLY_BUFFER
          this.top();
          break;
        default:
          fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }

  private nonNegativeLineInt(what: string): number {
    const n = parseIntText(this.lineText());
    if (n === null || n < 0) fail(`bad ${what} argument`);
    return n;
  }

  private setItems(target: Val, items: Val[]): void {
    for (let i = 0; i + 1 < items.length; i += 2) {
      const key = items[i] as Val;
      const v = items[i + 1] as Val;
      this.store(key);
      this.store(v);
      if (target.k === 'dict') {
        if (key.k === 'str' && key.v !== null) target.entries.set(key.v, v);
        else target.opaqueKeys = true;
      }
    }
  }

  /** bytes a frame loaded but no opcode consumed */
  frameRemainder(): number {
    return this.frame ? this.frame.end - this.frame.pos : 0;
  }
}

// joblib.load decompresses files starting with these magic numbers instead of unpickling them
const COMPRESSED_PREFIXES: readonly number[][] = [
  [0x5a, 0x46], // ZF (joblib < 0.9.3 zfile)
  [0x78], // zlib
  [0x1f, 0x8b], // gzip
  [0x42, 0x5a], // bz2
  [0xfd, 0x37, 0x7a, 0x58, 0x5a], // xz
  [0x5d, 0x00], // lzma
  [0x04, 0x22, 0x4d, 0x18], // lz4
];

/** Every global the pickle would import, and those not on `allow` (exact names, the policy's allowed_types). */
export function scanPickle(data: Uint8Array, allowList: readonly string[]): PickleScanResult {
  const allow = new Set(allowList);
  const shared: Shared = { file: { data, pos: 0 }, globals: [], seen: new Set(), protocol: null };
  const disallowed: string[] = [];
  const result = (error?: string): PickleScanResult => {
    const r: PickleScanResult = { globals: shared.globals, disallowed, protocol: shared.protocol };
    if (error !== undefined) r.error = error;
    return r;
  };
  if (data.length === 0) return result('empty file');
  for (const prefix of COMPRESSED_PREFIXES) {
    if (prefix.every((b, i) => data[i] === b)) return result('compressed joblib files are not supported');
  }
  const machine = new Machine(shared, allow, disallowed, true, null);
  try {
    machine.run();
  } catch (e) {
    if (e instanceof ScanError || e instanceof RangeError) return result(e.message);
    throw e;
  }
  const trailing = machine.frameRemainder() + (data.length - shared.file.pos);
  if (trailing > 0) return result(`${trailing} trailing bytes after the final STOP`);
  return result();
}
