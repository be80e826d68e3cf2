//! Who a buyer is: random buyer ids, the resume credential that brings a buyer back to the
//! same place, and the ticket site's signed user ids.
//!
//! Buyer ids are random (or a keyed hash of the site's user id), so Redis keys and values
//! never hold a user-supplied string or personal data.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::events::EventId;

type HmacSha256 = Hmac<Sha256>;

/// A buyer's id within usher: 128 bits, shown as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuyerId(pub [u8; 16]);

impl BuyerId {
    /// A fresh random id.
    pub fn random() -> BuyerId {
        BuyerId(rand::random())
    }

    /// Parses 32 hex digits.
    pub fn parse(s: &str) -> Option<BuyerId> {
        let bytes = hex::decode(s).ok()?;
        Some(BuyerId(bytes.try_into().ok()?))
    }
}

impl std::fmt::Display for BuyerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// On the bus and in engine replies: the 32 hex digits.
impl serde::Serialize for BuyerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for BuyerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BuyerId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        BuyerId::parse(&s).ok_or_else(|| serde::de::Error::custom("a buyer id is 32 hex digits"))
    }
}

impl std::fmt::Debug for BuyerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BuyerId({self})")
    }
}

/// Issues and checks resume credentials, and maps signed site user ids to buyer ids.
#[derive(Clone)]
pub struct Identity {
    server_secret: Vec<u8>,
    site_secret: Option<Vec<u8>>,
}

/// Why an identity presented by a client was refused.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    /// Not a credential usher issued, or tampered with.
    #[error("the resume credential is not valid")]
    BadCredential,
    /// A valid credential, but for another event.
    #[error("the resume credential belongs to another event")]
    ForeignCredential,
    /// The site's signature over the user id does not verify.
    #[error("the signed user id does not verify")]
    BadSignature,
    /// Signed user ids are not configured on this server.
    #[error("signed user ids are not enabled on this server")]
    SiteIdsDisabled,
}

impl Identity {
    /// `server_secret` signs credentials; `site_secret` verifies site user ids.
    pub fn new(server_secret: Vec<u8>, site_secret: Option<Vec<u8>>) -> Identity {
        Identity {
            server_secret,
            site_secret,
        }
    }

