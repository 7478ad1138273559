//! The model test: random schedules of what users and the network do to a synced pair (edits
//! on both sides, comments added, edited and deleted, transitions, attachments; webhooks lost
//! or doubled; events run in any order the queue allows; 429s; crashes at any named point),
//! one seed each, and at the end both Jiras must agree, hold every comment that was not
//! deleted exactly once, and fall quiet.
//!
//! A seed replays exactly: `TWINSYNC_MODEL_SEED=<n>` runs that one seed; the default run takes
//! `TWINSYNC_MODEL_SEEDS` seeds (200) from `TWINSYNC_MODEL_FIRST` (1).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::lab::{Lab, Ran, local_points};

/// SplitMix64: a small generator whose whole state is the seed, so a seed replays.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// What the model expects of comments: each once on both sides, unless deleted.
#[derive(Default)]
struct Expect {
    /// Live comments by token (the text it was written with; an edit appends to it): the
    /// current text, and the side that wrote it (only the author edits its comment).
    comments: BTreeMap<String, (String, String)>,
    attachments: BTreeSet<String>,
}

/// The token of a comment's text: what it was written with, before any edit.
fn token(text: &str) -> &str {
    text.split(" (edited").next().unwrap_or(text)
}

const STEPS: usize = 36;

/// One seed's schedule; returns the lab for the checks.
async fn run_seed(seed: u64) -> Lab {
    let mut dice = Dice(seed);
    let mut lab = Lab::new().await;
    let mut expect = Expect::default();
    let points = local_points();

    // Two issues from A, one from B, synced before the schedule starts.
    let mut issues: Vec<(String, String)> = Vec::new();
    for n in 0..2 {
        let k = lab.create_on_a(&format!("Seed {seed} issue {n}")).await;
        lab.notify("a", &k);
        issues.push(("a".into(), k));
    }
    let kb = lab
        .create_on_b(
            "Task",
            &format!("Seed {seed} issue from B"),
            json!({"priority": {"name": "Low"}}),
        )
        .await;
    lab.notify("b", &kb);
    issues.push(("b".into(), kb));
    lab.drain().await;
    // Each issue as (key on A, key on B).
    let pairs: Vec<(String, String)> = issues
        .iter()
        .map(|(side, k)| {
            let other = if side == "a" { "a" } else { "b" };
            let twin = lab
                .node
                .store
                .twin_by_local(crate::lab::CONN, other, k)
                .expect("store")
                .and_then(|t| t.remote_key)
                .unwrap_or_else(|| panic!("seed {seed}: {k} has no twin\n{}", lab.describe()));
            if side == "a" {
                (k.clone(), twin)
            } else {
                (twin, k.clone())
            }
        })
        .collect();

    for step in 0..STEPS {
        if dice.chance(50) {
            let (ka, kb) = pairs[dice.below(pairs.len())].clone();
            let side = if dice.chance(50) { "a" } else { "b" };
            let key = if side == "a" { ka } else { kb };
            user_action(&mut lab, &mut dice, &mut expect, seed, step, side, &key).await;
            // The webhook: usually delivered, sometimes lost, sometimes twice.
            match dice.below(10) {
                0 | 1 => lab.journal.push(format!("webhook {side} {key} lost")),
                2 => {
                    lab.notify(side, &key);
                    lab.notify(side, &key);
                }
                _ => lab.notify(side, &key),
            }
        } else {
            let runnable = lab.runnable();
            if runnable.is_empty() {
                continue;
            }
            let e = runnable[dice.below(runnable.len())].clone();
            let crash = dice.chance(10).then(|| points[dice.below(points.len())]);
            let limited = dice.chance(8);
            if limited {
                // Every call of this event is refused with a 429 too long to wait out here.
                let h = if e.side == "a" { &lab.a } else { &lab.b };
                h.set_faults_spec("limit-ratio=1,limit-retry-after=600s")
                    .expect("fault spec");
                lab.journal.push(format!("429s on {}", e.side));
            }
            let ran = lab.run(e.id, crash).await;
            if limited {
                lab.a.clear_faults();
                lab.b.clear_faults();
            }
            let _ = ran == Ran::Crashed;
        }
    }
    lab.quiesce().await;
    check(&lab, &expect, seed).await;
    lab
}

