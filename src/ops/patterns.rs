//! Log template mining: turns log messages into templates such as
//! `Connection to <*> timed out after <*>`, each with a count, the first and
//! last message that produced it, and an example. `investigate` mines the
//! error events of a service with it; `faber-cloud patterns <file>` mines a
//! local file.
//!
//! A message goes through four steps:
//! 1. **Tokens**: it is split on whitespace, after the `=` of `key=value`
//!    (shown as written: `uid=<*>`), and in JSON written without spaces after
//!    each key's `":` and before the next key.
//! 2. **Masking** ([`mask`]), by hand-written scanners rather than regular
//!    expressions: variable parts recognised by their shape alone become `<*>`:
//!    numbers (signed, decimal, with a unit such as `12ms` or `3.5KB`),
//!    hexadecimal (`0x1f`, long hex strings), UUIDs, ISO 8601 dates and
//!    times, IPv4 and IPv6 addresses and `host:port` endpoints,
//!    colon-separated groups (MAC addresses, clock times), month and weekday
//!    names, absolute paths, URLs (after the scheme) and email addresses. A
//!    digit run glued to letters (`wl0`, `Type1`) is kept: it is usually part
//!    of a name. Terminal colour codes (`ESC[31m`) are kept as they are.
//! 3. **Clustering**, after Drain (He et al., ICWS 2017): the message is routed
//!    through a tree by its token count and its first token if that is a
//!    plain word (anything else takes the wildcard branch); among the clusters
//!    at the leaf, the one with the most tokens in common takes the message if
//!    that is at least [`MinerConfig::similarity`] of them, and the positions
//!    that differ become `<*>`. Unlike Drain, a cluster never takes a message
//!    that puts a different *name* where it has one: `HTTPS` against `SOCKS5`,
//!    `'Active'` against `'Inactive'` (a name is a word without a mask, and
//!    without `.`, `/`, `\`, `@` or `:` inside; `node7` and `node12` are one
//!    name; a quoted value is not a name unless it names an event). Such
//!    messages are different events more often than not. Once
//!    [`MinerConfig::name_variants`] clusters differ only by a name at one
//!    position (where one of them has a wildcard they do not differ), that
//!    position is a variable (user names, resource names) and they become one
//!    template, unless the names name the event (`names_event`: `Started`,
//!    `refused`, `true`, `HEALTHY`, `NodeNotReady`) or no word would be left
//!    (one-word messages are grouped by their text). A cluster that differs
//!    from another only where one of the two has a wildcard joins it
//!    (`user=root` beside `user=<*>`), if a name meets a wildcard that stands
//!    for names.
//! 4. **Grouping across lengths**: clusters that are the same once value
//!    tokens (only `<*>` and punctuation, and a unit right after one) are
//!    dropped and repeats collapsed are one template, so `0 bytes sent` and
//!    `35850 bytes (35.0 KB) sent` meet, and so do lists of any length. Drain
//!    never merges messages of different token counts.
//!
//! Mining is online: [`Miner::add`] assigns each message as it comes, and a
//! template may later be merged into an older one; [`Miner::resolve`] follows
//! such merges. The work per message is bounded: messages are cut at
//! [`MAX_LINE_BYTES`] and a leaf compares at most [`MAX_SCAN`] clusters.
//! [`mine_reader`] mines a stream line by line, so memory follows the number
//! of templates (and distinct tokens), not the size of the input.
//!
//! Pure: no I/O of its own; [`mine_reader`] reads the reader it is given,
//! opening files and printing happen in the callers.
//! `benches/patterns.rs` measures grouping accuracy on the Loghub-2k samples
//! and our synthetic logs, each split into a tuning and a test half, and
//! throughput; `scripts/bench-patterns` compares with the Python drain3
//! (docs/patterns.md).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Messages longer than this many bytes are mined on their first
/// `MAX_LINE_BYTES` only (cut at a character boundary), which bounds the work
/// per message; the stored example is cut the same way.
pub const MAX_LINE_BYTES: usize = 4096;

/// The placeholder for a variable part, in masked messages and in templates.
pub const WILDCARD: &str = "<*>";

/// How eagerly messages are put together. There is no `Default`: use
/// [`MinerConfig::standard`] unless you have measured something better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinerConfig {
    /// The share (0–1) of a cluster's positions that must hold the same token
    /// as a new message of the same length for the message to join it.
    pub similarity: f64,
    /// How many leading tokens (after the token count) route a message in the
    /// parse tree: Drain's "depth" minus 3.
    pub prefix_tokens: usize,
    /// The most children a tree node gets before further tokens share its
    /// wildcard branch.
    pub max_children: usize,
    /// How many clusters that differ only by a name at the same position make
    /// that position a variable (at least 2).
    pub name_variants: usize,
}

impl MinerConfig {
    /// The configuration the product uses. Grouping accuracy on the
    /// Loghub-2k samples hardly moves for `similarity` between 0.3 and 0.8
    /// (see `benches/patterns.rs`).
    pub fn standard() -> MinerConfig {
        MinerConfig { similarity: 0.5, prefix_tokens: 1, max_children: 100, name_variants: 3 }
    }
}

/// Identifies a template within one [`Miner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateId(pub u32);

impl std::fmt::Display for TemplateId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A mined template and what it has matched so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: TemplateId,
    /// The tokens separated by single spaces, variable parts as `<*>`.
    pub text: String,
    /// How many messages it matched.
    pub count: u64,
    /// 0-based index (in the order given to [`Miner::add`]) of the first message it matched.
    pub first_index: usize,
    /// 0-based index of the last message it matched.
    pub last_index: usize,
    /// The first message it matched, as given (cut at [`MAX_LINE_BYTES`]).
    pub example: String,
}

/// An online template miner; see the module documentation.
pub struct Miner {
    config: MinerConfig,
    tokens: Interner,
    tree: Tree,
    clusters: Vec<Cluster>,
    groups: Vec<Group>,
    /// Skeleton (see [`Miner::skeleton`]) → a group with a cluster of that skeleton.
    skeletons: FxHashMap<Box<[u32]>, u32>,
    /// Messages added so far.
    seen: usize,
    /// Scratch buffers reused across messages.
    pieces: Vec<Piece>,
    line_tokens: Vec<u32>,
    masked: Vec<u8>,
}

/// A raw token of the message being mined: `line[start..end]`, and its key
/// in the cache of recent tokens.
struct Piece {
    start: u32,
    end: u32,
    key: RawKey,
}

/// All messages of a text mined at once: the templates by descending count,
/// and each message's template (unless [`LineIds::Omitted`]).
#[derive(Debug, Clone)]
pub struct Mined {
    /// How many messages were mined.
    pub messages: usize,
    pub templates: Vec<Template>,
    pub lines: Vec<TemplateId>,
}

/// Whether [`mine_reader`] lists each line's template: 4 bytes a line, the
/// only part of its memory that grows with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineIds {
    Listed,
    Omitted,
}

impl Miner {
    pub fn new(config: MinerConfig) -> Miner {
        Miner {
            config,
            tokens: Interner::new(),
            tree: Tree::new(),
            clusters: Vec::new(),
            groups: Vec::new(),
            skeletons: FxHashMap::default(),
            seen: 0,
            pieces: Vec::new(),
            line_tokens: Vec::new(),
            masked: Vec::new(),
        }
    }

    /// Mines one message and returns its template's id at this point (see
    /// [`Miner::resolve`] for merges that happen later).
    pub fn add(&mut self, line: &str) -> TemplateId {
        let index = self.seen;
        self.seen += 1;
        let line = truncate(line, MAX_LINE_BYTES);
        let bytes = line.as_bytes();
        // The message is split before its tokens are looked up, so that the
        // cache entries of all its tokens are fetched from memory together
        // rather than one after the other.
        let mut pieces = std::mem::take(&mut self.pieces);
        pieces.clear();
        for_each_piece(bytes, |start, end, glued| {
            let key = RawKey::of(&bytes[start..end], glued);
            self.tokens.recent.prefetch(key);
            pieces.push(Piece { start: start as u32, end: end as u32, key });
        });
        let mut tokens = std::mem::take(&mut self.line_tokens);
        tokens.clear();
        tokens.extend(pieces.iter().map(|p| self.tokens.token(&bytes[p.start as usize..p.end as usize], p.key, &mut self.masked)));
        self.pieces = pieces;
        let cluster = match self.best_match(&tokens) {
            Some((leaf, position)) => {
                let c = self.tree.nodes[leaf as usize].clusters[position];
                self.absorb(c, &tokens);
                self.clusters[c as usize].count += 1;
                self.tree.promote(leaf, position, c, &self.clusters);
                c
            }
            None => {
                let c = self.new_cluster(&tokens, index, line);
                self.clusters[c as usize].count += 1;
                c
            }
        };
        self.line_tokens = tokens;
        let g = self.find(self.clusters[cluster as usize].group);
        let t = &mut self.groups[g as usize].template;
        t.count += 1;
        t.last_index = index;
        TemplateId(g)
    }

    /// The template an id returned earlier by [`Miner::add`] belongs to now
    /// (an id this miner never returned is returned as it is).
    pub fn resolve(&self, id: TemplateId) -> TemplateId {
        if id.0 as usize >= self.groups.len() {
            return id;
        }
        TemplateId(self.find(id.0))
    }

    /// The template with this id (after [`Miner::resolve`]), if any.
    pub fn template(&self, id: TemplateId) -> Option<&Template> {
        self.groups.get(id.0 as usize)?;
        Some(&self.groups[self.find(id.0) as usize].template)
    }

    /// The current templates, oldest first.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.groups.iter().enumerate().filter(|(i, g)| g.parent as usize == *i).map(|(_, g)| &g.template)
    }

    /// How many messages were added.
    pub fn messages(&self) -> usize {
        self.seen
    }

    /// [`Miner::add`] for bytes: those that are not UTF-8 are replaced. Only
    /// the first [`MAX_LINE_BYTES`] are read.
    pub fn add_bytes(&mut self, line: &[u8]) -> TemplateId {
        // A character cut at the limit is dropped by `add`'s own cut.
        let line = &line[..line.len().min(MAX_LINE_BYTES + 3)];
        match std::str::from_utf8(line) {
            Ok(text) => self.add(text),
            Err(_) => self.add(&String::from_utf8_lossy(line)),
        }
    }

    /// The templates by descending count, and `ids` (returned by
    /// [`Miner::add`]) resolved.
    pub fn finish(self, ids: Vec<TemplateId>) -> Mined {
        let lines = ids.into_iter().map(|id| self.resolve(id)).collect();
        let mut templates: Vec<Template> = self.templates().cloned().collect();
        templates.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
        Mined { messages: self.seen, templates, lines }
    }
}

/// Mines every line of `text` (one message per line) with `config`.
pub fn mine(text: &str, config: MinerConfig) -> Mined {
    mine_all(text.lines(), config)
}

/// Mines each message in turn with `config`.
pub fn mine_all<S: AsRef<str>>(messages: impl IntoIterator<Item = S>, config: MinerConfig) -> Mined {
    let mut miner = Miner::new(config);
    let ids: Vec<TemplateId> = messages.into_iter().map(|m| miner.add(m.as_ref())).collect();
    miner.finish(ids)
}

