//! SASL exchanges for POP3 `AUTH` (RFC 5034): client and server state machines for
//! PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login) and CRAM-MD5 (RFC 2195).
//!
//! Both sides work on decoded bytes; base64 framing is the caller's job.

use std::fmt;

use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};

use super::{ct_eq, to_hex, verify_hex_md5, AuthError, Mechanism};

type HmacMd5 = Hmac<Md5>;

/// The LOGIN server's first challenge.
const LOGIN_USER_PROMPT: &[u8] = b"Username:";
/// The LOGIN server's second challenge.
const LOGIN_PASSWORD_PROMPT: &[u8] = b"Password:";

/// Raw HMAC-MD5 (RFC 2104) of `data` keyed with `key`.
fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    // RFC 2104: a key longer than the block is hashed first, then the key is zero-padded to the
    // block size. Doing that here gives a block-sized key, so the infallible `new` can be used.
    let mut block = hmac::digest::Key::<HmacMd5>::default();
    if key.len() > block.len() {
        let hashed: [u8; 16] = Md5::digest(key).into();
        block.iter_mut().zip(hashed).for_each(|(b, h)| *b = h);
    } else {
        block.iter_mut().zip(key).for_each(|(b, k)| *b = *k);
    }
    let mut mac = <HmacMd5 as Mac>::new(&block);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lowercase hex HMAC-MD5 of `challenge` keyed with `secret` (RFC 2195).
pub fn cram_md5_digest(secret: &str, challenge: &[u8]) -> String {
    to_hex(&hmac_md5(secret.as_bytes(), challenge))
}

/// Where a [`SaslClient`] is in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    /// Nothing sent yet.
    Fresh,
    /// LOGIN: the user name has been sent, the password is next.
    SentUser,
    /// Everything has been sent; any further challenge is unexpected.
    Done,
}

/// Client side of one SASL exchange. Works on raw (decoded) bytes; the session base64s them.
#[derive(Clone)]
pub struct SaslClient {
    mechanism: Mechanism,
    user: String,
    secret: String,
    state: ClientState,
}

impl fmt::Debug for SaslClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslClient")
            .field("mechanism", &self.mechanism)
            .field("user", &self.user)
            .field("secret", &"<redacted>")
            .field("state", &self.state)
            .finish()
    }
}

impl SaslClient {
    /// Prepares an exchange. Fails with [`AuthError::InvalidCredential`] if the user name is
    /// empty, if the user name or secret contains NUL, or (PLAIN, RFC 4616) if the secret is empty.
    pub fn new(mechanism: Mechanism, user: &str, secret: &str) -> Result<SaslClient, AuthError> {
        if user.is_empty() {
            return Err(AuthError::InvalidCredential("user name is empty"));
        }
        if user.contains('\0') {
            return Err(AuthError::InvalidCredential("user name contains NUL"));
        }
        if secret.contains('\0') {
            return Err(AuthError::InvalidCredential("password contains NUL"));
        }
        if mechanism == Mechanism::Plain && secret.is_empty() {
            return Err(AuthError::InvalidCredential(
                "PLAIN password is empty (RFC 4616 requires one)",
            ));
        }
        Ok(SaslClient {
            mechanism,
            user: user.to_owned(),
            secret: secret.to_owned(),
            state: ClientState::Fresh,
        })
    }

    /// The mechanism this exchange uses.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// PLAIN: `Some(b"\0user\0secret")` (empty authzid). Other mechanisms: `None`.
    /// Call at most once, before any challenge; later calls return `None`.
    pub fn initial_response(&mut self) -> Option<Vec<u8>> {
        if self.mechanism == Mechanism::Plain && self.state == ClientState::Fresh {
            self.state = ClientState::Done;
            Some(self.plain_message())
        } else {
            None
        }
    }

