//! `check_line` on arbitrary text never panics; an accepted line is a single safe line whose
//! bytes parse back to the same command.
//!
//! Input layout: byte 0 bit 0 = `utf8` flag; the rest, decoded lossily as UTF-8, is the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use popwire::codec::{check_line, Command, MAX_COMMAND_LINE};

fn assert_one_line(bytes: &[u8], what: &str) {
    assert!(bytes.ends_with(b"\r\n"), "{what}: no CRLF at the end");
    let body = &bytes[..bytes.len() - 2];
    assert!(
        !body.contains(&b'\r') && !body.contains(&b'\n'),
        "{what}: CR or LF inside {bytes:?}"
    );
    assert!(
        bytes.len() <= MAX_COMMAND_LINE,
        "{what}: {} octets > {MAX_COMMAND_LINE}",
        bytes.len()
    );
}

/// The typed command with an unknown keyword folded to upper case (the canonical encoding sends
/// unknown keywords upper-cased; POP3 keywords are case-insensitive).
fn canonical(c: Command) -> Command {
    match c {
        Command::Unknown { keyword, args } => Command::Unknown {
            keyword: keyword.to_ascii_uppercase(),
            args,
        },
        other => other,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let utf8 = flags & 1 != 0;
    let text = String::from_utf8_lossy(rest);
    let Ok(accepted) = check_line(&text, utf8) else {
        // Also through the byte parser, which must never panic either.
        let _ = Command::parse(rest, utf8);
        return;
    };
    assert!(
        !accepted.line.contains('\r') && !accepted.line.contains('\n'),
        "accepted line holds CR or LF: {:?}",
        accepted.line
    );
    if !utf8 {
        assert!(accepted.line.is_ascii());
    }

    // The line as typed.
    let encoded = accepted.encode();
    assert_one_line(&encoded, "CommandLine::encode");
    let reparsed = Command::parse(&encoded[..encoded.len() - 2], utf8)
        .unwrap_or_else(|e| panic!("accepted line {:?} does not parse: {e}", accepted.line));
    assert_eq!(reparsed, accepted.command, "line {:?}", accepted.line);

    // The canonical encoding of the typed command.
    let canon = accepted.command.encode();
    assert_one_line(&canon, "Command::encode");
    let reparsed = Command::parse(&canon[..canon.len() - 2], utf8).unwrap_or_else(|e| {
        panic!(
            "canonical {:?} of {:?} does not parse: {e}",
            String::from_utf8_lossy(&canon),
            accepted.line
        )
    });
    assert_eq!(
        canonical(reparsed),
        canonical(accepted.command.clone()),
        "canonical form of {:?}",
        accepted.line
    );
    // And check_line agrees with Command::parse on the canonical text.
    let again = check_line(&String::from_utf8_lossy(&canon), utf8)
        .unwrap_or_else(|e| panic!("canonical line refused: {e}"));
    assert_eq!(canonical(again.command), canonical(accepted.command));
});
