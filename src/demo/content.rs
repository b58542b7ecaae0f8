//! What the demo's cells produce: code that evolves with each edit, and outputs, console text
//! and variables of every kind, varied by a seeded random generator.

use super::pickle::{Py, dumps};
use celltime_store::model::NewPart;
use rand::RngExt;
use rand::rngs::StdRng;

/// The kinds of cells the demo notebooks are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    LoadData,
    Summary,
    Plot,
    Features,
    Train,
    Evaluate,
    LlmSummary,
    Bootstrap,
    Report,
}

impl CellKind {
    /// Non-deterministic cells run several versions of one module.
    pub fn alternatives(self) -> usize {
        match self {
            CellKind::LlmSummary => 3,
            CellKind::Bootstrap => 2,
            _ => 1,
        }
    }
}

/// The cell's code at edit number `edit` (each edit changes a constant or adds a line).
pub fn code(kind: CellKind, edit: usize) -> String {
    let e = edit as f64;
    match kind {
        CellKind::LoadData => {
            let mut code = "import pandas as pd\n\ndf = pd.read_csv(\"data/sales.csv\"".to_string();
            if edit >= 1 {
                code.push_str(", parse_dates=[\"date\"]");
            }
            code.push_str(")\n");
            if edit >= 2 {
                code.push_str(&format!("df = df[df[\"amount\"] > {}]\n", edit * 5));
            }
            if edit >= 3 {
                code.push_str("df = df.dropna(subset=[\"region\"])\n");
            }
            code.push_str("print(f\"Loaded {len(df)} rows\")\ndf.head()\n");
            code
        }
        CellKind::Summary => format!(
            "summary = {{\n    \"rows\": len(df),\n    \"total\": float(df[\"amount\"].sum()),\n    \"mean\": float(df[\"amount\"].mean()),\n    \"quantile\": float(df[\"amount\"].quantile({:.2})),\n}}\nmo.md(f\"**Total sales**: {{summary['total']:,.0f}}\")\n",
            0.5 + 0.05 * e.min(8.0)
        ),
        CellKind::Plot => format!(
            "fig, ax = plt.subplots(figsize=(4, 2))\nweekly = df.resample(\"W\", on=\"date\")[\"amount\"].sum()\nax.bar(weekly.index, weekly.values, color=\"{}\")\nax.set_title(\"Weekly sales\")\nfig\n",
            ["tab:blue", "tab:green", "tab:orange", "tab:purple"][edit % 4]
        ),
        CellKind::Features => {
            let mut code = format!(
                "import numpy as np\n\nwindow = {}\nX = np.stack([\n    df[\"amount\"].rolling(window).mean().fillna(0),\n    df[\"amount\"].rolling(window).std().fillna(0),\n",
                3 + edit
            );
            if edit >= 2 {
                code.push_str("    df[\"date\"].dt.dayofweek,\n");
            }
            code.push_str(
                "], axis=1)\ny = (df[\"amount\"] > df[\"amount\"].median()).astype(int).values\n",
            );
            code
        }
        CellKind::Train => format!(
            "from sklearn.linear_model import LogisticRegression\n\nmodel = LogisticRegression(C={:.2}, max_iter={})\nfor epoch in range(5):\n    model.fit(X, y)\n    print(f\"epoch {{epoch + 1}}/5 loss={{1 - model.score(X, y):.4f}}\")\nmetrics = {{\"accuracy\": model.score(X, y)}}\n",
            1.0 / (1.0 + e),
            100 * (edit + 1)
        ),
        CellKind::Evaluate => format!(
            "report = pd.DataFrame({{\"metric\": [\"accuracy\", \"threshold\"], \"value\": [metrics[\"accuracy\"], {:.2}]}})\nmo.md(report.to_markdown())\n",
            0.5 + 0.1 * e.min(4.0)
        ),
        CellKind::LlmSummary => format!(
            "prompt = \"\"\"Summarise this week's sales for the team in {} sentences.\"\"\"\nresponse = client.responses.create(model=\"small-model\", input=prompt, temperature={:.1})\nsummary_text = response.output_text\nmo.md(summary_text)\n",
            2 + edit % 3,
            0.7 + 0.1 * (edit % 3) as f64
        ),
        CellKind::Bootstrap => format!(
            "rng = np.random.default_rng()\nsamples = rng.choice(df[\"amount\"].values, size=({}, len(df)))\nci = np.percentile(samples.mean(axis=1), [2.5, 97.5])\nci\n",
            500 * (edit + 1)
        ),
        CellKind::Report => format!(
            "mo.vstack([\n    mo.md(\"# Weekly report\"),\n    mo.md(summary_text),\n    mo.ui.table(report){}\n])\n",
            if edit >= 1 { ",\n    fig" } else { "" }
        ),
    }
}

