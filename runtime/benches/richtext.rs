//! Rich-text conversion speed: conversions per second of a 2 KB description, each direction.
//!
//! Run with `cargo bench -p twinsync --bench richtext`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use twinsync::jira::richtext::{self, UserMap};

const BLOCK: &str = "h2. Release notes
Plain text with *bold*, _italic_, -strike-, +under+ and {{monospace}}, a [link|https://example.com/docs] and [~mia] (y).

* first item with *strong* text
** nested item
* second item
# ordered one
# ordered two

{code:rust}
fn main() { println!(\"hello\"); }
{code}

||Key||Summary||
|TS-1|First *issue*|

{panel:bgColor=#fffae6}
Careful with _this_.
{panel}
";

fn rate(label: &str, bytes: usize, mut f: impl FnMut()) {
    // Warm up, then run for about a second.
    for _ in 0..50 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        n += 1;
    }
    let per_sec = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "{label:<24} {per_sec:>10.0} conversions/s  ({:.1} MB/s)",
        per_sec * bytes as f64 / 1e6
    );
}

fn main() {
    let mut users = UserMap::new();
    users.insert("5b10a2844c20165700ede21g", "mia");
    let mut wiki = String::new();
    while wiki.len() < 2048 {
        wiki.push_str(BLOCK);
        wiki.push('\n');
    }
    let adf = richtext::wiki_to_adf(&wiki, &users).value;
    let adf_text = adf.to_string();
    println!(
        "2 KB description: {} bytes of wiki markup, {} bytes of ADF JSON",
        wiki.len(),
        adf_text.len()
    );
    rate("wiki -> ADF", wiki.len(), || {
        black_box(richtext::wiki_to_adf(black_box(&wiki), &users));
    });
    rate("ADF -> wiki", wiki.len(), || {
        black_box(richtext::adf_to_wiki(black_box(&adf), &users));
    });
    rate("ADF JSON text -> wiki", wiki.len(), || {
        let v: serde_json::Value = serde_json::from_str(black_box(&adf_text)).unwrap_or_default();
        black_box(richtext::adf_to_wiki(&v, &users));
    });
    rate("ADF -> plain", wiki.len(), || {
        black_box(richtext::adf_to_plain(black_box(&adf)));
    });
    rate("wiki -> plain", wiki.len(), || {
        black_box(richtext::wiki_to_plain(black_box(&wiki)));
    });
}
