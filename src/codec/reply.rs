//! Structured replies: STAT, LIST, UIDL, CAPA and the greeting's APOP timestamp.

use serde::Serialize;

use super::error::ProtocolError;
use super::status::lossy;
use crate::explain::Note;

/// The answer to `STAT` (RFC 1939 §5 "drop listing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stat {
    /// Number of messages not marked as deleted.
    pub count: u32,
    /// Their total size in octets.
    pub size: u64,
}

/// One "scan listing" of `LIST` (RFC 1939 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ListEntry {
    /// Message number.
    pub id: u32,
    /// Exact size in octets.
    pub size: u64,
}

/// One "unique-id listing" of `UIDL` (RFC 1939 §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UidlEntry {
    /// Message number.
    pub id: u32,
    /// The unique-id: 1–70 octets in 0x21–0x7E.
    pub uid: String,
}

/// One capability line of `CAPA` (RFC 2449 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capability {
    /// The tag, upper-cased (tags are case-insensitive).
    pub name: String,
    /// The arguments as sent.
    pub args: Vec<String>,
}

fn words(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b' ').filter(|w| !w.is_empty())
}

fn number<T: std::str::FromStr>(
    word: Option<&[u8]>,
    what: Note,
    line: &[u8],
) -> Result<T, ProtocolError> {
    word.filter(|w| !w.is_empty() && w.iter().all(u8::is_ascii_digit))
        .and_then(|w| std::str::from_utf8(w).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ProtocolError::BadNumber {
            what,
            line: lossy(line),
        })
}

/// Parses the text of a `+OK` to `STAT`: `nn mm`, anything after ignored (RFC 1939 §5).
pub fn parse_stat(text: &[u8]) -> Result<Stat, ProtocolError> {
    let mut w = words(text);
    let count = number(w.next(), crate::note!("note.wanted.message-count"), text)?;
    let size = number(w.next(), crate::note!("note.wanted.maildrop-size"), text)?;
    Ok(Stat { count, size })
}

/// Parses `msg size` (a LIST body line or the text of `+OK` to `LIST n`).
pub fn parse_list_line(line: &[u8]) -> Result<ListEntry, ProtocolError> {
    let mut w = words(line);
    let id = number(w.next(), crate::note!("note.wanted.message-number"), line)?;
    let size = number(w.next(), crate::note!("note.wanted.size"), line)?;
    if id == 0 {
        return Err(ProtocolError::BadListing {
            what: "LIST",
            line: lossy(line),
        });
    }
    Ok(ListEntry { id, size })
}

/// Parses `msg unique-id` (a UIDL body line or the text of `+OK` to `UIDL n`).
pub fn parse_uidl_line(line: &[u8]) -> Result<UidlEntry, ProtocolError> {
    let mut w = words(line);
    let id: u32 = number(w.next(), crate::note!("note.wanted.message-number"), line)?;
    let uid = w.next().unwrap_or_default();
    if id == 0 || uid.is_empty() || uid.len() > 70 || !uid.iter().all(|b| (0x21..=0x7E).contains(b))
    {
        return Err(ProtocolError::BadUniqueId { line: lossy(line) });
    }
    // Checked ASCII above, so this is lossless.
    Ok(UidlEntry {
        id,
        uid: lossy(uid),
    })
}

/// Parses one CAPA line: a tag and its space-separated arguments.
pub fn parse_capa_line(line: &[u8]) -> Result<Capability, ProtocolError> {
    let mut w = words(line);
    let name = w.next().ok_or_else(|| ProtocolError::BadListing {
        what: "CAPA",
        line: lossy(line),
    })?;
    Ok(Capability {
        name: lossy(name).to_ascii_uppercase(),
        args: w.map(lossy).collect(),
    })
}

/// Encodes a STAT answer as the text after `+OK` (`nn mm`, RFC 1939 §5); [`parse_stat`] reads
/// it back. The server's side of the codec.
pub fn encode_stat(stat: &Stat) -> String {
    format!("{} {}", stat.count, stat.size)
}

/// Encodes a scan listing, `msg size` without CRLF: a LIST body line or the text of `+OK` to
/// `LIST n` (RFC 1939 §5); [`parse_list_line`] reads it back.
pub fn encode_list_line(entry: &ListEntry) -> String {
    format!("{} {}", entry.id, entry.size)
}

/// Encodes a unique-id listing, `msg unique-id` without CRLF: a UIDL body line or the text of
/// `+OK` to `UIDL n` (RFC 1939 §7); [`parse_uidl_line`] reads it back when the unique-id is 1–70
/// characters of 0x21–0x7E (the server's stores make them so).
pub fn encode_uidl_line(entry: &UidlEntry) -> String {
    format!("{} {}", entry.id, entry.uid)
}