/// Mines every line read from `input` (one message per line, `\n` or
/// `\r\n`; bytes that are not UTF-8 are replaced) as it is read, so memory
/// follows the number of templates, not the size of the input: a line is
/// never held beyond its first [`MAX_LINE_BYTES`], and with
/// [`LineIds::Omitted`] nothing is kept per line. It reads what it is given
/// and opens nothing.
pub fn mine_reader(mut input: impl std::io::BufRead, config: MinerConfig, ids: LineIds) -> std::io::Result<Mined> {
    let mut miner = Miner::new(config);
    let mut listed = Vec::new();
    let mut record = |id: TemplateId| {
        if ids == LineIds::Listed {
            listed.push(id);
        }
    };
    // The start of a line that spans reads.
    let mut pending: Vec<u8> = Vec::new();
    let keep = MAX_LINE_BYTES + 3;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let mut used = 0;
        if !pending.is_empty() {
            let n = find_newline(chunk).unwrap_or(chunk.len());
            pending.extend_from_slice(&chunk[..n.min(keep.saturating_sub(pending.len()))]);
            if n < chunk.len() {
                record(miner.add_bytes(strip_cr(&pending)));
                pending.clear();
                used = n + 1;
            } else {
                used = n;
            }
        }
        let complete = chunk[used..].iter().rposition(|&b| b == b'\n').map_or(used, |p| used + p + 1);
        add_lines(&mut miner, &chunk[used..complete], &mut record);
        let rest = &chunk[complete..];
        pending.extend_from_slice(&rest[..rest.len().min(keep.saturating_sub(pending.len()))]);
        let read = chunk.len();
        input.consume(read);
    }
    if !pending.is_empty() {
        record(miner.add_bytes(strip_cr(&pending)));
    }
    Ok(miner.finish(listed))
}

