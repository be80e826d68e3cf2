//! Entry tokens: JWTs signed with Ed25519 (EdDSA). The public key is served as a JWKS so a
//! ticket site verifies tokens without calling usher. Ed25519 signatures are
//! deterministic, so every instance sharing the key mints the very same token for an
//! admission, whichever instance delivers it.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::Admission;
use crate::events::EventId;

/// The claims of an entry token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer (`token_issuer` setting).
    pub iss: String,
    /// Buyer id.
    pub sub: String,
    /// Event id.
    pub evt: EventId,
    /// Unique token id.
    pub jti: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expiry (seconds).
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Signature, format or issuer wrong.
    #[error("the entry token is not valid")]
    Invalid,
    /// Past its expiry.
    #[error("the entry token has expired")]
    Expired,
    /// Valid, but for another event.
    #[error("the entry token is for another event")]
    ForeignEvent,
}

/// Signs and verifies entry tokens.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    jwks: serde_json::Value,
    issuer: String,
}

impl TokenIssuer {
    /// From a 32-byte Ed25519 seed.
    pub fn new(seed: [u8; 32], issuer: &str) -> anyhow::Result<TokenIssuer> {
        let key = SigningKey::from_bytes(&seed);
        let der = key
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
        let public = key.verifying_key().to_bytes();
        let x = URL_SAFE_NO_PAD.encode(public);
        let kid = hex::encode(&Sha256::digest(public)[..8]);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        let jwks = serde_json::json!({
            "keys": [{ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": x }]
        });
        Ok(TokenIssuer {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_components(&x)?,
            header,
            jwks,
            issuer: issuer.to_owned(),
        })
    }

    /// The JWKS document (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The token of an admission. `iat` is derived from the admission so that every
    /// instance produces the same token.
    pub fn issue(&self, event: EventId, a: &Admission, session_ms: i64) -> anyhow::Result<String> {
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: a.buyer.to_string(),
            evt: event,
            jti: a.jti.clone(),
            iat: (a.exp_ms - session_ms).div_euclid(1000),
            exp: a.exp_ms.div_euclid(1000),
        };
        Ok(jsonwebtoken::encode(&self.header, &claims, &self.encoding)?)
    }

    /// Checks signature, issuer, expiry (against `now_ms`) and event.
    pub fn verify(&self, token: &str, event: EventId, now_ms: i64) -> Result<Claims, TokenError> {
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&[&self.issuer]);
        // Expiry is checked below against the injected clock.
        v.validate_exp = false;
        v.required_spec_claims = ["exp", "iss", "sub"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        if claims.exp * 1000 <= now_ms {
            return Err(TokenError::Expired);
        }
        if claims.evt != event {
            return Err(TokenError::ForeignEvent);
        }
        Ok(claims)
    }
}
