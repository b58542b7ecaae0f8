//! A safe, non-executing decoder for Python pickles (protocols 0–5).
//!
//! The VM runs every opcode without calling anything: GLOBAL/STACK_GLOBAL yield names,
//! REDUCE/NEWOBJ/INST/OBJ record the call as an object, BUILD records the state. Objects live in
//! an arena while the VM runs, because later opcodes mutate memoized containers in place (APPENDS
//! after MEMOIZE). At STOP the arena graph becomes a [`PyValue`] tree: shared nodes are copied
//! (each copy counted against the limits), a back-edge to an enclosing container becomes
//! [`PyValue::Recursive`], and a few well-known constructors (numpy arrays and dtypes, sets,
//! bytearray, OrderedDict, marimo's `Cache` and stub classes) are turned into data.
//!
//! Nothing recurses on input-controlled depth: the VM is a loop, the tree is built with an
//! explicit stack, and the result is at most `Limits::max_depth` deep.

use std::collections::HashMap;
use std::fmt;

use super::value::{
    ClassStub, FunctionStub, MarimoCache, ModuleStub, NdArray, PyObject, PyValue, QualName,
    UIElementStub,
};

/// Resource bounds for [`decode`]. Exceeding any of them is an error, never a panic or an abort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest container nesting in the result.
    pub max_depth: usize,
    /// Bounds the VM's objects, its stack, memo and container references, and separately the
    /// nodes of the result (where each copy of a shared value counts again).
    pub max_nodes: usize,
    /// Sum of all string, bytes and big-int lengths allocated, copies included.
    pub max_bytes_alloc: usize,
    /// Largest accepted input.
    pub max_input: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 200,
            max_nodes: 1_000_000,
            max_bytes_alloc: 256 << 20,
            max_input: 1 << 30,
        }
    }
}

/// What went wrong; [`PickleError`] adds where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("unknown opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    #[error("input of {len} bytes exceeds the limit of {limit}")]
    InputTooLarge { len: usize, limit: usize },
    #[error("unexpected end of input")]
    Truncated,
    #[error("length {len} exceeds the {remaining} bytes left")]
    LengthExceedsInput { len: u64, remaining: usize },
    #[error("negative length {0}")]
    NegativeLength(i64),
    #[error("pickle ends without STOP")]
    MissingStop,
    #[error("stack underflow")]
    StackUnderflow,
    #[error("no MARK on the stack")]
    MissingMark,
    #[error("memo key {0} not found")]
    MemoMissing(u64),
    #[error("unsupported protocol {0}")]
    UnsupportedProtocol(u8),
    #[error("out-of-band buffers are not available")]
    OutOfBandBuffer,
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    #[error("{0}")]
    BadOperand(&'static str),
    #[error("nesting deeper than {0}")]
    TooDeep(usize),
    #[error("more than {0} nodes")]
    TooManyNodes(usize),
    #[error("more than {0} bytes allocated")]
    TooManyBytes(usize),
}

/// A decoding error at byte `offset`, inside the opcode `opcode` when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickleError {
    pub offset: usize,
    pub opcode: Option<u8>,
    pub kind: ErrorKind,
}

impl fmt::Display for PickleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, self.opcode.and_then(opcode_name)) {
            (ErrorKind::UnknownOpcode(_), _) | (_, None) => {
                write!(f, "{} at byte {}", self.kind, self.offset)
            }
            (kind, Some(name)) => write!(f, "{kind} in {name} at byte {}", self.offset),
        }
    }
}

impl std::error::Error for PickleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// Opcode bytes, named as in CPython's `pickletools`.
mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const FLOAT: u8 = b'F';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const LONG: u8 = b'L';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const PERSID: u8 = b'P';
    pub const BINPERSID: u8 = b'Q';
    pub const REDUCE: u8 = b'R';
    pub const STRING: u8 = b'S';
    pub const BINSTRING: u8 = b'T';
    pub const SHORT_BINSTRING: u8 = b'U';
    pub const UNICODE: u8 = b'V';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const GET: u8 = b'g';
    pub const BINGET: u8 = b'h';
    pub const INST: u8 = b'i';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const OBJ: u8 = b'o';
    pub const PUT: u8 = b'p';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const EXT1: u8 = 0x82;
    pub const EXT2: u8 = 0x83;
    pub const EXT4: u8 = 0x84;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    pub const BINBYTES: u8 = b'B';
    pub const SHORT_BINBYTES: u8 = b'C';
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINBYTES8: u8 = 0x8e;
    pub const EMPTY_SET: u8 = 0x8f;
    pub const ADDITEMS: u8 = 0x90;
    pub const FROZENSET: u8 = 0x91;
    pub const NEWOBJ_EX: u8 = 0x92;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
    pub const BYTEARRAY8: u8 = 0x96;
    pub const NEXT_BUFFER: u8 = 0x97;
    pub const READONLY_BUFFER: u8 = 0x98;
}

/// The `pickletools` name of an opcode byte.
pub fn opcode_name(opcode: u8) -> Option<&'static str> {
    use op::*;
    Some(match opcode {
        MARK => "MARK",
        STOP => "STOP",
        POP => "POP",
        POP_MARK => "POP_MARK",
        DUP => "DUP",
        FLOAT => "FLOAT",
        INT => "INT",
        BININT => "BININT",
        BININT1 => "BININT1",
        LONG => "LONG",
        BININT2 => "BININT2",
        NONE => "NONE",
        PERSID => "PERSID",
        BINPERSID => "BINPERSID",
        REDUCE => "REDUCE",
        STRING => "STRING",
        BINSTRING => "BINSTRING",
        SHORT_BINSTRING => "SHORT_BINSTRING",
        UNICODE => "UNICODE",
        BINUNICODE => "BINUNICODE",
        APPEND => "APPEND",
        BUILD => "BUILD",
        GLOBAL => "GLOBAL",
        DICT => "DICT",
        EMPTY_DICT => "EMPTY_DICT",
        APPENDS => "APPENDS",
        GET => "GET",
        BINGET => "BINGET",
        INST => "INST",
        LONG_BINGET => "LONG_BINGET",
        LIST => "LIST",
        EMPTY_LIST => "EMPTY_LIST",
        OBJ => "OBJ",
        PUT => "PUT",
        BINPUT => "BINPUT",
        LONG_BINPUT => "LONG_BINPUT",
        SETITEM => "SETITEM",
        TUPLE => "TUPLE",
        EMPTY_TUPLE => "EMPTY_TUPLE",
        SETITEMS => "SETITEMS",
        BINFLOAT => "BINFLOAT",
        PROTO => "PROTO",
        NEWOBJ => "NEWOBJ",
        EXT1 => "EXT1",
        EXT2 => "EXT2",
        EXT4 => "EXT4",
        TUPLE1 => "TUPLE1",
        TUPLE2 => "TUPLE2",
        TUPLE3 => "TUPLE3",
        NEWTRUE => "NEWTRUE",
        NEWFALSE => "NEWFALSE",
        LONG1 => "LONG1",
        LONG4 => "LONG4",
        BINBYTES => "BINBYTES",
        SHORT_BINBYTES => "SHORT_BINBYTES",
        SHORT_BINUNICODE => "SHORT_BINUNICODE",
        BINUNICODE8 => "BINUNICODE8",
        BINBYTES8 => "BINBYTES8",
        EMPTY_SET => "EMPTY_SET",
        ADDITEMS => "ADDITEMS",
        FROZENSET => "FROZENSET",
        NEWOBJ_EX => "NEWOBJ_EX",
        STACK_GLOBAL => "STACK_GLOBAL",
        MEMOIZE => "MEMOIZE",
        FRAME => "FRAME",
        BYTEARRAY8 => "BYTEARRAY8",
        NEXT_BUFFER => "NEXT_BUFFER",
        READONLY_BUFFER => "READONLY_BUFFER",
        _ => return None,
    })
}

/// Decodes one pickle into a value tree without executing anything.
/// Bytes after STOP are ignored, as `pickle.loads` does.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<PyValue, PickleError> {
    if bytes.len() > limits.max_input {
        return Err(PickleError {
            offset: 0,
            opcode: None,
            kind: ErrorKind::InputTooLarge {
                len: bytes.len(),
                limit: limits.max_input,
            },
        });
    }
    let mut vm = Vm::new(bytes, limits);
    let root = vm.run()?;
    let stop = (vm.op_pos, vm.op);
    Builder::new(vm.nodes, limits, vm.bytes_alloc)
        .build(root)
        .map_err(|kind| PickleError {
            offset: stop.0,
            opcode: Some(stop.1),
            kind,
        })
}