/// Mines complete lines, each ended by `\n`. They are checked for UTF-8 in
/// one call, which costs much less than one call per line; only when that
/// fails is each line checked (and mended) on its own.
fn add_lines(miner: &mut Miner, lines: &[u8], mut record: impl FnMut(TemplateId)) {
    match std::str::from_utf8(lines) {
        Ok(mut text) => {
            while let Some(n) = find_newline(text.as_bytes()) {
                let line = &text[..n];
                record(miner.add(line.strip_suffix('\r').unwrap_or(line)));
                text = &text[n + 1..];
            }
        }
        Err(_) => {
            let Some(lines) = lines.strip_suffix(b"\n") else { return };
            for line in lines.split(|&b| b == b'\n') {
                record(miner.add_bytes(strip_cr(line)));
            }
        }
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Mined {
    /// A heading line, then one line per template: count, id and template,
    /// by descending count.
    pub fn summary(&self) -> String {
        let width = self.templates.first().map_or(1, |t| t.count.to_string().len());
        let mut out = format!("{} messages, {} templates", self.messages, self.templates.len());
        for t in &self.templates {
            out.push_str(&format!("\n{:>width$}  #{:<4} {}", t.count, t.id.to_string(), escape_controls(&t.text)));
        }
        out
    }
}

/// The position of the first `\n`, eight bytes at a time.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes")) ^ (ONES * u64::from(b'\n'));
        // A zero byte in `x` is a newline in the word.
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words.remainder().iter().position(|&b| b == b'\n').map(|p| offset + p)
}

/// Text for a terminal: control characters (a template keeps those of its
/// messages: colour codes, bells) written as `\u{1b}`.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// The message as the miner sees it: variable parts replaced by `<*>`,
/// tokens separated by single spaces.
pub fn mask(line: &str) -> String {
    let mut out = Vec::new();
    let mut space = false;
    let bytes = truncate(line, MAX_LINE_BYTES).as_bytes();
    for_each_piece(bytes, |start, end, glued| {
        if space {
            out.push(b' ');
        }
        mask_token(&bytes[start..end], &mut out);
        space = !glued;
    });
    bytes_to_string(out)
}

/// Grouping accuracy (Zhu et al., ICSE-SEIP 2019) of `(predicted, truth)`
/// pairs, one per message: the share of messages whose predicted group holds
/// exactly the messages of their true group. 1.0 for no messages.
pub fn grouping_accuracy<P, T>(pairs: impl IntoIterator<Item = (P, T)>) -> f64
where
    P: Hash + Eq,
    T: Hash + Eq + Clone,
{
    struct Predicted<T> {
        truth: T,
        size: usize,
        pure: bool,
    }
    let mut truth_sizes: HashMap<T, usize> = HashMap::new();
    let mut predicted: HashMap<P, Predicted<T>> = HashMap::new();
    let mut total = 0usize;
    for (p, t) in pairs {
        total += 1;
        *truth_sizes.entry(t.clone()).or_default() += 1;
        let group = predicted.entry(p).or_insert_with(|| Predicted { truth: t.clone(), size: 0, pure: true });
        group.size += 1;
        group.pure &= group.truth == t;
    }
    if total == 0 {
        return 1.0;
    }
    let correct: usize = predicted.values().filter(|g| g.pure && truth_sizes[&g.truth] == g.size).map(|g| g.size).sum();
    correct as f64 / total as f64
}

// ---------------------------------------------------------------------------
// Clustering

/// A Drain cluster: messages of one token count that share most tokens.
struct Cluster {
    tokens: Vec<u32>,
    wildcards: usize,
    group: u32,
    /// The tree leaf that lists it (while it is listed).
    leaf: u32,
    /// Bit `p` (for the first 64 positions): the wildcard at `p` stands for
    /// names, having come from [`Miner::merge_name_variants`]; other
    /// wildcards stand for values that are not names.
    named: u64,
    /// Messages it took, which orders the clusters of its leaf.
    count: u64,
}

/// A template: one or more clusters with the same skeleton.
struct Group {
    /// Union-find parent; a group is live when it is its own parent.
    parent: u32,
    clusters: Vec<u32>,
    template: Template,
}

impl Miner {
    /// The cluster of the message's leaf with the most tokens in common and no
    /// conflicting name, if similar enough: its leaf and position there.
    /// Leaves list their busiest clusters first, so the usual full match comes
    /// first and every other cluster is given up at its first difference.
    fn best_match(&self, tokens: &[u32]) -> Option<(u32, usize)> {
        let leaf = self.tree.search(tokens, &self.tokens, self.config.prefix_tokens)?;
        // The fewest positions in common that reach the threshold.
        let needed = (self.config.similarity * tokens.len() as f64).ceil().max(0.0) as usize;
        let mut best: Option<(usize, usize, usize)> = None;
        for (position, &c) in self.tree.nodes[leaf as usize].clusters.iter().enumerate().take(MAX_SCAN) {
            let cluster = &self.clusters[c as usize];
            // Beyond this many differences the cluster can neither reach the
            // threshold nor beat (or tie) the best one so far.
            let allowed = tokens.len() - needed.max(best.map_or(0, |(_, same, _)| same)).min(tokens.len());
            let mut differ = 0;
            let mut rejected = false;
            for (&t, &l) in cluster.tokens.iter().zip(tokens) {
                if t != l {
                    differ += 1;
                    if differ > allowed || (t != WILD && self.tokens.conflict(t, l)) {
                        rejected = true;
                        break;
                    }
                }
            }
            let same = tokens.len() - differ;
            if !rejected && best.is_none_or(|(_, s, w)| same > s || (same == s && cluster.wildcards > w)) {
                best = Some((position, same, cluster.wildcards));
            }
        }
        let (position, same, _) = best?;
        (same >= needed).then_some((leaf, position))
    }

    /// Puts a message into a cluster; positions that differ become wildcards.
    fn absorb(&mut self, c: u32, tokens: &[u32]) {
        let cluster = &mut self.clusters[c as usize];
        let mut changed = false;
        for (t, &l) in cluster.tokens.iter_mut().zip(tokens) {
            if *t != l && *t != WILD {
                *t = WILD;
                cluster.wildcards += 1;
                changed = true;
            }
        }
        if changed && !self.merge_name_variants(c, self.clusters[c as usize].leaf) {
            self.merge_covered(c);
            self.regroup(c);
        }
    }

    /// After a cluster gained wildcards: the clusters of its leaf that differ
    /// from it only where one of the two has a wildcard are one template
    /// whose value one of them masks and the other does not (`user=root`
    /// beside `user=<*>`). They join it, it takes their wildcards, and they
    /// leave the leaf, so that their messages come to it from now on. Both
    /// must still share enough tokens that are not wildcards, one of them a
    /// word, and a name meets only a wildcard that stands for names: a
    /// wildcard over dotted identifiers (`rpc.statd`) does not take `cupsd`.
    fn merge_covered(&mut self, c: u32) {
        let leaf = self.clusters[c as usize].leaf;
        let len = self.clusters[c as usize].tokens.len();
        let needed = ((self.config.similarity * len as f64).ceil() as usize).max(1);
        loop {
            let tokens = &self.clusters[c as usize].tokens;
            let covered = self.tree.nodes[leaf as usize].clusters.iter().take(MAX_SCAN).position(|&o| {
                let other = &self.clusters[o as usize];
                if o == c || other.tokens.len() != len {
                    return false;
                }
                let named = |cluster: &Cluster, k: usize| k < 64 && cluster.named & (1 << k) != 0;
                let mine = &self.clusters[c as usize];
                let (mut same, mut word) = (0, false);
                for (k, (&a, &b)) in tokens.iter().zip(&other.tokens).enumerate() {
                    if a == b && a != WILD {
                        same += 1;
                        word |= !self.tokens.info(a).value;
                    } else if a == b {
                    } else if a == WILD && b != WILD {
                        if self.tokens.info(b).name && !named(mine, k) {
                            return false;
                        }
                    } else if b == WILD && a != WILD {
                        if self.tokens.info(a).name && !named(other, k) {
                            return false;
                        }
                    } else {
                        return false;
                    }
                }
                same >= needed && word
            });
            let Some(position) = covered else { return };
            let o = self.tree.nodes[leaf as usize].clusters.remove(position);
            let (theirs, count, named) = (self.clusters[o as usize].tokens.clone(), self.clusters[o as usize].count, self.clusters[o as usize].named);
            let mine = &mut self.clusters[c as usize];
            mine.named |= named;
            for (a, &b) in mine.tokens.iter_mut().zip(&theirs) {
                if *a != b && *a != WILD {
                    *a = WILD;
                    mine.wildcards += 1;
                }
            }
            mine.count += count;
            let (g, h) = (self.find(self.clusters[c as usize].group), self.find(self.clusters[o as usize].group));
            if g != h {
                self.union(g, h);
            }
        }
    }

    fn new_cluster(&mut self, tokens: &[u32], index: usize, line: &str) -> u32 {
        let c = self.clusters.len() as u32;
        let g = self.groups.len() as u32;
        self.clusters.push(Cluster { tokens: tokens.to_vec(), wildcards: 0, group: g, leaf: 0, named: 0, count: 0 });
        self.groups.push(Group {
            parent: g,
            clusters: vec![c],
            template: Template { id: TemplateId(g), text: String::new(), count: 0, first_index: index, last_index: index, example: line.to_string() },
        });
        let leaf = self.tree.insert(tokens, &self.tokens, self.config.prefix_tokens, self.config.max_children);
        self.clusters[c as usize].leaf = leaf;
        let list = &mut self.tree.nodes[leaf as usize].clusters;
        if list.len() < MAX_SCAN {
            list.push(c);
        } else {
            // A full leaf: the new cluster goes where it is still compared,
            // behind the busiest half; the quietest ones drop out of reach.
            list.insert(MAX_SCAN / 2, c);
        }
        self.regroup(c);
        self.merge_name_variants(c, leaf);
        c
    }

    /// When enough clusters of a leaf differ from a new one only by a name at
    /// the same position (positions where one of them has a wildcard do not
    /// count), that position becomes a wildcard in the oldest of them and
    /// they all become one template. Names of events ([`names_event`]) never
    /// count, and a template keeps at least one word.
    /// Tried when a cluster is made and when it gains a wildcard (which can
    /// make it differ from others at one place only); true when it merged.
    fn merge_name_variants(&mut self, c: u32, leaf: u32) -> bool {
        let tokens = &self.clusters[c as usize].tokens;
        let mut variants: Vec<(usize, Vec<u32>)> = Vec::new();
        for &other in self.tree.nodes[leaf as usize].clusters.iter().take(MAX_SCAN) {
            if other == c {
                continue;
            }
            // Where one of the two has a wildcard, they do not differ.
            let mut differ = tokens.iter().zip(&self.clusters[other as usize].tokens).enumerate().filter(|(_, (a, b))| a != b && **a != WILD && **b != WILD);
            let (Some((p, (&a, &b))), None) = (differ.next(), differ.next()) else { continue };
            if !self.tokens.conflict(a, b) || self.tokens.info(a).event || self.tokens.info(b).event {
                continue;
            }
            match variants.iter_mut().find(|(q, _)| *q == p) {
                Some((_, list)) => list.push(other),
                None => variants.push((p, vec![other])),
            }
        }
        let Some((p, mut list)) = variants.into_iter().find(|(_, list)| list.len() + 1 >= self.config.name_variants.max(2)) else { return false };
        // A template keeps at least one word: one-word messages are grouped by their text.
        let words = tokens.iter().enumerate().filter(|&(q, &t)| q != p && t != WILD && !self.tokens.info(t).value).count();
        if words == 0 {
            return false;
        }
        list.push(c);
        let keep = list.iter().copied().min().expect("not empty");
        let cluster = &mut self.clusters[keep as usize];
        cluster.tokens[p] = WILD;
        cluster.wildcards += 1;
        if p < 64 {
            cluster.named |= 1 << p;
        }
        let group = cluster.group;
        let mut g = self.find(group);
        for other in list {
            let o = self.find(self.clusters[other as usize].group);
            if o != g {
                g = self.union(g, o);
            }
        }
        self.merge_covered(keep);
        self.regroup(keep);
        true
    }

    /// After a cluster changed: joins its group with any group of the same
    /// skeleton, and refreshes the group's text.
    fn regroup(&mut self, c: u32) {
        let skeleton = self.skeleton(&self.clusters[c as usize].tokens);
        let mut g = self.find(self.clusters[c as usize].group);
        match self.skeletons.get(&skeleton[..]) {
            Some(&other) => {
                let other = self.find(other);
                if other != g {
                    g = self.union(g, other);
                }
            }
            None => {
                self.skeletons.insert(skeleton.into_boxed_slice(), g);
            }
        }
        self.refresh_text(g);
    }

    /// Calls `f(token, in_skeleton)` for each token of a template. The
    /// skeleton leaves out value tokens (only `<*>` and punctuation), a unit
    /// right after one, and repeats of the token before; positions where a
    /// cluster's messages differ stay, as [`WILD`], since they may hold words.
    fn each_in_skeleton(&self, tokens: &[u32], mut f: impl FnMut(u32, bool)) {
        let mut after_value = false;
        let mut last = None;
        for &t in tokens {
            let info = self.tokens.info(t);
            let value = t != WILD && info.value;
            let dropped = value || (after_value && info.unit) || last == Some(t);
            let kept = !dropped;
            if kept {
                last = Some(t);
            }
            f(t, kept);
            after_value = value;
        }
    }

    fn skeleton(&self, tokens: &[u32]) -> Vec<u32> {
        let mut out = Vec::with_capacity(tokens.len());
        self.each_in_skeleton(tokens, |t, kept| {
            if kept {
                out.push(t);
            }
        });
        out
    }

    fn find(&self, mut g: u32) -> u32 {
        while self.groups[g as usize].parent != g {
            g = self.groups[g as usize].parent;
        }
        g
    }

    /// Merges two live groups into the older one and returns it.
    fn union(&mut self, a: u32, b: u32) -> u32 {
        let (keep, gone) = if a < b { (a, b) } else { (b, a) };
        let placeholder = Group { parent: keep, clusters: Vec::new(), template: self.groups[gone as usize].template.clone_empty() };
        let gone_group = std::mem::replace(&mut self.groups[gone as usize], placeholder);
        for &c in &gone_group.clusters {
            self.clusters[c as usize].group = keep;
        }
        let kept = &mut self.groups[keep as usize];
        kept.clusters.extend(gone_group.clusters);
        let (t, o) = (&mut kept.template, gone_group.template);
        t.count += o.count;
        if o.first_index < t.first_index {
            t.first_index = o.first_index;
            t.example = o.example;
        }
        t.last_index = t.last_index.max(o.last_index);
        keep
    }

    /// The text of a group: its cluster's tokens, or for several clusters
    /// their common skeleton with `<*>` where the clusters differ. A group
    /// can gather many clusters (a list of values in every length), so only
    /// its oldest [`TEXT_SAMPLE`] clusters are read, which bounds the cost.
    fn refresh_text(&mut self, g: u32) {
        let group = &self.groups[g as usize];
        let text = match group.clusters[..] {
            [c] => self.join(&self.clusters[c as usize].tokens),
            _ => self.merged_text(&group.clusters[..group.clusters.len().min(TEXT_SAMPLE)]),
        };
        self.groups[g as usize].template.text = text;
    }

    fn join(&self, tokens: &[u32]) -> String {
        let mut out = Vec::new();
        let mut space = false;
        for &t in tokens {
            if space {
                out.push(b' ');
            }
            let text = self.tokens.text(t);
            match text.strip_suffix(&[GLUED]) {
                Some(key) => out.extend_from_slice(key),
                None => out.extend_from_slice(text),
            }
            space = text.last() != Some(&GLUED);
        }
        bytes_to_string(out)
    }

    /// Aligns the clusters on the skeleton of the most general one; the
    /// tokens between two skeleton tokens stay where all clusters agree and
    /// become `<*>` where they do not.
    fn merged_text(&self, clusters: &[u32]) -> String {
        let general = *clusters
            .iter()
            .min_by_key(|&&c| (self.skeleton(&self.clusters[c as usize].tokens).len(), std::cmp::Reverse(self.clusters[c as usize].wildcards), c))
            .expect("a group has a cluster");
        let common = self.skeleton(&self.clusters[general as usize].tokens);
        // gaps[k]: the tokens before common[k] (the last one: after the end), or None where clusters differ.
        let mut gaps: Vec<Option<Option<Vec<u32>>>> = vec![None; common.len() + 1];
        for &c in clusters {
            let mut k = 0;
            let mut aligned = true;
            let mut between = Vec::new();
            self.each_in_skeleton(&self.clusters[c as usize].tokens, |t, kept| {
                if !kept {
                    between.push(t);
                } else if aligned && k < common.len() && (common[k] == t || common[k] == WILD) {
                    agree(&mut gaps[k], std::mem::take(&mut between));
                    k += 1;
                } else {
                    aligned = false;
                }
            });
            if !aligned || k < common.len() {
                // No common shape: the text of the cluster with the most wildcards.
                let widest = clusters.iter().max_by_key(|&&c| (self.clusters[c as usize].wildcards, std::cmp::Reverse(c))).expect("a group has a cluster");
                return self.join(&self.clusters[*widest as usize].tokens);
            }
            agree(&mut gaps[k], between);
        }
        let mut tokens = Vec::new();
        for (k, gap) in gaps.into_iter().enumerate() {
            match gap.flatten() {
                Some(same) => tokens.extend(same),
                None => tokens.push(WILD),
            }
            if let Some(&t) = common.get(k) {
                tokens.push(t);
            }
        }
        self.join(&tokens)
    }
}

/// How many clusters of a group its text is made from.
const TEXT_SAMPLE: usize = 16;

/// Records a cluster's tokens for one gap: `Some(Some(tokens))` while all
/// clusters had the same, `Some(None)` once they differ.
fn agree(gap: &mut Option<Option<Vec<u32>>>, tokens: Vec<u32>) {
    match gap {
        None => *gap = Some(Some(tokens)),
        Some(Some(seen)) if *seen != tokens => *gap = Some(None),
        Some(_) => {}
    }
}

impl Template {
    fn clone_empty(&self) -> Template {
        Template { id: self.id, text: String::new(), count: 0, first_index: 0, last_index: 0, example: String::new() }
    }
}

// ---------------------------------------------------------------------------
// Parse tree

/// Drain's prefix tree: root → token count → the first tokens → a leaf
/// listing clusters. Nodes live in one arena and edges in one map.
struct Tree {
    nodes: Vec<Node>,
    children: FxHashMap<(u32, u32), u32>,
}

#[derive(Default)]
struct Node {
    children: usize,
    clusters: Vec<u32>,
}

/// The most clusters of a leaf compared with a message: the busiest ones.
/// This bounds the work per message when a leaf fills up with clusters that
/// never match (random text); clusters pushed beyond it are no longer
/// matched, and a message like them starts a cluster of its own.
pub const MAX_SCAN: usize = 256;

/// Token 0: a position where the messages of a cluster differ (displayed
/// `<*>`), and the key of the tree's wildcard branch. A masked `<*>` in a
/// message is an ordinary token, which matches itself.
const WILD: u32 = 0;

impl Tree {
    fn new() -> Tree {
        Tree { nodes: vec![Node::default()], children: FxHashMap::default() }
    }

    /// How many tokens route a message of `len` tokens: the last one never does.
    fn routed(len: usize, prefix_tokens: usize) -> usize {
        prefix_tokens.min(len.saturating_sub(1))
    }

    /// The leaf to look for a cluster in: at each level the token's own
    /// branch if it routes and has one, else the wildcard branch.
    fn search(&self, tokens: &[u32], interner: &Interner, prefix_tokens: usize) -> Option<u32> {
        let mut node = *self.children.get(&(0, tokens.len() as u32))?;
        for &t in &tokens[..Tree::routed(tokens.len(), prefix_tokens)] {
            let own = if interner.info(t).route { self.children.get(&(node, t)) } else { None };
            node = *own.or_else(|| self.children.get(&(node, WILD)))?;
        }
        Some(node)
    }

    /// The leaf for a new cluster, created as needed. A token that routes
    /// gets its own branch while the node has room, keeping one for the
    /// wildcard branch.
    fn insert(&mut self, tokens: &[u32], interner: &Interner, prefix_tokens: usize, max_children: usize) -> u32 {
        let mut node = self.child(0, tokens.len() as u32);
        for &t in &tokens[..Tree::routed(tokens.len(), prefix_tokens)] {
            let key = if !interner.info(t).route {
                WILD
            } else if self.children.contains_key(&(node, t)) {
                t
            } else {
                let has_wild = self.children.contains_key(&(node, WILD));
                let used = self.nodes[node as usize].children + usize::from(!has_wild);
                if used < max_children { t } else { WILD }
            };
            node = self.child(node, key);
        }
        node
    }

    /// Moves a cluster that now has more messages than the one before it in
    /// its leaf one place forward: leaves stay roughly busiest first. It was
    /// at `position` unless a merge just changed the leaf.
    fn promote(&mut self, leaf: u32, position: usize, c: u32, clusters: &[Cluster]) {
        let list = &mut self.nodes[leaf as usize].clusters;
        let position = if list.get(position) == Some(&c) { position } else { list.iter().position(|&x| x == c).unwrap_or(0) };
        if position > 0 && clusters[list[position] as usize].count > clusters[list[position - 1] as usize].count {
            list.swap(position, position - 1);
        }
    }

    fn child(&mut self, node: u32, key: u32) -> u32 {
        if let Some(&c) = self.children.get(&(node, key)) {
            return c;
        }
        let c = self.nodes.len() as u32;
        self.nodes.push(Node::default());
        self.nodes[node as usize].children += 1;
        self.children.insert((node, key), c);
        c
    }
}

// ---------------------------------------------------------------------------
// Tokens

/// What the miner needs to know about a masked token, computed once per
/// distinct token.
struct TokenInfo {
    /// [`hash_bytes`] of the text, which is `arena[start..start + len]`.
    hash: u64,
    start: u32,
    len: u32,
    /// Only `<*>` and punctuation: `<*>`, `(<*>)`, `<*>:<*>`.
    value: bool,
    /// A unit such as `ms` or `KB)`, which belongs to a value before it.
    unit: bool,
    /// A name (see [`Kind::name`]): two different names never share a cluster.
    name: bool,
    /// A name without digits: routes in the tree.
    route: bool,
    /// A hash of the token without its digits: `node12` and `node7` are one
    /// name with different numbers, not two names.
    digitless: u64,
    /// A raw token equal to this text masks to itself.
    unmasked: bool,
    /// A name that names what happened (see [`names_event`]): never made a
    /// variable because several of them appear at one place.
    event: bool,
}

/// Token text → a dense id. Id 0 is [`WILD`], which no text maps to.
/// An open-addressing table over one byte arena: interning a token seen
/// before costs one hash and one comparison, and a new one no allocation of
/// its own.
struct Interner {
    /// Token ids by hash, with linear probing; [`EMPTY`] where free. The
    /// length is a power of two, at least twice the number of tokens.
    slots: Vec<u32>,
    /// `64 - log2(slots.len())`: a hash's top bits pick its slot.
    shift: u32,
    /// The tokens' bytes, one after the other.
    arena: Vec<u8>,
    infos: Vec<TokenInfo>,
    recent: Recent,
}

const EMPTY: u32 = u32::MAX;

/// A direct-mapped cache of recent raw tokens and their ids: a token seen
/// before costs one multiplication and a few comparisons, without
/// classifying, masking or hashing it again. Masking is deterministic, so
/// the cache changes no result.
struct Recent {
    entries: Vec<(RawKey, u32)>,
}

/// A raw token as two little-endian words and its length: the whole token
/// up to 16 bytes; beyond that its first and last 8 bytes, marked [`LONG`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct RawKey {
    lo: u64,
    hi: u64,
    len: u64,
}

