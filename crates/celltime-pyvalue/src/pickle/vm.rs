//! The pickle VM: runs opcodes over an arena of nodes without calling anything.

use std::collections::HashMap;

use super::literal::{
    big_len, decode_long, decode_raw_unicode_escape, decode_utf8_surrogatepass, parse_text_float,
    parse_text_int, py2_str, unquote_string,
};
use super::{ErrorKind, Limits, PickleError, ops};
use crate::value::{PyValue, QualName};

pub(super) type Id = usize;

/// A VM object. Containers refer to other nodes by index so that memoized containers can be
/// filled after they were shared.
pub(super) enum Node {
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
pub(super) struct ObjNode {
    pub(super) callable: Id,
    /// Always a `Node::Tuple`.
    pub(super) args: Id,
    pub(super) kwargs: Option<Id>,
    pub(super) state: Option<Id>,
    pub(super) items: Vec<Id>,
    pub(super) dict_items: Vec<(Id, Id)>,
}

impl Node {
    pub(super) fn for_each_child(&self, mut f: impl FnMut(Id)) {
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

pub(super) struct Vm<'a> {
    input: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    pub(super) nodes: Vec<Node>,
    pub(super) stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    /// Child references stored in containers, bounded like nodes so memory stays linear.
    edges: usize,
    pub(super) bytes_alloc: usize,
    proto: u8,
    pub(super) op: u8,
    pub(super) op_pos: usize,
}

type VmResult<T> = Result<T, PickleError>;

impl<'a> Vm<'a> {
    pub(super) fn new(input: &'a [u8], limits: &'a Limits) -> Self {
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
    fn push_text(&mut self, raw: &[u8], decode: fn(&[u8]) -> PyValue) -> VmResult<()> {
        self.charge_bytes(raw.len())?;
        let v = decode(raw);
        self.charge_bytes(big_len(&v).saturating_sub(raw.len()))?;
        self.push_atom(v)
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
    pub(super) fn run(&mut self) -> VmResult<Id> {
        use ops::*;
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
                    // CPython writes lone surrogates with "surrogatepass".
                    self.push_text(raw, decode_utf8_surrogatepass)?;
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
