//! Command metadata: for every [`Keyword`], its arguments (what each is, which are secret), the
//! arguments of its typed call, the states where it is valid, whether its reply is multi-line,
//! what its `+OK` tells about the maildrop (its [`Reading`] and [`Effect`]), and its explanation
//! key. The page lists commands, fills their arguments from its own fields, builds its command
//! line, keeps its maildrop table and masks its input history from this table instead of copying
//! it.
//!
//! Adding a command: a variant in `keywords!` (command.rs) with its parsing in `typed`, its arms
//! in [`Keyword::meta`] (the compiler asks for them), its row in RFC 1939's state table
//! (state.rs), and its `cmd.` / `reply.` (and `body.`) keys in the explanation table and the
//! three i18n files (a test names any that is missing).

use serde::Serialize;

use super::{Keyword, SessionState};
use crate::explain::Explain;

/// One argument of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Argument {
    /// Its name in the RFC's syntax, e.g. `msg`, `mechanism`.
    pub name: &'static str,
    /// Whether the command needs it.
    pub required: bool,
    /// Whether the transcript masks it (and a page should keep it out of its input history).
    pub secret: bool,
    /// Whether it takes the rest of the line, spaces included (PASS's password, RFC 1939 §7).
    pub rest_of_line: bool,
    /// What its value is, so a page can fill it from its own fields.
    pub kind: ArgumentKind,
}

/// What an argument's value is: the one field of a page (or a caller) it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ArgumentKind {
    /// The maildrop's user name (USER, APOP, AUTH's authentication identity).
    UserName,
    /// The password or shared secret.
    Password,
    /// APOP's digest, MD5 of the greeting's timestamp and the secret: computed, not typed.
    Digest,
    /// A SASL mechanism name, e.g. `PLAIN`.
    Mechanism,
    /// A SASL initial response, base64.
    InitialResponse,
    /// A language tag (LANG, RFC 6856).
    Language,
    /// A message number.
    Message,
    /// A count of body lines (TOP).
    Lines,
}

/// What the `+OK` to a command says about the maildrop, and so which typed value (or raw reply
/// `parsed` value) it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Reading {
    /// Nothing beyond the status line.
    None,
    /// The capability list (CAPA).
    Capabilities,
    /// Message count and total size (STAT's drop listing).
    Stat,
    /// Message sizes, one or all (LIST's scan listings).
    Sizes,
    /// Unique-ids, one or all (UIDL).
    UniqueIds,
    /// A whole message (RETR).
    Message,
    /// A message's headers and its first lines (TOP).
    Head,
    /// The languages a server offers (LANG without an argument).
    Languages,
}

/// What a command's `+OK` changes in the maildrop as a client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Effect {
    /// Nothing.
    None,
    /// The message argument is marked as deleted (DELE, RFC 1939 §5).
    MarkDeleted,
    /// Every mark is removed (RSET).
    UnmarkAll,
    /// From TRANSACTION the session enters UPDATE: the marked messages are removed (QUIT, §6).
    Update,
}

impl Argument {
    const fn required(name: &'static str, kind: ArgumentKind) -> Argument {
        Argument {
            name,
            required: true,
            secret: false,
            rest_of_line: false,
            kind,
        }
    }

    const fn optional(name: &'static str, kind: ArgumentKind) -> Argument {
        Argument {
            required: false,
            ..Argument::required(name, kind)
        }
    }
}

/// When a `+OK` to a command is followed by a multi-line body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Multiline {
    /// Never: a single status line.
    Never,
    /// Always (RETR, TOP, CAPA).
    Always,
    /// Only without an argument: `LIST` lists every message, `LIST 1` answers on its status line
    /// (LIST, UIDL, LANG).
    WithoutArgument,
}

impl Multiline {
    /// Whether the reply is multi-line for a command given with or without arguments.
    pub fn applies(self, has_argument: bool) -> bool {
        match self {
            Multiline::Never => false,
            Multiline::Always => true,
            Multiline::WithoutArgument => !has_argument,
        }
    }
}

/// What the engine knows about a command, serialisable for the page (`commands()` in JS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CommandMeta {
    /// The keyword.
    pub keyword: Keyword,
    /// The keyword as sent, e.g. `RETR`.
    pub name: &'static str,
    /// Its arguments, in order.
    pub args: &'static [Argument],
    /// Where RFC 1939's table (with the extensions) allows it; a session narrows this further
    /// ([`crate::Client::allowed_commands`]).
    pub states: &'static [SessionState],
    /// Whether its `+OK` is followed by a body.
    pub multiline: Multiline,
    /// Its one-line explanation, `cmd.<NAME>`, with the RFC section.
    pub summary: Explain,
    /// Whether it changes the state or the connection, so nothing is pipelined after it (PASS,
    /// APOP, AUTH, STLS, UTF8, QUIT).
    pub barrier: bool,
    /// The arguments of its typed call ([`crate::Client`]'s method, the JS API's), in order. They
    /// differ from the wire's where the engine computes one (APOP takes the secret, not the
    /// digest; AUTH the mechanism, user and secret, not the initial response). A command without
    /// a typed method is sent as its line: its call is its wire arguments.
    pub call: &'static [Argument],
    /// The command that must follow it for it to take effect (USER → PASS, RFC 1939 §7).
    pub followed_by: Option<Keyword>,
    /// What its `+OK` tells about the maildrop.
    pub reading: Reading,
    /// What its `+OK` changes in the maildrop.
    pub effect: Effect,
}

