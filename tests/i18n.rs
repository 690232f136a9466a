//! The page's explanation texts (`www/i18n/<lang>.json`) against the keys the engine can emit.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use popwire::codec::{CommandError, ResponseCode};
use popwire::explain::all_keys;
use serde_json::{Map, Value};

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
