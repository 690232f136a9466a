//! The page asks the engine (issue 9 §1): no list of POP3 keywords lives in www/. The page
//! gets every command, its arguments and states from `commands()`, and what a line is from
//! `check()`; a copy of the keyword list in a page script is what this test refuses.
//!
//! A "keyword list" is any of the shapes the page's copies had: an array literal with three or
//! more keyword strings among its own elements (`["USER", "PASS", …]`, also inside
//! `new Set(…)`), a string literal made only of three or more keywords (`"USER PASS APOP"`), or
//! an alternation of three or more keywords (a regular expression `USER|PASS|APOP`). A dispatch
//! on a command's name is refused too: `case "RETR":` or a comparison `=== "DELE"` /
//! `!== "TOP"` (what a command needs, reads and changes is its metadata: `kind`, `call`,
//! `reading`, `effect`, `followedBy`). Mentions that are neither (a lesson step naming its
//! command, an example line in a placeholder, a call `run("STLS")` of a control of its own) are
//! not.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use popwire::codec::Keyword;

/// Whether `word` is a POP3 keyword the engine knows (as sent: upper case).
fn is_keyword(word: &str) -> bool {
    Keyword::ALL.iter().any(|k| k.as_str() == word)
}

/// `"WORD"`, `'WORD'` or `` `WORD` `` → `WORD`.
fn unquote(text: &str) -> Option<&str> {
    let text = text.trim();
    ['"', '\'', '`'].into_iter().find_map(|q| {
        text.strip_prefix(q)
            .and_then(|rest| rest.strip_suffix(q))
            .filter(|inner| !inner.contains(q))
    })
}

/// The keyword lists in a script's source, each as the text that makes it one.
fn keyword_lists(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = source.chars().collect();

    // Array literals: the direct elements of each `[ … ]` without nested brackets or braces.
    let mut open = None;
    for (i, c) in chars.iter().enumerate() {
        match c {
            '[' => open = Some(i),
            '{' | '}' | '(' | ')' => open = None,
            ']' => {
                if let Some(start) = open.take() {
                    let inner: String = chars[start + 1..i].iter().collect();
                    let keywords = inner
                        .split(',')
                        .filter(|element| unquote(element).is_some_and(is_keyword))
                        .count();
                    if keywords >= 3 {
                        found.push(format!("[{inner}]"));
                    }
                }
            }
            _ => {}
        }
    }

    // String literals made only of keywords.
    for quote in ['"', '\'', '`'] {
        for (n, piece) in source.split(quote).enumerate() {
            if n % 2 == 0 || piece.contains('\n') {
                continue; // outside a literal (roughly: good enough for whole-keyword strings)
            }
            let words: Vec<&str> = piece
                .split(|c: char| c.is_whitespace() || c == ',' || c == '|')
                .filter(|w| !w.is_empty())
                .collect();
            if words.len() >= 3 && words.iter().all(|w| is_keyword(w)) {
                found.push(format!("{quote}{piece}{quote}"));
            }
        }
    }

    // Alternations: KEYWORD|KEYWORD|KEYWORD.
    let word_chars = |c: char| c.is_ascii_alphanumeric();
    let tokens: Vec<&str> = source.split(|c: char| !word_chars(c) && c != '|').collect();
    for token in tokens {
        let alternatives: Vec<&str> = token.split('|').collect();
        let keywords = alternatives.iter().filter(|w| is_keyword(w)).count();
        if alternatives.len() >= 3 && keywords >= 3 {
            found.push(token.to_owned());
        }
    }

    // Dispatch on a name: `case "KW"` and `=== "KW"`, `!== "KW"`, `== "KW"`, `!= "KW"`.
    let quotes = ['"', '\'', '`'];
    for (at, _) in source.match_indices(quotes) {
        let rest = &source[at + 1..];
        let Some(end) = rest.find(quotes) else {
            continue;
        };
        if !is_keyword(&rest[..end]) {
            continue;
        }
        let before = source[..at].trim_end();
        let after = rest[end + 1..].trim_start();
        let dispatch = before.ends_with("case")
            || before.ends_with("==")
            || before.ends_with("!=")
            || after.starts_with("==")
            || after.starts_with("!=");
        if dispatch {
            let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[at..].find('\n').map_or(source.len(), |i| at + i);
            found.push(source[line_start..line_end].trim().to_owned());
        }
    }
    found.dedup();
    found
}

#[test]
fn no_page_script_holds_a_list_of_pop3_keywords() {
    let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
    let mut scripts = 0;
    let mut offences = Vec::new();
    for entry in std::fs::read_dir(&www).unwrap_or_else(|e| panic!("{}: {e}", www.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|e| e == "js") {
            scripts += 1;
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            for list in keyword_lists(&source) {
                offences.push(format!("{}: {list}", path.display()));
            }
        }
    }
    assert!(
        scripts >= 10,
        "found only {scripts} scripts in {}",
        www.display()
    );
    assert!(
        offences.is_empty(),
        "www/ copies the engine's keyword list or dispatches on a command's name (ask \
         commands() / check() instead):\n{}",
        offences.join("\n")
    );
}

/// The shapes the page's copies had before issue 9 (session.js `KEYWORDS`, cmdline.js
/// `NEEDS_ARGUMENT`, stepper.js `LOGIN_COMMANDS`, the stepper's and the maildrop's switches on
/// command names) are found; what the page keeps is not.
#[test]
fn the_scan_finds_the_old_copies_and_passes_what_is_not_a_list() {
    let old = [
        "export const KEYWORDS = [\n  \"USER\", \"PASS\", \"APOP\", \"AUTH\", \"STLS\", \"CAPA\", \"UTF8\", \"LANG\",\n  \"STAT\", \"LIST\", \"UIDL\", \"TOP\", \"RETR\", \"DELE\", \"RSET\", \"NOOP\", \"QUIT\",\n];",
        "const NEEDS_ARGUMENT = new Set([\"USER\", \"PASS\", \"APOP\", \"AUTH\", \"TOP\", \"RETR\", \"DELE\"]);",
        "const LOGIN_COMMANDS = new Set(['USER', 'PASS', 'APOP', 'AUTH']);",
        "const all = \"STAT LIST UIDL\".split(\" \");",
        "if (/^(USER|PASS|APOP)\\s/i.test(line)) return;",
        "switch (command) { case \"USER\": return a(); default: return b(); }",
        "b.disabled = m.marked && action === \"DELE\";",
        "if (p.command !== 'RETR') return;",
        "const which = \"TOP\" == m.command ? 1 : 2;",
    ];
    for source in old {
        assert!(!keyword_lists(source).is_empty(), "not found: {source}");
    }
    let kept = [
        "const STEPS = [\n  { id: \"capa\", key: \"reply.CAPA.ok\", command: \"CAPA\" },\n  { id: \"stat\", key: \"reply.STAT.ok\", command: \"STAT\" },\n  { id: \"list\", key: \"reply.LIST.ok\", command: \"LIST\" },\n];",
        "this.input.placeholder = \"STAT · LIST · RETR 1 · QUIT …\";",
        "switch (reading) { case \"sizes\": a(); break; case \"head\": b(); }",
        "await this.session.run(\"STLS\");",
        "const LOGIN_REFUSALS = { AUTH: \"error.login.auth\" };",
        "for (const action of [\"TOP\", \"RETR\"]) {}",
        "const label = { PLAIN: [\"a\"], LOGIN: [\"b\", \"c\"] };",
    ];
    for source in kept {
        assert_eq!(keyword_lists(source), Vec::<String>::new(), "{source}");
    }
}
