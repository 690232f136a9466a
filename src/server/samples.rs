//! The sample messages every demo maildrop starts with: the files of `src/server/samples/`,
//! bytes kept exactly (CRLF line ends), listed once here for every store and test that serves
//! or checks them. What RETR sends and LIST counts is a sample's sent form
//! ([`to_sent_form`](super::to_sent_form)): the file's octets, except that
//! `10-no-final-crlf.eml`, whose last line has no line end, gains a CRLF.

/// `(file name, bytes)` of each sample, in the order a new maildrop lists them.
pub const SAMPLES: [(&str, &[u8]); 20] = [
    ("01-welcome.eml", include_bytes!("samples/01-welcome.eml")),
    (
        "02-dot-stuffing.eml",
        include_bytes!("samples/02-dot-stuffing.eml"),
    ),
    (
        "03-attachment.eml",
        include_bytes!("samples/03-attachment.eml"),
    ),
    (
        "04-html-with-script.eml",
        include_bytes!("samples/04-html-with-script.eml"),
    ),
    ("05-arabic.eml", include_bytes!("samples/05-arabic.eml")),
    ("06-persian.eml", include_bytes!("samples/06-persian.eml")),
    ("07-large.eml", include_bytes!("samples/07-large.eml")),
    (
        "08-long-headers.eml",
        include_bytes!("samples/08-long-headers.eml"),
    ),
    (
        "09-long-line.eml",
        include_bytes!("samples/09-long-line.eml"),
    ),
    (
        "10-no-final-crlf.eml",
        include_bytes!("samples/10-no-final-crlf.eml"),
    ),
    (
        "11-utf8-headers.eml",
        include_bytes!("samples/11-utf8-headers.eml"),
    ),
    (
        "12-windows-1256.eml",
        include_bytes!("samples/12-windows-1256.eml"),
    ),
    (
        "13-windows-1256-mislabelled.eml",
        include_bytes!("samples/13-windows-1256-mislabelled.eml"),
    ),
    (
        "14-rfc2231-filename.eml",
        include_bytes!("samples/14-rfc2231-filename.eml"),
    ),
    (
        "15-related-cid.eml",
        include_bytes!("samples/15-related-cid.eml"),
    ),
    (
        "16-forwarded.eml",
        include_bytes!("samples/16-forwarded.eml"),
    ),
    (
        "17-empty-body.eml",
        include_bytes!("samples/17-empty-body.eml"),
    ),
    (
        "18-same-message-id.eml",
        include_bytes!("samples/18-same-message-id.eml"),
    ),
    (
        "19-same-message-id-list.eml",
        include_bytes!("samples/19-same-message-id-list.eml"),
    ),
    (
        "20-spoofed-display-name.eml",
        include_bytes!("samples/20-spoofed-display-name.eml"),
    ),
];

#[cfg(all(test, not(target_arch = "wasm32")))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Every file of the folder is listed, in name order, with its bytes (a sample added to the
    /// folder and forgotten here fails).
    #[test]
    fn the_list_is_the_folder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/samples");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".eml"))
            .collect();
        files.sort();
        let listed: Vec<&str> = SAMPLES.iter().map(|(name, _)| *name).collect();
        assert_eq!(listed, files);
        for (name, bytes) in SAMPLES {
            assert_eq!(
                std::fs::read(format!("{dir}/{name}")).unwrap(),
                bytes,
                "{name}"
            );
        }
    }
}
