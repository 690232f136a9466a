//! Commands: the typed form, validation of what a person typed, parsing (the server's direction)
//! and encoding (the client's direction).

use serde::Serialize;

use super::error::CommandError;
use super::{MAX_COMMAND_LINE, MAX_SASL_RESPONSE_LINE};
use crate::explain::Note;

/// Defines [`Keyword`] with [`Keyword::ALL`] and [`Keyword::as_str`] from one list, so that a
/// keyword cannot be missing from `ALL` (which the metadata, the explanation-key tests and the
/// page's command list iterate).
macro_rules! keywords {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// Every command keyword popwire knows, from RFC 1939, 2449, 2595, 5034 and 6856. What
        /// each takes and where it is valid: [`Keyword::meta`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[non_exhaustive]
        pub enum Keyword {
            $( $(#[$doc])* #[serde(rename = $text)] $variant, )*
        }

        impl Keyword {
            /// All keywords, in the order a lesson meets them.
            pub const ALL: [Keyword; [$($text),*].len()] = [$(Keyword::$variant),*];

            /// The keyword as sent, upper case.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Keyword::$variant => $text, )*
                }
            }
        }
    };
}

keywords! {
    /// `USER name` (RFC 1939 §7)
    User = "USER",
    /// `PASS string` (RFC 1939 §7)
    Pass = "PASS",
    /// `APOP name digest` (RFC 1939 §7)
    Apop = "APOP",
    /// `AUTH mechanism [initial-response]` (RFC 5034 §4)
    Auth = "AUTH",
    /// `STLS` (RFC 2595 §4)
    Stls = "STLS",
    /// `CAPA` (RFC 2449 §5)
    Capa = "CAPA",
    /// `UTF8` (RFC 6856 §2)
    Utf8 = "UTF8",
    /// `LANG [lang]` (RFC 6856 §3)
    Lang = "LANG",
    /// `STAT` (RFC 1939 §5)
    Stat = "STAT",
    /// `LIST [msg]` (RFC 1939 §5)
    List = "LIST",
    /// `UIDL [msg]` (RFC 1939 §7)
    Uidl = "UIDL",
    /// `TOP msg n` (RFC 1939 §7)
    Top = "TOP",
    /// `RETR msg` (RFC 1939 §5)
    Retr = "RETR",
    /// `DELE msg` (RFC 1939 §5)
    Dele = "DELE",
    /// `RSET` (RFC 1939 §5)
    Rset = "RSET",
    /// `NOOP` (RFC 1939 §5)
    Noop = "NOOP",
    /// `QUIT` (RFC 1939 §4 and §6)
    Quit = "QUIT",
}

impl Keyword {
    /// Recognises a keyword, case-insensitively (RFC 1939 §3).
    pub fn parse(word: &str) -> Option<Keyword> {
        Keyword::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(word))
    }
}

impl std::fmt::Display for Keyword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A command in typed form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `USER name`
    User(String),
    /// `PASS secret` (the whole rest of the line; it may contain spaces, RFC 1939 §7)
    Pass(String),
    /// `APOP name digest`
    Apop {
        /// The mailbox name.
        name: String,
        /// 32 lowercase hex digits.
        digest: String,
    },
    /// `AUTH mechanism [initial-response]`
    Auth {
        /// The SASL mechanism name, upper case.
        mechanism: String,
        /// Base64 initial response, `=` for an empty one.
        initial_response: Option<String>,
    },
    /// `STLS`
    Stls,
    /// `CAPA`
    Capa,
    /// `UTF8`
    Utf8,
    /// `LANG [tag]`
    Lang(Option<String>),
    /// `STAT`
    Stat,
    /// `LIST [msg]`
    List(Option<u32>),
    /// `UIDL [msg]`
    Uidl(Option<u32>),
    /// `TOP msg lines`
    Top {
        /// Message number.
        msg: u32,
        /// Body lines to send after the headers.
        lines: u32,
    },
    /// `RETR msg`
    Retr(u32),
    /// `DELE msg`
    Dele(u32),
    /// `RSET`
    Rset,
    /// `NOOP`
    Noop,
    /// `QUIT`
    Quit,
    /// A well-formed command popwire does not know; sent as typed so the server can answer it.
    Unknown {
        /// The keyword as typed.
        keyword: String,
        /// The arguments as typed, one space apart.
        args: Vec<String>,
    },
}