    /// Answers a decoded server challenge.
    ///
    /// LOGIN: the first challenge gets the user name, the second the secret (the challenge
    /// text, normally `Username:`/`Password:`, is not trusted to choose which), a third is
    /// [`AuthError::UnexpectedChallenge`]. CRAM-MD5: `user SP hexdigest`. PLAIN: if
    /// [`initial_response`](Self::initial_response) was not used, the (normally empty) first
    /// challenge gets the PLAIN message; any later challenge is unexpected.
    pub fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
        let (reply, next) = match (self.mechanism, self.state) {
            (_, ClientState::Done) => return Err(AuthError::UnexpectedChallenge),
            (Mechanism::Plain, _) => (self.plain_message(), ClientState::Done),
            (Mechanism::Login, ClientState::Fresh) => {
                (self.user.as_bytes().to_vec(), ClientState::SentUser)
            }
            (Mechanism::Login, ClientState::SentUser) => {
                (self.secret.as_bytes().to_vec(), ClientState::Done)
            }
            (Mechanism::CramMd5, _) => {
                let mut reply = self.user.as_bytes().to_vec();
                reply.push(b' ');
                reply.extend_from_slice(cram_md5_digest(&self.secret, challenge).as_bytes());
                (reply, ClientState::Done)
            }
        };
        self.state = next;
        Ok(reply)
    }

    /// `\0user\0secret`: a PLAIN message with an empty authorization identity.
    fn plain_message(&self) -> Vec<u8> {
        let mut msg = Vec::with_capacity(self.user.len() + self.secret.len() + 2);
        msg.push(0);
        msg.extend_from_slice(self.user.as_bytes());
        msg.push(0);
        msg.extend_from_slice(self.secret.as_bytes());
        msg
    }
}

/// What the server does next in a SASL exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerStep {
    /// Send `+ base64(challenge)` and wait for the client's next response.
    Challenge(Vec<u8>),
    /// Exchange complete: look up `user`'s secret and call [`Proof::verify`] with it.
    Verify {
        /// The user (authentication identity) the client claims to be.
        user: String,
        /// What the client offered as proof of knowing the secret.
        proof: Proof,
    },
}

/// What a client offered as proof of knowing a user's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proof {
    /// A clear-text password (PLAIN, LOGIN).
    Password(String),
    /// A CRAM-MD5 answer: the challenge the server sent and the client's lowercase hex digest.
    CramMd5 {
        /// The challenge the server sent.
        challenge: Vec<u8>,
        /// The client's HMAC-MD5 digest, 32 lowercase hex digits.
        digest: String,
    },
}

impl Proof {
    /// Whether this proof matches `secret`, the user's stored secret. Compares in constant time
    /// (for passwords, time depends only on the lengths).
    pub fn verify(&self, secret: &str) -> bool {
        match self {
            Proof::Password(password) => ct_eq(password.as_bytes(), secret.as_bytes()),
            Proof::CramMd5 { challenge, digest } => {
                verify_hex_md5(&hmac_md5(secret.as_bytes(), challenge), digest)
            }
        }
    }
}

/// Where a [`SaslServer`] is in its exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ServerState {
    /// `start` not called yet.
    Start,
    /// PLAIN: sent the empty challenge, waiting for the PLAIN message.
    AwaitPlain,
    /// LOGIN: sent `Username:`.
    AwaitLoginUser,
    /// LOGIN: sent `Password:`.
    AwaitLoginPassword {
        /// The user name received earlier.
        user: String,
    },
    /// CRAM-MD5: sent the challenge.
    AwaitCram,
    /// Finished, successfully or not; no further steps.
    Done,
}

/// Server side of one SASL exchange (the teaching server). The server passes in its CRAM-MD5
/// challenge, since it makes the nonce itself.
#[derive(Debug, Clone)]
pub struct SaslServer {
    mechanism: Mechanism,
    cram_challenge: Vec<u8>,
    state: ServerState,
}

impl SaslServer {
    /// Prepares an exchange. `cram_challenge` is used only for CRAM-MD5,
    /// e.g. `b"<1896.697170952@postoffice.example>"`.
    pub fn new(mechanism: Mechanism, cram_challenge: Vec<u8>) -> SaslServer {
        SaslServer {
            mechanism,
            cram_challenge,
            state: ServerState::Start,
        }
    }