const LONG: u64 = 1 << 63;
/// In a key's length: the token is glued to the next one.
const GLUED_KEY: u64 = 1 << 62;

/// Ends the interned text of a token glued to the next one (`key=` of
/// `key=value`); no UTF-8 text holds this byte.
const GLUED: u8 = 0xff;

const RECENT_BITS: u32 = 16;

impl RawKey {
    /// The key of a raw token; `glued` when the next token follows it
    /// without a space (`key=` of `key=value`).
    #[inline]
    fn of(raw: &[u8], glued: bool) -> RawKey {
        let len = raw.len() as u64 | if glued { GLUED_KEY } else { 0 };
        match raw.len() {
            0..8 => RawKey { lo: load_le(raw), hi: 0, len },
            8..=16 => {
                let (lo, hi) = raw.split_at(8);
                RawKey { lo: load_le(lo), hi: load_le(hi), len }
            }
            n => RawKey { lo: load_le(&raw[..8]), hi: load_le(&raw[n - 8..]), len: len | LONG },
        }
    }

    fn long(self) -> bool {
        self.len & LONG != 0
    }

    fn glued(self) -> bool {
        self.len & GLUED_KEY != 0
    }

    #[inline]
    fn slot(self) -> usize {
        ((self.lo ^ self.hi.rotate_left(23) ^ self.len).wrapping_mul(SEED) >> (64 - RECENT_BITS)) as usize
    }
}

/// Up to 8 bytes as a little-endian integer, with at most three loads and no
/// call to `memcpy`: overlapping reads put the same byte at the same place.
#[inline]
fn load_le(b: &[u8]) -> u64 {
    let n = b.len();
    let byte = |i: usize| u64::from(b[i]) << (8 * i);
    match n {
        0 => 0,
        1..4 => byte(0) | byte(n / 2) | byte(n - 1),
        4..8 => {
            let word = |i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])) << (8 * i);
            word(0) | word(n - 4)
        }
        _ => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    }
}

impl Recent {
    fn new() -> Recent {
        // Length 0 marks a free entry: no token is empty.
        Recent { entries: vec![(RawKey::default(), 0); 1 << RECENT_BITS] }
    }

    #[inline]
    fn get(&self, key: RawKey) -> Option<u32> {
        let (k, id) = self.entries[key.slot()];
        (k == key).then_some(id)
    }

    /// Starts loading a key's entry into the CPU's cache: the table is
    /// larger than that cache, and a load that waits for memory stalls.
    #[inline]
    fn prefetch(&self, key: RawKey) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE is part of every x86-64 CPU, and a prefetch reads nothing
        // (here an entry of the table in any case).
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(self.entries[key.slot()..].as_ptr().cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = key;
    }

    #[inline]
    fn put(&mut self, key: RawKey, id: u32) {
        self.entries[key.slot()] = (key, id);
    }
}

impl Interner {
    fn new() -> Interner {
        let wild = TokenInfo { hash: 0, start: 0, len: 0, value: false, unit: false, name: false, route: false, digitless: 0, unmasked: false, event: false };
        Interner { slots: vec![EMPTY; 1024], shift: 64 - 10, arena: Vec::new(), infos: vec![wild], recent: Recent::new() }
    }

    /// The id of a raw token's masked form; `key` is [`RawKey::of`] the token.
    fn token(&mut self, raw: &[u8], key: RawKey, scratch: &mut Vec<u8>) -> u32 {
        if let Some(id) = self.recent.get(key)
            && (!key.long() || same_bytes(self.text(id), raw))
        {
            return id;
        }
        let id = self.token_uncached(raw, key.glued(), scratch);
        // A long key does not hold the whole token: keep it only where the
        // token's text can confirm a hit.
        if !key.long() || self.infos[id as usize].unmasked && same_bytes(self.text(id), raw) {
            self.recent.put(key, id);
        }
        id
    }

    /// Most tokens of a log are words that masking cannot change: those are
    /// interned as they are.
    fn token_uncached(&mut self, raw: &[u8], glued: bool, scratch: &mut Vec<u8>) -> u32 {
        if !glued && is_plain_number(raw) {
            return self.intern(WILDCARD.as_bytes(), false);
        }
        let shape = Shape::of(raw);
        if !glued && !shape.maskable() {
            return self.intern(raw, true);
        }
        // A token that masking left alone once (`Received`, `wl0`) is found as it is.
        if !glued
            && !shape.number
            && let Ok(id) = self.find(raw, hash_bytes(raw))
            && self.infos[id as usize].unmasked
        {
            return id;
        }
        scratch.clear();
        mask_shaped(raw, shape, scratch);
        let unmasked = !glued && same_bytes(scratch, raw);
        if glued {
            scratch.push(GLUED);
        }
        self.intern(scratch, unmasked)
    }

    /// The id of a masked token; `unmasked` tells that masking left it as it was.
    fn intern(&mut self, token: &[u8], unmasked: bool) -> u32 {
        let hash = hash_bytes(token);
        let slot = match self.find(token, hash) {
            Ok(id) => {
                self.infos[id as usize].unmasked |= unmasked;
                return id;
            }
            Err(slot) => slot,
        };
        let id = self.infos.len() as u32;
        // A glued token is classified without its mark, and differs from the same text unglued.
        let kind = Kind::of(token.strip_suffix(&[GLUED]).unwrap_or(token));
        let digitless = if kind.digit { hash_bytes(&token.iter().copied().filter(|b| !b.is_ascii_digit()).collect::<Vec<u8>>()) } else { hash };
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(token);
        self.infos.push(TokenInfo {
            hash,
            start,
            len: token.len() as u32,
            value: kind.value,
            unit: kind.unit,
            name: kind.name,
            route: kind.name && !kind.digit,
            digitless,
            unmasked,
            event: kind.name && kind.event,
        });
        self.slots[slot] = id;
        if self.infos.len() * 2 > self.slots.len() {
            self.grow();
        }
        id
    }

