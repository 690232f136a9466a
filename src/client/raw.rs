//! Lines typed by hand: raw commands and SASL responses, checked exactly as they will be sent.

use super::send::RequestKind;
use super::{Client, CommandHandle, Pop3Error};
use crate::codec::{check_line, check_sasl_response};

impl Client {
    /// Checks a line as [`Client::send_raw`] would, without sending it.
    pub fn check(&self, line: &str) -> Result<(), Pop3Error> {
        if self.raw_sasl {
            check_sasl_response(line)
                .map(|_| ())
                .map_err(Pop3Error::from)
        } else {
            check_line(line, self.utf8)
                .map(|_| ())
                .map_err(Pop3Error::from)
        }
    }

    // ----- Raw commands -----------------------------------------------------------------------

    /// Sends a line as a person typed it. Malformed lines are refused with [`Pop3Error::Input`]
    /// and nothing is sent; a well-formed command that is invalid in this state **is** sent, so
    /// that the server's `-ERR` can be seen. The reply, `-ERR` included, comes as
    /// [`Reply::Raw`].
    ///
    /// After a `+` challenge to a hand-typed AUTH the next line is the SASL response (base64,
    /// `*` to cancel, or an empty line for an empty response, RFC 5034 §4). It goes out before
    /// anything queued earlier: commands queued behind the AUTH wait until the exchange ends
    /// (`+OK` or `-ERR`), and typed commands are refused while the response is awaited.
    pub fn send_raw(&mut self, line: &str) -> Result<CommandHandle, Pop3Error> {
        if self.raw_sasl {
            let text = check_sasl_response(line)?;
            let mut bytes = text.as_bytes().to_vec();
            bytes.extend_from_slice(b"\r\n");
            let secret = (text != "*").then_some(0..text.len());
            let handle = self.enqueue_at(RequestKind::RawSaslResponse, bytes, secret, true)?;
            self.raw_sasl = false;
            return Ok(handle);
        }
        let checked = check_line(line, self.utf8)?;
        let bytes = checked.encode();
        let secret = checked.command.secret_range(&bytes);
        self.enqueue(
            RequestKind::Raw {
                command: checked.command,
            },
            bytes,
            secret,
        )
    }
}
