//! The [`Engine`] of the worker: AES-256-GCM by the runtime's WebCrypto
//! (`crypto.subtle`) and raw DEFLATE by its `CompressionStream`
//! ([`super::web_compression`]), natively instead of in wasm.
//!
//! Invariant: the same sealed bytes as [`crate::format::SoftwareEngine`]
//! for the same key, nonce and plaintext (checked end to end against the
//! committed test vectors). The imported key of the last object is kept, so
//! a slice imports it once.

use super::web_compression;
use crate::format::{
    BytesFuture, ChunkKey, Engine, EngineFailed, Nonce, OpenFuture, SealFuture, TAG_SIZE,
};
use std::cell::RefCell;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key_data: &[u8],
        algorithm: &str,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = encrypt, catch)]
    fn encrypt(algorithm: &Object, key: &JsValue, data: &[u8]) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = decrypt, catch)]
    fn decrypt(algorithm: &Object, key: &JsValue, data: &[u8]) -> Result<Promise, JsValue>;
}

/// The name of the error WebCrypto rejects with when a tag does not verify.
const AUTHENTICATION_FAILED: &str = "OperationError";

/// WebCrypto's AES-256-GCM and the runtime's DEFLATE; see the module
/// documentation.
#[derive(Default)]
pub struct WebEngine {
    /// The last key imported, with its raw bytes to recognize it.
    imported: RefCell<Option<([u8; 32], JsValue)>>,
}

impl WebEngine {
    /// The CryptoKey of `key`, imported unless it was the last one.
    async fn crypto_key(&self, key: &ChunkKey) -> Result<JsValue, EngineFailed> {
        if let Some((bytes, imported)) = self.imported.borrow().as_ref() {
            if bytes == key.key_bytes() {
                return Ok(imported.clone());
            }
        }
        let usages = Array::of2(&JsValue::from_str("encrypt"), &JsValue::from_str("decrypt"));
        let promise = import_key("raw", key.key_bytes(), "AES-GCM", false, &usages)
            .map_err(|e| failed("importKey", e))?;
        let imported = JsFuture::from(promise)
            .await
            .map_err(|e| failed("importKey", e))?;
        *self.imported.borrow_mut() = Some((*key.key_bytes(), imported.clone()));
        Ok(imported)
    }
}

impl Engine for WebEngine {
    fn seal<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, plaintext: &'a [u8]) -> SealFuture<'a> {
        Box::pin(async move {
            let crypto_key = self.crypto_key(key).await?;
            // WebCrypto copies `plaintext` before `encrypt` returns.
            let promise = encrypt(&params(key, nonce)?, &crypto_key, plaintext)
                .map_err(|e| failed("encrypt", e))?;
            let sealed = JsFuture::from(promise)
                .await
                .map_err(|e| failed("encrypt", e))?;
            let sealed = Uint8Array::new(&sealed).to_vec();
            if sealed.len() != plaintext.len() + TAG_SIZE {
                return Err(EngineFailed(format!(
                    "encrypt returned {} bytes for a chunk of {}",
                    sealed.len(),
                    plaintext.len()
                )));
            }
            Ok(sealed)
        })
    }

    fn open<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, sealed: &'a [u8]) -> OpenFuture<'a> {
        Box::pin(async move {
            let crypto_key = self.crypto_key(key).await?;
            let promise = decrypt(&params(key, nonce)?, &crypto_key, sealed)
                .map_err(|e| failed("decrypt", e))?;
            match JsFuture::from(promise).await {
                Ok(plaintext) => Ok(Some(Uint8Array::new(&plaintext).to_vec())),
                Err(error) if error_name(&error).as_deref() == Some(AUTHENTICATION_FAILED) => {
                    Ok(None)
                }
                Err(error) => Err(failed("decrypt", error)),
            }
        })
    }

    fn deflate<'a>(&'a self, sql: &'a [u8]) -> BytesFuture<'a> {
        Box::pin(web_compression::deflate(sql))
    }

    fn inflate<'a>(&'a self, body: &'a [u8], _sql_len: usize) -> BytesFuture<'a> {
        Box::pin(web_compression::inflate(body))
    }
}

/// `AesGcmParams` for one chunk: the nonce, the header MAC as associated
/// data, a 128-bit tag.
fn params(key: &ChunkKey, nonce: Nonce) -> Result<Object, EngineFailed> {
    let params = Object::new();
    let set = |name: &str, value: &JsValue| {
        Reflect::set(&params, &JsValue::from_str(name), value)
            .map(drop)
            .map_err(|e| failed("AesGcmParams", e))
    };
    set("name", &JsValue::from_str("AES-GCM"))?;
    set("iv", &Uint8Array::from(nonce.to_bytes().as_slice()).into())?;
    set(
        "additionalData",
        &Uint8Array::from(key.aad().as_slice()).into(),
    )?;
    set("tagLength", &JsValue::from_f64((TAG_SIZE * 8) as f64))?;
    Ok(params)
}

fn error_name(error: &JsValue) -> Option<String> {
    Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
}

fn failed(operation: &str, error: JsValue) -> EngineFailed {
    EngineFailed(format!(
        "AES-GCM (crypto.subtle {operation}): {}",
        js_error_message(&error)
    ))
}

/// What a JavaScript exception says: its text, its `message`, or its debug form.
pub(super) fn js_error_message(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| {
            Reflect::get(error, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{error:?}"))
}