    /// `Ok(id)` of the token, or `Err(free slot)` where it would go.
    #[inline]
    fn find(&self, token: &[u8], hash: u64) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut slot = (hash >> self.shift) as usize;
        loop {
            let id = self.slots[slot];
            if id == EMPTY {
                return Err(slot);
            }
            let info = &self.infos[id as usize];
            if info.hash == hash && same_bytes(&self.arena[info.start as usize..][..info.len as usize], token) {
                return Ok(id);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn grow(&mut self) {
        self.slots = vec![EMPTY; self.slots.len() * 2];
        self.shift -= 1;
        let mask = self.slots.len() - 1;
        for (id, info) in self.infos.iter().enumerate().skip(1) {
            let mut slot = (info.hash >> self.shift) as usize;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = id as u32;
        }
    }

    fn text(&self, id: u32) -> &[u8] {
        if id == WILD {
            return WILDCARD.as_bytes();
        }
        let info = &self.infos[id as usize];
        &self.arena[info.start as usize..][..info.len as usize]
    }

    fn info(&self, id: u32) -> &TokenInfo {
        &self.infos[id as usize]
    }

    /// Two different tokens that are different names.
    fn conflict(&self, a: u32, b: u32) -> bool {
        let (a, b) = (self.info(a), self.info(b));
        a.name && b.name && a.digitless != b.digitless
    }
}

/// Digits, with up to three single dots between them (`42`, `3.14`,
/// `10.0.0.1`): a number or an address, which masks to `<*>` whole. Checked
/// first because it is the commonest token that the cache of recent tokens
/// misses.
fn is_plain_number(t: &[u8]) -> bool {
    let (Some(first), Some(last)) = (t.first(), t.last()) else { return false };
    if !first.is_ascii_digit() || !last.is_ascii_digit() {
        return false;
    }
    let mut dots = 0;
    let mut previous_dot = false;
    for &b in t {
        if b == b'.' {
            if previous_dot {
                return false;
            }
            dots += 1;
            previous_dot = true;
        } else if b.is_ascii_digit() {
            previous_dot = false;
        } else {
            return false;
        }
    }
    dots <= 3
}

/// Calls `f` with the start and end of each token of a message before
/// masking, and whether the next one follows it without a space: the message
/// is split on whitespace, after the `=` of `key=value`, and in JSON written
/// without spaces after the `":` of a key and after the `,` before the next
/// key
/// (`{"hit":false,"key":"a"}` is `{"hit":`, `false,`, `"key":`, `"a"}`).
fn for_each_piece(line: &[u8], mut f: impl FnMut(usize, usize, bool)) {
    let mut start = 0;
    let mut i = 0;
    // The message has had a JSON key.
    let mut json = false;
    while i < line.len() {
        let class = CLASSES[line[i] as usize];
        i += 1;
        if class & (SPACE | EQUALS | COLON | COMMA) == 0 {
            continue;
        }
        if class & SPACE != 0 {
            if i - 1 > start {
                f(start, i - 1, false);
            }
            start = i;
        } else if class & (COLON | COMMA) != 0 {
            let next = line.get(i).copied();
            let split = if class & COLON != 0 { i - 1 > start && line[i - 2] == b'"' } else { json && next == Some(b'"') };
            if split && next.is_some_and(|b| CLASSES[b as usize] & SPACE == 0) {
                json = true;
                f(start, i, true);
                start = i;
            }
        } else if i - 1 > start
            && line[i - 2] != b'='
            && line.get(i).is_some_and(|&next| CLASSES[next as usize] & (SPACE | EQUALS) == 0)
            && !line[start..i].iter().any(|b| matches!(b, b':' | b'/' | b'?' | b'&'))
        {
            // `key=value`: split after the `=`, but not in `==`, `=x`, `x=`,
            // nor in a URL's query (`https://h/p?a=1`).
            f(start, i, true);
            start = i;
        }
    }
    if start < line.len() {
        f(start, line.len(), false);
    }
}

/// What a masked token is, found in one pass.
struct Kind {
    /// Only `<*>` and punctuation: `<*>`, `(<*>)`, `<*>:<*>`.
    value: bool,
    /// No mask, a letter, and no `.`, `/`, `\`, `@` or `:` between its
    /// first and last letter or digit: dotted, path-like and namespaced
    /// identifiers vary too often to count as names.
    name: bool,
    /// A unit once leading and trailing punctuation are removed.
    unit: bool,
    digit: bool,
    /// A word that names what happened (see [`names_event`]).
    event: bool,
}

impl Kind {
    fn of(token: &[u8]) -> Kind {
        let core_start = token.iter().position(|&b| is_word_byte(b)).unwrap_or(token.len());
        let core_end = token.iter().rposition(|&b| is_word_byte(b)).map_or(core_start, |e| e + 1);
        let (mut masked, mut word_outside_mask, mut letter, mut digit, mut separated) = (false, false, false, false, false);
        let mut i = 0;
        while i < token.len() {
            if token[i..].starts_with(WILDCARD.as_bytes()) {
                masked = true;
                i += WILDCARD.len();
                continue;
            }
            let b = token[i];
            word_outside_mask |= is_word_byte(b);
            letter |= b.is_ascii_alphabetic() || b >= 0x80;
            digit |= b.is_ascii_digit();
            separated |= (core_start..core_end).contains(&i) && matches!(b, b'.' | b'/' | b'\\' | b'@' | b':');
            i += 1;
        }
        let core = &token[core_start..core_end];
        let event = !masked && !digit && !separated && names_event(core);
        // A quoted value (`'user_id'`, `"cart",`) is data, not a name, unless it names an event (`'Active'`).
        let quoted = core_start > 0 && matches!(token[core_start - 1], b'"' | b'\'') && token.get(core_end) == Some(&token[core_start - 1]);
        Kind {
            value: masked && !word_outside_mask,
            name: !masked && letter && !separated && (!quoted || event),
            unit: core.len() <= 7 && UNITS.iter().any(|u| u.as_bytes() == core),
            digit,
            event,
        }
    }
}

/// Whether a word names what happened rather than what it happened to: a
/// verb's past participle or gerund (`Started`, `refused`, `timed-out`,
/// `Draining`), a state, outcome or flag value from [`EVENT_WORDS`]
/// (`reset`, `deny`, `true`), a constant in capitals (`HEALTHY`, `SIGTERM`)
/// or in camel case (`NodeNotReady`, `BackOff`). Several such words at one
/// place are different events, never a variable; user and resource names
/// (`root`, `alice`, `orders`, `istio-proxy`) have none of these shapes.
/// `word` has no digits; a word of parts joined by `-` or `_` names an
/// event when one part does.
fn names_event(word: &[u8]) -> bool {
    if word.len() < 2 || word.len() > 40 || !word.is_ascii() {
        return false;
    }
    let letters = || word.iter().filter(|b| b.is_ascii_alphabetic());
    if letters().count() >= 2 && letters().all(u8::is_ascii_uppercase) {
        return true;
    }
    // An upper-case letter right after a lower-case one: camel case.
    if word[0].is_ascii_uppercase() && word.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase()) {
        return true;
    }
    let parts = word.split(|&b| b == b'-' || b == b'_').count();
    word.split(|&b| b == b'-' || b == b'_').enumerate().any(|(k, part)| {
        let mut lower = [0u8; 40];
        let lower = &mut lower[..part.len()];
        lower.copy_from_slice(part);
        lower.make_ascii_lowercase();
        let lower = &*lower;
        // `-ing` only at the end: `billing-worker` is a name, `auto-scaling` an event.
        (lower.len() >= 5 && lower.ends_with(b"ed")) || (k + 1 == parts && lower.len() >= 6 && lower.ends_with(b"ing")) || EVENT_WORDS.contains(&lower)
    })
}

/// States, outcomes and flag values that do not end in `-ed` or `-ing`.
const EVENT_WORDS: &[&[u8]] = &[
    b"true",
    b"false",
    b"yes",
    b"no",
    b"on",
    b"off",
    b"none",
    b"null",
    b"nil",
    b"ok",
    b"success",
    b"successful",
    b"fail",
    b"failure",
    b"error",
    b"fatal",
    b"timeout",
    b"reset",
    b"deny",
    b"allow",
    b"accept",
    b"reject",
    b"drop",
    b"open",
    b"close",
    b"up",
    b"down",
    b"ready",
    b"active",
    b"inactive",
    b"idle",
    b"busy",
    b"healthy",
    b"unhealthy",
    b"online",
    b"offline",
    b"alive",
    b"dead",
    b"available",
    b"unavailable",
    b"valid",
    b"invalid",
    b"hit",
    b"miss",
    b"full",
    b"empty",
    b"start",
    b"stop",
    b"pause",
    b"resume",
    b"restart",
    b"begin",
    b"end",
    b"done",
    b"complete",
    b"shutdown",
    b"shutoff",
    b"lost",
    b"found",
    b"granted",
    b"locked",
    b"unlocked",
    b"enable",
    b"disable",
    b"connect",
    b"disconnect",
    b"exit",
    b"abort",
    b"panic",
    b"crash",
];

/// Units that may follow a number, glued (`12ms`) or as the next token (`12 ms`).
const UNITS: &[&str] = &[
    "ns", "us", "ms", "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes", "h", "hr", "hrs", "hour", "hours", "d", "day", "days",
    "b", "B", "byte", "bytes", "k", "K", "kb", "kB", "KB", "KiB", "M", "mb", "MB", "MiB", "G", "gb", "GB", "GiB", "T", "TB", "TiB", "bps", "kbps", "Kbps",
    "Mbps", "Gbps", "Hz", "kHz", "MHz", "GHz", "x",
];

/// Month and weekday names, which are masked like the numbers of a date.
const DATE_WORDS: &[&[u8]] = &[
    b"Jan",
    b"Feb",
    b"Mar",
    b"Apr",
    b"May",
    b"Jun",
    b"Jul",
    b"Aug",
    b"Sep",
    b"Oct",
    b"Nov",
    b"Dec",
    b"January",
    b"February",
    b"March",
    b"April",
    b"June",
    b"July",
    b"August",
    b"September",
    b"October",
    b"November",
    b"December",
    b"Mon",
    b"Tue",
    b"Wed",
    b"Thu",
    b"Fri",
    b"Sat",
    b"Sun",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
    b"Sunday",
];

/// Cuts at `max` bytes, backing off to a character boundary.
fn truncate(line: &str, max: usize) -> &str {
    if line.len() <= max {
        return line;
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

fn bytes_to_string(bytes: Vec<u8>) -> String {
    // Masking replaces ASCII ranges only, so the bytes stay valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

// ---------------------------------------------------------------------------
// Masking, by hand: one pass over each token, trying the variable shapes at
// each position that starts a word.

/// Letters, digits and any byte of a non-ASCII character: what a name is made of.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Appends `token` to `out` with its variable parts replaced by `<*>`.
fn mask_token(token: &[u8], out: &mut Vec<u8>) {
    mask_shaped(token, Shape::of(token), out);
}

fn mask_shaped(token: &[u8], shape: Shape, out: &mut Vec<u8>) {
    if !shape.maskable() {
        out.extend_from_slice(token);
        return;
    }
    let mut i = 0;
    while i < token.len() {
        let b = token[i];
        if b == 0x1b && token.get(i + 1) == Some(&b'[') {
            // A terminal colour code (`ESC[31m`) is kept as it is.
            let end = token[i + 2..].iter().position(|b| (0x40..=0x7e).contains(b)).map_or(token.len(), |p| i + 3 + p);
            out.extend_from_slice(&token[i..end]);
            i = end;
            continue;
        }
        let starts_word = i == 0 || !is_word_byte(token[i - 1]);
        if starts_word && let Some(found) = variable_at(token, i, shape) {
            out.extend_from_slice(&token[i..found.keep]);
            out.extend_from_slice(WILDCARD.as_bytes());
            i = found.end;
            continue;
        }
        if is_word_byte(b) {
            // Copy the rest of the word: a digit inside a name is not a value.
            let end = i + token[i..].iter().position(|&b| !is_word_byte(b)).unwrap_or(token.len() - i);
            out.extend_from_slice(&token[i..end]);
            i = end;
        } else {
            out.push(b);
            i += 1;
        }
    }
}

/// Which telling characters a token holds, so that only the shapes it can
/// have are tried: most tokens are words without any of them.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    digit: bool,
    /// A digit starts a word: most likely a number.
    number: bool,
    /// A colon that is not the token's last character (`ARPT:` has none).
    colon: bool,
    at: bool,
    slash: bool,
    backslash: bool,
    dash: bool,
    /// An upper-case letter starts a word: maybe a month or weekday name.
    capital: bool,
}

impl Shape {
    /// One pass over the token: the classes of its bytes, and of the bytes
    /// that start a word.
    fn of(token: &[u8]) -> Shape {
        let (mut bits, mut word_starts, mut colons) = (0u16, 0u16, 0u32);
        let mut in_word = false;
        for &b in token {
            let class = CLASSES[b as usize];
            bits |= class;
            if !in_word {
                word_starts |= class;
            }
            in_word = class & WORD != 0;
            colons += u32::from(class & COLON != 0);
        }
        let has = |bit: u16| bits & bit != 0;
        Shape {
            digit: has(DIGIT),
            number: word_starts & DIGIT != 0,
            // A colon that ends the token is punctuation (`ARPT:`), unless there is another.
            colon: colons > 1 || (colons == 1 && token.last() != Some(&b':')),
            at: has(AT),
            slash: has(SLASH),
            backslash: has(BACKSLASH),
            dash: has(DASH),
            capital: word_starts & UPPER != 0,
        }
    }

    /// Whether masking can change the token at all.
    fn maskable(self) -> bool {
        self.digit || self.colon || self.at || self.slash || self.capital
    }
}

/// Byte classes, so that scanning a token is one table look-up per byte.
const SPACE: u16 = 1;
const DIGIT: u16 = 2;
const COLON: u16 = 4;
const AT: u16 = 8;
const SLASH: u16 = 16;
const BACKSLASH: u16 = 32;
const DASH: u16 = 64;
const UPPER: u16 = 128;
const EQUALS: u16 = 256;
const COMMA: u16 = 512;
/// A byte of a word (see [`is_word_byte`]), beside its other class.
const WORD: u16 = 1024;

static CLASSES: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = match i as u8 {
            b' ' | b'\t' | b'\n' | b'\x0C' | b'\r' => SPACE,
            b'0'..=b'9' => DIGIT | WORD,
            b'A'..=b'Z' => UPPER | WORD,
            b'a'..=b'z' | 0x80..=0xff => WORD,
            b':' => COLON,
            b'=' => EQUALS,
            b',' => COMMA,
            b'@' => AT,
            b'/' => SLASH,
            b'\\' => BACKSLASH,
            b'-' => DASH,
            _ => 0,
        };
        i += 1;
    }
    table
};

/// A variable found at a position: `token[start..keep]` stays (a URL's
/// scheme), `token[keep..end]` becomes `<*>`.
struct Found {
    keep: usize,
    end: usize,
}

fn variable_at(t: &[u8], i: usize, shape: Shape) -> Option<Found> {
    let whole = |end: usize| Some(Found { keep: i, end });
    let b = t[i];
    if b == b'/' {
        return path_end(t, i).and_then(whole);
    }
    if (b == b'-' || b == b'+') && t.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return number_end(t, i + 1).and_then(whole);
    }
    if !b.is_ascii_alphanumeric() {
        return None;
    }
    if shape.colon {
        if let Some(keep) = url_scheme_end(t, i) {
            let end = t[keep..].iter().position(|&b| matches!(b, b'"' | b'\'' | b'<' | b'>' | b')' | b']' | b'}')).map_or(t.len(), |p| keep + p);
            return Some(Found { keep, end });
        }
        if shape.backslash
            && let Some(end) = windows_path_end(t, i)
        {
            return whole(end);
        }
    }
    let candidates = [
        shape.at.then(|| email_end(t, i)).flatten(),
        (shape.digit && shape.dash).then(|| uuid_end(t, i)).flatten(),
        (shape.digit && b.is_ascii_digit()).then(|| ipv4_end(t, i)).flatten(),
        (shape.digit && shape.colon).then(|| endpoint_end(t, i)).flatten(),
        (shape.digit && shape.colon).then(|| colon_groups_end(t, i)).flatten(),
        (b == b'0').then(|| hex_prefixed_end(t, i)).flatten(),
        (shape.dash && b.is_ascii_digit()).then(|| datetime_end(t, i)).flatten(),
    ];
    if let Some(end) = candidates.into_iter().flatten().max() {
        return whole(end);
    }
    if b.is_ascii_digit() {
        return number_end(t, i).and_then(whole);
    }
    if b.is_ascii_uppercase() {
        let letters = i + t[i..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
        if ends_word(t, letters) && DATE_WORDS.contains(&&t[i..letters]) {
            return whole(letters);
        }
    }
    if shape.digit { id_like_end(t, i).and_then(whole) } else { None }
}

/// `scheme://`: returns the index after `//`.
fn url_scheme_end(t: &[u8], i: usize) -> Option<usize> {
    if !t[i].is_ascii_alphabetic() {
        return None;
    }
    let mut j = i;
    while j < t.len() && (t[j].is_ascii_alphanumeric() || matches!(t[j], b'+' | b'.' | b'-')) {
        j += 1;
    }
    t[j..].starts_with(b"://").then_some(j + 3)
}

fn is_path_byte(b: u8) -> bool {
    is_word_byte(b) || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~' | b'%' | b'+' | b'@' | b':' | b'=' | b',')
}

/// An absolute path: `/` then at least one name character, to the first
/// character that cannot be part of a path.
fn path_end(t: &[u8], i: usize) -> Option<usize> {
    if i > 0 && !matches!(t[i - 1], b'(' | b'[' | b'{' | b'=' | b':' | b'"' | b'\'' | b'<' | b',') {
        return None;
    }
    let next = *t.get(i + 1)?;
    if !(is_word_byte(next) || matches!(next, b'.' | b'_' | b'~')) {
        return None;
    }
    let mut end = i + 1;
    while end < t.len() && is_path_byte(t[end]) {
        end += 1;
    }
    // Trailing punctuation belongs to the sentence.
    while end > i + 1 && matches!(t[end - 1], b'.' | b':' | b',') {
        end -= 1;
    }
    Some(end)
}

/// `C:\...`.
fn windows_path_end(t: &[u8], i: usize) -> Option<usize> {
    (t[i].is_ascii_alphabetic() && t.get(i + 1) == Some(&b':') && t.get(i + 2) == Some(&b'\\')).then(|| {
        let mut end = i + 3;
        while end < t.len() && (is_path_byte(t[end]) || t[end] == b'\\') {
            end += 1;
        }
        end
    })
}

/// `local@domain.tld`.
fn email_end(t: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while j < t.len() && (t[j].is_ascii_alphanumeric() || matches!(t[j], b'.' | b'_' | b'%' | b'+' | b'-')) {
        j += 1;
    }
    if j == i || t.get(j) != Some(&b'@') {
        return None;
    }
    let domain = j + 1;
    let mut end = domain;
    while end < t.len() && (t[end].is_ascii_alphanumeric() || matches!(t[end], b'.' | b'-')) {
        end += 1;
    }
    while end > domain && t[end - 1] == b'.' {
        end -= 1;
    }
    let labels = &t[domain..end];
    (labels.contains(&b'.') && labels.first().is_some_and(u8::is_ascii_alphanumeric)).then_some(end)
}

/// Hex digits of exactly these group lengths separated by `-`.
fn uuid_end(t: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for (k, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
        if k > 0 {
            if t.get(j) != Some(&b'-') {
                return None;
            }
            j += 1;
        }
        if t.len() < j + len || !t[j..j + len].iter().all(|&b| is_hex(b)) {
            return None;
        }
        j += len;
    }
    ends_word(t, j).then_some(j)
}

/// How many ASCII digits start at `i` (none past the end).
fn digits(t: &[u8], i: usize) -> usize {
    t.get(i..).map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count())
}