impl CommandMeta {
    /// Whether the command needs at least one argument.
    pub fn needs_argument(&self) -> bool {
        self.args.iter().any(|a| a.required)
    }

    /// The position of the argument the transcript masks, if any.
    pub fn secret_argument(&self) -> Option<usize> {
        self.args.iter().position(|a| a.secret)
    }
}

const NAME: Argument = Argument::required("name", ArgumentKind::UserName);
const PASSWORD: Argument = Argument {
    secret: true,
    rest_of_line: true,
    ..Argument::required("string", ArgumentKind::Password)
};
const DIGEST: Argument = Argument::required("digest", ArgumentKind::Digest);
const MECHANISM: Argument = Argument::required("mechanism", ArgumentKind::Mechanism);
const INITIAL_RESPONSE: Argument = Argument {
    secret: true,
    ..Argument::optional("initial-response", ArgumentKind::InitialResponse)
};
const LANG_TAG: Argument = Argument::optional("lang", ArgumentKind::Language);
const MSG: Argument = Argument::required("msg", ArgumentKind::Message);
const SOME_MSG: Argument = Argument::optional("msg", ArgumentKind::Message);
const LINES: Argument = Argument::required("n", ArgumentKind::Lines);
/// The secret of a typed call (APOP's, AUTH's): the engine derives what is sent from it.
const SECRET: Argument = Argument {
    secret: true,
    ..Argument::required("secret", ArgumentKind::Password)
};

impl Keyword {
    /// What the engine knows about this command.
    pub fn meta(self) -> CommandMeta {
        use Multiline::{Always, Never, WithoutArgument};
        let (args, multiline, summary, barrier): (&'static [Argument], _, _, _) = match self {
            Keyword::User => (&[NAME], Never, crate::explain!("cmd.USER"), false),
            Keyword::Pass => (&[PASSWORD], Never, crate::explain!("cmd.PASS"), true),
            // The digest is a one-time MD5 of the greeting's timestamp and the secret (RFC 1939
            // §7): made to be sent in the clear, so it is shown, not masked.
            Keyword::Apop => (&[NAME, DIGEST], Never, crate::explain!("cmd.APOP"), true),
            Keyword::Auth => (
                &[MECHANISM, INITIAL_RESPONSE],
                Never,
                crate::explain!("cmd.AUTH"),
                true,
            ),
            Keyword::Stls => (&[], Never, crate::explain!("cmd.STLS"), true),
            Keyword::Capa => (&[], Always, crate::explain!("cmd.CAPA"), false),
            Keyword::Utf8 => (&[], Never, crate::explain!("cmd.UTF8"), true),
            Keyword::Lang => (
                &[LANG_TAG],
                WithoutArgument,
                crate::explain!("cmd.LANG"),
                false,
            ),
            Keyword::Stat => (&[], Never, crate::explain!("cmd.STAT"), false),
            Keyword::List => (
                &[SOME_MSG],
                WithoutArgument,
                crate::explain!("cmd.LIST"),
                false,
            ),
            Keyword::Uidl => (
                &[SOME_MSG],
                WithoutArgument,
                crate::explain!("cmd.UIDL"),
                false,
            ),
            Keyword::Top => (&[MSG, LINES], Always, crate::explain!("cmd.TOP"), false),
            Keyword::Retr => (&[MSG], Always, crate::explain!("cmd.RETR"), false),
            Keyword::Dele => (&[MSG], Never, crate::explain!("cmd.DELE"), false),
            Keyword::Rset => (&[], Never, crate::explain!("cmd.RSET"), false),
            Keyword::Noop => (&[], Never, crate::explain!("cmd.NOOP"), false),
            Keyword::Quit => (&[], Never, crate::explain!("cmd.QUIT"), true),
        };
        let call: &'static [Argument] = match self {
            Keyword::Apop => &[NAME, SECRET],
            Keyword::Auth => &[MECHANISM, NAME, SECRET],
            _ => args,
        };
        let reading = match self {
            Keyword::Capa => Reading::Capabilities,
            Keyword::Stat => Reading::Stat,
            Keyword::List => Reading::Sizes,
            Keyword::Uidl => Reading::UniqueIds,
            Keyword::Retr => Reading::Message,
            Keyword::Top => Reading::Head,
            Keyword::Lang => Reading::Languages,
            Keyword::User
            | Keyword::Pass
            | Keyword::Apop
            | Keyword::Auth
            | Keyword::Stls
            | Keyword::Utf8
            | Keyword::Dele
            | Keyword::Rset
            | Keyword::Noop
            | Keyword::Quit => Reading::None,
        };
        let effect = match self {
            Keyword::Dele => Effect::MarkDeleted,
            Keyword::Rset => Effect::UnmarkAll,
            Keyword::Quit => Effect::Update,
            Keyword::User
            | Keyword::Pass
            | Keyword::Apop
            | Keyword::Auth
            | Keyword::Stls
            | Keyword::Capa
            | Keyword::Utf8
            | Keyword::Lang
            | Keyword::Stat
            | Keyword::List
            | Keyword::Uidl
            | Keyword::Top
            | Keyword::Retr
            | Keyword::Noop => Effect::None,
        };
        CommandMeta {
            keyword: self,
            name: self.as_str(),
            args,
            states: SessionState::where_valid(self),
            multiline,
            summary,
            barrier,
            call,
            followed_by: (self == Keyword::User).then_some(Keyword::Pass),
            reading,
            effect,
        }
    }
}