    /// Begins the exchange. `initial` is the decoded initial response if the `AUTH` line
    /// carried one (`Some(empty)` when the client sent `=`).
    ///
    /// PLAIN with an initial response verifies at once; without one it sends an empty
    /// challenge. LOGIN sends `Username:`, or with an initial response takes it as the user
    /// name and sends `Password:`. CRAM-MD5 sends the CRAM challenge; an initial response is
    /// [`AuthError::Malformed`]. Any error ends the exchange.
    pub fn start(&mut self, initial: Option<&[u8]>) -> Result<ServerStep, AuthError> {
        if self.state != ServerState::Start {
            self.state = ServerState::Done;
            return Err(AuthError::Malformed("SASL exchange already started"));
        }
        self.state = ServerState::Done;
        let (step, next) = match (self.mechanism, initial) {
            (Mechanism::Plain, Some(message)) => (plain_verify(message)?, ServerState::Done),
            (Mechanism::Plain, None) => {
                (ServerStep::Challenge(Vec::new()), ServerState::AwaitPlain)
            }
            (Mechanism::Login, None) => (
                ServerStep::Challenge(LOGIN_USER_PROMPT.to_vec()),
                ServerState::AwaitLoginUser,
            ),
            (Mechanism::Login, Some(user)) => (
                ServerStep::Challenge(LOGIN_PASSWORD_PROMPT.to_vec()),
                ServerState::AwaitLoginPassword {
                    user: login_user(user)?,
                },
            ),
            (Mechanism::CramMd5, None) => (
                ServerStep::Challenge(self.cram_challenge.clone()),
                ServerState::AwaitCram,
            ),
            (Mechanism::CramMd5, Some(_)) => {
                return Err(AuthError::Malformed(
                    "CRAM-MD5 does not allow an initial response",
                ))
            }
        };
        self.state = next;
        Ok(step)
    }

    /// Handles the client's next decoded response. Any error ends the exchange.
    pub fn step(&mut self, response: &[u8]) -> Result<ServerStep, AuthError> {
        let state = std::mem::replace(&mut self.state, ServerState::Done);
        let (step, next) = match state {
            ServerState::Start => {
                return Err(AuthError::Malformed("SASL exchange not started"));
            }
            ServerState::Done => {
                return Err(AuthError::Malformed("SASL exchange already finished"));
            }
            ServerState::AwaitPlain => (plain_verify(response)?, ServerState::Done),
            ServerState::AwaitLoginUser => (
                ServerStep::Challenge(LOGIN_PASSWORD_PROMPT.to_vec()),
                ServerState::AwaitLoginPassword {
                    user: login_user(response)?,
                },
            ),
            ServerState::AwaitLoginPassword { user } => {
                let password = std::str::from_utf8(response)
                    .map_err(|_| AuthError::Malformed("LOGIN password is not valid UTF-8"))?;
                let proof = Proof::Password(password.to_owned());
                (ServerStep::Verify { user, proof }, ServerState::Done)
            }
            ServerState::AwaitCram => (self.cram_verify(response)?, ServerState::Done),
        };
        self.state = next;
        Ok(step)
    }

    /// Parses a CRAM-MD5 response `user SP digest` (split at the last space).
    fn cram_verify(&self, response: &[u8]) -> Result<ServerStep, AuthError> {
        const SHAPE: &str = "CRAM-MD5 response is not `user SP 32-hex-digit digest`";
        let text = std::str::from_utf8(response).map_err(|_| AuthError::Malformed(SHAPE))?;
        let (user, digest) = text.rsplit_once(' ').ok_or(AuthError::Malformed(SHAPE))?;
        if user.is_empty() || user.contains('\0') || super::parse_hex_md5(digest).is_none() {
            return Err(AuthError::Malformed(SHAPE));
        }
        Ok(ServerStep::Verify {
            user: user.to_owned(),
            proof: Proof::CramMd5 {
                challenge: self.cram_challenge.clone(),
                digest: digest.to_ascii_lowercase(),
            },
        })
    }
}