/// Four dotted decimal groups of 1–3 digits, then optionally `:port`.
fn ipv4_end(t: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for k in 0..4 {
        if k > 0 {
            if t.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
        let n = digits(t, j);
        if !(1..=3).contains(&n) {
            return None;
        }
        j += n;
    }
    if t.get(j) == Some(&b':') && digits(t, j + 1) > 0 {
        j += 1 + digits(t, j + 1);
    }
    ends_word(t, j).then_some(j)
}

/// `host.domain:port` or `localhost:port`: a network endpoint.
fn endpoint_end(t: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    let mut dots = 0;
    loop {
        let label = t[j..].iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-').count();
        if label == 0 {
            return None;
        }
        j += label;
        if t.get(j) == Some(&b'.') {
            dots += 1;
            j += 1;
        } else {
            break;
        }
    }
    let port = digits(t, j + 1);
    let named = dots > 0 || &t[i..j] == b"localhost";
    (named && t.get(j) == Some(&b':') && (1..=5).contains(&port) && ends_word(t, j + 1 + port)).then_some(j + 1 + port)
}

/// Groups of up to four hex digits separated by at least two colons, with a
/// digit somewhere: IPv6 addresses, MAC addresses, clock times.
fn colon_groups_end(t: &[u8], i: usize) -> Option<usize> {
    let mut end = i;
    let mut colons = 0;
    let mut digit = false;
    loop {
        let group = t[end..].iter().take_while(|&&b| is_hex(b)).count();
        if group > 4 {
            return None;
        }
        digit |= t[end..end + group].iter().any(u8::is_ascii_digit);
        end += group;
        if t.get(end) != Some(&b':') {
            break;
        }
        // A colon that ends the token or the word is punctuation (`at 12:00:01:`).
        if !t.get(end + 1).is_some_and(|&b| is_hex(b) || b == b':') {
            break;
        }
        colons += 1;
        end += 1;
    }
    (colons >= 2 && digit && ends_word(t, end)).then_some(end)
}

/// An ISO 8601 date, `2024-05-01`, optionally with a time, `T12:34:56.789`,
/// and a zone, `Z` or `+02:00`.
fn datetime_end(t: &[u8], i: usize) -> Option<usize> {
    let at = |j: usize, b: u8| t.get(j) == Some(&b);
    if !(digits(t, i) == 4 && at(i + 4, b'-') && digits(t, i + 5) == 2 && at(i + 7, b'-') && digits(t, i + 8) == 2) {
        return None;
    }
    let mut end = i + 10;
    if at(end, b'T') && digits(t, end + 1) == 2 && at(end + 3, b':') && digits(t, end + 4) == 2 {
        end += 6;
        if at(end, b':') && digits(t, end + 1) == 2 {
            end += 3;
            if at(end, b'.') && digits(t, end + 1) > 0 {
                end += 1 + digits(t, end + 1);
            }
        }
        if at(end, b'Z') {
            end += 1;
        } else if at(end, b'+') || at(end, b'-') {
            match digits(t, end + 1) {
                4 => end += 5,
                2 if at(end + 3, b':') && digits(t, end + 4) == 2 => end += 6,
                2 => end += 3,
                _ => {}
            }
        }
    }
    ends_word(t, end).then_some(end)
}

/// `0x1f`, `0XDEAD`.
fn hex_prefixed_end(t: &[u8], i: usize) -> Option<usize> {
    if t[i] != b'0' || !matches!(t.get(i + 1), Some(b'x' | b'X')) {
        return None;
    }
    let n = t[i + 2..].iter().take_while(|&&b| is_hex(b)).count();
    (n > 0).then_some(i + 2 + n)
}

/// A decimal number (dots allowed: `1.5`, `1.2.3`), with an optional unit
/// glued to it; or a word of hex digits that starts with a digit.
fn number_end(t: &[u8], i: usize) -> Option<usize> {
    let mut j = i + digits(t, i);
    while t.get(j) == Some(&b'.') && t.get(j + 1).is_some_and(u8::is_ascii_digit) {
        j += 1 + digits(t, j + 1);
    }
    if ends_word(t, j) {
        return Some(j);
    }
    let word_end = j + t[j..].iter().take_while(|&&b| b.is_ascii_alphabetic()).count();
    if ends_word(t, word_end) && UNITS.iter().any(|u| u.as_bytes() == &t[j..word_end]) {
        return Some(word_end);
    }
    hex_word_end(t, i)
}

/// A word that is an identifier rather than a name: eight or more hex digits
/// with a digit among them (`5f3a9c01`), or mostly digits (`p15105218`).
fn id_like_end(t: &[u8], i: usize) -> Option<usize> {
    hex_word_end(t, i).or_else(|| {
        let end = i + t[i..].iter().take_while(|&&b| b.is_ascii_alphanumeric()).count();
        let n = t[i..end].iter().filter(|b| b.is_ascii_digit()).count();
        (ends_word(t, end) && n >= 4 && 2 * n > end - i).then_some(end)
    })
}

fn hex_word_end(t: &[u8], i: usize) -> Option<usize> {
    let end = i + t[i..].iter().take_while(|&&b| is_hex(b)).count();
    let digit = t[i..end].iter().any(u8::is_ascii_digit);
    (end - i >= 8 && digit && ends_word(t, end)).then_some(end)
}

/// No letter or digit continues the word at `j`.
fn ends_word(t: &[u8], j: usize) -> bool {
    t.get(j).is_none_or(|&b| !is_word_byte(b))
}

/// Slice equality without a call into `memcmp`, for short tokens.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut a8).zip(&mut b8) {
        if u64::from_ne_bytes(x.try_into().expect("8 bytes")) != u64::from_ne_bytes(y.try_into().expect("8 bytes")) {
            return false;
        }
    }
    a8.remainder().iter().zip(b8.remainder()).all(|(x, y)| x == y)
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish()
}