impl Command {
    /// The keyword, or `None` for [`Command::Unknown`].
    pub fn keyword(&self) -> Option<Keyword> {
        Some(match self {
            Command::User(_) => Keyword::User,
            Command::Pass(_) => Keyword::Pass,
            Command::Apop { .. } => Keyword::Apop,
            Command::Auth { .. } => Keyword::Auth,
            Command::Stls => Keyword::Stls,
            Command::Capa => Keyword::Capa,
            Command::Utf8 => Keyword::Utf8,
            Command::Lang(_) => Keyword::Lang,
            Command::Stat => Keyword::Stat,
            Command::List(_) => Keyword::List,
            Command::Uidl(_) => Keyword::Uidl,
            Command::Top { .. } => Keyword::Top,
            Command::Retr(_) => Keyword::Retr,
            Command::Dele(_) => Keyword::Dele,
            Command::Rset => Keyword::Rset,
            Command::Noop => Keyword::Noop,
            Command::Quit => Keyword::Quit,
            Command::Unknown { .. } => return None,
        })
    }

    /// The keyword as text (upper case for known commands, as typed otherwise).
    pub fn name(&self) -> String {
        match self {
            Command::Unknown { keyword, .. } => keyword.to_ascii_uppercase(),
            other => other
                .keyword()
                .map(Keyword::as_str)
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Whether a `+OK` to this command is followed by a multi-line body (RFC 1939 §3, RFC 2449 §5,
    /// RFC 6856 §3): [`Keyword::meta`]'s rule applied to this command's arguments.
    pub fn expects_multiline(&self) -> bool {
        let has_argument = match self {
            Command::List(n) | Command::Uidl(n) => n.is_some(),
            Command::Lang(tag) => tag.is_some(),
            _ => true,
        };
        self.keyword()
            .is_some_and(|k| k.meta().multiline.applies(has_argument))
    }

    /// The message number this command is about, if any.
    pub fn message_number(&self) -> Option<u32> {
        match self {
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n) => Some(*n),
            Command::Top { msg, .. } => Some(*msg),
            _ => None,
        }
    }

    /// The command line with CRLF, canonical upper-case keyword.
    pub fn encode(&self) -> Vec<u8> {
        let mut line = self.name();
        let mut push = |arg: &str| {
            line.push(' ');
            line.push_str(arg);
        };
        match self {
            Command::User(a) | Command::Pass(a) => push(a),
            Command::Apop { name, digest } => {
                push(name);
                push(digest);
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                push(mechanism);
                if let Some(r) = initial_response {
                    push(r);
                }
            }
            Command::Lang(Some(tag)) => push(tag),
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n) => push(&n.to_string()),
            Command::Top { msg, lines } => {
                push(&msg.to_string());
                push(&lines.to_string());
            }
            Command::Unknown { args, .. } => args.iter().for_each(|a| push(a)),
            _ => {}
        }
        let mut bytes = line.into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes
    }

    /// Octet range of the secret inside [`Command::encode`]'s output (or of the same command as
    /// typed, with CRLF): the argument [`Keyword::meta`] marks secret (the PASS argument, an AUTH
    /// initial response), to the end of the line, so that transcripts can mask it.
    pub fn secret_range(&self, encoded: &[u8]) -> Option<std::ops::Range<usize>> {
        let index = self.keyword()?.meta().secret_argument()?;
        let line = encoded.strip_suffix(b"\r\n").unwrap_or(encoded);
        // A secret argument is the last one: it runs from after the (index + 1)th space.
        let start = line
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b' ')
            .nth(index)
            .map(|(at, _)| at + 1)?;
        Some(start..line.len())
    }

    /// Parses one command line given without its CRLF: what the server does with what it reads,
    /// and what the client does with what a person typed. `utf8` says whether non-ASCII is allowed
    /// (after `UTF8`, RFC 6856).
    pub fn parse(line: &[u8], utf8: bool) -> Result<Command, CommandError> {
        check_line_bytes(line, utf8)
    }
}

/// A command line as typed, validated: the typed form plus the exact bytes to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The command in typed form.
    pub command: Command,
    /// The line exactly as typed, without CRLF (keyword case preserved).
    pub line: String,
}

impl CommandLine {
    /// The bytes to send: the typed line and CRLF.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.line.len() + 2);
        bytes.extend_from_slice(self.line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        bytes
    }
}

