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

mod build;
mod known;
mod literal;
mod marimo;
mod ops;
mod vm;

use std::fmt;

use crate::value::PyValue;

pub use ops::opcode_name;

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

/// Decodes one pickle into a value tree without executing anything.
/// Bytes after STOP are ignored, as `pickle.loads` does.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<PyValue, PickleError> {
    check_input(bytes, limits)?;
    let mut vm = vm::Vm::new(bytes, limits);
    let root = vm.run()?;
    let at = (vm.op_pos, vm.op);
    build::Builder::new(vm.nodes, limits, vm.bytes_alloc)
        .build(root)
        .map_err(|kind| error_at(at, kind))
}

/// A value decoded within the limits, and the limit that cut it short, if one did.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    pub value: PyValue,
    /// Where the first limit was reached; the parts past it are [`PyValue::Cut`].
    pub cut: Option<PickleError>,
}

/// Like [`decode`], but a pickle past the depth, node or byte limits still gives the part that
/// fits, for previews: the containers being filled when the VM stopped, or the tree down to
/// the depth limit. Malformed input is still an error.
pub fn decode_partial(bytes: &[u8], limits: &Limits) -> Result<Partial, PickleError> {
    check_input(bytes, limits)?;
    let mut vm = vm::Vm::new(bytes, limits);
    let (root, mut cut) = match vm.run() {
        Ok(root) => (root, None),
        Err(e) if e.kind.is_limit() => match vm.stack.first() {
            // The outermost object under construction holds everything decoded so far.
            Some(&root) => (root, Some(e)),
            None => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let at = (vm.op_pos, vm.op);
    let mut builder = build::Builder::new(vm.nodes, limits, vm.bytes_alloc).lenient();
    let value = builder.build(root).map_err(|kind| error_at(at, kind))?;
    if cut.is_none() {
        cut = builder.cut.take().map(|kind| error_at(at, kind));
    }
    Ok(Partial { value, cut })
}

fn check_input(bytes: &[u8], limits: &Limits) -> Result<(), PickleError> {
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
    Ok(())
}

fn error_at((offset, opcode): (usize, u8), kind: ErrorKind) -> PickleError {
    PickleError {
        offset,
        opcode: Some(opcode),
        kind,
    }
}

impl ErrorKind {
    /// A resource limit (depth, nodes, bytes) rather than malformed input.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ErrorKind::TooDeep(_) | ErrorKind::TooManyNodes(_) | ErrorKind::TooManyBytes(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::QualName;

    fn dec(b: &[u8]) -> Result<PyValue, PickleError> {
        decode(b, &Limits::default())
    }

    fn err_kind(b: &[u8]) -> ErrorKind {
        dec(b).expect_err("should fail").kind
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
        assert_eq!(v, PyValue::List(vec![PyValue::Recursive("[...]")]));
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
    fn past_the_limits_a_partial_value_is_marked_cut() {
        // A 250-deep list: the tree down to the depth limit, the rest cut.
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b']', 250));
        p.extend(std::iter::repeat_n(b'a', 249));
        p.push(b'.');
        let partial = decode_partial(&p, &Limits::default()).unwrap();
        assert_eq!(partial.cut.map(|e| e.kind), Some(ErrorKind::TooDeep(200)));
        let mut v = &partial.value;
        let mut depth = 0;
        while let PyValue::List(items) = v {
            v = &items[0];
            depth += 1;
        }
        assert_eq!((depth, v), (201, &PyValue::Cut));
        // 3,000 appended items under a 1,000-node limit: the first ones, then the VM stopped.
        let mut p = b"\x80\x04](".to_vec();
        for _ in 0..3000 {
            p.extend(b"K\x07");
        }
        p.extend(b"e.");
        let limits = Limits {
            max_nodes: 1000,
            ..Limits::default()
        };
        assert!(decode(&p, &limits).is_err());
        let partial = decode_partial(&p, &limits).unwrap();
        assert_eq!(
            partial.cut.map(|e| e.kind),
            Some(ErrorKind::TooManyNodes(1000))
        );
        let PyValue::List(items) = partial.value else {
            panic!("not a list");
        };
        assert!(items.is_empty() || items.iter().all(|v| *v == PyValue::Int(7)));
        // Malformed input is still an error.
        assert!(decode_partial(b"\x80\x04]a", &Limits::default()).is_err());
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
