//! docs/protocol.md is the contract of usher's wire protocol: these tests keep it and the
//! code in step. Every message type, error code and close code of `usher_protocol` must be
//! documented, the page must document nothing the code does not have, and every code must
//! be sent somewhere in the server's source (a code documented but never sent is a promise
//! the server does not keep).
//!
//! Conventions the page follows, so that this parse is plain and unambiguous:
//! - Error codes: the one table of the section `## Error codes`; the first cell of each
//!   row is the code in backticks.
//! - Close codes: the one table of the section `## Close codes`; the first cell of each
//!   row is the number, and the column `retry` says `yes` or `no`.
//! - Message types: in each channel's section (`## Client messages`, `## Server messages`,
//!   `### Seat client messages`, `### Seat server messages`), every sub-heading that is a
//!   single word in backticks (`### \`join\``) documents that message type.
//!
//! Headings inside fenced code blocks are not headings. Backticks, bold and spaces around
//! a cell do not matter; the sets must match exactly.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use usher_protocol::{
    ClientMessage, CloseCode, ErrorCode, SeatClientMessage, SeatServerMessage, ServerMessage,
};

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/protocol.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A markdown line outside fenced code blocks, with its line number (1-based).
struct Line<'a> {
    number: usize,
    text: &'a str,
}

/// The lines of the page that are not inside a ``` or ~~~ fence.
fn prose_lines(doc: &str) -> Vec<Line<'_>> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, text) in doc.lines().enumerate() {
        let t = text.trim_start();
        let marker = if t.starts_with("```") {
            Some("```")
        } else if t.starts_with("~~~") {
            Some("~~~")
        } else {
            None
        };
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(f), Some(m)) if f == m => fence = None,
            (None, None) => out.push(Line {
                number: i + 1,
                text,
            }),
            _ => {}
        }
    }
    out
}

/// The level and text of a heading line (`## Close codes` → (2, "Close codes")).
fn heading(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_start();
    let level = t.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim()))
}

/// The lines under the heading with this text (any level, case and spaces ignored), up to
/// the next heading of the same or a higher level. Panics unless exactly one heading
/// matches.
fn section<'a>(lines: &'a [Line<'a>], title: &str) -> &'a [Line<'a>] {
    let wanted = normalize(title);
    let starts: Vec<(usize, usize)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| heading(l.text).map(|(level, text)| (i, level, text)))
        .filter(|(_, _, text)| normalize(text) == wanted)
        .map(|(i, level, _)| (i, level))
        .collect();
    let [(start, level)] = starts[..] else {
        panic!(
            "docs/protocol.md needs exactly one heading \"{title}\", found {}",
            starts.len()
        );
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| heading(l.text).is_some_and(|(lv, _)| lv <= level))
        .map_or(lines.len(), |p| start + 1 + p);
    &lines[start + 1..end]
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A cell without the markup around it: spaces, bold, backticks.
fn bare(cell: &str) -> &str {
    cell.trim()
        .trim_matches(|c| c == '*' || c == '`' || c == '_')
        .trim()
}

fn cells(row: &str) -> Vec<&str> {
    let t = row.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(str::trim).collect()
}

/// A table: its header cells and its body rows (line number, cells).
struct Table<'a> {
    header: Vec<String>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl Table<'_> {
    fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("the table has no column \"{name}\": {:?}", self.header))
    }
}

/// The one table in a section. Panics when the section has none, or more than one: then
/// it would be unclear which table is the list.
fn only_table<'a>(lines: &'a [Line<'a>], title: &str) -> Table<'a> {
    let mut tables: Vec<Vec<&Line<'a>>> = Vec::new();
    let mut in_table = false;
    for l in lines {
        if l.text.trim_start().starts_with('|') {
            if !in_table {
                tables.push(Vec::new());
                in_table = true;
            }
            tables.last_mut().expect("pushed").push(l);
        } else {
            in_table = false;
        }
    }
    let [table] = &tables[..] else {
        panic!(
            "the section \"{title}\" of docs/protocol.md must hold exactly one table, found {}",
            tables.len()
        );
    };
    assert!(
        table.len() >= 2 && cells(table[1].text).iter().all(|c| is_delimiter(c)),
        "the table of \"{title}\" (line {}) needs a header row and a |---| row",
        table[0].number
    );
    Table {
        header: cells(table[0].text)
            .iter()
            .map(|c| normalize(bare(c)))
            .collect(),
        rows: table[2..]
            .iter()
            .map(|l| (l.number, cells(l.text)))
            .collect(),
    }
}

fn is_delimiter(cell: &str) -> bool {
    let c = cell.trim();
    !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))
}