/// Checks a line a person typed, exactly as the session will before sending it: one trailing CRLF
/// (or LF) is tolerated and removed; any other CR, LF or control character, an over-long line,
/// a keyword that is not 3–4 characters, wrong spacing or wrong arguments for a known command is
/// refused. A well-formed command is accepted whatever the session's state.
pub fn check_line(line: &str, utf8: bool) -> Result<CommandLine, CommandError> {
    let trimmed = line
        .strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line);
    let command = check_line_bytes(trimmed.as_bytes(), utf8)?;
    Ok(CommandLine {
        command,
        line: trimmed.to_owned(),
    })
}

fn control_name(b: u8) -> String {
    match b {
        b'\r' => "CR".into(),
        b'\n' => "LF".into(),
        0 => "NUL".into(),
        b'\t' => "TAB".into(),
        other => format!("0x{other:02X}"),
    }
}

/// Refuses a CR, LF or other control character (and DEL) inside a line, naming the first one.
fn check_controls(line: &[u8]) -> Result<(), CommandError> {
    match line.iter().position(|&b| b < 0x20 || b == 0x7F) {
        Some(position) => Err(CommandError::ControlCharacter {
            position,
            name: control_name(line.get(position).copied().unwrap_or_default()),
        }),
        None => Ok(()),
    }
}

/// Refuses a line longer than `limit` octets once CRLF is added.
fn check_length(line: &[u8], limit: usize) -> Result<(), CommandError> {
    if line.len() + 2 > limit {
        return Err(CommandError::TooLong {
            len: line.len() + 2,
            limit,
        });
    }
    Ok(())
}

/// Checks a SASL response line a person typed after a `+` challenge (RFC 5034 §4): base64, `*`
/// to cancel, or an empty line for an empty response (`=` stands for empty only as an initial
/// response on the AUTH line, so it is refused here). One trailing CRLF (or LF) is tolerated;
/// control characters and lines over [`MAX_SASL_RESPONSE_LINE`] octets with CRLF are refused,
/// exactly as [`check_line`] refuses them in commands. Returns the line without its line end.
pub fn check_sasl_response(line: &str) -> Result<&str, CommandError> {
    let text = line
        .strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line);
    check_controls(text.as_bytes())?;
    check_length(text.as_bytes(), MAX_SASL_RESPONSE_LINE)?;
    if text.is_empty() || text == "*" || (text != "=" && is_sasl_base64(text)) {
        Ok(text)
    } else {
        Err(CommandError::BadBase64)
    }
}

fn check_line_bytes(line: &[u8], utf8: bool) -> Result<Command, CommandError> {
    if line.is_empty() {
        return Err(CommandError::Empty);
    }
    check_controls(line)?;
    check_length(line, MAX_COMMAND_LINE)?;
    if !line.is_ascii() && !utf8 {
        return Err(CommandError::NonAscii);
    }
    let text = std::str::from_utf8(line).map_err(|_| CommandError::NonAscii)?;
    let (word, rest) = match text.split_once(' ') {
        Some((w, r)) => (w, Some(r)),
        None => (text, None),
    };
    if word.is_empty() {
        return Err(CommandError::Spacing);
    }
    let Some(keyword) = Keyword::parse(word) else {
        let printable = word.bytes().all(|b| b.is_ascii_graphic());
        if !(3..=4).contains(&word.len()) || !printable {
            return Err(CommandError::BadKeyword {
                keyword: word.to_owned(),
            });
        }
        let args = split_args(rest)?;
        return Ok(Command::Unknown {
            keyword: word.to_owned(),
            args: args.into_iter().map(str::to_owned).collect(),
        });
    };
    match keyword {
        // PASS takes the whole rest of the line: a password may contain spaces (RFC 1939 §7).
        Keyword::Pass => match rest {
            Some(secret) if !secret.is_empty() => Ok(Command::Pass(secret.to_owned())),
            _ => Err(missing(keyword, crate::note!("note.wanted.password"))),
        },
        _ => typed(keyword, &split_args(rest)?),
    }
}

fn split_args(rest: Option<&str>) -> Result<Vec<&str>, CommandError> {
    let Some(rest) = rest else {
        return Ok(Vec::new());
    };
    let args: Vec<&str> = rest.split(' ').collect();
    if args.iter().any(|a| a.is_empty()) {
        return Err(CommandError::Spacing);
    }
    Ok(args)
}