/// Encodes a whole multi-line body of listings, one `line(entry)` and CRLF each, not yet
/// dot-stuffed (see [`super::stuff_body`]): e.g. `encode_listing(&entries, encode_list_line)`.
pub fn encode_listing<T>(entries: &[T], line: fn(&T) -> String) -> Vec<u8> {
    let mut body = Vec::new();
    for entry in entries {
        body.extend_from_slice(line(entry).as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body
}

/// Encodes one CAPA line without CRLF: the tag and its arguments, one space apart (RFC 2449 §5);
/// [`parse_capa_line`] reads it back.
pub fn encode_capa_line(capability: &Capability) -> String {
    let mut line = capability.name.clone();
    for arg in &capability.args {
        line.push(' ');
        line.push_str(arg);
    }
    line
}

/// Finds the APOP timestamp in a greeting's text (RFC 1939 §7), brackets included. The timestamp
/// has msg-id syntax (RFC 822: `<local@domain>`), so the first `<…>` of that shape is taken:
/// printable ASCII, no space, no `<`, and an `@` with text on both sides. Other bracketed text
/// (e.g. `<v5.1 beta>` before it) is skipped; without a msg-id-shaped `<…>` there is none.
pub fn find_apop_timestamp(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let candidate = &rest[start..];
        let close = candidate.find('>')?;
        let inner = &candidate[1..close];
        if is_msg_id(inner) {
            return Some(candidate[..=close].to_owned());
        }
        // Try the next `<`: it may start inside this candidate (`<<a@b>`).
        rest = &candidate[1..];
    }
    None
}

/// `local@domain` with no space, `<`, `>` or control character, both parts non-empty.
fn is_msg_id(inner: &str) -> bool {
    let printable = inner
        .bytes()
        .all(|b| (0x21..=0x7E).contains(&b) && b != b'<' && b != b'>');
    match inner.rsplit_once('@') {
        Some((local, domain)) => printable && !local.is_empty() && !domain.is_empty(),
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn encoders_write_what_the_parsers_read() {
        assert_eq!(
            encode_stat(&Stat {
                count: 2,
                size: 320
            }),
            "2 320"
        );
        assert_eq!(encode_list_line(&ListEntry { id: 1, size: 120 }), "1 120");
        let uid = UidlEntry {
            id: 3,
            uid: "whqtswO00WBw418f9t5JxYwZ".into(),
        };
        assert_eq!(encode_uidl_line(&uid), "3 whqtswO00WBw418f9t5JxYwZ");
        let list = [ListEntry { id: 1, size: 5 }, ListEntry { id: 2, size: 7 }];
        assert_eq!(encode_listing(&list, encode_list_line), b"1 5\r\n2 7\r\n");
        assert!(encode_listing::<ListEntry>(&[], encode_list_line).is_empty());
        let capa = Capability {
            name: "SASL".into(),
            args: vec!["PLAIN".into(), "CRAM-MD5".into()],
        };
        assert_eq!(encode_capa_line(&capa), "SASL PLAIN CRAM-MD5");
        assert_eq!(
            parse_capa_line(encode_capa_line(&capa).as_bytes()).unwrap(),
            capa
        );
    }

    #[test]
    fn stat_from_rfc_example() {
        assert_eq!(
            parse_stat(b"2 320").unwrap(),
            Stat {
                count: 2,
                size: 320
            }
        );
        assert_eq!(parse_stat(b"2 320 extra words").unwrap().size, 320);
        assert!(parse_stat(b"two 320").is_err());
        assert!(parse_stat(b"2").is_err());
        assert!(
            parse_stat(b"99999999999 1").is_err(),
            "overflow is an error, not a wrap"
        );
        assert!(parse_stat(b"-1 5").is_err());
    }

    #[test]
    fn list_and_uidl_lines() {
        assert_eq!(
            parse_list_line(b"1 120").unwrap(),
            ListEntry { id: 1, size: 120 }
        );
        assert!(parse_list_line(b"0 120").is_err());
        assert!(parse_list_line(b"1").is_err());
        assert_eq!(
            parse_uidl_line(b"1 whqtswO00WBw418f9t5JxYwZ").unwrap().uid,
            "whqtswO00WBw418f9t5JxYwZ"
        );
        assert!(parse_uidl_line(b"1").is_err());
        assert!(parse_uidl_line(&[b"1 ".as_slice(), &[b'a'; 71]].concat()).is_err());
        assert!(parse_uidl_line(&[b"1 ".as_slice(), &[b'a'; 70]].concat()).is_ok());
        assert!(parse_uidl_line(b"1 caf\xc3\xa9").is_err());
    }

    #[test]
    fn capa_lines() {
        let c = parse_capa_line(b"sasl PLAIN CRAM-MD5").unwrap();
        assert_eq!(c.name, "SASL");
        assert_eq!(c.args, vec!["PLAIN", "CRAM-MD5"]);
        assert!(parse_capa_line(b"").is_err());
    }

    #[test]
    fn apop_timestamps() {
        let t = "POP3 server ready <1896.697170952@dbc.mtview.ca.us>";
        assert_eq!(
            find_apop_timestamp(t).unwrap(),
            "<1896.697170952@dbc.mtview.ca.us>"
        );
        assert_eq!(find_apop_timestamp("ready"), None);
        assert_eq!(find_apop_timestamp("ready <>"), None);
        assert_eq!(find_apop_timestamp("ready <a b>"), None);
        assert_eq!(find_apop_timestamp("ready <unclosed"), None);
        assert_eq!(find_apop_timestamp("ready <no-at-sign>"), None);
        assert_eq!(find_apop_timestamp("ready <@host> <user@>"), None);
    }

    #[test]
    fn apop_timestamp_is_the_msg_id_shaped_one() {
        // RFC 1939 §7: the timestamp has msg-id syntax; other bracketed text is not it.
        assert_eq!(
            find_apop_timestamp("<v5.1 beta> POP3 ready <1896.697170952@dbc.mtview.ca.us>")
                .as_deref(),
            Some("<1896.697170952@dbc.mtview.ca.us>")
        );
        assert_eq!(
            find_apop_timestamp("POP3 <v5.1> ready <1.2@h>").as_deref(),
            Some("<1.2@h>")
        );
        assert_eq!(
            find_apop_timestamp("x <<1.2@h>").as_deref(),
            Some("<1.2@h>")
        );
    }
}