type Id = usize;

/// A VM object. Containers refer to other nodes by index so that memoized containers can be
/// filled after they were shared.
enum Node {
    Atom(PyValue),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    FrozenSet(Vec<Id>),
    Object(Box<ObjNode>),
    PersId(Id),
}

/// A recorded call (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ) and what was applied to its result.
struct ObjNode {
    callable: Id,
    /// Always a `Node::Tuple`.
    args: Id,
    kwargs: Option<Id>,
    state: Option<Id>,
    items: Vec<Id>,
    dict_items: Vec<(Id, Id)>,
}

impl Node {
    fn for_each_child(&self, mut f: impl FnMut(Id)) {
        match self {
            Node::Atom(_) => {}
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                v.iter().copied().for_each(f)
            }
            Node::Dict(pairs) => pairs.iter().for_each(|&(k, v)| {
                f(k);
                f(v);
            }),
            Node::Object(o) => {
                f(o.callable);
                f(o.args);
                o.kwargs.into_iter().chain(o.state).for_each(&mut f);
                o.items.iter().copied().for_each(&mut f);
                o.dict_items.iter().for_each(|&(k, v)| {
                    f(k);
                    f(v);
                });
            }
            Node::PersId(id) => f(*id),
        }
    }
}

struct Vm<'a> {
    input: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    nodes: Vec<Node>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    /// Child references stored in containers, bounded like nodes so memory stays linear.
    edges: usize,
    bytes_alloc: usize,
    proto: u8,
    op: u8,
    op_pos: usize,
}

type VmResult<T> = Result<T, PickleError>;

impl<'a> Vm<'a> {
    fn new(input: &'a [u8], limits: &'a Limits) -> Self {
        Self {
            input,
            pos: 0,
            limits,
            nodes: Vec::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            edges: 0,
            bytes_alloc: 0,
            proto: 0,
            op: 0,
            op_pos: 0,
        }
    }

