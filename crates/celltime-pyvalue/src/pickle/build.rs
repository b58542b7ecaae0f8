//! The VM's arena graph → a [`PyValue`] tree, iteratively, with shared nodes copied against the
//! limits and back-edges as [`PyValue::Recursive`].

use super::known::interpret;
use super::literal::big_len;
use super::vm::{Id, Node};
use super::{ErrorKind, Limits};
use crate::value::{PyObject, PyValue, QualName};

/// Turns the VM's arena into a tree, iteratively.
pub(super) struct Builder<'l> {
    nodes: Vec<Node>,
    limits: &'l Limits,
    bytes_alloc: usize,
    produced: usize,
    lenient: bool,
    pub(super) cut: Option<ErrorKind>,
}

enum Task {
    /// Materialize node `id` at `depth`; `unique` means this is the only path to it, so its
    /// data can be moved out of the arena instead of copied.
    Visit { id: Id, depth: usize, unique: bool },
    /// All children of `id` are on the output stack; assemble it.
    Finish { id: Id, children: usize },
}

impl<'l> Builder<'l> {
    pub(super) fn new(nodes: Vec<Node>, limits: &'l Limits, bytes_alloc: usize) -> Self {
        Self {
            nodes,
            limits,
            bytes_alloc,
            produced: 0,
            lenient: false,
            cut: None,
        }
    }

    /// Past a limit, leave the rest out (marked [`PyValue::Cut`]) instead of failing; the first
    /// limit reached is kept in `cut`.
    pub(super) fn lenient(mut self) -> Self {
        self.lenient = true;
        self
    }

    fn over(&mut self, kind: ErrorKind) -> Result<(), ErrorKind> {
        if !self.lenient {
            return Err(kind);
        }
        self.cut.get_or_insert(kind);
        Ok(())
    }

    pub(super) fn build(&mut self, root: Id) -> Result<PyValue, ErrorKind> {
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
                        self.over(ErrorKind::TooManyNodes(self.limits.max_nodes))?;
                        out.push(PyValue::Cut);
                        continue;
                    }
                    if on_path[id] {
                        out.push(PyValue::Recursive(match self.nodes[id] {
                            Node::List(_) => "[...]",
                            Node::Dict(_) | Node::Set(_) | Node::FrozenSet(_) => "{...}",
                            Node::Tuple(_) => "(...)",
                            _ => "...",
                        }));
                        continue;
                    }
                    if depth > self.limits.max_depth {
                        self.over(ErrorKind::TooDeep(self.limits.max_depth))?;
                        out.push(PyValue::Cut);
                        continue;
                    }
                    if let Node::Atom(v) = &mut self.nodes[id] {
                        let v = if unique {
                            std::mem::replace(v, PyValue::None)
                        } else {
                            let len = big_len(v);
                            if self.bytes_alloc.saturating_add(len) > self.limits.max_bytes_alloc {
                                self.over(ErrorKind::TooManyBytes(self.limits.max_bytes_alloc))?;
                                out.push(PyValue::Cut);
                                continue;
                            }
                            self.bytes_alloc += len;
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
