//! A refusal: one value that knows its `error` code, its words and, when the socket cannot
//! go on, its close code ([`Refuse`]). Each socket protocol has its own `Refusal` enum
//! (`crate::queue::refusal`, `crate::seats::refusal`); bad frames, common to both, are
//! [`FrameRefusal`]. No call site pairs a close code with an error code by hand.

use std::borrow::Cow;

use usher_protocol::{CloseCode, ErrorCode};

/// What a refusal tells the client.
pub trait Refuse {
    /// The `error` message's code.
    fn error_code(&self) -> ErrorCode;

    /// The `error` message's words (also the close reason, cut to 100 characters).
    fn words(&self) -> Cow<'_, str>;

    /// The close code that follows the `error` message; None: the socket stays open.
    fn close_code(&self) -> Option<CloseCode>;
}

/// Bad frames, refused the same way on both channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameRefusal {
    /// A binary frame (closes).
    Binary,
    /// A frame over the size limit (closes).
    TooBig,
    /// Over the per-socket message rate: this message was ignored.
    RateLimited,
    /// Not JSON, or not a known message shape; the words say which.
    Malformed(&'static str),
    /// A message with an unknown `type`; the words name it and the known ones.
    UnknownType(String),
    /// Too many bad messages (closes).
    TooManyBad,
}

impl Refuse for FrameRefusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            FrameRefusal::Binary => ErrorCode::BinaryFrame,
            FrameRefusal::TooBig => ErrorCode::MessageTooBig,
            FrameRefusal::RateLimited => ErrorCode::RateLimited,
            FrameRefusal::Malformed(_) => ErrorCode::MalformedMessage,
            FrameRefusal::UnknownType(_) => ErrorCode::UnknownType,
            FrameRefusal::TooManyBad => ErrorCode::ProtocolViolation,
        }
    }

    fn words(&self) -> Cow<'_, str> {
        match self {
            FrameRefusal::Binary => "binary frames are not supported; send JSON text".into(),
            FrameRefusal::TooBig => "message too big".into(),
            FrameRefusal::RateLimited => "too many messages; this one was ignored".into(),
            FrameRefusal::Malformed(why) => Cow::Borrowed(why),
            FrameRefusal::UnknownType(why) => Cow::Borrowed(why.as_str()),
            FrameRefusal::TooManyBad => "too many bad messages".into(),
        }
    }

    fn close_code(&self) -> Option<CloseCode> {
        match self {
            FrameRefusal::Binary => Some(CloseCode::BinaryFrame),
            FrameRefusal::TooBig => Some(CloseCode::MessageTooBig),
            FrameRefusal::TooManyBad => Some(CloseCode::ProtocolViolation),
            FrameRefusal::RateLimited
            | FrameRefusal::Malformed(_)
            | FrameRefusal::UnknownType(_) => None,
        }
    }
}

/// Tells apart JSON that is not a message at all from a message of an unknown type.
pub fn classify_bad(text: &str, known: &[&str]) -> FrameRefusal {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(o)) => match o.get("type").and_then(|t| t.as_str()) {
            Some(t) if !known.contains(&t) => FrameRefusal::UnknownType(format!(
                "unknown message type {:?}; expected one of {}",
                t.chars().take(40).collect::<String>(),
                known.join(", ")
            )),
            Some(_) => {
                FrameRefusal::Malformed("the message has missing, unknown or mistyped fields")
            }
            None => FrameRefusal::Malformed("the message needs a string field \"type\""),
        },
        Ok(_) => FrameRefusal::Malformed("a message is a JSON object"),
        Err(_) => FrameRefusal::Malformed("the message is not valid JSON"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_told_apart_and_an_unknown_type_is_named_but_cut_short() {
        let known = ["join", "ping"];
        assert_eq!(
            classify_bad("{", &known),
            FrameRefusal::Malformed("the message is not valid JSON")
        );
        assert_eq!(
            classify_bad("[1]", &known),
            FrameRefusal::Malformed("a message is a JSON object")
        );
        assert_eq!(
            classify_bad(r#"{"type":"join","x":1}"#, &known).error_code(),
            ErrorCode::MalformedMessage
        );
        let long = "x".repeat(5000);
        let r = classify_bad(&format!(r#"{{"type":"{long}"}}"#), &known);
        assert_eq!(r.error_code(), ErrorCode::UnknownType);
        assert!(r.words().len() < 200, "{}", r.words());
        assert_eq!(r.close_code(), None);
    }

    #[test]
    fn only_frames_the_socket_cannot_go_on_after_close_it() {
        assert_eq!(
            FrameRefusal::Binary.close_code(),
            Some(CloseCode::BinaryFrame)
        );
        assert_eq!(
            FrameRefusal::TooBig.close_code(),
            Some(CloseCode::MessageTooBig)
        );
        assert_eq!(
            FrameRefusal::TooManyBad.close_code(),
            Some(CloseCode::ProtocolViolation)
        );
        assert_eq!(FrameRefusal::RateLimited.close_code(), None);
    }
}