    fn err(&self, kind: ErrorKind) -> PickleError {
        PickleError {
            offset: self.op_pos,
            opcode: Some(self.op),
            kind,
        }
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn read(&mut self, n: usize) -> VmResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(ErrorKind::Truncated));
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn read_array<const N: usize>(&mut self) -> VmResult<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read(N)?);
        Ok(out)
    }

    /// Reads a payload whose length came from the input, rejecting it before anything is
    /// allocated when it claims more than the input holds.
    fn read_len(&mut self, len: u64) -> VmResult<&'a [u8]> {
        match usize::try_from(len) {
            Ok(n) if n <= self.remaining() => self.read(n),
            _ => Err(self.err(ErrorKind::LengthExceedsInput {
                len,
                remaining: self.remaining(),
            })),
        }
    }

    fn read_i32_len(&mut self) -> VmResult<&'a [u8]> {
        let n = i32::from_le_bytes(self.read_array()?);
        if n < 0 {
            return Err(self.err(ErrorKind::NegativeLength(n.into())));
        }
        self.read_len(n as u64)
    }

    fn read_u32_len(&mut self) -> VmResult<&'a [u8]> {
        let n = u32::from_le_bytes(self.read_array()?);
        self.read_len(n.into())
    }

    fn read_u64_len(&mut self) -> VmResult<&'a [u8]> {
        let n = u64::from_le_bytes(self.read_array()?);
        self.read_len(n)
    }

    /// A protocol-0 text argument, without its `\n`.
    fn read_line(&mut self) -> VmResult<&'a [u8]> {
        let rest = &self.input[self.pos..];
        let Some(n) = rest.iter().position(|&b| b == b'\n') else {
            return Err(self.err(ErrorKind::Truncated));
        };
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    fn charge_bytes(&mut self, n: usize) -> VmResult<()> {
        self.bytes_alloc = self.bytes_alloc.saturating_add(n);
        if self.bytes_alloc > self.limits.max_bytes_alloc {
            return Err(self.err(ErrorKind::TooManyBytes(self.limits.max_bytes_alloc)));
        }
        Ok(())
    }

    fn charge_edges(&mut self, n: usize) -> VmResult<()> {
        self.edges = self.edges.saturating_add(n);
        if self.edges > self.limits.max_nodes {
            return Err(self.err(ErrorKind::TooManyNodes(self.limits.max_nodes)));
        }
        Ok(())
    }

    fn alloc(&mut self, node: Node) -> VmResult<Id> {
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(self.err(ErrorKind::TooManyNodes(self.limits.max_nodes)));
        }
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    fn push_id(&mut self, id: Id) -> VmResult<()> {
        if self.stack.len() >= self.limits.max_nodes {
            return Err(self.err(ErrorKind::TooManyNodes(self.limits.max_nodes)));
        }
        self.stack.push(id);
        Ok(())
    }

    fn push(&mut self, node: Node) -> VmResult<()> {
        let id = self.alloc(node)?;
        self.push_id(id)
    }

    fn push_atom(&mut self, v: PyValue) -> VmResult<()> {
        self.push(Node::Atom(v))
    }

    /// Charges the input length before decoding so nothing is allocated past the budget, then
    /// any growth (a Latin-1 or U+FFFD character takes more bytes than its input).
    fn push_text(&mut self, raw: &[u8], decode: fn(&[u8]) -> String) -> VmResult<()> {
        self.charge_bytes(raw.len())?;
        let s = decode(raw);
        self.charge_bytes(s.len().saturating_sub(raw.len()))?;
        self.push_atom(PyValue::Str(s))
    }

    fn push_bytes(&mut self, b: &[u8]) -> VmResult<()> {
        self.charge_bytes(b.len())?;
        self.push_atom(PyValue::Bytes(b.to_vec()))
    }

    /// Creates a container from ids already counted as stack entries.
    fn push_container(&mut self, node: Node, children: usize) -> VmResult<()> {
        self.charge_edges(children)?;
        self.push(node)
    }

    /// The lowest stack index usable by the current opcode: items below the last MARK belong
    /// to an enclosing opcode.
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> VmResult<Id> {
        if self.stack.len() <= self.fence() {
            return Err(self.err(ErrorKind::StackUnderflow));
        }
        self.stack
            .pop()
            .ok_or_else(|| self.err(ErrorKind::StackUnderflow))
    }

    fn top(&self) -> VmResult<Id> {
        if self.stack.len() <= self.fence() {
            return Err(self.err(ErrorKind::StackUnderflow));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| self.err(ErrorKind::StackUnderflow))
    }

    fn pop_mark(&mut self) -> VmResult<Vec<Id>> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.err(ErrorKind::MissingMark))?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn pop_n(&mut self, n: usize) -> VmResult<Vec<Id>> {
        if self.stack.len() < self.fence() + n {
            return Err(self.err(ErrorKind::StackUnderflow));
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    fn pairs(&self, items: Vec<Id>) -> VmResult<Vec<(Id, Id)>> {
        if !items.len().is_multiple_of(2) {
            return Err(self.err(ErrorKind::BadOperand("odd number of items for a dict")));
        }
        Ok(items.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    }

    fn memo_put(&mut self, key: u64) -> VmResult<()> {
        let id = self.top()?;
        if !self.memo.contains_key(&key) && self.memo.len() >= self.limits.max_nodes {
            return Err(self.err(ErrorKind::TooManyNodes(self.limits.max_nodes)));
        }
        self.memo.insert(key, id);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> VmResult<()> {
        let id = *self
            .memo
            .get(&key)
            .ok_or_else(|| self.err(ErrorKind::MemoMissing(key)))?;
        self.push_id(id)
    }

    fn text_u64(&self, line: &[u8]) -> VmResult<u64> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| self.err(ErrorKind::InvalidArgument("not a memo index")))
    }

    fn utf8_name(&mut self, raw: &[u8]) -> VmResult<String> {
        let s = std::str::from_utf8(raw)
            .map_err(|_| self.err(ErrorKind::BadOperand("global name is not UTF-8")))?;
        self.charge_bytes(s.len())?;
        Ok(s.to_string())
    }

    fn global(&mut self, module: String, name: String) -> VmResult<Id> {
        let q = if self.proto < 3 {
            fix_import(module, name)
        } else {
            QualName { module, name }
        };
        self.alloc(Node::Atom(PyValue::Global(q)))
    }

    fn str_atom(&self, id: Id) -> Option<&str> {
        match &self.nodes[id] {
            Node::Atom(PyValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn expect_tuple(&self, id: Id, what: &'static str) -> VmResult<()> {
        match self.nodes[id] {
            Node::Tuple(_) => Ok(()),
            _ => Err(self.err(ErrorKind::BadOperand(what))),
        }
    }

    fn push_object(&mut self, callable: Id, args: Id, kwargs: Option<Id>) -> VmResult<()> {
        self.charge_edges(2 + usize::from(kwargs.is_some()))?;
        self.push(Node::Object(Box::new(ObjNode {
            callable,
            args,
            kwargs,
            state: None,
            items: Vec::new(),
            dict_items: Vec::new(),
        })))
    }

    /// APPEND/APPENDS/ADDITEMS onto the container at the top of the stack.
    fn extend_top(&mut self, items: Vec<Id>, sets: bool) -> VmResult<()> {
        self.charge_edges(items.len())?;
        let target = self.top()?;
        match (&mut self.nodes[target], sets) {
            (Node::List(v), false) | (Node::Set(v), true) => v.extend(items),
            (Node::Object(o), _) => o.items.extend(items),
            _ => {
                return Err(self.err(ErrorKind::BadOperand(if sets {
                    "ADDITEMS target is not a set"
                } else {
                    "APPEND target is not a list"
                })));
            }
        }
        Ok(())
    }

    /// SETITEM/SETITEMS onto the dict at the top of the stack.
    fn set_items_top(&mut self, pairs: Vec<(Id, Id)>) -> VmResult<()> {
        self.charge_edges(pairs.len() * 2)?;
        let target = self.top()?;
        match &mut self.nodes[target] {
            Node::Dict(d) => d.extend(pairs),
            Node::Object(o) => o.dict_items.extend(pairs),
            _ => return Err(self.err(ErrorKind::BadOperand("SETITEM target is not a dict"))),
        }
        Ok(())
    }

    /// Runs opcodes until STOP and returns the id of the result.
    fn run(&mut self) -> VmResult<Id> {
        use op::*;
        loop {
            self.op_pos = self.pos;
            let Some(&opcode) = self.input.get(self.pos) else {
                return Err(PickleError {
                    offset: self.pos,
                    opcode: None,
                    kind: ErrorKind::MissingStop,
                });
            };
            self.op = opcode;
            self.pos += 1;
            match opcode {
                MARK => {
                    if self.marks.len() >= self.limits.max_nodes {
                        return Err(self.err(ErrorKind::TooManyNodes(self.limits.max_nodes)));
                    }
                    self.marks.push(self.stack.len());
                }
                STOP => return self.pop(),
                POP => {
                    // At a MARK boundary CPython's POP discards the mark instead.
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop()?;
                    }
                }
                POP_MARK => {
                    self.pop_mark()?;
                }
                DUP => {
                    let id = self.top()?;
                    self.push_id(id)?;
                }
                FLOAT => {
                    let line = self.read_line()?;
                    let v = parse_text_float(line)
                        .ok_or_else(|| self.err(ErrorKind::InvalidArgument("not a float")))?;
                    self.push_atom(PyValue::Float(v))?;
                }
                INT => {
                    let line = self.read_line()?;
                    let v = match line {
                        b"00" => PyValue::Bool(false),
                        b"01" => PyValue::Bool(true),
                        _ => parse_text_int(line)
                            .ok_or_else(|| self.err(ErrorKind::InvalidArgument("not an int")))?,
                    };
                    self.charge_bytes(big_len(&v))?;
                    self.push_atom(v)?;
                }
                LONG => {
                    let line = self.read_line()?;
                    let digits = line.strip_suffix(b"L").unwrap_or(line);
                    let v = parse_text_int(digits)
                        .ok_or_else(|| self.err(ErrorKind::InvalidArgument("not an int")))?;
                    self.charge_bytes(big_len(&v))?;
                    self.push_atom(v)?;
                }
                BININT => {
                    let v = i32::from_le_bytes(self.read_array()?);
                    self.push_atom(PyValue::Int(v.into()))?;
                }
                BININT1 => {
                    let [v] = self.read_array()?;
                    self.push_atom(PyValue::Int(v.into()))?;
                }
                BININT2 => {
                    let v = u16::from_le_bytes(self.read_array()?);
                    self.push_atom(PyValue::Int(v.into()))?;
                }
                LONG1 | LONG4 => {
                    let raw = if opcode == LONG1 {
                        let [n] = self.read_array()?;
                        self.read_len(n.into())?
                    } else {
                        self.read_i32_len()?
                    };
                    let v = decode_long(raw);
                    self.charge_bytes(big_len(&v))?;
                    self.push_atom(v)?;
                }
                BINFLOAT => {
                    let v = f64::from_be_bytes(self.read_array()?);
                    self.push_atom(PyValue::Float(v))?;
                }
                NONE => self.push_atom(PyValue::None)?,
                NEWTRUE => self.push_atom(PyValue::Bool(true))?,
                NEWFALSE => self.push_atom(PyValue::Bool(false))?,
                STRING => {
                    let line = self.read_line()?;
                    self.charge_bytes(line.len())?;
                    let raw = unquote_string(line).ok_or_else(|| {
                        self.err(ErrorKind::InvalidArgument("not a quoted string"))
                    })?;
                    self.push_atom(py2_str(raw))?;
                }
                BINSTRING => {
                    let raw = self.read_i32_len()?;
                    self.charge_bytes(raw.len())?;
                    self.push_atom(py2_str(raw.to_vec()))?;
                }
                SHORT_BINSTRING => {
                    let [n] = self.read_array()?;
                    let raw = self.read_len(n.into())?;
                    self.charge_bytes(raw.len())?;
                    self.push_atom(py2_str(raw.to_vec()))?;
                }
                UNICODE => {
                    let line = self.read_line()?;
                    self.push_text(line, decode_raw_unicode_escape)?;
                }
                BINUNICODE | SHORT_BINUNICODE | BINUNICODE8 => {
                    let raw = match opcode {
                        BINUNICODE => self.read_u32_len()?,
                        BINUNICODE8 => self.read_u64_len()?,
                        _ => {
                            let [n] = self.read_array()?;
                            self.read_len(n.into())?
                        }
                    };
                    // CPython writes lone surrogates with "surrogatepass"; Rust strings cannot
                    // hold them, so they (and any other invalid UTF-8) become U+FFFD.
                    self.push_text(raw, |raw| String::from_utf8_lossy(raw).into_owned())?;
                }
                BINBYTES | SHORT_BINBYTES | BINBYTES8 => {
                    let raw = match opcode {
                        BINBYTES => self.read_u32_len()?,
                        BINBYTES8 => self.read_u64_len()?,
                        _ => {
                            let [n] = self.read_array()?;
                            self.read_len(n.into())?
                        }
                    };
                    self.push_bytes(raw)?;
                }
                BYTEARRAY8 => {
                    let raw = self.read_u64_len()?;
                    self.charge_bytes(raw.len())?;
                    self.push_atom(PyValue::ByteArray(raw.to_vec()))?;
                }
                EMPTY_LIST => self.push(Node::List(Vec::new()))?,
                EMPTY_TUPLE => self.push(Node::Tuple(Vec::new()))?,
                EMPTY_DICT => self.push(Node::Dict(Vec::new()))?,
                EMPTY_SET => self.push(Node::Set(Vec::new()))?,
                APPEND => {
                    let v = self.pop()?;
                    self.extend_top(vec![v], false)?;
                }
                APPENDS => {
                    let items = self.pop_mark()?;
                    self.extend_top(items, false)?;
                }
                ADDITEMS => {
                    let items = self.pop_mark()?;
                    self.extend_top(items, true)?;
                }
                LIST => {
                    let items = self.pop_mark()?;
                    let n = items.len();
                    self.push_container(Node::List(items), n)?;
                }
                TUPLE => {
                    let items = self.pop_mark()?;
                    let n = items.len();
                    self.push_container(Node::Tuple(items), n)?;
                }
                TUPLE1 | TUPLE2 | TUPLE3 => {
                    let n = usize::from(opcode - TUPLE1) + 1;
                    let items = self.pop_n(n)?;
                    self.push_container(Node::Tuple(items), n)?;
                }
                FROZENSET => {
                    let items = self.pop_mark()?;
                    let n = items.len();
                    self.push_container(Node::FrozenSet(items), n)?;
                }
                DICT => {
                    let items = self.pop_mark()?;
                    let n = items.len();
                    let pairs = self.pairs(items)?;
                    self.push_container(Node::Dict(pairs), n)?;
                }
                SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items_top(vec![(k, v)])?;
                }
                SETITEMS => {
                    let items = self.pop_mark()?;
                    let pairs = self.pairs(items)?;
                    self.set_items_top(pairs)?;
                }
                GLOBAL => {
                    let module = self.read_line()?;
                    let name = self.read_line()?;
                    let (module, name) = (self.utf8_name(module)?, self.utf8_name(name)?);
                    let id = self.global(module, name)?;
                    self.push_id(id)?;
                }
                STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(module), Some(name)) = (self.str_atom(module), self.str_atom(name))
                    else {
                        return Err(
                            self.err(ErrorKind::BadOperand("STACK_GLOBAL needs two strings"))
                        );
                    };
                    let (module, name) = (module.to_string(), name.to_string());
                    self.charge_bytes(module.len() + name.len())?;
                    let id = self.global(module, name)?;
                    self.push_id(id)?;
                }
                REDUCE => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.expect_tuple(args, "REDUCE arguments are not a tuple")?;
                    self.push_object(callable, args, None)?;
                }
                NEWOBJ => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    self.expect_tuple(args, "NEWOBJ arguments are not a tuple")?;
                    self.push_object(cls, args, None)?;
                }
                NEWOBJ_EX => {
                    let kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    self.expect_tuple(args, "NEWOBJ_EX arguments are not a tuple")?;
                    if !matches!(self.nodes[kwargs], Node::Dict(_)) {
                        return Err(self.err(ErrorKind::BadOperand(
                            "NEWOBJ_EX keyword arguments are not a dict",
                        )));
                    }
                    self.push_object(cls, args, Some(kwargs))?;
                }
                INST => {
                    let module = self.read_line()?;
                    let name = self.read_line()?;
                    let (module, name) = (self.utf8_name(module)?, self.utf8_name(name)?);
                    let items = self.pop_mark()?;
                    self.charge_edges(items.len())?;
                    let args = self.alloc(Node::Tuple(items))?;
                    let cls = self.global(module, name)?;
                    self.push_object(cls, args, None)?;
                }
                OBJ => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return Err(self.err(ErrorKind::StackUnderflow));
                    }
                    let cls = items.remove(0);
                    self.charge_edges(items.len())?;
                    let args = self.alloc(Node::Tuple(items))?;
                    self.push_object(cls, args, None)?;
                }
                BUILD => {
                    let state = self.pop()?;
                    let target = self.top()?;
                    self.charge_edges(1)?;
                    match &mut self.nodes[target] {
                        // A second BUILD replaces the state; CPython would apply both.
                        Node::Object(o) => o.state = Some(state),
                        _ => {
                            return Err(
                                self.err(ErrorKind::BadOperand("BUILD target is not an object"))
                            );
                        }
                    }
                }
                PUT => {
                    let line = self.read_line()?;
                    let key = self.text_u64(line)?;
                    self.memo_put(key)?;
                }
                BINPUT => {
                    let [key] = self.read_array()?;
                    self.memo_put(key.into())?;
                }
                LONG_BINPUT => {
                    let key = u32::from_le_bytes(self.read_array()?);
                    self.memo_put(key.into())?;
                }
                MEMOIZE => {
                    let key = self.memo.len() as u64;
                    self.memo_put(key)?;
                }
                GET => {
                    let line = self.read_line()?;
                    let key = self.text_u64(line)?;
                    self.memo_get(key)?;
                }
                BINGET => {
                    let [key] = self.read_array()?;
                    self.memo_get(key.into())?;
                }
                LONG_BINGET => {
                    let key = u32::from_le_bytes(self.read_array()?);
                    self.memo_get(key.into())?;
                }
                PROTO => {
                    let [proto] = self.read_array()?;
                    if proto > 5 {
                        return Err(self.err(ErrorKind::UnsupportedProtocol(proto)));
                    }
                    self.proto = proto;
                }
                FRAME => {
                    // Frames only group opcodes for buffered reads; the length is still checked.
                    let n = u64::from_le_bytes(self.read_array()?);
                    if n > self.remaining() as u64 {
                        return Err(self.err(ErrorKind::LengthExceedsInput {
                            len: n,
                            remaining: self.remaining(),
                        }));
                    }
                }
                EXT1 => {
                    let [code] = self.read_array()?;
                    self.push_atom(PyValue::Extension(code.into()))?;
                }
                EXT2 => {
                    let code = u16::from_le_bytes(self.read_array()?);
                    self.push_atom(PyValue::Extension(code.into()))?;
                }
                EXT4 => {
                    let code = i32::from_le_bytes(self.read_array()?);
                    self.push_atom(PyValue::Extension(code))?;
                }
                PERSID => {
                    let line = self.read_line()?;
                    self.charge_bytes(line.len())?;
                    let id = self.alloc(Node::Atom(PyValue::Str(
                        String::from_utf8_lossy(line).into_owned(),
                    )))?;
                    self.push_container(Node::PersId(id), 1)?;
                }
                BINPERSID => {
                    let id = self.pop()?;
                    self.push_container(Node::PersId(id), 1)?;
                }
                NEXT_BUFFER | READONLY_BUFFER => {
                    return Err(self.err(ErrorKind::OutOfBandBuffer));
                }
                other => return Err(self.err(ErrorKind::UnknownOpcode(other))),
            }
        }
    }
}

