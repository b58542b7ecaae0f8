//! What terminal safety costs the CLI: escaping a 100,000-row `ls` listing (about 9 MB, the
//! text every listing goes through), against copying the same text, the floor. Prints
//! medians and ratios; `cargo bench -p celltime-text`.

use std::hint::black_box;
use std::time::Instant;

fn median_ms(runs: usize, f: impl Fn() -> usize) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[runs / 2]
}

fn main() {
    let mut listing = String::new();
    for i in 0..100_000 {
        listing.push_str(&format!(
            "{i:010x}  analysis/eda  load_data_{i}  0        2026-11-25 10:00:00  12.4 KiB  cvo--\n"
        ));
    }
    let runs = 21;
    let copy = median_ms(runs, || listing.clone().len());
    let text = median_ms(runs, || celltime_text::escape_text(&listing).len());
    let json = median_ms(runs, || celltime_text::escape_json(&listing).len());
    println!(
        "{} MB listing, 100,000 rows, median of {runs} runs:",
        listing.len() / 1_000_000
    );
    println!("  copy (the floor)  {copy:8.2} ms");
    println!(
        "  escape_text       {text:8.2} ms  {:6.1}x the copy",
        text / copy
    );
    println!(
        "  escape_json       {json:8.2} ms  {:6.1}x the copy",
        json / copy
    );
}
