//! Jira wiki emoticons and the ADF emoji short names they stand for.

/// (wiki emoticon, ADF shortName, unicode text) — longest emoticons first so matching is greedy.
pub const EMOTICONS: &[(&str, &str, &str)] = &[
    ("(flagoff)", ":flag_off:", ""),
    ("(flag)", ":flag_on:", ""),
    ("(off)", ":light_bulb_off:", ""),
    ("(on)", ":light_bulb_on:", "💡"),
    ("(*r)", ":red_star:", ""),
    ("(*g)", ":green_star:", ""),
    ("(*b)", ":blue_star:", ""),
    ("(*y)", ":yellow_star:", "⭐"),
    ("(*)", ":star:", "⭐"),
    ("(y)", ":thumbsup:", "👍"),
    ("(n)", ":thumbsdown:", "👎"),
    ("(i)", ":info:", "ℹ️"),
    ("(/)", ":check_mark:", "✅"),
    ("(x)", ":cross_mark:", "❌"),
    ("(!)", ":warning:", "⚠️"),
    ("(+)", ":plus:", "➕"),
    ("(-)", ":minus:", "➖"),
    ("(?)", ":question:", "❓"),
    (":)", ":slight_smile:", "🙂"),
    (":(", ":slight_frown:", "🙁"),
    (":P", ":stuck_out_tongue:", "😛"),
    (":D", ":smiley:", "😃"),
    (";)", ":wink:", "😉"),
];

/// The emoticon at the start of `s`, if any.
pub fn emoticon_at(s: &[char]) -> Option<&'static (&'static str, &'static str, &'static str)> {
    EMOTICONS.iter().find(|(wiki, _, _)| {
        let mut it = wiki.chars();
        let len = wiki.chars().count();
        s.len() >= len && s[..len].iter().all(|c| Some(*c) == it.next())
    })
}

/// The wiki emoticon for an ADF short name.
pub fn wiki_for(short_name: &str) -> Option<&'static str> {
    EMOTICONS
        .iter()
        .find(|(_, sn, _)| *sn == short_name)
        .map(|(w, _, _)| *w)
}
