//! The page's explanation texts (`www/i18n/<lang>.json`) against the keys the engine can emit;
//! the notes (what popwire says in its own words) in every language; one term per concept
//! (docs/terminology.md); plural forms; one numbering system per language.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use popwire::codec::{CommandError, ResponseCode};
use popwire::explain::{all_keys, all_note_keys, placeholders, NOTES};
use serde_json::{json, Map, Value};

/// The longest `short` text a button or tooltip can hold.
const SHORT_MAX: usize = 80;

fn i18n_path(lang: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("www")
        .join("i18n")
        .join(format!("{lang}.json"))
}

/// The language file as a JSON object, or `None` if the file does not exist.
fn load(lang: &str) -> Option<Map<String, Value>> {
    let path = i18n_path(lang);
    if !path.exists() {
        return None;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
    match value {
        Value::Object(map) => Some(map),
        _ => panic!("{} must hold a JSON object", path.display()),
    }
}

/// The `short` and `long` texts of `key` in `map`, checked to be non-empty strings.
fn texts<'a>(lang: &str, map: &'a Map<String, Value>, key: &str) -> (&'a str, &'a str) {
    let entry = map
        .get(key)
        .unwrap_or_else(|| panic!("{lang}.json lacks the key {key:?}"));
    let field = |name: &str| -> &'a str {
        let text = entry
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{lang}.json: {key:?} has no string {name:?}"));
        assert!(
            !text.trim().is_empty(),
            "{lang}.json: {key:?}.{name} is empty"
        );
        text
    };
    (field("short"), field("long"))
}

/// Every engine key has texts; nothing else but `ui` sits at the top level.
fn check_language(lang: &str, map: &Map<String, Value>) {
    let keys: BTreeSet<&str> = all_keys().into_iter().collect();
    for key in &keys {
        let (short, _) = texts(lang, map, key);
        assert!(
            short.chars().count() <= SHORT_MAX,
            "{lang}.json: {key:?}.short is {} characters; at most {SHORT_MAX}",
            short.chars().count()
        );
    }
    for key in map.keys() {
        if key == "ui" {
            assert!(
                map[key].is_object(),
                "{lang}.json: \"ui\" must be an object"
            );
            continue;
        }
        assert!(
            keys.contains(key.as_str()),
            "{lang}.json has the key {key:?}, which the engine never emits (stale?)"
        );
    }
}

#[test]
fn english_has_every_engine_key_and_no_stale_ones() {
    let en = load("en").expect("www/i18n/en.json must exist");
    check_language("en", &en);
    assert!(en.contains_key("ui"), "en.json must hold a \"ui\" object");
}

#[test]
fn english_texts_are_plain_text() {
    let en = load("en").expect("www/i18n/en.json must exist");
    for key in all_keys() {
        let (short, long) = texts("en", &en, key);
        for text in [short, long] {
            // `<timestamp>` in the APOP texts is protocol, not markup.
            for markup in [
                "</", "<br", "<p>", "<b>", "<i>", "<code", "&lt;", "&gt;", "&amp;",
            ] {
                assert!(
                    !text.contains(markup),
                    "en.json: {key:?} looks like HTML: {text:?}"
                );
            }
            assert!(
                !text.contains("**") && !text.contains('`'),
                "en.json: {key:?} looks like markdown: {text:?}"
            );
        }
    }
}

#[test]
fn translations_have_every_key_and_are_translated() {
    let en = load("en").expect("www/i18n/en.json must exist");
    for lang in ["ar", "fa"] {
        let map = load(lang).unwrap_or_else(|| panic!("www/i18n/{lang}.json must exist"));
        check_language(lang, &map);
        for key in all_keys() {
            let (en_short, en_long) = texts("en", &en, key);
            let (short, long) = texts(lang, &map, key);
            assert_ne!(
                short, en_short,
                "{lang}.json: {key:?}.short is still English"
            );
            assert_ne!(long, en_long, "{lang}.json: {key:?}.long is still English");
        }
    }
}