/// Turns a PLAIN message into a `Verify` step. Proxy authorization is not supported: a
/// non-empty authzid must equal the authcid.
fn plain_verify(message: &[u8]) -> Result<ServerStep, AuthError> {
    let creds = parse_plain(message)?;
    if !creds.authzid.is_empty() && creds.authzid != creds.authcid {
        return Err(AuthError::InvalidCredential(
            "PLAIN authorization identity differs from the user name (proxy login unsupported)",
        ));
    }
    Ok(ServerStep::Verify {
        user: creds.authcid,
        proof: Proof::Password(creds.password),
    })
}

/// Validates a LOGIN user name: UTF-8, non-empty, no NUL.
fn login_user(raw: &[u8]) -> Result<String, AuthError> {
    let user = std::str::from_utf8(raw)
        .map_err(|_| AuthError::Malformed("LOGIN user name is not valid UTF-8"))?;
    if user.is_empty() {
        return Err(AuthError::Malformed("LOGIN user name is empty"));
    }
    if user.contains('\0') {
        return Err(AuthError::Malformed("LOGIN user name contains NUL"));
    }
    Ok(user.to_owned())
}

/// The three fields of a PLAIN message (RFC 4616 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    /// Authorization identity: who to act as (empty means "the same as `authcid`").
    pub authzid: String,
    /// Authentication identity: the user whose password this is.
    pub authcid: String,
    /// The clear-text password.
    pub password: String,
}

