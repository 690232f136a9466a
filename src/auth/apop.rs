//! APOP (RFC 1939 §7): MD5 of the server's banner timestamp followed by the shared secret.

use md5::{Digest as _, Md5};

use super::{to_hex, verify_hex_md5};

/// Raw MD5 of `timestamp || secret`.
fn apop_raw(timestamp: &str, secret: &str) -> [u8; 16] {
    let mut hasher = Md5::new();
    hasher.update(timestamp.as_bytes());
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

/// Lowercase hex MD5 of `timestamp || secret` (RFC 1939 §7). `timestamp` includes the angle
/// brackets, exactly as it appeared in the server greeting.
pub fn apop_digest(timestamp: &str, secret: &str) -> String {
    to_hex(&apop_raw(timestamp, secret))
}

/// Checks an APOP digest in constant time. The hex digest is compared case-insensitively;
/// a digest of the wrong length or with non-hex characters is simply rejected.
pub fn verify_apop(timestamp: &str, secret: &str, digest: &str) -> bool {
    verify_hex_md5(&apop_raw(timestamp, secret), digest)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    const TS: &str = "<1896.697170952@dbc.mtview.ca.us>";
    const DIGEST: &str = "c4c9334bac560ecc979e58001b3e22fb";

    #[test]
    fn rfc1939_vector() {
        assert_eq!(apop_digest(TS, "tanstaaf"), DIGEST);
    }

    #[test]
    fn verify_accepts_rfc_digest_any_case() {
        assert!(verify_apop(TS, "tanstaaf", DIGEST));
        assert!(verify_apop(TS, "tanstaaf", &DIGEST.to_ascii_uppercase()));
        assert!(verify_apop(
            TS,
            "tanstaaf",
            "C4c9334BAC560ecc979e58001b3e22Fb"
        ));
    }

    #[test]
    fn verify_rejects_bad_digests() {
        // one wrong digit
        assert!(!verify_apop(
            TS,
            "tanstaaf",
            "c4c9334bac560ecc979e58001b3e22fc"
        ));
        assert!(!verify_apop(
            TS,
            "tanstaaf",
            "d4c9334bac560ecc979e58001b3e22fb"
        ));
        // wrong length
        assert!(!verify_apop(
            TS,
            "tanstaaf",
            "c4c9334bac560ecc979e58001b3e22f"
        ));
        assert!(!verify_apop(
            TS,
            "tanstaaf",
            "c4c9334bac560ecc979e58001b3e22fb0"
        ));
        assert!(!verify_apop(TS, "tanstaaf", ""));
        // non-hex
        assert!(!verify_apop(
            TS,
            "tanstaaf",
            "c4c9334bac560ecc979e58001b3e22fz"
        ));
        assert!(!verify_apop(
            TS,
            "tanstaaf",
            " 4c9334bac560ecc979e58001b3e22fb"
        ));
        // wrong secret or timestamp
        assert!(!verify_apop(TS, "tanstaaF", DIGEST));
        assert!(!verify_apop(
            "<1896.697170953@dbc.mtview.ca.us>",
            "tanstaaf",
            DIGEST
        ));
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn digest_always_verifies(ts in "<[0-9a-z.@]{0,40}>", secret in "\\PC{0,20}") {
            let d = apop_digest(&ts, &secret);
            prop_assert_eq!(d.len(), 32);
            prop_assert!(verify_apop(&ts, &secret, &d));
        }

        #[test]
        fn verify_never_panics(digest in "\\PC{0,40}") {
            let _ = verify_apop(TS, "tanstaaf", &digest);
        }
    }
}