#[test]
fn response_code_keys_are_engine_keys() {
    let keys: BTreeSet<&str> = all_keys().into_iter().collect();
    for text in [
        "IN-USE",
        "LOGIN-DELAY",
        "SYS/TEMP",
        "SYS/PERM",
        "AUTH",
        "UTF8",
        "X-ANY",
    ] {
        let key = ResponseCode::from_text(text).explain_key();
        assert!(
            keys.contains(key),
            "[{text}] maps to {key:?}, not in all_keys()"
        );
    }
    assert_eq!(ResponseCode::from_text("X-ANY").explain_key(), "code.other");
}

#[test]
fn command_error_keys_are_engine_keys() {
    let keys: BTreeSet<&str> = all_keys().into_iter().collect();
    // Every variant: `examples()` does not compile without a new one.
    let errors = CommandError::examples();
    let mut seen = BTreeSet::new();
    for error in &errors {
        let key = error.explain_key();
        assert!(
            keys.contains(key),
            "{error:?} maps to {key:?}, not in all_keys()"
        );
        assert!(key.starts_with("input."), "{error:?} maps to {key:?}");
        seen.insert(key);
    }
    assert_eq!(seen.len(), errors.len(), "two refusals share one key");
}

// ----- Notes: what popwire says in its own words (popwire::explain::NOTES) -------------------

/// The `{name}` placeholders of a `ui` value: a string, or every form of a plural object.
fn ui_placeholders(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for form in ui_forms(value) {
        out.extend(placeholders(form).into_iter().map(str::to_owned));
    }
    out
}

/// The texts of a `ui` value: itself, or the forms of a plural object (`$count` left out).
fn ui_forms(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Object(forms) => forms
            .iter()
            .filter(|(k, _)| k.as_str() != "$count")
            .filter_map(|(_, v)| v.as_str())
            .collect(),
        _ => Vec::new(),
    }
}

/// The CLDR plural categories a language's counted strings need (Intl.PluralRules).
fn plural_categories(lang: &str) -> &'static [&'static str] {
    match lang {
        "ar" => &["zero", "one", "two", "few", "many", "other"],
        _ => &["one", "other"],
    }
}

/// A plural object has its `$count`, every category of its language and nothing else.
fn check_plural(lang: &str, key: &str, value: &Value) {
    let Value::Object(forms) = value else { return };
    let count = forms
        .get("$count")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{lang}.json: {key:?} is a plural without \"$count\""));
    assert!(
        ui_placeholders(value).contains(count),
        "{lang}.json: {key:?}: no form uses its $count {{{count}}}"
    );
    let mut have: Vec<&str> = forms
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "$count")
        .collect();
    have.sort_unstable();
    let mut want = plural_categories(lang).to_vec();
    want.sort_unstable();
    assert_eq!(
        have, want,
        "{lang}.json: {key:?}: the plural forms of {lang}"
    );
    for form in ui_forms(value) {
        assert!(
            !form.trim().is_empty(),
            "{lang}.json: {key:?} has an empty form"
        );
    }
}

fn ui(lang: &str) -> Map<String, Value> {
    let map = load(lang).unwrap_or_else(|| panic!("www/i18n/{lang}.json must exist"));
    match map.get("ui") {
        Some(Value::Object(ui)) => ui.clone(),
        _ => panic!("{lang}.json has no \"ui\" object"),
    }
}

#[test]
fn english_notes_are_the_engines_english() {
    let en = ui("en");
    for text in NOTES {
        let value = en
            .get(text.key)
            .unwrap_or_else(|| panic!("en.json lacks the note {:?}", text.key));
        let expected = match (text.count, text.one) {
            (Some(count), Some(one)) => json!({ "$count": count, "one": one, "other": text.other }),
            _ => json!(text.other),
        };
        assert_eq!(
            value, &expected,
            "en.json: {:?} differs from NOTES",
            text.key
        );
    }
}