/// Python 2 `str` (STRING/BINSTRING/SHORT_BINSTRING): text when ASCII, bytes otherwise.
/// (CPython 3 decodes with `encoding="ASCII"` by default and fails on the rest.)
fn py2_str(raw: Vec<u8>) -> PyValue {
    if raw.is_ascii() {
        // ASCII is valid UTF-8; the fallback is never taken.
        String::from_utf8(raw).map_or_else(|e| PyValue::Bytes(e.into_bytes()), PyValue::Str)
    } else {
        PyValue::Bytes(raw)
    }
}

/// Python 2 module and builtin names that CPython maps when loading protocol 0–2 pickles
/// (the subset of `_compat_pickle` that matters for data).
fn fix_import(module: String, name: String) -> QualName {
    let module = match module.as_str() {
        "__builtin__" | "exceptions" => "builtins".to_string(),
        "copy_reg" => "copyreg".to_string(),
        _ => module,
    };
    let name = match (module.as_str(), name.as_str()) {
        ("builtins", "unicode" | "basestring") => "str".to_string(),
        ("builtins", "long") => "int".to_string(),
        ("builtins", "xrange") => "range".to_string(),
        ("builtins", "unichr") => "chr".to_string(),
        _ => name,
    };
    QualName { module, name }
}

/// String bytes held by a value (what [`Limits::max_bytes_alloc`] counts).
fn big_len(v: &PyValue) -> usize {
    match v {
        PyValue::BigInt(s) | PyValue::Str(s) => s.len(),
        PyValue::Bytes(b) | PyValue::ByteArray(b) => b.len(),
        _ => 0,
    }
}

/// Python's `float()` on a protocol-0 FLOAT line (`1.5`, `nan`, `-inf`, `1e+300`).
fn parse_text_float(line: &[u8]) -> Option<f64> {
    std::str::from_utf8(line).ok()?.trim().parse().ok()
}

/// A protocol-0 INT/LONG decimal: `Int` when it fits in i64, else `BigInt` with leading zeros
/// removed.
fn parse_text_int(line: &[u8]) -> Option<PyValue> {
    let s = std::str::from_utf8(line).ok()?.trim();
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(v) = s.parse::<i64>() {
        return Some(PyValue::Int(v));
    }
    let digits = digits.trim_start_matches('0');
    Some(PyValue::BigInt(format!(
        "{}{digits}",
        if neg { "-" } else { "" }
    )))
}

/// Above this many bytes a LONG becomes hex: decimal conversion is quadratic in the length.
const MAX_DECIMAL_LONG_BYTES: usize = 256;

/// A LONG1/LONG4 payload: little-endian two's complement.
fn decode_long(raw: &[u8]) -> PyValue {
    let Some(&last) = raw.last() else {
        return PyValue::Int(0);
    };
    let negative = last & 0x80 != 0;
    // Drop redundant sign-extension bytes so small values fit in i64.
    let pad = if negative { 0xff } else { 0x00 };
    let mut len = raw.len();
    while len > 1 && raw[len - 1] == pad && (raw[len - 2] & 0x80 != 0) == negative {
        len -= 1;
    }
    let raw = &raw[..len];
    if raw.len() <= 8 {
        let mut buf = [pad; 8];
        buf[..raw.len()].copy_from_slice(raw);
        return PyValue::Int(i64::from_le_bytes(buf));
    }
    // Magnitude of a negative value: invert and add one.
    let mut mag: Vec<u8> = raw.to_vec();
    if negative {
        let mut carry = true;
        for b in &mut mag {
            *b = !*b;
            if carry {
                let (v, c) = b.overflowing_add(1);
                *b = v;
                carry = c;
            }
        }
    }
    while mag.len() > 1 && mag.last() == Some(&0) {
        mag.pop();
    }
    let sign = if negative { "-" } else { "" };
    if mag.len() > MAX_DECIMAL_LONG_BYTES {
        let hex: String = mag.iter().rev().map(|b| format!("{b:02x}")).collect();
        return PyValue::BigInt(format!("{sign}0x{}", hex.trim_start_matches('0')));
    }
    PyValue::BigInt(format!("{sign}{}", magnitude_to_decimal(&mag)))
}