/// Everything one run of a cell writes besides its code.
pub fn run_parts(kind: CellKind, edit: usize, rng: &mut StdRng) -> Vec<NewPart> {
    match kind {
        CellKind::LoadData => {
            let rows = 1000 + rng.random_range(0..400) - (edit as i64) * 40;
            let table: String = (0..5)
                .map(|i| {
                    format!(
                        "<tr><td>2026-0{}-1{}</td><td>{}</td><td>{:.2}</td></tr>",
                        1 + i % 9,
                        i,
                        ["north", "south", "east", "west", "north"][i as usize],
                        rng.random_range(10.0..500.0)
                    )
                })
                .collect();
            let html = format!(
                "<table><thead><tr><th>date</th><th>region</th><th>amount</th></tr></thead><tbody>{table}</tbody></table>"
            );
            let columns = Py::List(vec![Py::str("date"), Py::str("region"), Py::str("amount")]);
            let vars = Py::Dict(vec![
                (Py::str("n_rows"), Py::Int(rows)),
                (Py::str("columns"), columns),
                (Py::str("source"), Py::str("data/sales.csv")),
            ]);
            vec![
                NewPart::output("text/html", html.into_bytes()),
                NewPart::console("stdout", &format!("Loaded {rows} rows\n")),
                NewPart::variables("df_info", "pickle", dumps(&vars)),
            ]
        }
        CellKind::Summary => {
            let total: f64 = rng.random_range(40_000.0..90_000.0);
            let mean = total / 1100.0;
            let json = serde_json::json!({"rows": 1100, "total": (total * 100.0).round() / 100.0, "mean": (mean * 1000.0).round() / 1000.0});
            vec![
                NewPart::output(
                    "text/markdown",
                    format!("**Total sales**: {total:.0}").into_bytes(),
                ),
                NewPart::variables(
                    "summary",
                    "json",
                    serde_json::to_vec_pretty(&json).expect("json"),
                ),
            ]
        }
        CellKind::Plot => {
            let bars: Vec<u8> = (0..12).map(|_| rng.random_range(20..90)).collect();
            vec![
                NewPart::output("image/png", chart_png(&bars, edit)),
                NewPart::console(
                    "stderr",
                    "UserWarning: FixedFormatter should only be used together with FixedLocator\n",
                ),
            ]
        }
        CellKind::Features => {
            let n = 6;
            let data: Vec<f64> = (0..n * 2)
                .map(|_| (rng.random_range(0.0..100.0f64) * 100.0).round() / 100.0)
                .collect();
            vec![
                NewPart::variables(
                    "X",
                    "pickle",
                    dumps(&Py::ArrayF64 {
                        shape: vec![n, 2],
                        data,
                    }),
                ),
                NewPart::variables(
                    "y",
                    "pickle",
                    dumps(&Py::ArrayI64 {
                        shape: vec![n],
                        data: (0..n).map(|_| rng.random_range(0..2)).collect(),
                    }),
                ),
            ]
        }
        CellKind::Train => {
            let mut console = String::new();
            let mut loss: f64 = rng.random_range(0.35..0.5);
            for epoch in 1..=5 {
                for pct in [25, 50, 75, 100] {
                    console.push_str(&format!("\rfitting [{:<10}] {pct}%", "#".repeat(pct / 10)));
                }
                loss *= rng.random_range(0.8..0.97);
                console.push_str(&format!("\nepoch {epoch}/5 loss={loss:.4}\n"));
            }
            let accuracy = 1.0 - loss;
            vec![
                NewPart::console("stdout", &console),
                NewPart::output("text/plain", format!("accuracy: {accuracy:.4}\nloss: {loss:.4}\n").into_bytes()),
                NewPart::variables(
                    "metrics",
                    "json",
                    serde_json::to_vec(&serde_json::json!({"accuracy": (accuracy * 1e4).round() / 1e4, "edit": edit})).expect("json"),
                ),
            ]
        }
        CellKind::Evaluate => {
            let accuracy: f64 = rng.random_range(0.6..0.95);
            let markdown = format!(
                "| metric | value |\n|---|---|\n| accuracy | {accuracy:.3} |\n| threshold | {:.2} |\n",
                0.5 + 0.1 * (edit as f64).min(4.0)
            );
            vec![NewPart::output("text/markdown", markdown.into_bytes())]
        }
        CellKind::LlmSummary => {
            let openings = [
                "Sales rose steadily this week",
                "This week's sales were mixed",
                "A strong finish lifted weekly sales",
                "Sales dipped mid-week but recovered",
            ];
            let leaders = ["the north", "the south", "the east", "the west"];
            let laggards = ["The north", "The south", "The east", "The west"];
            let text = format!(
                "{}, led by {} ({:+.1}%). {} lagged behind; the team should watch inventory there.",
                openings[rng.random_range(0..openings.len())],
                leaders[rng.random_range(0..4)],
                rng.random_range(-5.0..12.0),
                laggards[rng.random_range(0..4)]
            );
            vec![
                NewPart::output("text/markdown", text.clone().into_bytes()),
                NewPart::variables(
                    "summary_text",
                    "json",
                    serde_json::to_vec(&text).expect("json"),
                ),
            ]
        }
        CellKind::Bootstrap => {
            let low: f64 = rng.random_range(40.0..45.0);
            let high = low + rng.random_range(5.0..9.0);
            vec![
                NewPart::output(
                    "text/plain",
                    format!("array([{low:.3}, {high:.3}])").into_bytes(),
                ),
                NewPart::variables(
                    "ci",
                    "pickle",
                    dumps(&Py::ArrayF64 {
                        shape: vec![2],
                        data: vec![low, high],
                    }),
                ),
            ]
        }
        CellKind::Report => {
            let json = serde_json::json!({
                "title": "Weekly report",
                "sections": ["summary", "table", if edit >= 1 { "chart" } else { "none" }],
                "generated": rng.random_range(1..1000),
            });
            vec![
                NewPart::output("application/json", serde_json::to_vec_pretty(&json).expect("json")),
                NewPart::output(
                    "image/svg+xml",
                    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"20\"><rect width=\"{}\" height=\"20\" fill=\"teal\"/></svg>", rng.random_range(20..120)).into_bytes(),
                ),
            ]
        }
    }
}

/// A small bar chart as a real PNG.
fn chart_png(bars: &[u8], edit: usize) -> Vec<u8> {
    const WIDTH: u32 = 120;
    const HEIGHT: u32 = 60;
    let colours = [
        [31, 119, 180],
        [44, 160, 44],
        [255, 127, 14],
        [148, 103, 189],
    ];
    let colour = colours[edit % colours.len()];
    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    for (i, bar) in bars.iter().enumerate() {
        let height = (*bar as u32 * HEIGHT / 100).min(HEIGHT);
        for x in (i as u32 * 10 + 1)..(i as u32 * 10 + 9) {
            for y in (HEIGHT - height)..HEIGHT {
                let at = ((y * WIDTH + x) * 3) as usize;
                pixels[at..at + 3].copy_from_slice(&colour);
            }
        }
    }
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("in-memory PNG header");
    writer
        .write_image_data(&pixels)
        .expect("in-memory PNG data");
    drop(writer);
    png_bytes
}
