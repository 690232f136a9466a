//! The bridge's names, one rule per kind, so that every place that takes one agrees.
//!
//! - A **target name** (`--target NAME=…`, `?target=NAME`): 1–64 characters of
//!   `A-Z a-z 0-9 . _ -`.
//! - A **demo user name** (`POST /demo/deliver?user=NAME`, a Maildir account `DIR/NAME/`):
//!   1–64 characters of `A-Z a-z 0-9 . _ - @ +`, not starting with `.`, so it is one path
//!   component that can name neither a directory's parent nor the store's own dot-files.

/// The longest name of either kind.
const MAX_LEN: usize = 64;

/// Whether `name` may name a target.
pub(crate) fn is_target_name(name: &str) -> bool {
    (1..=MAX_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `name` may name a demo user (a delivery's recipient or a Maildir account).
pub(crate) fn is_user_name(name: &str) -> bool {
    (1..=MAX_LEN).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@' | b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names() {
        for good in ["demo", "demo-tls", "a.b_c-d", &"a".repeat(64)] {
            assert!(is_target_name(good), "{good}");
        }
        for bad in [
            "",
            &"a".repeat(65),
            "bad name",
            "a@b",
            "a+b",
            "a/b",
            "127.0.0.1:110",
            "ä",
        ] {
            assert!(!is_target_name(bad), "{bad}");
        }
    }

    #[test]
    fn user_names() {
        for good in ["alice", "a.b-c_d+e@example.org", "a.", &"u".repeat(64)] {
            assert!(is_user_name(good), "{good}");
        }
        for bad in [
            "",
            &"a".repeat(65),
            "a b",
            "../etc",
            ".",
            "..",
            ".hidden",
            "a/b",
            "ä",
        ] {
            assert!(!is_user_name(bad), "{bad}");
        }
    }
}
