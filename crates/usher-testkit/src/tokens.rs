//! Entry tokens (JWTs) checked independently of usher's own code.

use base64::Engine as _;
use serde_json::Value;

use crate::server::Server;

/// Fetches the JWKS and verifies an entry token with it, independently of usher's code.
pub async fn verify_with_jwks(server: &Server, token: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(format!("{}/.well-known/jwks.json", server.http()))
            .await
            .expect("JWKS answers")
            .json()
            .await
            .expect("JWKS is JSON");
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    let kid = header.kid.expect("a kid");
    let jwk = jwks.find(&kid).expect("the kid is in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("an Ed25519 key");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_issuer(&["usher"]);
    v.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .expect("the token verifies against the JWKS")
        .claims
}

/// The payload of a JWT, decoded by hand (base64url middle part), unverified.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("a JSON payload")
}