// ---------------------------------------------------------------------------
// A fast hash for short keys (token bytes, node ids). Keys are log content,
// which an attacker could shape; the worst case is slower mining, never a
// wrong result.

#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn check_mask(input: &str, expected: &str) {
        assert_eq!(mask(input), expected, "mask({input:?})");
    }

    #[test]
    fn masks_variable_shapes() {
        let cases = [
            ("", ""),
            ("   \t ", ""),
            ("took 12ms, then 3.5KB", "took <*>, then <*>"),
            ("retry 3 of -5 at 1.2.3", "retry <*> of <*> at <*>"),
            ("count=42 name=api", "count=<*> name=api"),
            ("a==b x= =y", "a==b x= =y"),
            ("from 10.0.0.1:8080 and 10.0.0.2", "from <*> and <*>"),
            ("ipv6 fe80::1ff:fe23:4567:890a up", "ipv6 <*> up"),
            ("mac 5c:50:15:36:bc:03 at 15:16:01", "mac <*> at <*>"),
            ("id 550e8400-e29b-41d4-a716-446655440000 done", "id <*> done"),
            ("addr 0x7ffd5f3a and deadbeef12345678", "addr <*> and <*>"),
            ("open /var/log/app.log failed", "open <*> failed"),
            ("chdir(/p/gb1/run) failed", "chdir(<*>) failed"),
            ("C:\\Windows\\System32 missing", "<*> missing"),
            ("GET https://example.com/a?b=1 200", "GET https://<*> <*>"),
            ("mail alice.smith@example.com now", "mail <*> now"),
            ("proxy.example.com:5070 open", "<*> open"),
            ("at Fri Jun 17 07:07:00 2005", "at <*> <*> <*> <*> <*>"),
            ("2024-05-01T12:34:56.789Z START 2024-05-01 2024-05-01T12:34+02:00 2024-05-01T12:34:56-0700", "<*> START <*> <*> <*>"),
            ("i-0abc123def4567890 arn:aws:lambda:us-east-1:123456789012:function:api", "i-<*> arn:aws:lambda:us-east-<*>:<*>:function:api"),
            ("blk_-6952295868487656571 attempt_201706_0001", "blk_<*> attempt_<*>_<*>"),
            ("ARPT: 620702.879952: wl0: Type1 en0", "ARPT: <*>: wl0: Type1 en0"),
            ("PS/2 read/write May", "PS/<*> read/write <*>"),
            ("(35.0 KB) <1 sec [42]", "(<*> KB) <<*> sec [<*>]"),
            ("café 12 € naïve 7x", "café <*> € naïve <*>"),
            ("host p15105218 and node12", "host <*> and node12"),
        ];
        for (input, expected) in cases {
            check_mask(input, expected);
        }
    }

    /// Mines `lines` and returns each line's template text.
    fn texts(lines: &[&str]) -> Vec<String> {
        let mut miner = Miner::new(MinerConfig::standard());
        let ids: Vec<TemplateId> = lines.iter().map(|line| miner.add(line)).collect();
        ids.into_iter().map(|id| miner.template(id).expect("exists").text.clone()).collect()
    }

    /// Each case: messages, then the template each one ends up in.
    #[test]
    fn groups_messages() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["Connection to 10.0.0.1 timed out after 30s", "Connection to 10.0.0.7 timed out after 5s"], &["Connection to <*> timed out after <*>"; 2]),
            // Drain merges positions that differ...
            (&["worker alpha.1 started", "worker beta.2 started"], &["worker <*> started"; 2]),
            // ...but not two different names.
            (&["state changed to Active", "state changed to Inactive"], &["state changed to Active", "state changed to Inactive"]),
            (&["proxy open HTTPS", "proxy open SOCKS5"], &["proxy open HTTPS", "proxy open SOCKS5"]),
            // Names that differ only in their digits are one name.
            (&["mount failed on node12", "mount failed on node7"], &["mount failed on <*>"; 2]),
            // Three names at one place: a variable.
            (
                &["session closed for user alice", "session closed for user bob", "session closed for user carol", "session closed for user dave"],
                &["session closed for user <*>"; 4],
            ),
            // Across lengths: optional values, units, lists.
            (&["close, 0 bytes sent, 12 bytes received", "close, 35850 bytes (35.0 KB) sent, 12 bytes received"], &["close, <*> sent, <*> bytes received"; 2]),
            (&["delete blk_1", "delete blk_1 blk_2 blk_3"], &["delete blk_<*> <*>"; 2]),
            // `key=value` is two tokens, shown as written.
            (&["auth uid=0 ok", "auth uid=5 ok", "auth uid= 7 ok"], &["auth uid=<*> ok", "auth uid=<*> ok", "auth uid= <*> ok"]),
            (&["", " ", "x"], &["", "", "x"]),
        ];
        for (lines, expected) in cases {
            let got = texts(lines);
            assert_eq!(got, *expected, "mining {lines:?}");
        }
    }

    /// The cases of issue 14: each case is messages, then the template each
    /// one ends up in.
    #[test]
    fn keeps_events_apart_and_values_together() {
        let vm = |state: &str, id: &str| format!("[instance: {id}] VM {state} (Lifecycle Event)");
        let ids = ["6ba7b810-9dad-11d1-80b4-00c04fd430c8", "550e8400-e29b-41d4-a716-446655440000", "123e4567-e89b-12d3-a456-426614174000"];
        let lifecycle: Vec<String> =
            ["Started", "Stopped", "Paused", "Resumed", "Started", "Paused"].iter().zip(ids.iter().cycle()).map(|(s, id)| vm(s, id)).collect();
        let lifecycle: Vec<&str> = lifecycle.iter().map(String::as_str).collect();
        let cases: &[(&[&str], &[&str])] = &[
            // One-word messages are grouped by their text.
            (&["OOMKilled", "Timeout", "Segfault", "Deadlock", "BackOff", "Timeout"], &["OOMKilled", "Timeout", "Segfault", "Deadlock", "BackOff", "Timeout"]),
            (&["Throttled", "Retrying", "Shutdown", "panic:", "Throttled"], &["Throttled", "Retrying", "Shutdown", "panic:", "Throttled"]),
            // ...and so are messages whose only word is the event.
            (&["12 OOMKilled", "13 Timeout", "14 Segfault", "15 OOMKilled"], &["<*> OOMKilled", "<*> Timeout", "<*> Segfault", "<*> OOMKilled"]),
            // States: each is an event, however many appear.
            (
                &lifecycle,
                &[
                    "[instance: <*>] VM Started (Lifecycle Event)",
                    "[instance: <*>] VM Stopped (Lifecycle Event)",
                    "[instance: <*>] VM Paused (Lifecycle Event)",
                    "[instance: <*>] VM Resumed (Lifecycle Event)",
                    "[instance: <*>] VM Started (Lifecycle Event)",
                    "[instance: <*>] VM Paused (Lifecycle Event)",
                ],
            ),
            (
                &[
                    "Connection refused: 10.0.0.1:80",
                    "Connection reset: 10.0.0.2:80",
                    "Connection timed-out: 10.0.0.3:80",
                    "Connection closed: 10.0.0.4:80",
                    "Connection refused: 10.0.0.9:443",
                ],
                &["Connection refused: <*>", "Connection reset: <*>", "Connection timed-out: <*>", "Connection closed: <*>", "Connection refused: <*>"],
            ),
            // Outcomes and reasons in key=value form, and constants in capitals or camel case.
            (
                &["probe res=success", "probe res=failed", "probe res=denied", "probe res=timeout", "probe res=success"],
                &["probe res=success", "probe res=failed", "probe res=denied", "probe res=timeout", "probe res=success"],
            ),
            (
                &["health is HEALTHY", "health is UNHEALTHY", "health is DEGRADED", "health is UNKNOWN"],
                &["health is HEALTHY", "health is UNHEALTHY", "health is DEGRADED", "health is UNKNOWN"],
            ),
            (
                &[
                    "Node 10.0.0.1 status is now: NodeReady",
                    "Node 10.0.0.2 status is now: NodeNotReady",
                    "Node 10.0.0.3 status is now: NodeHasDiskPressure",
                    "Node 10.0.0.4 status is now: NodeReady",
                ],
                &[
                    "Node <*> status is now: NodeReady",
                    "Node <*> status is now: NodeNotReady",
                    "Node <*> status is now: NodeHasDiskPressure",
                    "Node <*> status is now: NodeReady",
                ],
            ),
            // Boolean flags stay apart, written as key=value, key: value or JSON.
            (
                &["cache enabled=true", "cache enabled=false", "cache enabled=true", "cache enabled=false"],
                &["cache enabled=true", "cache enabled=false", "cache enabled=true", "cache enabled=false"],
            ),
            (&["Sampled: true id 1", "Sampled: false id 2", "Sampled: true id 3"], &["Sampled: true id <*>", "Sampled: false id <*>", "Sampled: true id <*>"]),
            (
                &[
                    r#"{"event":"evict","key":"sess:5f3a9c01","hit":false}"#,
                    r#"{"event":"evict","key":"cart:77aa0b12","hit":true}"#,
                    r#"{"event":"evict","key":"user:9c9d0e1f","hit":false}"#,
                ],
                // (A wildcard is shown with a space after it, even where its values were glued to the next token.)
                &[
                    r#"{"event":"evict","key":<*> "hit":false}"#,
                    r#"{"event":"evict","key":"cart:<*>","hit":true}"#,
                    r#"{"event":"evict","key":<*> "hit":false}"#,
                ],
            ),
            // User and resource names, and quoted values, are variables: root among them.
            (
                &[
                    "login user=root from 10.0.0.1",
                    "login user=root from 10.0.0.2",
                    "login user=alice from 10.0.0.3",
                    "login user=bob from 10.0.0.4",
                    "login user=carol from 10.0.0.5",
                ],
                &["login user=<*> from <*>"; 5],
            ),
            (&["KeyError: 'user_id'", "KeyError: 'order'", "KeyError: 'sku'"], &["KeyError: <*>"; 3]),
            (&["pool primary exhausted", "pool replica exhausted", "pool cache exhausted", "pool analytics exhausted"], &["pool <*> exhausted"; 4]),
        ];
        for (lines, expected) in cases {
            let got = texts(lines);
            assert_eq!(got, *expected, "mining {lines:?}");
        }
    }

    /// Templates that differ only where one of them has a wildcard become
    /// one: `user=root` from messages that also differ in their host beside
    /// `user=<*>` found later.
    #[test]
    fn a_template_covered_by_another_joins_it() {
        let lines = [
            "auth failure; rhost=a.example.com user=root",
            "auth failure; rhost=b.example.org user=root",
            "auth failure; rhost=10.0.0.1 user=alice",
            "auth failure; rhost=10.0.0.2 user=bob",
            "auth failure; rhost=10.0.0.3 user=carol",
            "auth failure; rhost=10.0.0.4 user=root",
        ];
        let mut miner = Miner::new(MinerConfig::standard());
        let ids: Vec<TemplateId> = lines.iter().map(|l| miner.add(l)).collect();
        let first = miner.resolve(ids[0]);
        assert!(ids.iter().all(|&id| miner.resolve(id) == first), "{:?}", miner.templates().map(|t| &t.text).collect::<Vec<_>>());
        assert_eq!(miner.template(first).expect("exists").text, "auth failure; rhost=<*> user=<*>");
        assert_eq!(miner.templates().count(), 1);
    }

    #[test]
    fn summary_escapes_control_characters() {
        let mined = mine("\u{1b}[31mERROR\u{1b}[0m disk 1 full\nbell\u{7} here\n", MinerConfig::standard());
        let summary = mined.summary();
        assert!(!summary.chars().any(|c| c.is_control() && c != '\n'), "{summary:?}");
        assert!(summary.contains("\\u{1b}[31mERROR\\u{1b}[0m disk <*> full"), "{summary}");
        assert!(summary.contains("bell\\u{7} here"), "{summary}");
        assert_eq!(escape_controls("plain"), "plain");
    }

    /// Reading a stream gives what mining the whole text gives, whatever the
    /// reads' sizes: CRLF, a last line without a newline, a line longer than
    /// the limit, bytes that are not UTF-8.
    #[test]
    fn mining_a_stream_equals_mining_the_text() {
        let long = format!("long {} tail", "x".repeat(MAX_LINE_BYTES * 2));
        let mut bytes = b"disk 1 full\r\nuser login ok\ndisk 2 full\n\n".to_vec();
        bytes.extend_from_slice(long.as_bytes());
        bytes.extend_from_slice(b"\nbad \xff\xfe byte 7\ndisk 3 full");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let whole = mine(&text, MinerConfig::standard());
        for capacity in [1, 2, 7, 64, 1 << 16] {
            let reader = std::io::BufReader::with_capacity(capacity, &bytes[..]);
            let streamed = mine_reader(reader, MinerConfig::standard(), LineIds::Listed).expect("reads");
            assert_eq!(streamed.messages, whole.messages, "capacity {capacity}");
            assert_eq!(streamed.lines, whole.lines, "capacity {capacity}");
            assert_eq!(streamed.templates, whole.templates, "capacity {capacity}");
            assert_eq!(streamed.summary(), whole.summary());
        }
        let omitted = mine_reader(&bytes[..], MinerConfig::standard(), LineIds::Omitted).expect("reads");
        assert!(omitted.lines.is_empty());
        assert_eq!((omitted.messages, omitted.templates), (whole.messages, whole.templates.clone()));
        assert_eq!(whole.messages, 7);
    }

    #[test]
    fn counts_first_last_and_example() {
        let mut miner = Miner::new(MinerConfig::standard());
        let lines = ["disk 1 full", "user login ok", "disk 2 full", "disk 3 full"];
        let ids: Vec<TemplateId> = lines.iter().map(|l| miner.add(l)).collect();
        assert_eq!(miner.messages(), 4);
        let disk = miner.template(ids[0]).expect("exists");
        assert_eq!((disk.text.as_str(), disk.count, disk.first_index, disk.last_index, disk.example.as_str()), ("disk <*> full", 3, 0, 3, "disk 1 full"));
        assert_eq!(miner.resolve(ids[2]), miner.resolve(ids[0]));
        assert_ne!(miner.resolve(ids[1]), miner.resolve(ids[0]));
        assert_eq!(miner.templates().count(), 2);
        assert_eq!(miner.resolve(TemplateId(999)), TemplateId(999));
        assert!(miner.template(TemplateId(999)).is_none());
    }

    #[test]
    fn merged_ids_resolve_to_the_older_template() {
        let mut miner = Miner::new(MinerConfig::standard());
        let ids: Vec<TemplateId> = ["login by alice", "login by bob", "login by carol"].iter().map(|l| miner.add(l)).collect();
        let first = miner.resolve(ids[0]);
        assert!(ids.iter().all(|&id| miner.resolve(id) == first));
        let t = miner.template(first).expect("exists");
        assert_eq!((t.text.as_str(), t.count, t.first_index, t.last_index, t.example.as_str()), ("login by <*>", 3, 0, 2, "login by alice"));
    }

    #[test]
    fn summary_lists_templates_by_count() {
        let mined = mine("a 1\nb x\na 2\na 3\n", MinerConfig::standard());
        assert_eq!(mined.lines.len(), 4);
        assert_eq!(mined.summary(), "4 messages, 2 templates\n3  #0    a <*>\n1  #1    b x");
    }

    #[test]
    fn never_panics() {
        let mut miner = Miner::new(MinerConfig::standard());
        let long = "x".repeat(MAX_LINE_BYTES * 3);
        let mut multibyte = "é".repeat(MAX_LINE_BYTES);
        multibyte.push_str(" 12");
        for line in [
            "",
            " ",
            "=",
            "==",
            "=a",
            "a=",
            ":",
            "::",
            ":::1",
            "0x",
            "-",
            "-1",
            "/",
            "//",
            "@",
            "a@b",
            "C:\\",
            "<*>",
            "<<*>>",
            "\u{0}\u{7f}",
            &long,
            &multibyte,
        ] {
            miner.add(line);
            mask(line);
        }
        // Pseudo-random lines over a small alphabet of telling characters.
        let alphabet: Vec<char> = "aZ09:./\\@-+=x_ ()[]<*>é€\t,".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let len = (state >> 59) as usize;
            let line: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let id = miner.add(&line);
            assert!(miner.template(id).is_some());
            mask(&line);
        }
        let id = miner.add(&long);
        assert!(miner.template(id).expect("exists").example.len() <= MAX_LINE_BYTES);
        assert_eq!(miner.templates().map(|t| t.count).sum::<u64>(), miner.messages() as u64);
    }

    /// More distinct templates of one shape than a leaf compares: each new
    /// one is still found again, and the busiest stays in front.
    #[test]
    fn a_full_leaf_still_matches_new_templates() {
        let word = |mut i: usize| {
            let mut w = String::new();
            loop {
                w.push((b'a' + (i % 26) as u8) as char);
                i /= 26;
                if i == 0 {
                    return w;
                }
            }
        };
        // A dotted first token takes the wildcard branch: one leaf for all.
        let line = |i: usize| format!("x.{} {}a {}b {}c", word(i), word(i), word(i), word(i));
        let mut miner = Miner::new(MinerConfig::standard());
        let busiest = miner.add(&line(0));
        for i in 1..3 * MAX_SCAN {
            let first = miner.add(&line(i));
            assert_eq!(miner.add(&line(i)), first, "{}", line(i));
            assert_eq!(miner.add(&line(0)), busiest);
        }
        assert_eq!(miner.templates().count(), 3 * MAX_SCAN);
    }

    #[test]
    fn grouping_accuracy_by_definition() {
        let cases: &[(&[(u32, &str)], f64)] = &[
            (&[], 1.0),
            (&[(1, "A"), (1, "A"), (2, "B")], 1.0),
            // Over-merged: both groups wrong.
            (&[(1, "A"), (1, "B"), (2, "C")], 1.0 / 3.0),
            // Split: A's messages are wrong, B's right.
            (&[(1, "A"), (2, "A"), (3, "B"), (3, "B")], 0.5),
            // Ids need not match labels.
            (&[(7, "B"), (7, "B"), (8, "A")], 1.0),
        ];
        for (pairs, expected) in cases {
            let got = grouping_accuracy(pairs.iter().copied());
            assert!((got - expected).abs() < 1e-9, "{pairs:?}: {got} != {expected}");
        }
    }

    /// A hand-labelled sample in the spirit of the Loghub benchmark (labels:
    /// what an engineer reading the lines would call one event).
    #[test]
    fn grouping_accuracy_on_a_labelled_sample() {
        let sample = [
            ("Accepted password for alice from 10.1.2.3 port 50122 ssh2", "login"),
            ("Failed password for bob from 10.9.8.7 port 40000 ssh2", "failed"),
            ("Accepted password for carol from 192.168.0.4 port 2222 ssh2", "login"),
            ("Connection closed by 10.1.2.3 port 50122 [preauth]", "closed"),
            ("GET /api/v1/users/42 returned 200 in 12ms", "request"),
            ("GET /api/v1/orders/7 returned 404 in 3ms", "request"),
            ("Lambda timeout after 30.01 seconds", "timeout"),
            ("Failed password for dave from 10.0.0.1 port 1234 ssh2", "failed"),
            ("Task 550e8400-e29b-41d4-a716-446655440000 timed out", "task"),
            ("Task 6ba7b810-9dad-11d1-80b4-00c04fd430c8 timed out", "task"),
            ("Connection closed by 192.168.0.9 port 22 [preauth]", "closed"),
            ("Lambda timeout after 3.5 seconds", "timeout"),
            ("Cache state is Active", "active"),
            ("Cache state is Inactive", "inactive"),
            ("Wrote 0 bytes to /tmp/out.txt", "wrote"),
            ("Wrote 2048 bytes (2.0 KB) to /var/tmp/x", "wrote"),
            // Two user names are two templates until a third one shows up.
            ("Accepted password for erin from 10.1.2.9 port 50123 ssh2", "login"),
            ("Failed password for frank from 10.9.8.1 port 40001 ssh2", "failed"),
        ];
        let mut miner = Miner::new(MinerConfig::standard());
        let ids: Vec<TemplateId> = sample.iter().map(|(line, _)| miner.add(line)).collect();
        let ga = grouping_accuracy(ids.iter().map(|&id| miner.resolve(id)).zip(sample.iter().map(|(_, truth)| *truth)));
        assert_eq!(ga, 1.0);
    }
}