#[test]
fn every_note_is_said_in_every_language_and_no_note_is_stale() {
    let en = ui("en");
    let keys: BTreeSet<&str> = all_note_keys().into_iter().collect();
    for lang in ["en", "ar", "fa"] {
        let dict = ui(lang);
        for key in &keys {
            let value = dict
                .get(*key)
                .unwrap_or_else(|| panic!("{lang}.json lacks the note {key:?}"));
            assert_eq!(
                ui_placeholders(value),
                ui_placeholders(&en[*key]),
                "{lang}.json: {key:?} placeholders"
            );
        }
        for key in dict.keys().filter(|k| k.starts_with("note.")) {
            assert!(
                keys.contains(key.as_str()),
                "{lang}.json has the note {key:?}, which the engine never says (stale?)"
            );
        }
    }
}

#[test]
fn plural_strings_have_the_forms_their_language_needs() {
    let en = ui("en");
    for lang in ["en", "ar", "fa"] {
        let dict = ui(lang);
        for (key, value) in &dict {
            check_plural(lang, key, value);
            // A count English says in two forms needs Arabic's six.
            if lang == "ar" && en.get(key).is_some_and(Value::is_object) {
                assert!(
                    value.is_object(),
                    "ar.json: {key:?} needs plural forms, as en.json has"
                );
            }
        }
    }
}

#[test]
fn a_refusal_says_on_the_page_what_the_api_says() {
    // What the page shows in English for a refused line is the error's message exactly.
    for error in CommandError::examples() {
        assert_eq!(error.note().english(), error.to_string(), "{error:?}");
    }
}

// ----- Terminology: one term per concept (docs/terminology.md) -------------------------------

/// Arabic diacritics and the directional isolates dropped: what the terminology check compares.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{064B}'..='\u{0652}' | '\u{0670}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

/// The «…» terms of a table cell.
fn terms(cell: &str) -> Vec<String> {
    cell.split('«')
        .skip(1)
        .filter_map(|rest| rest.split_once('»').map(|(term, _)| plain(term)))
        .collect()
}

/// The glossary of docs/terminology.md: per row, the accepted and the rejected terms of Arabic
/// and Persian.
struct Glossary {
    accepted: Vec<(String, String)>,
    rejected: Vec<(String, String, String)>,
}

fn glossary() -> Glossary {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("terminology.md");
    let text = std::fs::read_to_string(&path).expect("docs/terminology.md must exist");
    let table = text
        .split("## Glossary")
        .nth(1)
        .expect("docs/terminology.md has a \"## Glossary\" section");
    let table = table.split("\n## ").next().unwrap_or_default();
    let mut glossary = Glossary {
        accepted: Vec::new(),
        rejected: Vec::new(),
    };
    let mut rows = 0;
    for line in table.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() != 6 || cells[0] == "concept" || cells[0].starts_with("---") {
            continue;
        }
        rows += 1;
        let concept = cells[0].to_owned();
        for (lang, accepted, rejected) in [("ar", cells[2], cells[4]), ("fa", cells[3], cells[5])] {
            assert!(
                !terms(accepted).is_empty(),
                "docs/terminology.md: {concept}: no {lang} term"
            );
            for term in terms(accepted) {
                glossary.accepted.push((lang.to_owned(), term));
            }
            for term in terms(rejected) {
                glossary
                    .rejected
                    .push((lang.to_owned(), term, concept.clone()));
            }
        }
    }
    assert!(
        rows >= 20,
        "docs/terminology.md: only {rows} glossary rows read"
    );
    glossary
}