/// Decimal digits of a little-endian unsigned magnitude, by repeated division by 10^9.
fn magnitude_to_decimal(mag: &[u8]) -> String {
    let mut limbs: Vec<u32> = mag
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(b)
        })
        .collect();
    let mut groups = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let Some((first, rest)) = groups.split_last() else {
        return "0".into();
    };
    let mut out = first.to_string();
    for g in rest.iter().rev() {
        out.push_str(&format!("{g:09}"));
    }
    out
}

/// A protocol-0 STRING argument: a Python 2 `repr` of a str, quotes included.
fn unquote_string(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.trim_ascii_end();
    let (&q, rest) = line.split_first()?;
    if !matches!(q, b'\'' | b'"') {
        return None;
    }
    let body = rest.strip_suffix(&[q])?;
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&e) = body.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'x' => {
                let hex = body.get(i..i + 2)?;
                let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                out.push(v);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match body.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Python's `raw-unicode-escape` decoding (protocol-0 UNICODE): `\uXXXX` and `\UXXXXXXXX`
/// escapes, every other byte is a Latin-1 character.
fn decode_raw_unicode_escape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b == b'\\' {
            let width = match line.get(i + 1) {
                Some(b'u') => 4,
                Some(b'U') => 8,
                _ => 0,
            };
            let code = line
                .get(i + 2..i + 2 + width)
                .filter(|_| width > 0)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            if let Some(code) = code {
                // Lone surrogates cannot live in a Rust string.
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                i += 2 + width;
                continue;
            }
        }
        out.push(char::from(b));
        i += 1;
    }
    out
}

/// Turns the VM's arena into a tree, iteratively.
struct Builder<'l> {
    nodes: Vec<Node>,
    limits: &'l Limits,
    bytes_alloc: usize,
    produced: usize,
}

enum Task {
    /// Materialize node `id` at `depth`; `unique` means this is the only path to it, so its
    /// data can be moved out of the arena instead of copied.
    Visit { id: Id, depth: usize, unique: bool },
    /// All children of `id` are on the output stack; assemble it.
    Finish { id: Id, children: usize },
}

impl<'l> Builder<'l> {
    fn new(nodes: Vec<Node>, limits: &'l Limits, bytes_alloc: usize) -> Self {
        Self {
            nodes,
            limits,
            bytes_alloc,
            produced: 0,
        }
    }

    fn build(mut self, root: Id) -> Result<PyValue, ErrorKind> {
        let mut refs = vec![0u32; self.nodes.len()];
        refs[root] = 1;
        for node in &self.nodes {
            node.for_each_child(|c| refs[c] = refs[c].saturating_add(1));
        }
        let mut on_path = vec![false; self.nodes.len()];
        let mut tasks = vec![Task::Visit {
            id: root,
            depth: 0,
            unique: refs[root] == 1,
        }];
        let mut out: Vec<PyValue> = Vec::new();
        while let Some(task) = tasks.pop() {
            match task {
                Task::Visit { id, depth, unique } => {
                    self.produced += 1;
                    if self.produced > self.limits.max_nodes {
                        return Err(ErrorKind::TooManyNodes(self.limits.max_nodes));
                    }
                    if on_path[id] {
                        out.push(PyValue::Recursive);
                        continue;
                    }
                    if depth > self.limits.max_depth {
                        return Err(ErrorKind::TooDeep(self.limits.max_depth));
                    }
                    if let Node::Atom(v) = &mut self.nodes[id] {
                        let v = if unique {
                            std::mem::replace(v, PyValue::None)
                        } else {
                            self.bytes_alloc = self.bytes_alloc.saturating_add(big_len(v));
                            if self.bytes_alloc > self.limits.max_bytes_alloc {
                                return Err(ErrorKind::TooManyBytes(self.limits.max_bytes_alloc));
                            }
                            v.clone()
                        };
                        out.push(v);
                        continue;
                    }
                    on_path[id] = true;
                    let mut children = Vec::new();
                    self.nodes[id].for_each_child(|c| children.push(c));
                    tasks.push(Task::Finish {
                        id,
                        children: children.len(),
                    });
                    // Reversed so children finish in order.
                    for &c in children.iter().rev() {
                        tasks.push(Task::Visit {
                            id: c,
                            depth: depth + 1,
                            unique: unique && refs[c] == 1,
                        });
                    }
                }
                Task::Finish { id, children } => {
                    on_path[id] = false;
                    let vals = out.split_off(out.len() - children);
                    out.push(self.assemble(id, vals));
                }
            }
        }
        Ok(out.pop().unwrap_or(PyValue::None))
    }

    /// Builds container node `id` from its materialized children (in `for_each_child` order).
    fn assemble(&self, id: Id, vals: Vec<PyValue>) -> PyValue {
        let pairs = |vals: Vec<PyValue>| -> Vec<(PyValue, PyValue)> {
            let mut it = vals.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            pairs
        };
        match &self.nodes[id] {
            Node::Atom(_) => PyValue::None,
            Node::List(_) => PyValue::List(vals),
            Node::Tuple(_) => PyValue::Tuple(vals),
            Node::Set(_) => PyValue::Set(vals),
            Node::FrozenSet(_) => PyValue::FrozenSet(vals),
            Node::Dict(_) => PyValue::Dict(pairs(vals)),
            Node::PersId(_) => {
                PyValue::PersistentId(Box::new(vals.into_iter().next().unwrap_or(PyValue::None)))
            }
            Node::Object(o) => {
                let mut it = vals.into_iter();
                let callable = it.next().unwrap_or(PyValue::None);
                let args = match it.next() {
                    Some(PyValue::Tuple(args)) => args,
                    Some(other) => vec![other],
                    None => Vec::new(),
                };
                let kwargs = match o.kwargs.and_then(|_| it.next()) {
                    Some(PyValue::Dict(kw)) => kw,
                    Some(other) => vec![(PyValue::Str("**".into()), other)],
                    None => Vec::new(),
                };
                let state = o.state.and_then(|_| it.next());
                let items: Vec<PyValue> = it.by_ref().take(o.items.len()).collect();
                let dict_items = pairs(it.collect());
                let mut obj = match callable {
                    PyValue::Global(q) => PyObject::new(q),
                    other => {
                        let mut obj = PyObject::new(QualName::new("", "<callable>"));
                        obj.callable = Some(other);
                        obj
                    }
                };
                obj.args = args;
                obj.kwargs = kwargs;
                obj.state = state;
                obj.items = items;
                obj.dict_items = dict_items;
                interpret(obj)
            }
        }
    }
}

/// Replaces recognised constructor calls with data; anything else stays a generic object.
fn interpret(obj: PyObject) -> PyValue {
    let obj = match unwrap_copyreg(Box::new(obj)) {
        Ok(obj) | Err(obj) => obj,
    };
    if obj.callable.is_some() {
        return PyValue::Object(obj);
    }
    let module = obj.class.module.as_str();
    let result = match (module, obj.class.name.as_str()) {
        ("numpy._core.numeric" | "numpy.core.numeric", "_frombuffer") => numpy_frombuffer(obj),
        ("numpy._core.multiarray" | "numpy.core.multiarray", "_reconstruct") => {
            numpy_reconstruct(obj)
        }
        ("numpy._core.multiarray" | "numpy.core.multiarray", "scalar") => numpy_scalar(obj),
        ("numpy" | "numpy._core.multiarray" | "numpy.core.multiarray", "dtype") => numpy_dtype(obj),
        ("builtins", "set" | "frozenset" | "bytearray" | "bytes" | "complex") => builtin_call(obj),
        ("collections", "OrderedDict") => ordered_dict(obj),
        ("_codecs", "encode") => codecs_encode(obj),
        (m, "Cache") if m.starts_with("marimo._save") => marimo_cache(obj),
        (m, "ModuleStub" | "FunctionStub" | "ClassStub" | "UIElementStub")
            if m.starts_with("marimo._save") =>
        {
            marimo_stub(obj)
        }
        _ => Err(obj),
    };
    result.unwrap_or_else(PyValue::Object)
}

