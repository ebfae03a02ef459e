//! Typo tolerance: a word the director does not know is read as the one word
//! of its vocabulary it is a slip of, or left alone.
//!
//! Allowed slips grow with the word, as a person's do: words of 4–5 letters
//! may lose, gain or swap one letter ("chek", "tset", "helth"); words of 6–7
//! letters may also have one wrong letter ("deplpy"); words of 8 letters or
//! more may have two slips ("investgate", "prodcution"). The first letter must
//! match (people rarely mistype it, and it keeps "host" from reading as
//! "cost"), and a word with two equally close readings is left alone.

/// Ordinary English words that are one slip away from a vocabulary word;
/// never corrected ("charge" is not "change", "lots" is not "logs").
const ORDINARY: &[&str] = &[
    "send",
    "sends",
    "sent",
    "charge",
    "charges",
    "chart",
    "lots",
    "lags",
    "test's",
    "text",
    "texts",
    "cast",
    "coast",
    "post",
    "plane",
    "plant",
    "planet",
    "scare",
    "scan's",
    "scales",
    "sale",
    "dogs",
    "hello",
    "helps",
    "health's",
    "show's",
    "slot",
    "slots",
    "shot",
    "state",
    "stats",
    "stable",
    "table's",
    "tables",
    "fox",
    "fit",
    "fine",
    "file",
    "files",
    "filter",
    "tail's",
    "tall",
    "tell",
    "tells",
    "told",
    "view's",
    "viewed",
    "review's",
    "deal",
    "debt",
    "derby",
    "desk",
    "desire",
    "designer",
    "designers",
    "error's",
    "audio",
    "audits",
    "build's",
    "builder",
    "buildings",
    "building",
    "manage",
    "manager",
    "managers",
    "monitors",
    "monitored",
    "preview's",
    "reviews",
    "restore",
    "restored",
    "resort",
    "result",
    "results",
    "report's",
    "reports",
    "scales",
    "scaled",
    "spent",
    "spend's",
    "bills",
    "billed",
    "price",
    "prices",
    "priced",
    "latest",
    "later",
    "latency's",
    "launch's",
    "launched",
    "release's",
    "released",
    "queue's",
    "queued",
    "table",
    "stage",
    "stages",
    "staged",
    "stacks",
    "stock",
    "stocks",
    "secure",
    "secured",
    "securely",
    "tags",
    "tagged",
    "taggs",
    "logged",
    "logger",
    "logging",
    "login",
    "logins",
    "logic",
    "logo",
    "long",
    "longs",
];

/// Damerau–Levenshtein distance (optimal string alignment), stopping early
/// once it exceeds `max`.
fn distance(a: &[u8], b: &[u8], max: usize) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let width = b.len() + 1;
    let mut rows = vec![0usize; 3 * width];
    for (j, cell) in rows[2 * width..].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        // Rotate: rows[0..w] = i-2, rows[w..2w] = i-1, rows[2w..3w] = i.
        rows.copy_within(width..3 * width, 0);
        let (before, current) = rows.split_at_mut(2 * width);
        let (older, previous) = before.split_at(width);
        current[0] = i;
        let mut best = current[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(older[j - 2] + 1);
            }
            current[j] = d;
            best = best.min(d);
        }
        if best > max {
            return max + 1;
        }
    }
    rows[3 * width - 1]
}

/// Slips allowed for a word of `len` letters, and whether a wrong letter
/// (substitution) counts among them.
fn allowance(len: usize) -> (usize, bool) {
    match len {
        0..=3 => (0, false),
        4..=5 => (1, false),
        6..=7 => (1, true),
        _ => (2, true),
    }
}

/// The vocabulary word `word` is a slip of, if exactly one is closest.
pub(crate) fn correct(word: &str, vocabulary: &[&'static str]) -> Option<&'static str> {
    let (max, substitution) = allowance(word.chars().count());
    if max == 0 || !word.bytes().all(|b| b.is_ascii_lowercase()) || ORDINARY.contains(&word) {
        return None;
    }
    let w = word.as_bytes();
    let mut best: Option<(usize, &'static str)> = None;
    let mut tied = false;
    for &candidate in vocabulary {
        let c = candidate.as_bytes();
        if c.first() != w.first() || c == w || c.len() < 4 {
            continue;
        }
        let d = distance(w, c, max);
        if d > max {
            continue;
        }
        // Without substitutions a one-slip word differs in length, or is a swap of two neighbours.
        if !substitution && d == 1 && c.len() == w.len() && !is_swap(w, c) {
            continue;
        }
        match best {
            Some((bd, _)) if d > bd => {}
            // "tets": "test" and "tests" are one reading; the shorter stands.
            Some((bd, b)) if d == bd => {
                if candidate.starts_with(b) {
                } else if b.starts_with(candidate) {
                    best = Some((d, candidate));
                } else {
                    tied = true;
                }
            }
            _ => {
                best = Some((d, candidate));
                tied = false;
            }
        }
    }
    match best {
        Some((_, c)) if !tied => Some(c),
        _ => None,
    }
}

/// Whether `a` is `b` with two neighbouring letters swapped.
fn is_swap(a: &[u8], b: &[u8]) -> bool {
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diff.len() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOCAB: &[&str] = &["deploy", "test", "investigate", "errors", "check", "health", "production", "cost", "logs", "preview", "restart"];

    #[test]
    fn slips_are_read_as_the_word_they_miss() {
        for (typed, meant) in [
            ("deplyo", "deploy"),
            ("tset", "test"),
            ("investgate", "investigate"),
            ("erors", "errors"),
            ("chek", "check"),
            ("helth", "health"),
            ("prodcution", "production"),
            ("deplpy", "deploy"),
        ] {
            assert_eq!(correct(typed, VOCAB), Some(meant), "{typed}");
        }
        // A missing first letter is not corrected.
        assert_eq!(correct("reviw", VOCAB), None);
    }

    #[test]
    fn ordinary_words_and_short_words_stay() {
        for word in ["host", "most", "lots", "charge", "dogs", "text", "tent", "logo", "ask", "the", "costume"] {
            assert_eq!(correct(word, VOCAB), None, "{word}");
        }
        // A 4–5 letter word with one wrong letter is another word, not a slip.
        assert_eq!(correct("tost", VOCAB), None);
    }

    #[test]
    fn distance_counts_swaps_as_one() {
        assert_eq!(distance(b"tset", b"test", 2), 1);
        assert_eq!(distance(b"abc", b"abc", 1), 0);
        assert_eq!(distance(b"kitten", b"sitting", 3), 3);
        assert_eq!(distance(b"kitten", b"sitting", 1), 2);
    }
}