/// Parses a PLAIN message `authzid NUL authcid NUL passwd` (RFC 4616 §2). `authzid` may be
/// empty, `authcid` and `passwd` may not; the whole must be valid UTF-8. A non-empty authzid
/// different from authcid is accepted here but returned, so the server may refuse it.
pub fn parse_plain(message: &[u8]) -> Result<PlainCredentials, AuthError> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed(
            "PLAIN message needs exactly two NUL separators",
        ));
    };
    if authcid.is_empty() {
        return Err(AuthError::Malformed(
            "PLAIN authentication identity is empty",
        ));
    }
    if password.is_empty() {
        return Err(AuthError::Malformed("PLAIN password is empty"));
    }
    let utf8 = |field: &[u8]| {
        std::str::from_utf8(field)
            .map(str::to_owned)
            .map_err(|_| AuthError::Malformed("PLAIN message is not valid UTF-8"))
    };
    Ok(PlainCredentials {
        authzid: utf8(authzid)?,
        authcid: utf8(authcid)?,
        password: utf8(password)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{decode_base64, encode_base64};
    use super::*;
    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    const CRAM_CHALLENGE: &str = "<1896.697170952@postoffice.reston.mci.net>";

    // ---- HMAC-MD5 / CRAM-MD5 vectors ----

    #[test]
    fn hmac_md5_rfc2202_vectors() {
        assert_eq!(
            to_hex(&hmac_md5(&[0x0b; 16], b"Hi There")),
            "9294727a3638bb1c13f48ef8158bfc9d"
        );
        assert_eq!(
            to_hex(&hmac_md5(b"Jefe", b"what do ya want for nothing?")),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(
            to_hex(&hmac_md5(&[0xaa; 16], &[0xdd; 50])),
            "56be34521d144c88dbb8c733f0e8b3f6"
        );
        // Keys longer than the 64-byte block are hashed first.
        assert_eq!(
            to_hex(&hmac_md5(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"
        );
        assert_eq!(
            to_hex(&hmac_md5(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
            )),
            "6f630fad67cda0ee1fb1f562db3aa53e"
        );
    }

    #[test]
    fn rfc2195_vector() {
        assert_eq!(
            cram_md5_digest("tanstaaftanstaaf", CRAM_CHALLENGE.as_bytes()),
            "b913a602c7eda7a495b4e6e7334d3890"
        );
    }

    #[test]
    fn rfc2195_client_exchange_with_base64() {
        let wire_challenge = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
        assert_eq!(encode_base64(CRAM_CHALLENGE.as_bytes()), wire_challenge);
        let challenge = decode_base64(wire_challenge.as_bytes()).unwrap();
        assert_eq!(challenge, CRAM_CHALLENGE.as_bytes());

        let mut client = SaslClient::new(Mechanism::CramMd5, "tim", "tanstaaftanstaaf").unwrap();
        assert_eq!(client.mechanism(), Mechanism::CramMd5);
        assert_eq!(client.initial_response(), None);
        let response = client.respond(&challenge).unwrap();
        assert_eq!(response, b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert_eq!(
            encode_base64(&response),
            "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
        );
        assert_eq!(
            client.respond(&challenge),
            Err(AuthError::UnexpectedChallenge)
        );
    }

    #[test]
    fn rfc2195_server_side() {
        let mut server = SaslServer::new(Mechanism::CramMd5, CRAM_CHALLENGE.as_bytes().to_vec());
        assert_eq!(
            server.start(None).unwrap(),
            ServerStep::Challenge(CRAM_CHALLENGE.as_bytes().to_vec())
        );
        let response = decode_base64(b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw").unwrap();
        let ServerStep::Verify { user, proof } = server.step(&response).unwrap() else {
            unreachable!("expected Verify")
        };
        assert_eq!(user, "tim");
        assert!(proof.verify("tanstaaftanstaaf"));
        assert!(!proof.verify("tanstaaf"));
        assert!(!proof.verify(""));
        assert_eq!(
            server.step(b"again"),
            Err(AuthError::Malformed("SASL exchange already finished"))
        );
    }

    #[test]
    fn cram_digest_uppercase_accepted_and_user_with_space() {
        let mut server = SaslServer::new(Mechanism::CramMd5, CRAM_CHALLENGE.as_bytes().to_vec());
        server.start(None).unwrap();
        let step = server
            .step(b"tim smith B913A602C7EDA7A495B4E6E7334D3890")
            .unwrap();
        let ServerStep::Verify { user, proof } = step else {
            unreachable!("expected Verify")
        };
        assert_eq!(user, "tim smith");
        assert_eq!(
            proof,
            Proof::CramMd5 {
                challenge: CRAM_CHALLENGE.as_bytes().to_vec(),
                digest: "b913a602c7eda7a495b4e6e7334d3890".into()
            }
        );
        assert!(proof.verify("tanstaaftanstaaf"));
    }

    #[test]
    fn cram_server_rejects_malformed() {
        for bad in [
            &b""[..],
            b"tim",
            b"timb913a602c7eda7a495b4e6e7334d3890",
            b" b913a602c7eda7a495b4e6e7334d3890",
            b"tim b913a602c7eda7a495b4e6e7334d389",
            b"tim b913a602c7eda7a495b4e6e7334d38900",
            b"tim b913a602c7eda7a495b4e6e7334d389g",
            b"tim b913a602c7eda7a495b4e6e7334d3890 ",
            b"t\xffm b913a602c7eda7a495b4e6e7334d3890",
        ] {
            let mut server = SaslServer::new(Mechanism::CramMd5, b"<1@x>".to_vec());
            server.start(None).unwrap();
            assert!(
                matches!(server.step(bad), Err(AuthError::Malformed(_))),
                "{bad:?}"
            );
            // the exchange is over after an error
            assert!(server
                .step(b"tim b913a602c7eda7a495b4e6e7334d3890")
                .is_err());
        }
        let mut server = SaslServer::new(Mechanism::CramMd5, b"<1@x>".to_vec());
        assert!(matches!(
            server.start(Some(b"tim")),
            Err(AuthError::Malformed(_))
        ));
        let mut server = SaslServer::new(Mechanism::CramMd5, b"<1@x>".to_vec());
        assert!(matches!(
            server.start(Some(b"")),
            Err(AuthError::Malformed(_))
        ));
    }

    // ---- PLAIN ----

    #[test]
    fn plain_client_blob() {
        let mut client = SaslClient::new(Mechanism::Plain, "tim", "tanstaaf").unwrap();
        assert_eq!(client.initial_response().unwrap(), b"\0tim\0tanstaaf");
        assert_eq!(client.initial_response(), None);
        assert_eq!(client.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn plain_client_without_initial_response() {
        let mut client = SaslClient::new(Mechanism::Plain, "tim", "tanstaaf").unwrap();
        assert_eq!(client.respond(b"").unwrap(), b"\0tim\0tanstaaf");
        assert_eq!(client.initial_response(), None);
        assert_eq!(client.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn parse_plain_rfc4616_examples() {
        assert_eq!(
            parse_plain(b"\0tim\0tanstaaf").unwrap(),
            PlainCredentials {
                authzid: String::new(),
                authcid: "tim".into(),
                password: "tanstaaf".into()
            }
        );
        assert_eq!(
            parse_plain(b"Ursel\0Kurt\0xipj3plmq").unwrap(),
            PlainCredentials {
                authzid: "Ursel".into(),
                authcid: "Kurt".into(),
                password: "xipj3plmq".into()
            }
        );
        // UTF-8 is fine
        assert_eq!(
            parse_plain("\0j\u{fc}rgen\0p\u{e4}ss".as_bytes())
                .unwrap()
                .authcid,
            "j\u{fc}rgen"
        );
    }

    #[test]
    fn parse_plain_rejects_bad_messages() {
        for bad in [
            &b""[..],
            b"tim",
            b"tim\0tanstaaf",
            b"\0tim",
            b"\0\0tanstaaf",
            b"\0tim\0",
            b"\0tim\0tans\0taaf",
            b"\0\0",
            b"\0t\xffm\0tanstaaf",
            b"\xc3\0tim\0tanstaaf",
            b"\0tim\0tans\xc3",
        ] {
            assert!(
                matches!(parse_plain(bad), Err(AuthError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn client_refuses_bad_credentials() {
        for (mech, user, secret) in [
            (Mechanism::Plain, "t\0m", "tanstaaf"),
            (Mechanism::Plain, "tim", "tans\0taaf"),
            (Mechanism::Plain, "", "tanstaaf"),
            (Mechanism::Plain, "tim", ""),
            (Mechanism::Login, "", "x"),
            (Mechanism::Login, "t\0m", "x"),
            (Mechanism::CramMd5, "", "x"),
            (Mechanism::CramMd5, "tim", "a\0b"),
        ] {
            assert!(
                matches!(
                    SaslClient::new(mech, user, secret),
                    Err(AuthError::InvalidCredential(_))
                ),
                "{mech} {user:?} {secret:?}"
            );
        }
        assert_eq!(
            SaslClient::new(Mechanism::Plain, "t\0m", "x").unwrap_err(),
            AuthError::InvalidCredential("user name contains NUL")
        );
        // an empty secret is allowed where the mechanism can carry it
        assert!(SaslClient::new(Mechanism::Login, "tim", "").is_ok());
        assert!(SaslClient::new(Mechanism::CramMd5, "tim", "").is_ok());
    }

    #[test]
    fn client_debug_hides_secret() {
        let client = SaslClient::new(Mechanism::Login, "tim", "tanstaaf").unwrap();
        let shown = format!("{client:?}");
        assert!(shown.contains("tim"));
        assert!(!shown.contains("tanstaaf"));
    }

    #[test]
    fn plain_server_refuses_foreign_authzid() {
        let mut server = SaslServer::new(Mechanism::Plain, Vec::new());
        assert!(matches!(
            server.start(Some(b"Ursel\0Kurt\0xipj3plmq")),
            Err(AuthError::InvalidCredential(_))
        ));
        // an authzid equal to the authcid is fine
        let mut server = SaslServer::new(Mechanism::Plain, Vec::new());
        let step = server.start(Some(b"Kurt\0Kurt\0xipj3plmq")).unwrap();
        assert_eq!(
            step,
            ServerStep::Verify {
                user: "Kurt".into(),
                proof: Proof::Password("xipj3plmq".into())
            }
        );
        // "=" (empty initial response) is not a PLAIN message
        let mut server = SaslServer::new(Mechanism::Plain, Vec::new());
        assert!(matches!(
            server.start(Some(b"")),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn server_step_order_errors() {
        let mut server = SaslServer::new(Mechanism::Login, Vec::new());
        assert_eq!(
            server.step(b"tim"),
            Err(AuthError::Malformed("SASL exchange not started"))
        );
        let mut server = SaslServer::new(Mechanism::Login, Vec::new());
        server.start(None).unwrap();
        assert!(server.start(None).is_err());
        assert!(server.step(b"tim").is_err());
    }

    // ---- LOGIN ----

    #[test]
    fn login_client_sends_user_then_secret() {
        let mut client = SaslClient::new(Mechanism::Login, "tim", "tanstaaf").unwrap();
        assert_eq!(client.initial_response(), None);
        // the challenge text does not choose the answer
        assert_eq!(client.respond(b"Password:").unwrap(), b"tim");
        assert_eq!(client.respond(b"Username:").unwrap(), b"tanstaaf");
        assert_eq!(
            client.respond(b"Password:"),
            Err(AuthError::UnexpectedChallenge)
        );
        assert_eq!(client.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn login_server_rejects_bad_user() {
        for bad in [&b""[..], b"t\0m", b"t\xffm"] {
            let mut server = SaslServer::new(Mechanism::Login, Vec::new());
            server.start(None).unwrap();
            assert!(matches!(server.step(bad), Err(AuthError::Malformed(_))));
            let mut server = SaslServer::new(Mechanism::Login, Vec::new());
            assert!(matches!(
                server.start(Some(bad)),
                Err(AuthError::Malformed(_))
            ));
        }
        let mut server = SaslServer::new(Mechanism::Login, Vec::new());
        server.start(None).unwrap();
        server.step(b"tim").unwrap();
        assert!(matches!(server.step(b"\xff"), Err(AuthError::Malformed(_))));
    }

    // ---- client against server ----

    /// Drives a client against a server over base64, as the session and teaching server would.
    /// Returns the server's final step and the number of challenges the server sent.
    fn run(
        mechanism: Mechanism,
        user: &str,
        secret: &str,
        use_initial: bool,
    ) -> (String, Proof, usize) {
        let mut client = SaslClient::new(mechanism, user, secret).unwrap();
        let mut server = SaslServer::new(mechanism, b"<77.1700000000@pop.example>".to_vec());
        let initial = if use_initial {
            client.initial_response()
        } else {
            None
        };
        // the AUTH line carries base64, "=" for empty
        let initial_wire = initial.map(|raw| encode_base64(&raw));
        let initial_raw = initial_wire.map(|w| decode_base64(w.as_bytes()).unwrap());
        let mut step = server.start(initial_raw.as_deref()).unwrap();
        let mut challenges = 0;
        loop {
            match step {
                ServerStep::Challenge(c) => {
                    challenges += 1;
                    assert!(challenges <= 2, "too many challenges");
                    let c = decode_base64(encode_base64(&c).as_bytes()).unwrap();
                    let r = client.respond(&c).unwrap();
                    let r = decode_base64(encode_base64(&r).as_bytes()).unwrap();
                    step = server.step(&r).unwrap();
                }
                ServerStep::Verify { user, proof } => {
                    assert_eq!(client.respond(b""), Err(AuthError::UnexpectedChallenge));
                    return (user, proof, challenges);
                }
            }
        }
    }

    #[test]
    fn client_against_server_all_mechanisms() {
        let cases = [
            (Mechanism::Plain, true, 0),
            (Mechanism::Plain, false, 1),
            (Mechanism::Login, false, 2),
            (Mechanism::CramMd5, false, 1),
        ];
        for (mech, use_initial, expected_challenges) in cases {
            let (user, proof, challenges) = run(mech, "tim", "tanstaaf", use_initial);
            assert_eq!(user, "tim", "{mech}");
            assert_eq!(challenges, expected_challenges, "{mech}");
            assert!(proof.verify("tanstaaf"), "{mech}");
            assert!(!proof.verify("tanstaaF"), "{mech}");
            assert!(!proof.verify("tanstaa"), "{mech}");
            assert!(!proof.verify(""), "{mech}");

            // wrong secret on the client side
            let (_, proof, _) = run(mech, "tim", "wrong", use_initial);
            assert!(!proof.verify("tanstaaf"), "{mech}");
        }
    }

    #[test]
    fn login_with_initial_response() {
        let mut client = SaslClient::new(Mechanism::Login, "tim", "tanstaaf").unwrap();
        let mut server = SaslServer::new(Mechanism::Login, Vec::new());
        // LOGIN has no initial response of its own; a client may send the user name on the
        // AUTH line, which consumes its first answer.
        assert_eq!(client.initial_response(), None);
        let user = client.respond(b"").unwrap();
        assert_eq!(
            server.start(Some(&user)).unwrap(),
            ServerStep::Challenge(b"Password:".to_vec())
        );
        let password = client.respond(b"Password:").unwrap();
        let ServerStep::Verify { user, proof } = server.step(&password).unwrap() else {
            unreachable!("expected Verify")
        };
        assert_eq!(user, "tim");
        assert_eq!(proof, Proof::Password("tanstaaf".into()));
        assert!(proof.verify("tanstaaf"));
        assert!(!proof.verify("tanstaa"));
    }

    #[test]
    fn login_server_prompts() {
        let mut server = SaslServer::new(Mechanism::Login, Vec::new());
        assert_eq!(
            server.start(None).unwrap(),
            ServerStep::Challenge(b"Username:".to_vec())
        );
        assert_eq!(
            server.step(b"tim").unwrap(),
            ServerStep::Challenge(b"Password:".to_vec())
        );
        // an empty password is passed on for the server to check
        assert_eq!(
            server.step(b"").unwrap(),
            ServerStep::Verify {
                user: "tim".into(),
                proof: Proof::Password(String::new())
            }
        );
    }

    #[test]
    fn plain_server_without_initial_response() {
        let mut server = SaslServer::new(Mechanism::Plain, Vec::new());
        assert_eq!(
            server.start(None).unwrap(),
            ServerStep::Challenge(Vec::new())
        );
        assert_eq!(
            server.step(b"\0tim\0tanstaaf").unwrap(),
            ServerStep::Verify {
                user: "tim".into(),
                proof: Proof::Password("tanstaaf".into())
            }
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn server_never_panics(
            mech in prop::sample::select(Mechanism::ALL.to_vec()),
            initial in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
            responses in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4),
        ) {
            let mut server = SaslServer::new(mech, b"<1.2@x>".to_vec());
            let _ = server.start(initial.as_deref());
            for r in &responses {
                let _ = server.step(r);
            }
        }

        #[test]
        fn client_server_agree(
            mech in prop::sample::select(Mechanism::ALL.to_vec()),
            user in "[a-zA-Z0-9._@ -]{0,8}[a-zA-Z0-9._@-]",
            secret in "[^\\x00]{1,30}",
            use_initial in any::<bool>(),
        ) {
            let (got_user, proof, _) = run(mech, &user, &secret, use_initial);
            prop_assert_eq!(got_user, user);
            prop_assert!(proof.verify(&secret));
            let wrong = format!("{secret}x");
            prop_assert!(!proof.verify(&wrong));
        }

        #[test]
        fn parse_plain_never_panics(msg in prop::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(c) = parse_plain(&msg) {
                prop_assert!(!c.authcid.is_empty() && !c.password.is_empty());
            }
        }
    }
}