async fn user_action(
    lab: &mut Lab,
    dice: &mut Dice,
    expect: &mut Expect,
    seed: u64,
    step: usize,
    side: &str,
    key: &str,
) {
    match dice.below(8) {
        0 => {
            lab.edit(
                side,
                key,
                json!({"summary": format!("s{seed}-{step} by {side}")}),
            )
            .await
        }
        1 => {
            let p = ["High", "Medium", "Low"][dice.below(3)];
            lab.edit(side, key, json!({"priority": {"name": p}})).await
        }
        2 => {
            let l = format!("l{}", dice.below(4));
            lab.edit(side, key, json!({"labels": ["sync", l]})).await
        }
        3 => {
            let nth = dice.below(3);
            lab.transition(side, key, nth).await;
        }
        4 | 5 => {
            let text = format!("c{seed}-{step} by {side}");
            lab.comment(side, key, &text).await;
            expect
                .comments
                .insert(text.clone(), (text, side.to_string()));
        }
        6 => {
            // Edit or delete a comment that is there now.
            let ids = lab.comment_ids(side, key).await;
            if ids.is_empty() {
                return;
            }
            let id = ids[dice.below(ids.len())].clone();
            // This side's text may be a copy not yet updated: the comment is known by its token.
            let text = comment_text(lab, side, key, &id).await;
            let tok = token(&text).to_string();
            let author = expect.comments.get(&tok).map(|(_, a)| a.clone());
            if dice.chance(50) && author.as_deref() == Some(side) {
                let new = format!("{tok} (edited {step})");
                lab.edit_comment(side, key, &id, &new).await;
                expect.comments.insert(tok, (new, side.to_string()));
            } else {
                lab.delete_comment(side, key, &id).await;
                expect.comments.remove(&tok);
            }
        }
        _ => {
            let name = format!("f{seed}-{step}-{side}.log");
            lab.attach(side, key, &name, name.as_bytes()).await;
            expect.attachments.insert(name);
        }
    }
}

async fn comment_text(lab: &Lab, side: &str, key: &str, id: &str) -> String {
    let h = if side == "a" { &lab.a } else { &lab.b };
    let st = h.state();
    st.issues
        .values()
        .find(|i| i.key == key)
        .and_then(|i| i.comments.iter().find(|c| c.id.to_string() == id))
        .map(|c| {
            st.plain_text(&c.body)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

async fn check(lab: &Lab, expect: &Expect, seed: u64) {
    let diffs = lab.differences();
    let failed = lab
        .node
        .store
        .events(Some(twinsync::store::EventState::Failed), None, 10, 0)
        .unwrap_or_default();
    let mut problems: Vec<String> = diffs;
    if !failed.is_empty() {
        problems.push(format!(
            "failed events: {:?}",
            failed
                .iter()
                .map(|e| format!("#{} {}", e.id, e.last_error.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
        ));
    }
    for (h, prefix) in [(&lab.a, "SUP-"), (&lab.b, "DEV-")] {
        let st = h.state();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut files: BTreeMap<String, usize> = BTreeMap::new();
        for i in st
            .issues
            .values()
            .filter(|i| i.key.starts_with(prefix) && !lab.is_seeded(&i.key))
        {
            for c in &i.comments {
                let t = st
                    .plain_text(&c.body)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                *seen.entry(t).or_default() += 1;
            }
            for id in &i.attachments {
                if let Some(a) = st.attachments.get(id) {
                    *files.entry(a.filename.clone()).or_default() += 1;
                }
            }
        }
        for (t, n) in &seen {
            if *n > 1 {
                problems.push(format!("{prefix}: comment {t:?} {n} times"));
            }
            match expect.comments.get(token(t)) {
                None => problems.push(format!("{prefix}: comment {t:?} should be gone")),
                Some((now, _)) if now != t => {
                    problems.push(format!("{prefix}: comment {t:?} should read {now:?}"))
                }
                Some(_) => {}
            }
        }
        for (now, _) in expect.comments.values() {
            if !seen.contains_key(now) {
                problems.push(format!("{prefix}: comment {now:?} was lost"));
            }
        }
        for f in &expect.attachments {
            match files.get(f) {
                Some(1) => {}
                Some(n) => problems.push(format!("{prefix}: attachment {f} {n} times")),
                None => problems.push(format!("{prefix}: attachment {f} was lost")),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "seed {seed} (replay: TWINSYNC_MODEL_SEED={seed}):\n{}\n{}",
        problems.join("\n"),
        lab.describe()
    );
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_schedules_of_edits_faults_and_crashes_converge() {
    let seeds: Vec<u64> = match env_u64("TWINSYNC_MODEL_SEED") {
        Some(one) => vec![one],
        None => {
            let first = env_u64("TWINSYNC_MODEL_FIRST").unwrap_or(1);
            let count = env_u64("TWINSYNC_MODEL_SEEDS").unwrap_or(200);
            (first..first + count).collect()
        }
    };
    // Two seeds at a time: each lab is its own pair of simulators and node.
    let mut pending = seeds.into_iter();
    loop {
        let batch: Vec<u64> = pending.by_ref().take(2).collect();
        if batch.is_empty() {
            break;
        }
        let tasks: Vec<_> = batch
            .into_iter()
            .map(|s| tokio::spawn(async move { drop(run_seed(s).await) }))
            .collect();
        for t in tasks {
            if let Err(e) = t.await {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}