/// Every command's metadata, in [`Keyword::ALL`]'s order.
pub fn commands() -> Vec<CommandMeta> {
    Keyword::ALL.into_iter().map(Keyword::meta).collect()
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::codec::check_line;

    /// A line for `meta` with every argument filled in (`with_optional`) or only the required.
    fn example(meta: &CommandMeta, with_optional: bool) -> String {
        let mut line = meta.name.to_owned();
        for arg in meta.args.iter().filter(|a| a.required || with_optional) {
            line.push(' ');
            line.push_str(match arg.name {
                "msg" | "n" => "1",
                "digest" => "c4c9334bac560ecc979e58001b3e22fb",
                "mechanism" => "PLAIN",
                "initial-response" => "AGEAYg==",
                _ => "x",
            });
        }
        line
    }

    #[test]
    fn the_metadata_agrees_with_the_parser_the_multiline_rule_and_the_masking() {
        for meta in commands() {
            for with_optional in [false, true] {
                let line = example(&meta, with_optional);
                let checked = check_line(&line, false).unwrap_or_else(|e| panic!("{line}: {e}"));
                let command = checked.command;
                assert_eq!(command.keyword(), Some(meta.keyword), "{line}");
                let has_argument = line.contains(' ');
                assert_eq!(
                    command.expects_multiline(),
                    meta.multiline.applies(has_argument),
                    "{line}"
                );
                let bytes = checked.line.clone() + "\r\n";
                let secret = command.secret_range(bytes.as_bytes());
                let masked_arg = meta
                    .secret_argument()
                    .and_then(|i| line.split(' ').nth(i + 1));
                assert_eq!(
                    secret.and_then(|r| bytes.get(r)),
                    masked_arg,
                    "{line}: the masked octets are the secret argument"
                );
            }
            if meta.needs_argument() {
                assert!(check_line(meta.name, false).is_err(), "{} alone", meta.name);
            } else {
                assert!(check_line(meta.name, false).is_ok(), "{} alone", meta.name);
            }
            assert_eq!(meta.summary.key, format!("cmd.{}", meta.name));
        }
    }

    #[test]
    fn the_states_are_rfc_1939s_table() {
        for meta in commands() {
            for state in [
                SessionState::Authorization,
                SessionState::Transaction,
                SessionState::Update,
                SessionState::Closed,
            ] {
                assert_eq!(
                    meta.states.contains(&state),
                    state.allows(meta.keyword),
                    "{} in {state}",
                    meta.name
                );
            }
        }
        assert_eq!(
            Keyword::Capa.meta().states,
            [SessionState::Authorization, SessionState::Transaction]
        );
        assert_eq!(Keyword::Retr.meta().states, [SessionState::Transaction]);
    }

    #[test]
    fn metadata_serialises_for_the_page() {
        let json = serde_json::to_value(Keyword::Pass.meta()).unwrap_or_default();
        assert_eq!(json["keyword"], "PASS");
        assert_eq!(json["args"][0]["secret"], true);
        assert_eq!(json["args"][0]["restOfLine"], true);
        assert_eq!(json["states"][0], "AUTHORIZATION");
        assert_eq!(json["multiline"], "never");
        assert_eq!(json["summary"]["key"], "cmd.PASS");
        assert_eq!(
            serde_json::to_value(Keyword::List.meta().multiline).unwrap_or_default(),
            "without-argument"
        );
        let apop = serde_json::to_value(Keyword::Apop.meta()).unwrap_or_default();
        assert_eq!(apop["args"][1]["kind"], "digest");
        assert_eq!(apop["call"][1]["kind"], "password");
        assert_eq!(apop["call"][1]["secret"], true);
        assert_eq!(apop["reading"], "none");
        let user = serde_json::to_value(Keyword::User.meta()).unwrap_or_default();
        assert_eq!(user["followedBy"], "PASS");
        let top = serde_json::to_value(Keyword::Top.meta()).unwrap_or_default();
        assert_eq!(
            (&top["reading"], &top["effect"]),
            (&"head".into(), &"none".into())
        );
        let dele = serde_json::to_value(Keyword::Dele.meta()).unwrap_or_default();
        assert_eq!(dele["effect"], "mark-deleted");
        assert_eq!(dele["call"][0]["kind"], "message");
    }
}