/// The first cells of a table's rows, each once: a code listed twice is an error.
fn first_cells(table: &Table<'_>, title: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for (line, row) in &table.rows {
        let key = bare(row[0]).to_string();
        assert!(
            !key.is_empty(),
            "docs/protocol.md line {line}: a row of \"{title}\" has an empty first cell"
        );
        assert!(
            seen.insert(key.clone()),
            "docs/protocol.md line {line}: \"{title}\" lists {key} twice"
        );
    }
    seen
}

/// Fails with the items missing from either side.
fn assert_same_sets(what: &str, code: &BTreeSet<String>, doc: &BTreeSet<String>) {
    let undocumented: Vec<_> = code.difference(doc).collect();
    let unknown: Vec<_> = doc.difference(code).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "{what}: in the code but not in docs/protocol.md: {undocumented:?}; \
         in docs/protocol.md but not in the code: {unknown:?}"
    );
}

fn error_code_table(doc: &str) -> BTreeSet<String> {
    let lines = prose_lines(doc);
    let table = only_table(section(&lines, "Error codes"), "Error codes");
    table.column("code");
    first_cells(&table, "Error codes")
}

#[test]
fn every_error_code_is_in_the_error_code_table_and_the_table_lists_no_other() {
    let code: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_same_sets("error codes", &code, &error_code_table(&doc()));
}

fn close_code_table(doc: &str) -> Vec<(usize, u16, String)> {
    let lines = prose_lines(doc);
    let table = only_table(section(&lines, "Close codes"), "Close codes");
    table.column("code");
    let retry = table.column("retry");
    first_cells(&table, "Close codes");
    table
        .rows
        .iter()
        .map(|(line, row)| {
            let cell = bare(row[0]);
            let number = cell.parse::<u16>().unwrap_or_else(|_| {
                panic!(
                    "docs/protocol.md line {line}: the close-code table lists \"{cell}\", \
                     which is not one close code (one code per row)"
                )
            });
            let says = row
                .get(retry)
                .map(|c| bare(c).to_lowercase())
                .unwrap_or_default();
            (*line, number, says)
        })
        .collect()
}

#[test]
fn every_close_code_is_in_the_close_code_table_and_the_table_lists_no_other() {
    let code: BTreeSet<String> = CloseCode::ALL
        .iter()
        .map(|c| c.code().to_string())
        .collect();
    let doc: BTreeSet<String> = close_code_table(&doc())
        .into_iter()
        .map(|(_, n, _)| n.to_string())
        .collect();
    assert_same_sets("close codes", &code, &doc);
}

#[test]
fn the_close_code_table_says_retry_exactly_for_4000_to_4499() {
    for (line, number, says) in close_code_table(&doc()) {
        let Some(close) = CloseCode::from_code(number) else {
            continue; // reported by the test of the sets
        };
        let expected = if close.may_retry() { "yes" } else { "no" };
        assert!(
            says.starts_with(expected),
            "docs/protocol.md line {line}: close code {number} ({close:?}) must say \
             retry \"{expected}\", it says \"{says}\""
        );
    }
}

/// The message types documented in a channel's section: its sub-headings that are one
/// word in backticks.
fn documented_types(doc: &str, title: &str) -> BTreeSet<String> {
    let lines = prose_lines(doc);
    let mut types = BTreeSet::new();
    for l in section(&lines, title) {
        let Some((_, text)) = heading(l.text) else {
            continue;
        };
        let t = text.trim();
        let Some(name) = t.strip_prefix('`').and_then(|t| t.strip_suffix('`')) else {
            continue;
        };
        let name = name.trim();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "docs/protocol.md line {}: \"{t}\" in \"{title}\" is not a message type",
            l.number
        );
        assert!(
            types.insert(name.to_string()),
            "docs/protocol.md line {}: \"{title}\" documents `{name}` twice",
            l.number
        );
    }
    types
}

fn check_types(title: &str, code: &[&str]) {
    let code: BTreeSet<String> = code.iter().map(|t| t.to_string()).collect();
    assert_same_sets(
        &format!("message types of \"{title}\""),
        &code,
        &documented_types(&doc(), title),
    );
}

#[test]
fn every_waiting_room_client_message_is_documented_and_no_other() {
    check_types("Client messages", ClientMessage::TYPES);
}

#[test]
fn every_waiting_room_server_message_is_documented_and_no_other() {
    check_types("Server messages", ServerMessage::TYPES);
}

#[test]
fn every_seat_map_client_message_is_documented_and_no_other() {
    check_types("Seat client messages", SeatClientMessage::TYPES);
}