    fn mac(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(key).expect("hmac takes any key length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The short signed token of an order, for the payment page's link (`{token}` in
    /// `checkout_url`); it lets that page read the order (`GET /api/orders/{id}`).
    pub fn order_token(&self, order: i64) -> String {
        let tag = self.mac(&self.server_secret, &[b"order", &order.to_be_bytes()]);
        hex::encode(&tag[..16])
    }

    /// Checks an order token in constant time.
    pub fn check_order_token(&self, order: i64, token: &str) -> bool {
        let want = self.order_token(order);
        want.len() == token.len()
            && want
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The opaque credential that resumes `buyer`'s place in `event`. With `seq`, it also
    /// carries the buyer's queue number, signed: if the queue store loses its data, the
    /// buyer comes back at that number.
    pub fn credential(&self, event: EventId, buyer: BuyerId, seq: Option<u64>) -> String {
        let mut raw = Vec::with_capacity(56);
        raw.extend_from_slice(&event.to_be_bytes());
        raw.extend_from_slice(&buyer.0);
        let domain: &[u8] = match seq {
            Some(seq) => {
                raw.extend_from_slice(&seq.to_be_bytes());
                b"cred2"
            }
            None => b"cred",
        };
        let tag = self.mac(&self.server_secret, &[domain, &raw]);
        raw.extend_from_slice(&tag[..24]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The buyer a credential stands for, and the queue number it carries, if usher issued
    /// it for `event`.
    pub fn check_credential(
        &self,
        event: EventId,
        cred: &str,
    ) -> Result<(BuyerId, Option<u64>), IdentityError> {
        let raw = URL_SAFE_NO_PAD
            .decode(cred.as_bytes())
            .map_err(|_| IdentityError::BadCredential)?;
        let domain: &[u8] = match raw.len() {
            48 => b"cred",
            56 => b"cred2",
            _ => return Err(IdentityError::BadCredential),
        };
        let (body, tag) = raw.split_at(raw.len() - 24);
        let expected = self.mac(&self.server_secret, &[domain, body]);
        if !constant_time_eq(&expected[..24], tag) {
            return Err(IdentityError::BadCredential);
        }
        let bytes = |from: usize| -> [u8; 8] {
            let mut b = [0u8; 8];
            if let Some(src) = body.get(from..from + 8) {
                b.copy_from_slice(src);
            }
            b
        };
        if i64::from_be_bytes(bytes(0)) != event {
            return Err(IdentityError::ForeignCredential);
        }
        let mut buyer = [0u8; 16];
        buyer.copy_from_slice(body.get(8..24).ok_or(IdentityError::BadCredential)?);
        let seq = (body.len() == 32).then(|| u64::from_be_bytes(bytes(24)));
        Ok((BuyerId(buyer), seq.filter(|s| *s > 0)))
    }

    /// The buyer id of a site user, after checking the site's HMAC-SHA256 (hex) over
    /// `"{event}:{user}"`. The id is a keyed hash: the user id itself is never stored.
    pub fn site_user(
        &self,
        event: EventId,
        user: &str,
        sig: &str,
    ) -> Result<BuyerId, IdentityError> {
        let key = self
            .site_secret
            .as_ref()
            .ok_or(IdentityError::SiteIdsDisabled)?;
        let msg = format!("{event}:{user}");
        let expected = self.mac(key, &[msg.as_bytes()]);
        let given = hex::decode(sig).map_err(|_| IdentityError::BadSignature)?;
        if !constant_time_eq(&expected, &given) {
            return Err(IdentityError::BadSignature);
        }
        Ok(self.user_buyer(event, user))
    }

    /// The buyer id that stands for a site user in an event (no signature check).
    pub fn user_buyer(&self, event: EventId, user: &str) -> BuyerId {
        let h = self.mac(
            &self.server_secret,
            &[b"user", &event.to_be_bytes(), user.as_bytes()],
        );
        let mut id = [0u8; 16];
        id.copy_from_slice(&h[..16]);
        BuyerId(id)
    }
}

/// What a ticket site computes to sign a user id (also used by tests and docs).
pub fn sign_site_user(site_secret: &[u8], event: EventId, user: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(site_secret).expect("any key length");
    mac.update(format!("{event}:{user}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity::new(b"server".to_vec(), Some(b"site".to_vec()))
    }

    #[test]
    fn a_credential_round_trips_for_its_event_only() {
        let id = identity();
        let buyer = BuyerId::random();
        let cred = id.credential(7, buyer, None);
        assert_eq!(id.check_credential(7, &cred), Ok((buyer, None)));
        assert_eq!(
            id.check_credential(8, &cred),
            Err(IdentityError::ForeignCredential)
        );
    }

    #[test]
    fn a_credential_carries_its_queue_number_signed() {
        let id = identity();
        let buyer = BuyerId::random();
        let cred = id.credential(7, buyer, Some(4_321));
        assert_eq!(id.check_credential(7, &cred), Ok((buyer, Some(4_321))));
        // Moving the number is tampering: every byte of the body is signed.
        let mut raw = URL_SAFE_NO_PAD.decode(&cred).unwrap();
        raw[31] ^= 1;
        let forged = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(
            id.check_credential(7, &forged),
            Err(IdentityError::BadCredential)
        );
        // Nor can a numbered credential be cut down to an unnumbered one.
        let mut raw = URL_SAFE_NO_PAD.decode(&cred).unwrap();
        raw.drain(24..32);
        let cut = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(
            id.check_credential(7, &cut),
            Err(IdentityError::BadCredential)
        );
    }

    #[test]
    fn a_tampered_credential_is_refused() {
        let id = identity();
        let mut cred = id.credential(7, BuyerId::random(), None).into_bytes();
        cred[5] = if cred[5] == b'A' { b'B' } else { b'A' };
        let cred = String::from_utf8(cred).unwrap();
        assert_eq!(
            id.check_credential(7, &cred),
            Err(IdentityError::BadCredential)
        );
    }

    #[test]
    fn a_signed_user_maps_to_one_buyer() {
        let id = identity();
        let sig = sign_site_user(b"site", 3, "alice");
        let a = id.site_user(3, "alice", &sig).unwrap();
        assert_eq!(a, id.site_user(3, "alice", &sig).unwrap());
        assert_eq!(
            id.site_user(3, "bob", &sig),
            Err(IdentityError::BadSignature)
        );
    }
}