/// True when the object is a plain call: nothing was applied after construction.
fn is_plain_call(obj: &PyObject) -> bool {
    obj.state.is_none()
        && obj.kwargs.is_empty()
        && obj.items.is_empty()
        && obj.dict_items.is_empty()
}

fn take(v: &mut PyValue) -> PyValue {
    std::mem::replace(v, PyValue::None)
}

/// `copyreg._reconstructor(cls, base, state)` (protocol 0/1 instances) and
/// `copyreg.__newobj__(cls, *args)` are how older protocols spell "an instance of cls".
fn unwrap_copyreg(mut obj: Box<PyObject>) -> Result<Box<PyObject>, Box<PyObject>> {
    if obj.callable.is_some() || obj.class.module != "copyreg" {
        return Err(obj);
    }
    let cls = match obj.args.first() {
        Some(PyValue::Global(q)) => q.clone(),
        _ => return Err(obj),
    };
    match obj.class.name.as_str() {
        "_reconstructor" if obj.args.len() == 3 => {
            let base_state = take(&mut obj.args[2]);
            obj.args = match base_state {
                PyValue::None => Vec::new(),
                other => vec![other],
            };
        }
        "__newobj__" => {
            obj.args.remove(0);
        }
        _ => return Err(obj),
    }
    obj.class = cls;
    Ok(obj)
}

fn shape_of(v: &PyValue) -> Option<Vec<u64>> {
    let PyValue::Tuple(dims) = v else {
        return None;
    };
    dims.iter()
        .map(|d| match d {
            PyValue::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        })
        .collect()
}

/// numpy ≥ 1.x protocol 5: `_frombuffer(buffer, dtype, shape, order)`.
fn numpy_frombuffer(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let ok = is_plain_call(&obj)
        && matches!(
            obj.args.as_slice(),
            [PyValue::ByteArray(_) | PyValue::Bytes(_), PyValue::DType(_), shape, PyValue::Str(order)]
                if shape_of(shape).is_some() && matches!(order.as_str(), "C" | "F")
        );
    if !ok {
        return Err(obj);
    }
    let fortran = matches!(&obj.args[3], PyValue::Str(o) if o == "F");
    let shape = shape_of(&obj.args[2]).unwrap_or_default();
    let dtype = match take(&mut obj.args[1]) {
        PyValue::DType(d) => d,
        _ => String::new(),
    };
    let data = match take(&mut obj.args[0]) {
        PyValue::ByteArray(b) | PyValue::Bytes(b) => b,
        _ => Vec::new(),
    };
    Ok(PyValue::NdArray(Box::new(NdArray::new(
        dtype, shape, fortran, data,
    ))))
}

/// Protocol ≤ 4: `_reconstruct(ndarray, (0,), b'b')` followed by BUILD
/// `(version, shape, dtype, is_fortran, rawdata)`. Object arrays (rawdata is a list) stay objects.
fn numpy_reconstruct(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let class_ok = matches!(obj.args.first(), Some(PyValue::Global(q)) if q.name == "ndarray");
    let fields = match &obj.state {
        Some(PyValue::Tuple(t)) if t.len() == 5 => Some(1),
        Some(PyValue::Tuple(t)) if t.len() == 4 => Some(0),
        _ => None,
    };
    let Some(start) = fields.filter(|_| class_ok && obj.items.is_empty()) else {
        return Err(obj);
    };
    let ok = matches!(&obj.state, Some(PyValue::Tuple(t)) if matches!(
        &t[start..],
        [shape, PyValue::DType(_), PyValue::Bool(_) | PyValue::Int(_), PyValue::Bytes(_) | PyValue::ByteArray(_)]
            if shape_of(shape).is_some()
    ));
    if !ok {
        return Err(obj);
    }
    let Some(PyValue::Tuple(mut t)) = obj.state.take() else {
        return Err(obj);
    };
    let shape = shape_of(&t[start]).unwrap_or_default();
    let fortran = matches!(t[start + 2], PyValue::Bool(true) | PyValue::Int(1..));
    let dtype = match take(&mut t[start + 1]) {
        PyValue::DType(d) => d,
        _ => String::new(),
    };
    let data = match take(&mut t[start + 3]) {
        PyValue::Bytes(b) | PyValue::ByteArray(b) => b,
        _ => Vec::new(),
    };
    Ok(PyValue::NdArray(Box::new(NdArray::new(
        dtype, shape, fortran, data,
    ))))
}

/// A numpy scalar (`np.float64(2.5)`): `scalar(dtype, raw bytes)`, kept as a 0-d array.
fn numpy_scalar(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    if !is_plain_call(&obj)
        || !matches!(obj.args.as_slice(), [PyValue::DType(_), PyValue::Bytes(_)])
    {
        return Err(obj);
    }
    let data = match take(&mut obj.args[1]) {
        PyValue::Bytes(b) => b,
        _ => Vec::new(),
    };
    let dtype = match take(&mut obj.args[0]) {
        PyValue::DType(d) => d,
        _ => String::new(),
    };
    Ok(PyValue::NdArray(Box::new(NdArray::new(
        dtype,
        Vec::new(),
        false,
        data,
    ))))
}

