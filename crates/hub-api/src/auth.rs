//! Passwords, tokens and sign-in throttling.
//!
//! Passwords are hashed with argon2id. Tokens are 256 random bits, given to the client once and
//! stored only as their SHA-256, so a leaked database holds no usable token. Unknown e-mail and
//! wrong password get the same answer after the same work (a dummy hash made with the
//! configured costs is verified, see [`crate::hashing`]), so the sign-in form does not reveal
//! who has an account.

use crate::error::ApiError;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The hasher for the configured costs.
fn argon2(memory_kib: u32, iterations: u32) -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(memory_kib, iterations, 1, None).map_err(ApiError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password (CPU- and memory-heavy: run it on the
/// [`Hasher`](crate::hashing::Hasher)'s threads).
pub fn hash_password(password: &str, memory_kib: u32, iterations: u32) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(memory_kib, iterations)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Verifies a password against a stored PHC hash. The parameters stored in the hash are
/// used, so cost changes apply to new hashes only. CPU- and memory-heavy: run it on the
/// [`Hasher`](crate::hashing::Hasher)'s threads.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A new random session token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "hub_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery staple", 1024, 1).unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &h));
        assert!(!verify_password("correct horse battery stapler", &h));
        assert!(!verify_password(
            "correct horse battery staple",
            "not a hash"
        ));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert!(!token_hash(&a).contains(&a));
    }
}