/// Every string of a language file (explanations, ui strings, plural forms) with its key.
fn all_strings(lang: &str) -> Vec<(String, String)> {
    fn walk(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::String(s) => out.push((at.to_owned(), s.clone())),
            Value::Object(map) => {
                for (k, v) in map {
                    walk(
                        v,
                        &if at.is_empty() {
                            k.clone()
                        } else {
                            format!("{at}.{k}")
                        },
                        out,
                    );
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &Value::Object(load(lang).expect("the language file")),
        "",
        &mut out,
    );
    out
}

#[test]
fn no_rejected_term_in_arabic_or_persian() {
    let glossary = glossary();
    let mut found = Vec::new();
    for lang in ["ar", "fa"] {
        for (key, text) in all_strings(lang) {
            let text = plain(&text);
            for (_, rejected, concept) in glossary.rejected.iter().filter(|(l, ..)| l == lang) {
                // An accepted term holding the rejected one («خط فرمان» and «فرمان») is no hit.
                let mut rest = text.clone();
                for (_, accepted) in glossary.accepted.iter().filter(|(l, _)| l == lang) {
                    if accepted.contains(rejected.as_str()) {
                        rest = rest.replace(accepted.as_str(), " ");
                    }
                }
                if rest.contains(rejected.as_str()) {
                    found.push(format!("{lang}.json {key}: «{rejected}» ({concept})"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "rejected variants (docs/terminology.md):\n{}",
        found.join("\n")
    );
}

// ----- Numbers: one numbering system per language ---------------------------------------------

/// `text` without what keeps its digits as sent: U+2066…U+2069 isolates (protocol text),
/// {placeholders}, RFC references and words with Latin letters (POP3, MD5, UTF-8, CVE-2011-0411).
fn prose_digits(text: &str) -> String {
    let mut out = String::new();
    let mut isolated = 0usize;
    for c in text.chars() {
        match c {
            '\u{2066}'..='\u{2068}' => isolated += 1,
            '\u{2069}' => isolated = isolated.saturating_sub(1),
            _ if isolated > 0 => {}
            _ => out.push(c),
        }
    }
    let words: Vec<String> = out
        .split(|c: char| c.is_whitespace() || "()،,;:؛«»\"".contains(c))
        .map(str::to_owned)
        .collect();
    let mut kept = Vec::new();
    let mut after_rfc = false;
    for word in words {
        let latin_letter = word.chars().any(|c| c.is_ascii_alphabetic());
        let reference =
            after_rfc || word.starts_with('§') || (word.starts_with('{') && word.ends_with('}'));
        after_rfc = word == "RFC";
        if !latin_letter && !reference {
            kept.push(word);
        }
    }
    kept.join(" ")
}

#[test]
fn numbers_use_one_numbering_system_per_language() {
    let arabic_indic = |c: char| ('\u{0660}'..='\u{0669}').contains(&c);
    let persian = |c: char| ('\u{06F0}'..='\u{06F9}').contains(&c);
    let mut wrong = Vec::new();
    for (key, text) in all_strings("en") {
        if text.chars().any(|c| arabic_indic(c) || persian(c)) {
            wrong.push(format!("en.json {key}: non-Latin digits"));
        }
    }
    // Arabic: Western digits, as the Arabic source articles write them.
    for (key, text) in all_strings("ar") {
        if text.chars().any(|c| arabic_indic(c) || persian(c)) {
            wrong.push(format!(
                "ar.json {key}: Arabic-Indic or Persian digits: {text}"
            ));
        }
    }
    // Persian: Persian digits in prose; protocol text, names and RFC references as sent.
    for (key, text) in all_strings("fa") {
        if text.chars().any(arabic_indic) {
            wrong.push(format!(
                "fa.json {key}: Arabic-Indic digits (٠–٩), not Persian (۰–۹)"
            ));
        }
        if !text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) {
            continue;
        }
        if prose_digits(&text).chars().any(|c| c.is_ascii_digit()) {
            wrong.push(format!(
                "fa.json {key}: Latin digits in Persian prose: {text}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