fn missing(keyword: Keyword, argument: Note) -> CommandError {
    CommandError::MissingArgument {
        command: keyword.as_str(),
        argument,
    }
}

fn too_many(keyword: Keyword, expected: Note) -> CommandError {
    CommandError::TooManyArguments {
        command: keyword.as_str(),
        expected,
    }
}

fn message_number(text: &str) -> Result<u32, CommandError> {
    let bad = || CommandError::BadMessageNumber {
        text: text.to_owned(),
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u32>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(n) => Ok(n),
    }
}

fn is_sasl_mechanism(text: &str) -> bool {
    (1..=20).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Whether `text` is a SASL response: base64 or `=` (empty). `*` (cancel) is checked by callers.
pub(crate) fn is_sasl_base64(text: &str) -> bool {
    text == "=" || (!text.is_empty() && crate::auth::decode_base64(text.as_bytes()).is_ok())
}

fn typed(keyword: Keyword, args: &[&str]) -> Result<Command, CommandError> {
    let none = |cmd: Command| {
        if args.is_empty() {
            Ok(cmd)
        } else {
            Err(too_many(keyword, crate::note!("note.wanted.no-arguments")))
        }
    };
    match keyword {
        Keyword::Stls => none(Command::Stls),
        Keyword::Capa => none(Command::Capa),
        Keyword::Utf8 => none(Command::Utf8),
        Keyword::Stat => none(Command::Stat),
        Keyword::Rset => none(Command::Rset),
        Keyword::Noop => none(Command::Noop),
        Keyword::Quit => none(Command::Quit),
        Keyword::User => match args {
            [] => Err(missing(keyword, crate::note!("note.wanted.user-name"))),
            [name] => Ok(Command::User((*name).to_owned())),
            _ => Err(too_many(keyword, crate::note!("note.wanted.one-user-name"))),
        },
        Keyword::Pass => match args {
            [] => Err(missing(keyword, crate::note!("note.wanted.password"))),
            _ => Ok(Command::Pass(args.join(" "))),
        },
        Keyword::Apop => match args {
            [] => Err(missing(
                keyword,
                crate::note!("note.wanted.user-and-digest"),
            )),
            [_] => Err(missing(
                keyword,
                crate::note!("note.wanted.digest-after-user"),
            )),
            [name, digest] => {
                if digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(Command::Apop {
                        name: (*name).to_owned(),
                        digest: digest.to_ascii_lowercase(),
                    })
                } else {
                    Err(CommandError::BadDigest)
                }
            }
            _ => Err(too_many(
                keyword,
                crate::note!("note.wanted.user-and-digest"),
            )),
        },
        Keyword::Auth => match args {
            [] => Err(missing(keyword, crate::note!("note.wanted.mechanism"))),
            [mech, rest @ ..] => {
                let mechanism = mech.to_ascii_uppercase();
                if !is_sasl_mechanism(&mechanism) {
                    return Err(CommandError::BadMechanism {
                        text: (*mech).to_owned(),
                    });
                }
                match rest {
                    [] => Ok(Command::Auth {
                        mechanism,
                        initial_response: None,
                    }),
                    [ir] if is_sasl_base64(ir) => Ok(Command::Auth {
                        mechanism,
                        initial_response: Some((*ir).to_owned()),
                    }),
                    [_] => Err(CommandError::BadBase64),
                    _ => Err(too_many(
                        keyword,
                        crate::note!("note.wanted.mechanism-and-response"),
                    )),
                }
            }
        },
        Keyword::Lang => match args {
            [] => Ok(Command::Lang(None)),
            [tag] => Ok(Command::Lang(Some((*tag).to_owned()))),
            _ => Err(too_many(
                keyword,
                crate::note!("note.wanted.at-most-one-tag"),
            )),
        },
        Keyword::List | Keyword::Uidl => {
            let n = match args {
                [] => None,
                [n] => Some(message_number(n)?),
                _ => {
                    return Err(too_many(
                        keyword,
                        crate::note!("note.wanted.at-most-one-message"),
                    ))
                }
            };
            Ok(if keyword == Keyword::List {
                Command::List(n)
            } else {
                Command::Uidl(n)
            })
        }
        Keyword::Retr | Keyword::Dele => match args {
            [] => Err(missing(keyword, crate::note!("note.wanted.message-number"))),
            [n] => {
                let n = message_number(n)?;
                Ok(if keyword == Keyword::Retr {
                    Command::Retr(n)
                } else {
                    Command::Dele(n)
                })
            }
            _ => Err(too_many(keyword, crate::note!("note.wanted.one-message"))),
        },
        Keyword::Top => match args {
            [] => Err(missing(
                keyword,
                crate::note!("note.wanted.message-and-lines"),
            )),
            [_] => Err(missing(
                keyword,
                crate::note!("note.wanted.lines-after-message"),
            )),
            [msg, lines] => {
                let msg = message_number(msg)?;
                let lines = lines
                    .parse::<u32>()
                    .ok()
                    .filter(|_| lines.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| CommandError::BadLineCount {
                        text: (*lines).to_owned(),
                    })?;
                Ok(Command::Top { msg, lines })
            }
            _ => Err(too_many(
                keyword,
                crate::note!("note.wanted.message-and-lines"),
            )),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        check_line(line, false).unwrap().command
    }

    fn err(line: &str) -> CommandError {
        check_line(line, false).unwrap_err()
    }

    #[test]
    fn parses_every_known_command() {
        assert_eq!(ok("user alice"), Command::User("alice".into()));
        assert_eq!(
            ok("PASS secret with spaces"),
            Command::Pass("secret with spaces".into())
        );
        assert_eq!(
            ok("APOP mrose c4c9334bac560ecc979e58001b3e22fb"),
            Command::Apop {
                name: "mrose".into(),
                digest: "c4c9334bac560ecc979e58001b3e22fb".into()
            }
        );
        assert_eq!(
            ok("AUTH plain"),
            Command::Auth {
                mechanism: "PLAIN".into(),
                initial_response: None
            }
        );
        assert_eq!(
            ok("AUTH PLAIN ="),
            Command::Auth {
                mechanism: "PLAIN".into(),
                initial_response: Some("=".into())
            }
        );
        assert_eq!(ok("LIST"), Command::List(None));
        assert_eq!(ok("LIST 2"), Command::List(Some(2)));
        assert_eq!(ok("UIDL 7"), Command::Uidl(Some(7)));
        assert_eq!(ok("TOP 1 0"), Command::Top { msg: 1, lines: 0 });
        assert_eq!(ok("RETR 1"), Command::Retr(1));
        assert_eq!(ok("DELE 1"), Command::Dele(1));
        for (line, cmd) in [
            ("STAT", Command::Stat),
            ("NOOP", Command::Noop),
            ("RSET", Command::Rset),
            ("QUIT", Command::Quit),
            ("CAPA", Command::Capa),
            ("STLS", Command::Stls),
            ("UTF8", Command::Utf8),
            ("LANG", Command::Lang(None)),
        ] {
            assert_eq!(ok(line), cmd);
        }
    }

    #[test]
    fn keeps_what_was_typed_and_encodes_canonically() {
        let typed = check_line("stat\r\n", false).unwrap();
        assert_eq!(typed.line, "stat");
        assert_eq!(typed.encode(), b"stat\r\n");
        assert_eq!(typed.command.encode(), b"STAT\r\n");
        assert_eq!(Command::Top { msg: 3, lines: 10 }.encode(), b"TOP 3 10\r\n");
    }

    #[test]
    fn refuses_crlf_injection() {
        for line in [
            "USER a\r\nDELE 1",
            "USER a\nDELE 1",
            "USER a\rDELE 1",
            "RETR 1\r\n\r\n",
        ] {
            assert!(
                matches!(err(line), CommandError::ControlCharacter { .. }),
                "{line:?}"
            );
        }
        assert!(
            matches!(err("PASS a\0b"), CommandError::ControlCharacter { name, .. } if name == "NUL")
        );
    }

    #[test]
    fn refuses_malformed_lines_with_reasons() {
        assert_eq!(err(""), CommandError::Empty);
        assert_eq!(err("LIST  1"), CommandError::Spacing);
        assert_eq!(err(" STAT"), CommandError::Spacing);
        assert_eq!(err("STAT "), CommandError::Spacing);
        assert!(matches!(err("HELLO"), CommandError::BadKeyword { .. }));
        assert!(matches!(err("C:"), CommandError::BadKeyword { .. }));
        assert!(matches!(err("RETR"), CommandError::MissingArgument { .. }));
        assert!(matches!(
            err("RETR 0"),
            CommandError::BadMessageNumber { .. }
        ));
        assert!(matches!(
            err("RETR -1"),
            CommandError::BadMessageNumber { .. }
        ));
        assert!(matches!(
            err("RETR +1"),
            CommandError::BadMessageNumber { .. }
        ));
        assert!(matches!(
            err("RETR 99999999999"),
            CommandError::BadMessageNumber { .. }
        ));
        assert!(matches!(
            err("STAT 1"),
            CommandError::TooManyArguments { .. }
        ));
        assert!(matches!(err("TOP 1"), CommandError::MissingArgument { .. }));
        assert!(matches!(err("TOP 1 x"), CommandError::BadLineCount { .. }));
        assert_eq!(err("APOP a deadbeef"), CommandError::BadDigest);
        assert!(matches!(
            err("AUTH PL@IN"),
            CommandError::BadMechanism { .. }
        ));
        assert_eq!(err("AUTH PLAIN not*base64"), CommandError::BadBase64);
        assert!(matches!(
            err("USER a b"),
            CommandError::TooManyArguments { .. }
        ));
        assert_eq!(err("USER علی"), CommandError::NonAscii);
        assert!(check_line("USER علی", true).is_ok());
    }

    #[test]
    fn sasl_responses_share_the_command_checks() {
        assert_eq!(check_sasl_response("dGlt\r\n"), Ok("dGlt"));
        assert_eq!(check_sasl_response("*"), Ok("*"));
        assert_eq!(
            check_sasl_response(""),
            Ok(""),
            "an empty line is an empty response"
        );
        assert_eq!(check_sasl_response("\r\n"), Ok(""));
        assert_eq!(
            check_sasl_response("="),
            Err(CommandError::BadBase64),
            "'=' is only for an empty initial response (RFC 5034 §4)"
        );
        assert_eq!(
            check_sasl_response("not base64!"),
            Err(CommandError::BadBase64)
        );
        for (line, name, position) in [
            ("dG\tlt", "TAB", 2),
            ("\0", "NUL", 0),
            ("a\rb", "CR", 1),
            ("ab\ncd", "LF", 2),
            ("\x1b[2J", "0x1B", 0),
            ("ab\x7f", "0x7F", 2),
        ] {
            assert_eq!(
                check_sasl_response(line),
                Err(CommandError::ControlCharacter {
                    position,
                    name: name.into()
                }),
                "{line:?}"
            );
        }
        let long = "A".repeat(MAX_SASL_RESPONSE_LINE - 1);
        assert!(matches!(
            check_sasl_response(&long),
            Err(CommandError::TooLong { .. })
        ));
    }

    #[test]
    fn length_limit_counts_crlf() {
        let longest = format!("USER {}", "a".repeat(MAX_COMMAND_LINE - 2 - 5));
        assert!(check_line(&longest, false).is_ok());
        let over = format!("USER {}", "a".repeat(MAX_COMMAND_LINE - 1 - 5));
        assert!(matches!(
            err(&over),
            CommandError::TooLong {
                len: 256,
                limit: 255
            }
        ));
    }

    #[test]
    fn unknown_commands_are_sent_as_typed() {
        assert_eq!(
            ok("xtnd foo"),
            Command::Unknown {
                keyword: "xtnd".into(),
                args: vec!["foo".into()]
            }
        );
        assert!(!ok("HELO").expects_multiline());
    }

    #[test]
    fn multiline_rules() {
        for (line, multi) in [
            ("LIST", true),
            ("LIST 1", false),
            ("UIDL", true),
            ("UIDL 1", false),
            ("RETR 1", true),
            ("TOP 1 1", true),
            ("CAPA", true),
            ("STAT", false),
            ("LANG", true),
            ("LANG fr", false),
        ] {
            assert_eq!(ok(line).expects_multiline(), multi, "{line}");
        }
    }

    #[test]
    fn secret_ranges_cover_only_the_secret() {
        let cmd = Command::Pass("hunter 2".into());
        let enc = cmd.encode();
        assert_eq!(&enc[cmd.secret_range(&enc).unwrap()], b"hunter 2");
        let cmd = Command::Auth {
            mechanism: "PLAIN".into(),
            initial_response: Some("AGEAYg==".into()),
        };
        let enc = cmd.encode();
        assert_eq!(&enc[cmd.secret_range(&enc).unwrap()], b"AGEAYg==");
        assert_eq!(Command::Stat.secret_range(b"STAT\r\n"), None);
    }
}