#[test]
fn every_seat_map_server_message_is_documented_and_no_other() {
    check_types("Seat server messages", SeatServerMessage::TYPES);
}

/// The server's source files: every `.rs` file under src/, except the load generator
/// (crates/usher-load, and its old place src/bin/usher-load), which is a client: a code it matches on is not a code sent.
fn server_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                if !path.ends_with("bin/usher-load") && !path.ends_with("usher-load") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    assert!(!out.is_empty(), "no source files under src/");
    out
}

/// Rust source with comments (doc comments included), string and char literals blanked
/// out, and `#[cfg(test)]` items removed: what is left is code the server runs.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if src[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if src[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(len) = raw_string_len(rest) {
            i += len;
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let close = if rest[1..].starts_with('\\') {
                // The escaped character is at 2; the closing quote comes after it.
                rest.get(3..).and_then(|r| r.find('\'')).map(|p| p + 3)
            } else {
                rest[1..]
                    .char_indices()
                    .nth(1)
                    .filter(|(_, c)| *c == '\'')
                    .map(|(p, _)| p + 1)
            };
            match close {
                Some(p) => {
                    i += p + 1;
                    out.push_str("' '");
                }
                None => {
                    i += 1;
                    out.push('\'');
                }
            }
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    without_test_items(&out)
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start of `s`.
fn raw_string_len(s: &str) -> Option<usize> {
    let after_r = s.strip_prefix("br").or_else(|| s.strip_prefix('r'))?;
    let hashes = after_r.chars().take_while(|c| *c == '#').count();
    if !after_r[hashes..].starts_with('"') {
        return None;
    }
    let end = format!("\"{}", "#".repeat(hashes));
    let body = &after_r[hashes + 1..];
    let close = body.find(&end)?;
    Some(s.len() - body.len() + close + end.len())
}

/// Removes each `#[cfg(test)]` item: up to its `;`, or its `{ … }` block.
fn without_test_items(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let semi = item.find(';');
        let brace = item.find('{');
        let end = match (semi, brace) {
            (Some(s), Some(b)) if s < b => s + 1,
            (_, Some(b)) => {
                let mut depth = 0usize;
                let mut end = item.len();
                for (p, c) in item[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + p + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (Some(s), None) => s + 1,
            (None, None) => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Whether `Type::Variant` appears as a whole path segment (not `Type::VariantMore`).
fn uses(code: &str, path: &str) -> bool {
    code.match_indices(path).any(|(at, _)| {
        let before_ok = code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after_ok = code[at + path.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        before_ok && after_ok
    })
}

fn unused<T: Debug>(type_name: &str, all: &[T], code: &str) -> Vec<String> {
    all.iter()
        .map(|v| format!("{type_name}::{v:?}"))
        .filter(|path| !uses(code, path))
        .collect()
}

#[test]
fn every_error_code_and_close_code_is_sent_somewhere_in_the_server() {
    let code: String = server_sources()
        .iter()
        .map(|p| {
            let src = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            code_only(&src)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut never = unused("ErrorCode", ErrorCode::ALL, &code);
    never.extend(unused("CloseCode", CloseCode::ALL, &code));
    assert!(
        never.is_empty(),
        "documented in docs/protocol.md but never used in the server's code under src/ \
         (outside comments and tests): {}",
        never.join(", ")
    );
}

#[test]
fn the_source_scanner_sees_code_and_skips_comments_strings_and_tests() {
    let src = r##"
        // CloseCode::Done in a line comment
        /* CloseCode::Revoked /* nested */ CloseCode::BinaryFrame */
        /// CloseCode::TokenInvalid in a doc comment
        fn f<'a>(x: &'a str) -> char {
            let _ = "CloseCode::TokenExpired in a string \" still";
            let _ = r#"CloseCode::ForeignToken "in" a raw string"#;
            let _ = '"';
            send(CloseCode::Unavailable);
            send(CloseCode::RateLimitedMore);
            '\''
        }
        #[cfg(test)]
        mod tests {
            fn g() { if true { send(CloseCode::SessionEnded); } }
        }
        fn h() { send(CloseCode::PlaceLost); }
    "##;
    let code = code_only(src);
    for unseen in [
        "Done",
        "Revoked",
        "BinaryFrame",
        "TokenInvalid",
        "TokenExpired",
        "ForeignToken",
        "RateLimited",
        "SessionEnded",
    ] {
        assert!(
            !uses(&code, &format!("CloseCode::{unseen}")),
            "{unseen} should not count: {code}"
        );
    }
    assert!(uses(&code, "CloseCode::Unavailable"), "{code}");
    assert!(uses(&code, "CloseCode::PlaceLost"), "{code}");
}