/// `numpy.dtype(typestr, align, copy)` + BUILD `(version, byteorder, subarray, names, fields,
/// elsize, alignment, flags[, metadata])` → descr like `<f8`, `<U2`, `|O`, `<M8[ns]`.
fn numpy_dtype(obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let descr = (|| {
        let [PyValue::Str(typestr), ..] = obj.args.as_slice() else {
            return None;
        };
        let Some(PyValue::Tuple(state)) = &obj.state else {
            return None;
        };
        let order = match state.get(1) {
            Some(PyValue::Str(o)) if matches!(o.as_str(), "<" | ">" | "|") => o.as_str(),
            // '=' is the writer's native order, unknowable here; marimo runs little-endian.
            Some(PyValue::Str(o)) if o == "=" => "<",
            _ => return None,
        };
        let kind = typestr.chars().next()?;
        if !kind.is_ascii_alphabetic() || !typestr[1..].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if kind == 'O' {
            return Some("|O".to_string());
        }
        let mut descr = format!("{order}{typestr}");
        // datetime64/timedelta64 keep their unit in the metadata: (None, (unit, count, ...)).
        if matches!(kind, 'M' | 'm')
            && let Some(PyValue::Tuple(meta)) = state.get(8)
            && let Some(PyValue::Tuple(unit)) = meta.get(1)
        {
            let name = match unit.first() {
                Some(PyValue::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                Some(PyValue::Str(s)) => s.clone(),
                _ => return None,
            };
            match unit.get(1) {
                Some(PyValue::Int(1)) => descr.push_str(&format!("[{name}]")),
                Some(PyValue::Int(n)) => descr.push_str(&format!("[{n}{name}]")),
                _ => return None,
            }
        }
        Some(descr)
    })();
    match descr {
        Some(d) if obj.items.is_empty() && obj.dict_items.is_empty() => Ok(PyValue::DType(d)),
        _ => Err(obj),
    }
}

/// Latin-1 encoding, the inverse of how protocols 0–2 store bytes as text.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

fn is_latin1_name(enc: &str) -> bool {
    matches!(
        enc.to_ascii_lowercase().replace('_', "-").as_str(),
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1"
    )
}

fn number(v: &PyValue) -> Option<f64> {
    match v {
        PyValue::Float(f) => Some(*f),
        PyValue::Int(i) => Some(*i as f64),
        PyValue::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// `set(iterable)`, `frozenset(iterable)`, `bytearray(...)`, `bytes(...)`, `complex(re, im)`.
fn builtin_call(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    if !is_plain_call(&obj) {
        return Err(obj);
    }
    let name = obj.class.name.clone();
    let value = match (name.as_str(), obj.args.as_mut_slice()) {
        ("set", []) => PyValue::Set(Vec::new()),
        ("frozenset", []) => PyValue::FrozenSet(Vec::new()),
        ("set" | "frozenset", [PyValue::List(items) | PyValue::Tuple(items)]) => {
            let items = std::mem::take(items);
            if name == "set" {
                PyValue::Set(items)
            } else {
                PyValue::FrozenSet(items)
            }
        }
        ("bytearray", []) => PyValue::ByteArray(Vec::new()),
        ("bytes", []) => PyValue::Bytes(Vec::new()),
        ("bytearray", [PyValue::Bytes(b) | PyValue::ByteArray(b)]) => {
            PyValue::ByteArray(std::mem::take(b))
        }
        ("bytes", [PyValue::Bytes(b)]) => PyValue::Bytes(std::mem::take(b)),
        ("bytearray", [PyValue::Str(s), PyValue::Str(enc)]) if is_latin1_name(enc) => {
            match latin1(s) {
                Some(b) => PyValue::ByteArray(b),
                None => return Err(obj),
            }
        }
        ("complex", [re]) if number(re).is_some() => PyValue::Complex {
            re: number(re).unwrap_or(0.0),
            im: 0.0,
        },
        ("complex", [re, im]) if number(re).is_some() && number(im).is_some() => PyValue::Complex {
            re: number(re).unwrap_or(0.0),
            im: number(im).unwrap_or(0.0),
        },
        _ => return Err(obj),
    };
    Ok(value)
}

/// `OrderedDict()` filled by SETITEMS (or, from old writers, `OrderedDict([[k, v], ...])`),
/// turned into a plain dict: order is all it adds and dicts keep order here too.
fn ordered_dict(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let state_ok = match &obj.state {
        None | Some(PyValue::None) => true,
        Some(PyValue::Dict(d)) => d.is_empty(),
        _ => false,
    };
    let pair_list = |items: &[PyValue]| {
        items
            .iter()
            .all(|p| matches!(p, PyValue::List(kv) | PyValue::Tuple(kv) if kv.len() == 2))
    };
    let args_ok = match obj.args.as_slice() {
        [] => true,
        [PyValue::List(items)] => pair_list(items),
        _ => false,
    };
    if !state_ok || !args_ok || !obj.kwargs.is_empty() || !obj.items.is_empty() {
        return Err(obj);
    }
    let mut pairs = Vec::new();
    if let Some(PyValue::List(items)) = obj.args.first_mut() {
        for kv in std::mem::take(items) {
            if let PyValue::List(mut kv) | PyValue::Tuple(mut kv) = kv
                && let (Some(v), Some(k)) = (kv.pop(), kv.pop())
            {
                pairs.push((k, v));
            }
        }
    }
    pairs.append(&mut obj.dict_items);
    Ok(PyValue::Dict(pairs))
}

/// `_codecs.encode(text, 'latin1')`: how protocols 0–2 store `bytes`.
fn codecs_encode(obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let bytes = match obj.args.as_slice() {
        [PyValue::Str(s), PyValue::Str(enc)] if is_plain_call(&obj) => {
            if is_latin1_name(enc) {
                latin1(s)
            } else if matches!(enc.to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
                Some(s.as_bytes().to_vec())
            } else {
                None
            }
        }
        _ => None,
    };
    bytes.map(PyValue::Bytes).ok_or(obj)
}

/// The attribute dict given to BUILD, if every key is a str.
fn attr_fields(obj: &PyObject) -> Option<&[(PyValue, PyValue)]> {
    match &obj.state {
        Some(PyValue::Dict(d)) if d.iter().all(|(k, _)| matches!(k, PyValue::Str(_))) => {
            Some(d.as_slice())
        }
        _ => None,
    }
}

fn field<'a>(fields: &'a [(PyValue, PyValue)], name: &str) -> Option<&'a PyValue> {
    fields
        .iter()
        .find(|(k, _)| matches!(k, PyValue::Str(s) if s == name))
        .map(|(_, v)| v)
}

fn only_keys(fields: &[(PyValue, PyValue)], allowed: &[&str]) -> bool {
    fields
        .iter()
        .all(|(k, _)| matches!(k, PyValue::Str(s) if allowed.contains(&s.as_str())))
}

fn field_str(fields: &[(PyValue, PyValue)], name: &str) -> Option<String> {
    match field(fields, name) {
        Some(PyValue::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Moves a str-keyed dict into `(String, value)` pairs; other keys are dropped, so callers
/// check the keys first.
fn into_str_pairs(pairs: Vec<(PyValue, PyValue)>) -> Vec<(String, PyValue)> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| match k {
            PyValue::Str(s) => Some((s, v)),
            _ => None,
        })
        .collect()
}

fn is_str_dict(v: &PyValue) -> bool {
    matches!(v, PyValue::Dict(d) if d.iter().all(|(k, _)| matches!(k, PyValue::Str(_))))
}

/// marimo's stub classes, recognised only when their state has exactly the expected shape
/// (anything unexpected stays a generic object, so nothing is hidden).
fn marimo_stub(obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let stub = (|| {
        if !obj.args.is_empty() || !obj.items.is_empty() || !obj.dict_items.is_empty() {
            return None;
        }
        let f = attr_fields(&obj)?;
        match obj.class.name.as_str() {
            "ModuleStub" if only_keys(f, &["name", "hash", "version"]) => {
                Some(PyValue::ModuleStub(ModuleStub {
                    name: field_str(f, "name")?,
                    version: match field(f, "version") {
                        None | Some(PyValue::None) => String::new(),
                        Some(PyValue::Str(s)) => s.clone(),
                        Some(_) => return None,
                    },
                }))
            }
            "FunctionStub" if only_keys(f, &["code", "filename", "lineno", "is_cached"]) => {
                Some(PyValue::FunctionStub(Box::new(FunctionStub {
                    code: field_str(f, "code")?,
                    filename: field_str(f, "filename").unwrap_or_default(),
                    lineno: match field(f, "lineno") {
                        Some(PyValue::Int(n)) => *n,
                        None => 0,
                        Some(_) => return None,
                    },
                    is_cached: match field(f, "is_cached") {
                        Some(PyValue::Bool(b)) => *b,
                        None => false,
                        Some(_) => return None,
                    },
                })))
            }
            "ClassStub" if only_keys(f, &["qualname", "code"]) => {
                Some(PyValue::ClassStub(Box::new(ClassStub {
                    qualname: field_str(f, "qualname")?,
                    code: field_str(f, "code")?,
                })))
            }
            "UIElementStub" if only_keys(f, &["args", "cls", "data"]) => {
                let data = field(f, "data")?;
                if !is_str_dict(data) {
                    return None;
                }
                let PyValue::Dict(data) = data.clone() else {
                    return None;
                };
                Some(PyValue::UIElementStub(Box::new(UIElementStub {
                    class: field(f, "cls")?.clone(),
                    args: field(f, "args").cloned().unwrap_or(PyValue::None),
                    data: into_str_pairs(data),
                })))
            }
            _ => None,
        }
    })();
    stub.ok_or(obj)
}

/// `marimo._save.cache.Cache`: NEWOBJ + BUILD with the dataclass fields as state.
fn marimo_cache(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let ok = (|| {
        if !obj.args.is_empty() || !obj.items.is_empty() || !obj.dict_items.is_empty() {
            return None;
        }
        let f = attr_fields(&obj)?;
        let defs_ok = is_str_dict(field(f, "defs")?);
        let strs_ok = matches!(field(f, "hash")?, PyValue::Str(_))
            && matches!(field(f, "cache_type")?, PyValue::Str(_));
        let refs_ok = match field(f, "stateful_refs") {
            None => true,
            Some(PyValue::Set(v) | PyValue::FrozenSet(v) | PyValue::List(v)) => {
                v.iter().all(|x| matches!(x, PyValue::Str(_)))
            }
            Some(_) => false,
        };
        let hit_ok = matches!(field(f, "hit"), None | Some(PyValue::Bool(_)));
        let meta_ok = field(f, "meta").is_none_or(is_str_dict);
        (defs_ok && strs_ok && refs_ok && hit_ok && meta_ok).then_some(())
    })();
    if ok.is_none() {
        return Err(obj);
    }
    let Some(PyValue::Dict(fields)) = obj.state.take() else {
        return Err(obj);
    };
    let mut cache = MarimoCache {
        defs: Vec::new(),
        hash: String::new(),
        cache_type: String::new(),
        stateful_refs: Vec::new(),
        hit: false,
        meta: Vec::new(),
        extra: Vec::new(),
    };
    for (key, value) in into_str_pairs(fields) {
        match (key.as_str(), value) {
            ("defs", PyValue::Dict(d)) => cache.defs = into_str_pairs(d),
            ("meta", PyValue::Dict(d)) => cache.meta = into_str_pairs(d),
            ("hash", PyValue::Str(s)) => cache.hash = s,
            ("cache_type", PyValue::Str(s)) => cache.cache_type = s,
            ("hit", PyValue::Bool(b)) => cache.hit = b,
            ("stateful_refs", PyValue::Set(v) | PyValue::FrozenSet(v) | PyValue::List(v)) => {
                cache.stateful_refs = v
                    .into_iter()
                    .filter_map(|x| match x {
                        PyValue::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect();
            }
            (_, value) => cache.extra.push((key, value)),
        }
    }
    Ok(PyValue::Cache(Box::new(cache)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Result<PyValue, PickleError> {
        decode(b, &Limits::default())
    }

    fn err_kind(b: &[u8]) -> ErrorKind {
        dec(b).expect_err("should fail").kind
    }

    #[test]
    fn longs() {
        assert_eq!(decode_long(&[]), PyValue::Int(0));
        assert_eq!(decode_long(&[0xff]), PyValue::Int(-1));
        assert_eq!(decode_long(&[0x00, 0x80, 0x00]), PyValue::Int(0x8000));
        assert_eq!(
            decode_long(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0]),
            PyValue::BigInt("9223372036854775808".into())
        );
        assert_eq!(
            decode_long(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff]),
            PyValue::BigInt("-9223372036854775809".into())
        );
        let mut big = vec![0u8; 300];
        big[299] = 0x01; // 2**2392
        let PyValue::BigInt(hex) = decode_long(&big) else {
            panic!("not big");
        };
        assert_eq!(hex.len(), 2 + 1 + 2 * 299);
        assert!(hex.starts_with("0x1000"));
    }

    #[test]
    fn text_literals() {
        assert_eq!(
            unquote_string(br"'a\'b\x41\101\n'").as_deref(),
            Some(&b"a'bAA\n"[..])
        );
        assert_eq!(unquote_string(b"'abc"), None);
        assert_eq!(
            decode_raw_unicode_escape(br"a\u00e9\U0001f600\x\u12"),
            "aé😀\\x\\u12"
        );
        assert_eq!(decode_raw_unicode_escape(b"\xe9"), "é");
        assert_eq!(parse_text_int(b"-0012"), Some(PyValue::Int(-12)));
        assert_eq!(
            parse_text_int(b"-000123456789012345678901234567890"),
            Some(PyValue::BigInt("-123456789012345678901234567890".into()))
        );
        assert_eq!(parse_text_int(b"1x"), None);
        assert_eq!(parse_text_float(b"-inf"), Some(f64::NEG_INFINITY));
    }

    #[test]
    fn errors_name_opcode_and_offset() {
        let e = dec(b"\x80\x05\xff").unwrap_err();
        assert_eq!(e.to_string(), "unknown opcode 0xff at byte 2");
        let e = dec(b"\x80\x05a").unwrap_err();
        assert_eq!(e.to_string(), "stack underflow in APPEND at byte 2");
        let e = dec(b"X\xff\xff\xff\x7f").unwrap_err();
        assert_eq!(
            e.to_string(),
            "length 2147483647 exceeds the 0 bytes left in BINUNICODE at byte 0"
        );
        assert_eq!(err_kind(b"N"), ErrorKind::MissingStop);
        assert_eq!(err_kind(b"\x80\x06N."), ErrorKind::UnsupportedProtocol(6));
        assert_eq!(err_kind(b"\x97."), ErrorKind::OutOfBandBuffer);
        assert_eq!(err_kind(b"h\x05."), ErrorKind::MemoMissing(5));
        assert_eq!(
            err_kind(b"T\xff\xff\xff\xff"),
            ErrorKind::NegativeLength(-1)
        );
        assert_eq!(err_kind(b"N(."), ErrorKind::StackUnderflow);
        assert_eq!(err_kind(b"e."), ErrorKind::MissingMark);
        assert_eq!(
            err_kind(b"\x95\x00\x00\x00\x00\x00\x00\x00\x01N."),
            ErrorKind::LengthExceedsInput {
                len: 1 << 56,
                remaining: 2
            }
        );
    }

    #[test]
    fn mark_fence_protects_outer_items() {
        // TUPLE1 may not take an item from below the MARK.
        assert_eq!(err_kind(b"N(\x85."), ErrorKind::StackUnderflow);
        // POP at a MARK boundary discards the mark.
        assert_eq!(dec(b"N(0.").unwrap(), PyValue::None);
    }

    #[test]
    fn memoized_list_filled_later() {
        // EMPTY_LIST MEMOIZE MARK 1 2 APPENDS, then GET 0 again inside a tuple.
        let v = dec(b"\x80\x04]\x94(K\x01K\x02eh\x00\x86.").unwrap();
        let l = PyValue::List(vec![PyValue::Int(1), PyValue::Int(2)]);
        assert_eq!(v, PyValue::Tuple(vec![l.clone(), l]));
    }

    #[test]
    fn self_containing_list() {
        // l = []; l.append(l)
        let v = dec(b"\x80\x04]\x94h\x00a.").unwrap();
        assert_eq!(v, PyValue::List(vec![PyValue::Recursive]));
    }

    #[test]
    fn exponential_sharing_hits_the_node_budget() {
        // x0 = [None]; x(i+1) = (xi, xi) repeated 40 times: 2**40 nodes when copied.
        let mut p = b"\x80\x04N\x85\x94".to_vec();
        for i in 0..40u32 {
            p.extend_from_slice(b"j");
            p.extend_from_slice(&i.to_le_bytes());
            p.extend_from_slice(b"j");
            p.extend_from_slice(&i.to_le_bytes());
            p.extend_from_slice(b"\x86\x94");
        }
        p.push(b'.');
        let limits = Limits {
            max_depth: 1000,
            ..Limits::default()
        };
        let e = decode(&p, &limits).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooManyNodes(1_000_000));
        assert_eq!(e.to_string(), "more than 1000000 nodes in STOP at byte 485");
    }

    #[test]
    fn shared_bytes_count_against_the_byte_budget() {
        // b = b'x' * 100; (b, b, b): 100 bytes read plus a copy per reference.
        let mut p = b"\x80\x04Cd".to_vec();
        p.extend_from_slice(&[b'x'; 100]);
        p.extend_from_slice(b"\x94h\x00h\x00\x87.");
        let limits = Limits {
            max_bytes_alloc: 399,
            ..Limits::default()
        };
        assert_eq!(
            decode(&p, &limits).unwrap_err().kind,
            ErrorKind::TooManyBytes(399)
        );
        let limits = Limits {
            max_bytes_alloc: 400,
            ..Limits::default()
        };
        assert!(decode(&p, &limits).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b']', 100_000));
        p.extend(std::iter::repeat_n(b'a', 99_999));
        p.push(b'.');
        assert_eq!(dec(&p).unwrap_err().kind, ErrorKind::TooDeep(200));
    }

    #[test]
    fn limits_on_input_and_nodes() {
        let limits = Limits {
            max_input: 3,
            ..Limits::default()
        };
        assert_eq!(
            decode(b"N...", &limits).unwrap_err().to_string(),
            "input of 4 bytes exceeds the limit of 3 at byte 0"
        );
        let limits = Limits {
            max_nodes: 10,
            ..Limits::default()
        };
        let p: Vec<u8> = std::iter::repeat_n(b'N', 11).chain([b'.']).collect();
        assert_eq!(
            decode(&p, &limits).unwrap_err().kind,
            ErrorKind::TooManyNodes(10)
        );
    }

    #[test]
    fn reduce_never_calls_and_keeps_unknown_callables() {
        // os.system('rm -rf /') is just data.
        let v = dec(b"cos\nsystem\n(S'rm -rf /'\ntR.").unwrap();
        let PyValue::Object(o) = v else {
            panic!("{v:?}")
        };
        assert_eq!(o.class, QualName::new("os", "system"));
        assert_eq!(o.args, vec![PyValue::Str("rm -rf /".into())]);
        // A callable that is itself a call result.
        let v = dec(b"\x80\x02cm\nf\n)R)R.").unwrap();
        let PyValue::Object(o) = v else {
            panic!("{v:?}")
        };
        assert_eq!(o.class, QualName::new("", "<callable>"));
        assert!(matches!(o.callable, Some(PyValue::Object(_))));
    }

    #[test]
    fn persistent_ids_and_extensions_are_opaque() {
        assert_eq!(
            dec(b"Pabc\n.").unwrap(),
            PyValue::PersistentId(Box::new(PyValue::Str("abc".into())))
        );
        assert_eq!(
            dec(b"K\x05Q.").unwrap(),
            PyValue::PersistentId(Box::new(PyValue::Int(5)))
        );
        assert_eq!(dec(b"\x82\x07.").unwrap(), PyValue::Extension(7));
    }

    #[test]
    fn inst_and_obj() {
        let v = dec(b"(K\x01imod\nCls\n.").unwrap();
        let PyValue::Object(o) = v else {
            panic!("{v:?}")
        };
        assert_eq!(o.class, QualName::new("mod", "Cls"));
        assert_eq!(o.args, vec![PyValue::Int(1)]);
        let v = dec(b"(cmod\nCls\nK\x02o.").unwrap();
        let PyValue::Object(o) = v else {
            panic!("{v:?}")
        };
        assert_eq!(o.args, vec![PyValue::Int(2)]);
    }
}
