//! Splitting CPU-bound work (reading maps and logs, printing large listings) over the cores,
//! with scoped threads: the inputs are borrowed, and results come back in input order.

/// How many threads CPU-bound work uses (asked once: finding out reads cgroup files).
pub fn workers() -> usize {
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    })
}

/// `f` over each share of `items` (one share per worker), results in order. A worker that
/// panics panics the caller, as a sequential loop would.
pub fn map_shares<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    map_shares_of_at_least(items, 1, f)
}

/// [`map_shares`] with shares of at least `min_share` items: work too small to be worth a
/// thread stays on the caller's.
pub fn map_shares_of_at_least<T: Sync, R: Send>(
    items: &[T],
    min_share: usize,
    f: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let per_worker = items.len().div_ceil(workers()).max(min_share).max(1);
    if items.len() <= per_worker {
        return vec![f(items)];
    }
    on_threads(items.chunks(per_worker), &f)
}

/// `f` over each share of `items`, taken by value (one share per worker), results in order.
pub fn map_owned_shares<T: Send, R: Send>(
    mut items: Vec<T>,
    f: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    let per_worker = items.len().div_ceil(workers()).max(1);
    if items.len() <= per_worker {
        return vec![f(items)];
    }
    let mut shares = Vec::new();
    while items.len() > per_worker {
        shares.push(items.split_off(items.len() - per_worker));
    }
    shares.push(items);
    shares.reverse();
    on_threads(shares, &f)
}

/// `f` over each of `items`, the workers taking the next item whenever they finish one, results
/// in order: for items of very unequal cost, where equal shares would leave workers idle.
pub fn map_in_turns<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = workers().min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let take_turns = |_| {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(at) else {
                return done;
            };
            done.push((at, f(item)));
        }
    };
    let mut done: Vec<(usize, R)> = on_threads(0..workers, &take_turns)
        .into_iter()
        .flatten()
        .collect();
    done.sort_unstable_by_key(|(at, _)| *at);
    done.into_iter().map(|(_, r)| r).collect()
}

/// `f` over each share on a thread of its own, results in order.
fn on_threads<S: Send, R: Send>(
    shares: impl IntoIterator<Item = S>,
    f: &(impl Fn(S) -> R + Sync),
) -> Vec<R> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(move || f(share)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// How many pieces of at least `min_piece` bytes to cut `len` bytes into: one per worker.
pub fn piece_count(len: usize, min_piece: usize) -> usize {
    workers().min(len / min_piece.max(1)).max(1)
}

/// Byte ranges that split `bytes` into at most `count` pieces, each ending just after a
/// newline (the last one at the end of `bytes`).
pub fn line_pieces(bytes: &[u8], count: usize) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    for i in 1..count {
        let target = (bytes.len() * i / count).max(start);
        let Some(newline) = memchr::memchr(b'\n', &bytes[target..]) else {
            break;
        };
        let end = target + newline + 1;
        if end < bytes.len() {
            pieces.push(start..end);
            start = end;
        }
    }
    pieces.push(start..bytes.len());
    pieces
}
